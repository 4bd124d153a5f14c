"""Issue 13, item 8: notices read in the reader's language of the moment, the bell clears when
the list is opened, and an order's ship-to address names places in the reader's language."""

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from marketplace.i18n import lazy_format
from marketplace.models import Notification
from marketplace.services.notifications import notify
from marketplace.stored_text import freeze, thaw
from marketplace.templatetags.money import format_pkr
from marketplace.tests.factories.fulfilment import shipped_order

pytestmark = pytest.mark.django_db
lazy_rupees = lazy(format_pkr, str)
OUTBID = "You have been outbid on “%(title)s”"
PRICE = "The price is now %(price)s. Bid again before the auction ends."


def outbid_notice(user) -> Notification:
    return notify(
        user=user,
        kind=Notification.Kind.OUTBID,
        title=lazy_format(gettext_lazy(OUTBID), title="Blue vase"),
        body=lazy_format(gettext_lazy(PRICE), price=lazy_rupees(Decimal("1500"))),
        dedupe_key="bid:1",
    )


def in_urdu(text: str, **params) -> str:
    with translation.override("ur"):
        return translation.gettext(text) % params


def test_a_notice_written_in_english_is_read_in_urdu_after_switching(client, buyer):
    buyer.language = "en"
    buyer.save(update_fields=["language"])
    notice = outbid_notice(buyer)
    assert notice.title == "You have been outbid on “Blue vase”"  # e-mail and admin text

    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    client.force_login(buyer)
    page = client.get(reverse("notification_list")).content.decode()

    with translation.override("ur"):
        price = format_pkr(Decimal("1500"))
    urdu_title = in_urdu(OUTBID, title="Blue vase")
    assert urdu_title != notice.title
    assert urdu_title in page
    assert in_urdu(PRICE, price=price) in page
    assert "You have been outbid" not in page


def test_a_notice_of_plain_text_reads_the_same_in_every_language(client, buyer):
    notify(
        user=buyer, kind="new_message", title="Salaam", body="Is it still for sale?", dedupe_key="m"
    )
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    client.force_login(buyer)

    page = client.get(reverse("notification_list")).content.decode()

    assert "Salaam" in page
    assert "Is it still for sale?" in page


def test_an_older_notice_without_its_message_shows_its_stored_text(client, buyer):
    notice = outbid_notice(buyer)
    Notification.objects.filter(pk=notice.pk).update(message={}, title="Stored title")
    client.force_login(buyer)

    assert "Stored title" in client.get(reverse("notification_list")).content.decode()


def test_freeze_keeps_msgids_and_parameters_and_thaw_renders_them():
    spec = freeze(lazy_format(gettext_lazy(PRICE), price=lazy_rupees(Decimal("2500.50"))))

    assert spec == {"f": {"t": PRICE}, "p": {"price": {"pkr": "2500.50"}}}
    with translation.override("en"):
        assert thaw(spec) == "The price is now Rs 2,500.50. Bid again before the auction ends."
    assert freeze("typed text") == "typed text"
    assert thaw(freeze(None)) == ""


def test_freeze_renders_a_lazy_value_it_cannot_take_apart_in_the_current_language():
    upper = lazy(str.upper, str)

    assert freeze(upper("vase")) == "VASE"


def test_opening_the_list_clears_the_bell_but_still_marks_what_was_new(client, buyer):
    outbid_notice(buyer)
    client.force_login(buyer)

    page = client.get(reverse("notification_list")).content.decode()

    assert not Notification.objects.filter(user=buyer, read_at__isnull=True).exists()
    assert "notification-unread" in page  # this once, the new one stands out
    assert 'id="nav-unread-notifications" class="badge rounded-pill text-bg-danger d-none"' in page
    again = client.get(reverse("notification_list")).content.decode()
    assert "notification-unread" not in again


def test_the_ship_to_address_names_the_city_and_province_in_urdu(client, seller, buyer):
    order = shipped_order(seller, buyer)
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    client.force_login(buyer)

    page = client.get(reverse("order_detail", args=[order.number])).content.decode()

    address = page[page.index("<address") : page.index("</address>")]
    city, province = in_urdu(order.ship_city), in_urdu(order.ship_province)
    assert city != order.ship_city
    assert city in address
    assert province in address
    assert order.ship_city not in address
