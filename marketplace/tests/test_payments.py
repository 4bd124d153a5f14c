"""marketplace.payments: money arithmetic, and each provider call against the local emulator."""

import json
import time
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest
import stripe
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, WebhookRejected
from marketplace.models import Checkout, Order, OrderItem
from marketplace.models.orders import new_reference
from marketplace.tests.factories.accounts import SellerFactory
from marketplace.tests.stripe_support import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    control,
    emulator_state,
    http,
)
from stripe_emulator import sign_payload, start_emulator

PAISA = Decimal("0.01")
# Order totals: Rs 0.01 up to Rs 10 crore (settings.MAX_PRICE), always whole paisa.
order_totals = st.decimals(
    min_value=PAISA, max_value=Decimal("100000000.00"), places=2, allow_nan=False
)


# --- Fixtures -------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The factories set real passwords; PBKDF2 would dominate these tests' time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def emulator(receiver, settings):
    server, base_url = start_emulator(
        port=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, retry_delays=(0.1,)
    )
    settings.STRIPE_API_BASE = base_url
    settings.STRIPE_SECRET_KEY = "sk_test_payments"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.CURRENCY = "PKR"
    yield base_url
    server.close()


def make_checkout(buyer, *sellers_lines):
    """A checkout with one order per seller: each argument is (seller, [(title, price, qty)], fee)."""
    checkout = Checkout.objects.create(number=new_reference("CK"), buyer=buyer)
    orders = []
    for seller, lines, shipping in sellers_lines:
        subtotal = sum(Decimal(price) * qty for _, price, qty in lines)
        order = Order.objects.create(
            number=new_reference("MP"),
            checkout=checkout,
            buyer=buyer,
            seller=seller,
            subtotal=subtotal,
            shipping_fee=Decimal(shipping),
            total=subtotal + Decimal(shipping),
        )
        for title, price, qty in lines:
            OrderItem.objects.create(
                order=order,
                title=title,
                unit_price=Decimal(price),
                quantity=qty,
                line_total=Decimal(price) * qty,
            )
        orders.append(order)
    return checkout, orders


@pytest.fixture
def two_seller_checkout(buyer, seller):
    other = SellerFactory(username="zainab", seller_profile__shop_name="Zainab Rugs")
    return make_checkout(
        buyer,
        (seller, [("Blue pottery vase", "2500.00", 2), ("Tile", "333.33", 3)], "250.00"),
        (other, [("Hand-knotted rug", "18999.99", 1)], "0"),
    )


def start_session(checkout, orders, key="attempt-1", **extra):
    return payments.create_checkout_session(
        checkout=checkout,
        orders=orders,
        success_url="http://shop.test/paid/?session={CHECKOUT_SESSION_ID}",
        cancel_url="http://shop.test/cancelled/",
        idempotency_key=key,
        **extra,
    )


def ready_account(emulator, user):
    account = payments.create_connected_account(seller=user, idempotency_key=f"acct-{user.pk}")
    control(emulator, f"accounts/{account.id}/enable")
    return account


def objects(emulator, kind):
    return [o for o in emulator_state(emulator)["objects"].values() if o["object"] == kind]


# --- Minor units ----------------------------------------------------------------------------
@given(order_totals)
def test_pkr_amounts_round_trip_through_minor_units(amount):
    units = payments.to_minor_units(amount, "PKR")
    assert units == amount * 100
    assert payments.from_minor_units(units, "PKR") == amount


@given(st.integers(min_value=0, max_value=10**10))
def test_zero_decimal_amounts_round_trip_unscaled(units):
    assert payments.to_minor_units(Decimal(units), "JPY") == units
    assert payments.from_minor_units(units, "jpy") == Decimal(units)


def test_three_decimal_currencies_use_thousandths():
    assert payments.to_minor_units(Decimal("1.234"), "KWD") == 1234


@pytest.mark.parametrize(("amount", "currency"), [("1.005", "PKR"), ("10.5", "JPY")])
def test_amounts_finer_than_the_currency_are_refused_not_rounded(amount, currency):
    with pytest.raises(ValueError, match="whole number"):
        payments.to_minor_units(Decimal(amount), currency)


def test_floats_are_refused():
    with pytest.raises(TypeError):
        payments.to_minor_units(12.5, "PKR")


