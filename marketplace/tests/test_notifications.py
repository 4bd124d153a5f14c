"""Notices: written by the flows (shipping, delivery, feedback, messages) or many at once
(notify_many), in each reader's language; the notifications page, the bell and e-mail."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.translation import gettext_lazy

from marketplace.models import Notification, User
from marketplace.services.feedback import leave_feedback
from marketplace.services.messaging import mark_read, send_message, start_conversation
from marketplace.services.notifications import Notice, notify, notify_many
from marketplace.tasks import send_notification_email, send_pending_notifications
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.catalog import ProductFactory
from marketplace.tests.factories.fulfilment import delivered_order, shipped_order

pytestmark = pytest.mark.django_db


def notices(user, kind: str):
    return Notification.objects.filter(user=user, kind=kind)


def test_the_buyer_is_told_when_the_order_ships(seller, buyer):
    order = shipped_order(seller, buyer)

    notice = notices(buyer, "shipped").get()
    assert order.number in notice.title
    assert "TCS-123456" in notice.body
    assert notice.url == reverse("order_detail", args=[order.number])


def test_the_seller_is_told_when_delivery_is_confirmed(seller, buyer):
    delivered_order(seller, buyer)

    assert notices(seller, "delivered").count() == 1


def test_the_seller_is_told_of_new_feedback(seller, buyer):
    order = delivered_order(seller, buyer)

    leave_feedback(
        order=order,
        by=buyer,
        seller_rating=4,
        communication=4,
        shipping_speed=4,
        item_as_described=True,
        platform_rating=5,
    )

    assert "4/5" in notices(seller, "feedback_received").get().title


def test_one_notice_per_burst_of_unread_messages(seller, buyer):
    conversation = start_conversation(user=buyer, product=ProductFactory(seller=seller))
    send_message(conversation=conversation, sender=buyer, body="one")
    send_message(conversation=conversation, sender=buyer, body="two")
    assert notices(seller, "new_message").count() == 1

    mark_read(conversation=conversation, user=seller)
    send_message(conversation=conversation, sender=buyer, body="three")

    assert notices(seller, "new_message").count() == 2
    assert notices(buyer, "new_message").count() == 0


def test_a_blocked_user_is_told(client, outsider):
    staff = UserFactory(username="sana", is_staff=True, is_superuser=True)
    client.force_login(staff)

    client.post(
        reverse("admin:marketplace_user_changelist"),
        {"action": "block_users", "_selected_action": [outsider.pk]},
    )

    assert notices(outsider, "account_blocked").count() == 1


# --- E-mail ---------------------------------------------------------------------------------


def test_a_notice_is_e_mailed_once_however_often_the_tasks_run(buyer):
    notice = notify(user=buyer, kind="shipped", title="On its way", dedupe_key="t1")

    assert send_notification_email(notice.pk) is True
    assert send_notification_email(notice.pk) is False
    assert send_pending_notifications() == 0
    assert len(mail.outbox) == 1


def test_the_sweep_sends_what_was_not_sent_immediately(buyer, seller):
    notify(user=buyer, kind="shipped", title="A", dedupe_key="a")
    notify(user=seller, kind="delivered", title="B", dedupe_key="b")

    assert send_pending_notifications() == 2
    assert sorted(m.subject for m in mail.outbox) == ["A", "B"]


def test_no_e_mail_for_someone_who_turned_e_mail_off(buyer):
    buyer.email_notifications = False
    buyer.save(update_fields=["email_notifications"])
    notice = notify(user=buyer, kind="shipped", title="On its way", dedupe_key="t1")

    send_notification_email(notice.pk)
    send_pending_notifications()

    assert mail.outbox == []
    assert Notification.objects.get(pk=notice.pk).read_at is None  # still on the site


def test_the_preference_is_on_the_profile_form(client, buyer):
    client.force_login(buyer)

    client.post(
        reverse("profile_edit"),
        {"first_name": "Bilal", "email": buyer.email, "phone": ""},
    )

    buyer.refresh_from_db()
    assert buyer.email_notifications is False


# --- Pages ----------------------------------------------------------------------------------


def test_the_page_lists_only_the_users_notices(client, buyer, outsider):
    notify(user=buyer, kind="shipped", title="Mine", dedupe_key="1")
    notify(user=outsider, kind="shipped", title="Theirs", dedupe_key="2")
    client.force_login(buyer)

    page = client.get(reverse("notification_list")).content.decode()

    assert "Mine" in page
    assert "Theirs" not in page


def test_the_page_needs_a_login(client):
    assert client.get(reverse("notification_list")).url.startswith(reverse("login"))


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, buyer):
    notice = notify(user=buyer, kind="shipped", title="x", url="/orders/", dedupe_key="1")
    client.force_login(buyer)

    response = client.post(reverse("notification_read", args=[notice.pk]))

    assert response.url == "/orders/"
    assert Notification.objects.get(pk=notice.pk).read_at is not None


def test_a_notice_linking_off_site_goes_to_the_list_instead(client, buyer):
    notice = notify(
        user=buyer, kind="shipped", title="x", url="https://evil.example/", dedupe_key="1"
    )
    client.force_login(buyer)

    response = client.post(reverse("notification_read", args=[notice.pk]))

    assert response.url == reverse("notification_list")


def test_someone_elses_notice_is_a_404(client, buyer, outsider):
    notice = notify(user=buyer, kind="shipped", title="x", dedupe_key="1")
    client.force_login(outsider)

    assert client.post(reverse("notification_read", args=[notice.pk])).status_code == 404
    assert Notification.objects.get(pk=notice.pk).read_at is None


def test_reading_needs_a_login_and_a_post(client, buyer):
    notice = notify(user=buyer, kind="shipped", title="x", dedupe_key="1")

    assert client.post(reverse("notification_read", args=[notice.pk])).url.startswith(
        reverse("login")
    )
    client.force_login(buyer)
    assert client.get(reverse("notification_read", args=[notice.pk])).status_code == 405


def test_mark_all_read_through_htmx_touches_only_the_users_notices(client, buyer, outsider):
    notify(user=buyer, kind="shipped", title="a", dedupe_key="1")
    notify(user=outsider, kind="shipped", title="b", dedupe_key="2")
    client.force_login(buyer)

    response = client.post(reverse("notification_read_all"), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert 'id="notification-list"' in response.content.decode()
    assert not Notification.objects.filter(user=buyer, read_at=None).exists()
    assert Notification.objects.filter(user=outsider, read_at=None).count() == 1


def test_the_bell_shows_the_unread_count(client, buyer):
    notify(user=buyer, kind="shipped", title="a", dedupe_key="1")
    notify(user=buyer, kind="delivered", title="b", dedupe_key="2")
    client.force_login(buyer)

    response = client.get(reverse("home"))

    assert response.context["unread_notifications"] == 2
    assert 'id="nav-unread-notifications"' in response.content.decode()


def test_mark_all_read_needs_a_login_and_a_post(client, buyer):
    assert client.post(reverse("notification_read_all")).url.startswith(reverse("login"))
    client.force_login(buyer)
    assert client.get(reverse("notification_read_all")).status_code == 405


def test_a_notice_is_written_in_the_recipients_language(seller, buyer):
    buyer.language = "ur"
    buyer.save(update_fields=["language"])

    shipped_order(seller, buyer)  # the seller works in English

    assert "روانہ" in notices(buyer, "shipped").get().title


def test_the_feedback_request_is_written_in_the_buyers_language(seller, buyer):
    from marketplace.tasks import send_feedback_request_email

    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    order = delivered_order(seller, buyer)

    send_feedback_request_email(order.pk)

    assert "کیسا رہا" in mail.outbox[0].subject


def notice(user, key: str, title="Notice") -> Notice:
    return Notice(user=user, kind=Notification.Kind.OUTBID, title=title, dedupe_key=key)


def test_a_duplicate_among_many_is_skipped_and_the_others_recorded(buyer, rival):
    earlier = notify(user=buyer, kind=Notification.Kind.OUTBID, title="Earlier", dedupe_key="b")

    created = notify_many([notice(rival, "a"), notice(buyer, "b"), notice(buyer, "c")])

    assert [row is not None for row in created] == [True, False, True]
    assert Notification.objects.count() == 3
    assert Notification.objects.get(user=buyer, dedupe_key="b") == earlier


def test_stand_in_readers_languages_are_read_in_one_query(django_assert_num_queries):
    readers = [UserFactory(language=code) for code in ("ur", "en", "ur")]
    stand_ins = [User(pk=reader.pk) for reader in readers]
    title = gettext_lazy("Notifications")

    with django_assert_num_queries(4):  # the languages; one INSERT in a savepoint
        notify_many([notice(user, f"k{n}", title) for n, user in enumerate(stand_ins)])

    titles = [Notification.objects.get(user=reader).title for reader in readers]
    assert titles[1] == "Notifications"
    assert titles[0] == titles[2] != "Notifications"
