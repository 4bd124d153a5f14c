"""Urdu pages and e-mails keep order numbers, amounts and Latin names in their own direction
(issue: numbers like MPK-20261203-AB12 rendered scrambled inside right-to-left sentences):
<bdi> in HTML, first-strong isolates (U+2068 ... U+2069) in plain text and page titles."""

import pytest
from django.core import mail
from django.urls import reverse

from marketplace import tasks
from marketplace.models import Notification
from marketplace.services import cod_rules
from marketplace.tests.factories.fulfilment import delivered_order
from marketplace.tests.factories.orders import cod_order_for, listing_by, shop_delivery

pytestmark = pytest.mark.django_db
FSI, PDI = "\u2068", "\u2069"


@pytest.fixture
def cod_order(seller, buyer):
    shop_delivery(seller, fee="250", cod=True)
    return cod_order_for(buyer, listing_by(seller, price="1000.00"))


def _in_urdu(user):
    user.language = "ur"
    user.save(update_fields=["language"])
    return user


def test_the_urdu_order_page_isolates_the_number_the_shop_and_the_amount(cod_order, buyer, client):
    client.force_login(_in_urdu(buyer))

    page = client.get(reverse("order_detail", args=[cod_order.number])).content.decode()

    number = cod_order.number
    assert f'آرڈر <bdi class="ltr-text">{number}</bdi>' in page  # the heading
    assert f"<title>آرڈر {FSI}{number}{PDI}" in page
    assert "<bdi>Amina Pottery</bdi>" in page
    assert "<bdi>1,250 روپے</bdi>" in page


def test_the_english_order_page_is_unchanged(cod_order, buyer, client):
    client.force_login(buyer)

    page = client.get(reverse("order_detail", args=[cod_order.number])).content.decode()

    assert f"Order {cod_order.number} " in page and "<bdi" not in page
    assert FSI not in page


def test_the_urdu_cod_confirm_page_isolates_the_number_and_the_amount(cod_order, buyer, client):
    client.cookies["django_language"] = "ur"
    url = cod_rules.confirm_url(cod_order)

    page = client.get(url).content.decode()

    assert f'<bdi class="ltr-text">{cod_order.number}</bdi>' in page
    assert "<bdi>1,250 روپے</bdi>" in page


def test_an_urdu_notice_and_its_email_isolate_the_order_number(cod_order, buyer):
    _in_urdu(buyer)
    Notification.objects.all().delete()

    cod_rules.ask_for_confirmation(cod_order)

    notice = Notification.objects.get(user=buyer)
    assert f"{FSI}{cod_order.number}{PDI}" in notice.title
    assert f"{FSI}1,250 روپے{PDI}" in notice.body
    assert tasks.send_notification_email(notice.pk)
    assert f"{FSI}{cod_order.number}{PDI}" in mail.outbox[-1].subject


def test_an_english_notice_has_no_isolates(cod_order, buyer):
    Notification.objects.all().delete()

    cod_rules.ask_for_confirmation(cod_order)

    assert Notification.objects.get(user=buyer).title == (
        f"Please confirm your cash-on-delivery order {cod_order.number}"
    )


def test_the_urdu_feedback_request_email_isolates_the_number_and_names(seller, buyer):
    order = delivered_order(seller, _in_urdu(buyer))
    mail.outbox.clear()

    assert tasks.send_feedback_request_email(order.pk)

    message = mail.outbox[-1]
    assert f"{FSI}{order.number}{PDI}" in message.subject
    assert f"{FSI}{order.number}{PDI}" in message.body
    assert f"{FSI}Amina Pottery{PDI}" in message.body