def test_currency_defaults_to_the_setting(settings):
    settings.CURRENCY = "JPY"
    assert payments.to_minor_units(Decimal("500")) == 500


# --- Fee arithmetic -------------------------------------------------------------------------
def _order(items: Decimal, delivery: Decimal = Decimal("0.00")) -> SimpleNamespace:
    return SimpleNamespace(subtotal=items, shipping_fee=delivery, total=items + delivery)


@given(order_totals, order_totals)
def test_fee_plus_seller_share_is_the_order_total(items, delivery):
    order = _order(items, delivery)
    [(_, fee, share)] = payments.split_checkout([order])
    assert fee + share == order.total
    assert fee >= 0 and share >= 0


@given(order_totals, order_totals)
def test_the_fee_is_on_the_items_only(items, delivery):
    assert payments.order_fee(_order(items, delivery)) == payments.platform_fee(items)


@given(order_totals)
def test_fee_is_within_one_paisa_of_two_percent(total):
    fee = payments.platform_fee(total)
    assert abs(fee - total * Decimal("0.02")) <= PAISA
    assert fee == fee.quantize(PAISA)


@given(st.lists(order_totals, min_size=1, max_size=8))
def test_multi_seller_fees_and_shares_add_up_to_the_amount_charged(totals):
    orders = [_order(total) for total in totals]
    splits = payments.split_checkout(orders)
    charged = payments.to_minor_units(sum(totals), "PKR")
    minor = [payments.to_minor_units(fee, "PKR") + payments.to_minor_units(share, "PKR")
             for _, fee, share in splits]  # fmt: skip
    assert sum(minor) == charged
    assert [split.order for split in splits] == orders


@pytest.mark.parametrize(
    ("total", "fee"),
    [("0.25", "0.01"), ("1249.75", "25.00"), ("1250.50", "25.01"), ("0.24", "0.00")],
)
def test_fee_rounds_half_up_to_the_paisa(total, fee):
    assert payments.platform_fee(Decimal(total)) == Decimal(fee)


def test_fee_rate_is_read_when_called(settings):
    settings.PLATFORM_FEE_RATE = Decimal("0.05")
    assert payments.platform_fee(Decimal("1000.00")) == Decimal("50.00")


def test_session_expiry_keeps_the_deadline_inside_stripes_window():
    now = timezone.now()
    soon = payments.session_expiry(now + timedelta(minutes=5))
    far = payments.session_expiry(now + timedelta(days=3))
    middle = now + timedelta(hours=5)
    assert soon >= now + timedelta(minutes=31)
    assert far <= now + timedelta(hours=24)
    assert payments.session_expiry(middle) == middle
    assert payments.session_expiry(None) is None


# --- Connect onboarding ---------------------------------------------------------------------
@pytest.mark.django_db
def test_connected_account_is_an_express_transfer_recipient_in_the_configured_country(
    emulator, seller, settings
):
    settings.STRIPE_CONNECT_COUNTRY = "PK"

    account = payments.create_connected_account(seller=seller, idempotency_key="acct-1")

    assert account.id.startswith("acct_")
    assert not account.ready
    assert "external_account" in account.requirements_due
    [stored] = objects(emulator, "account")
    assert (stored["type"], stored["country"], stored["email"]) == ("express", "PK", seller.email)
    assert stored["tos_acceptance"]["service_agreement"] == "recipient"
    assert stored["capabilities"] == {"transfers": "inactive"}
    assert stored["metadata"]["seller_id"] == str(seller.pk)


@pytest.mark.django_db
def test_account_link_leads_to_onboarding_after_which_the_account_is_ready(emulator, seller):
    account = payments.create_connected_account(seller=seller, idempotency_key="acct-1")
    url = payments.create_account_link(
        account_id=account.id,
        refresh_url="http://shop.test/refresh/",
        return_url="http://shop.test/done/",
    )
    assert url.startswith(f"{emulator}/connect/onboarding/")

    http("POST", url + "/complete")

    account = payments.retrieve_account(account.id)
    assert account.ready
    assert account.requirements_due == ()


# --- Checkout -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_checkout_session_charges_exactly_the_orders(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout

    session = start_session(checkout, orders)

    assert session.amount_total == sum(order.total for order in orders) == Decimal("25249.98")
    assert session.currency == "PKR"
    assert session.url.startswith(f"{emulator}/c/pay/")
    [stored] = objects(emulator, "checkout.session")
    assert stored["amount_total"] == 2524998
    lines = [(i["description"], i["price"]["unit_amount"], i["quantity"]) for i in stored["_line_items"]]  # fmt: skip
    assert lines == [
        ("Blue pottery vase", 250000, 2),
        ("Tile", 33333, 3),
        (f"Delivery of order {orders[0].number}", 25000, 1),
        ("Hand-knotted rug", 1899999, 1),
    ]


@pytest.mark.django_db
def test_checkout_session_names_the_checkout_and_its_orders(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout

    session = start_session(checkout, orders)

    assert session.reference == checkout.number
    assert session.metadata == {
        "checkout": checkout.number,
        "orders": ",".join(order.number for order in orders),
        "order_ids": ",".join(str(order.pk) for order in orders),
    }
    [stored] = objects(emulator, "checkout.session")
    assert stored["_payment_intent_data"]["transfer_group"] == checkout.number
    assert stored["_payment_intent_data"]["metadata"]["checkout"] == checkout.number
    assert stored["customer_email"] == checkout.buyer.email


@pytest.mark.django_db
def test_retrying_a_checkout_attempt_returns_the_same_session(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    first = start_session(checkout, orders, key="CK-attempt-1")
    again = start_session(checkout, orders, key="CK-attempt-1")
    assert again.id == first.id
    assert len(objects(emulator, "checkout.session")) == 1


@pytest.mark.django_db
def test_session_expiry_follows_the_payment_deadline(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    deadline = timezone.now() + timedelta(hours=3)

    session = start_session(checkout, orders, expires_at=deadline)

    assert session.expires_at == deadline.replace(microsecond=0)


@pytest.mark.django_db
def test_orders_of_another_checkout_are_refused(emulator, two_seller_checkout, buyer, seller):
    checkout, orders = two_seller_checkout
    _, stranger = make_checkout(buyer, (seller, [("Cup", "100.00", 1)], "0"))
    with pytest.raises(ValueError, match="orders"):
        start_session(checkout, [*orders, *stranger])
    assert objects(emulator, "checkout.session") == []


@pytest.mark.django_db
def test_paid_session_is_retrieved_with_its_charge(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    assert not payments.retrieve_checkout_session(session.id).is_paid

    control(emulator, f"sessions/{session.id}/pay")

    paid = payments.retrieve_checkout_session(session.id)
    assert paid.is_paid
    assert paid.payment_intent_id.startswith("pi_")
    assert paid.charge_id.startswith("ch_")


@pytest.mark.django_db
def test_expired_session_can_no_longer_be_paid(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)

    assert payments.expire_checkout_session(session.id).status == "expired"

    with pytest.raises(AssertionError):
        control(emulator, f"sessions/{session.id}/pay")


# --- Transfers and refunds ------------------------------------------------------------------
@pytest.mark.django_db
def test_each_seller_receives_their_share_and_the_platform_keeps_the_fees(
    emulator, two_seller_checkout
):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    control(emulator, f"sessions/{session.id}/pay")
    charge_id = payments.retrieve_checkout_session(session.id).charge_id

    fees = Decimal(0)
    for order, fee, share in payments.split_checkout(orders):
        account = ready_account(emulator, order.seller)
        transfer = payments.create_transfer(
            amount=share,
            destination=account.id,
            source_transaction=charge_id,
            transfer_group=checkout.number,
            idempotency_key=f"transfer-{order.number}",
            metadata={"order": order.number},
        )
        assert (transfer.amount, transfer.destination) == (share, account.id)
        fees += fee

    [charge] = objects(emulator, "charge")
    sent = sum(t["amount"] for t in objects(emulator, "transfer"))
    assert sent + payments.to_minor_units(fees) == charge["amount"]
    # On the items only (issue 15): 2% of 5999.99 (120.00, rounded) + 2% of 18999.99 (380.00);
    # the first order's Rs 250 delivery carries no fee.
    assert fees == Decimal("500.00")


@pytest.mark.django_db
def test_a_transfer_retried_with_its_key_is_sent_once(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    control(emulator, f"sessions/{session.id}/pay")
    charge_id = payments.retrieve_checkout_session(session.id).charge_id
    account = ready_account(emulator, orders[0].seller)
    kwargs = {
        "amount": Decimal("100.00"),
        "destination": account.id,
        "source_transaction": charge_id,
        "transfer_group": checkout.number,
        "idempotency_key": "transfer-once",
    }

    assert payments.create_transfer(**kwargs).id == payments.create_transfer(**kwargs).id
    assert len(objects(emulator, "transfer")) == 1


@pytest.mark.django_db
def test_provider_refusal_is_a_payment_provider_error(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    control(emulator, f"sessions/{session.id}/pay")
    charge_id = payments.retrieve_checkout_session(session.id).charge_id
    unready = payments.create_connected_account(seller=orders[0].seller, idempotency_key="a")

    with pytest.raises(PaymentProviderError) as caught:
        payments.create_transfer(
            amount=Decimal("100.00"),
            destination=unready.id,
            source_transaction=charge_id,
            transfer_group=checkout.number,
            idempotency_key="transfer-unready",
        )

    assert caught.value.provider_code == "insufficient_capabilities_for_transfer"
    assert caught.value.retryable is False
    assert caught.value.http_status == 400


def test_unreachable_provider_is_a_retryable_error(settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(PaymentProviderError) as caught:
        payments.retrieve_account("acct_1")
    assert caught.value.retryable is True


@pytest.mark.django_db
def test_refunds_partial_then_the_rest(emulator, two_seller_checkout):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    control(emulator, f"sessions/{session.id}/pay")
    paid = payments.retrieve_checkout_session(session.id)

    part = payments.create_refund(
        charge_or_intent=paid.charge_id, amount=Decimal("250.00"), idempotency_key="refund-1"
    )
    rest = payments.create_refund(
        charge_or_intent=paid.payment_intent_id, amount=None, idempotency_key="refund-2"
    )

    assert (part.amount, part.charge_id, part.status) == (
        Decimal("250.00"),
        paid.charge_id,
        "succeeded",
    )
    assert rest.amount == Decimal("24999.98")
    with pytest.raises(PaymentProviderError) as caught:
        payments.create_refund(
            charge_or_intent=paid.charge_id, amount=Decimal("1.00"), idempotency_key="refund-3"
        )
    assert caught.value.provider_code == "charge_already_refunded"


# --- Webhooks -------------------------------------------------------------------------------
@pytest.mark.django_db
def test_signed_completed_event_is_parsed_into_a_checkout(emulator, receiver, two_seller_checkout):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    control(emulator, f"sessions/{session.id}/pay")
    payload, signature = receiver.wait_for("checkout.session.completed")

    event = payments.construct_event(payload, signature)

    assert event.type == "checkout.session.completed"
    assert event.id.startswith("evt_")
    assert event.checkout.id == session.id
    assert event.checkout.is_paid
    assert event.checkout.reference == checkout.number
    assert event.checkout.metadata["order_ids"] == ",".join(str(o.pk) for o in orders)
    assert event.checkout.amount_total == Decimal("25249.98")


@pytest.mark.django_db
def test_account_updated_event_carries_the_account_state(emulator, receiver, seller):
    ready_account(emulator, seller)
    payload, signature = receiver.wait_for("account.updated")

    event = payments.construct_event(payload, signature)

    assert event.connected_account.ready
    assert event.account == event.connected_account.id


def signed(body: dict, *, secret=WEBHOOK_SECRET, age=0) -> tuple[bytes, str]:
    payload = json.dumps(body).encode()
    return payload, sign_payload(payload, secret, int(time.time()) - age)


EVENT = {
    "id": "evt_1",
    "object": "event",
    "type": "charge.refunded",
    "created": 1,
    "data": {
        "object": {
            "id": "ch_1",
            "object": "charge",
            "amount": 10000,
            "amount_refunded": 2500,
            "currency": "pkr",
            "refunded": False,
            "payment_intent": "pi_1",
        },
        "previous_attributes": {"amount_refunded": 0},
    },
}


def test_refund_event_is_parsed_into_a_charge(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    event = payments.construct_event(*signed(EVENT))
    assert event.charge.amount_refunded == Decimal("25.00")
    assert event.charge.payment_intent_id == "pi_1"
    assert event.previous_attributes == {"amount_refunded": 0}


@pytest.mark.parametrize(
    "make",
    [
        lambda: signed(EVENT, secret="whsec_wrong"),
        lambda: signed(EVENT, age=301),
        lambda: (signed(EVENT)[0], ""),
        lambda: (b'{"id": "evt_2"}', signed(EVENT)[1]),
    ],
    ids=["wrong-secret", "stale", "unsigned", "signature-of-another-body"],
)
def test_bad_webhooks_are_rejected(settings, make):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    with pytest.raises(WebhookRejected):
        payments.construct_event(*make())


def test_webhooks_are_rejected_when_no_secret_is_configured(settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    with pytest.raises(WebhookRejected):
        payments.construct_event(*signed(EVENT))


def test_any_of_several_configured_secrets_verifies(settings):
    settings.STRIPE_WEBHOOK_SECRET = f"whsec_platform, {WEBHOOK_SECRET}"
    assert payments.construct_event(*signed(EVENT)).id == "evt_1"


def test_signed_body_that_is_not_json_is_rejected(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    payload = b"not json"
    with pytest.raises(WebhookRejected):
        payments.construct_event(payload, sign_payload(payload, WEBHOOK_SECRET))


# --- Exactly what is sent -------------------------------------------------------------------
class RecordingClient(stripe.RequestsClient):
    """Forwards to the emulator and keeps (method, url, headers, form) of every request."""

    name = "recording"

    def __init__(self):
        super().__init__()
        self.sent = []

    def request(self, method, url, headers, post_data=None):
        form = dict(parse_qsl(post_data or "", keep_blank_values=True))
        self.sent.append((method, url, dict(headers or {}), form))
        return super().request(method, url, headers, post_data)


@pytest.fixture
def recorder(emulator, monkeypatch):
    client = RecordingClient()
    provider = payments.StripeProvider(
        secret_key="sk_test_recorded", api_base=emulator, http_client=client
    )
    monkeypatch.setattr(payments, "get_provider", lambda name=None: provider)
    return client


@pytest.mark.django_db
def test_transfer_sends_the_share_to_the_seller_with_its_idempotency_key(
    emulator, recorder, two_seller_checkout
):
    checkout, orders = two_seller_checkout
    session = start_session(checkout, orders)
    control(emulator, f"sessions/{session.id}/pay")
    charge_id = payments.retrieve_checkout_session(session.id).charge_id
    account = ready_account(emulator, orders[1].seller)
    [_, (order, fee, share)] = payments.split_checkout(orders)

    payments.create_transfer(
        amount=share,
        destination=account.id,
        source_transaction=charge_id,
        transfer_group=checkout.number,
        idempotency_key=f"transfer-{order.number}",
        metadata={"order": order.number},
    )

    method, url, headers, form = recorder.sent[-1]
    assert (method, url) == ("post", f"{emulator}/v1/transfers")
    assert headers["Idempotency-Key"] == f"transfer-{order.number}"
    assert headers["Authorization"] == "Bearer sk_test_recorded"
    assert (fee, share) == (Decimal("380.00"), Decimal("18619.99"))
    assert form == {
        "amount": "1861999",
        "currency": "pkr",
        "destination": account.id,
        "source_transaction": charge_id,
        "transfer_group": checkout.number,
        "metadata[order]": order.number,
    }


@pytest.mark.django_db
def test_checkout_session_request_carries_transfer_group_and_idempotency_key(
    emulator, recorder, two_seller_checkout
):
    checkout, orders = two_seller_checkout

    start_session(checkout, orders, key=f"{checkout.number}-attempt-1")

    method, url, headers, form = recorder.sent[-1]
    assert (method, url) == ("post", f"{emulator}/v1/checkout/sessions")
    assert headers["Idempotency-Key"] == f"{checkout.number}-attempt-1"
    assert form["mode"] == "payment"
    assert form["payment_intent_data[transfer_group]"] == checkout.number
    assert form["line_items[0][price_data][unit_amount]"] == "250000"
    assert form["line_items[0][price_data][currency]"] == "pkr"
    assert form["line_items[0][quantity]"] == "2"
    assert form["success_url"] == "http://shop.test/paid/?session={CHECKOUT_SESSION_ID}"
