"""Paying with JazzCash (issue 16): the signed request, the return page by response code, the
IPN and the inquiry job (the only ways to paid), and refusals of forged or mismatched callbacks."""

import logging
import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from marketplace import payments
from marketplace.exceptions import PaymentProviderError, PaymentRejected
from marketplace.models import Checkout, Order, Payment, PaymentAttempt, Refund
from marketplace.payments.jazzcash_provider import (
    PAKISTAN,
    JazzCashProvider,
    clean_description,
    hash_is_valid,
    secure_hash,
)
from marketplace.services import ledger, refunds, wallets
from marketplace.services import payments as payment_services
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.orders import address_of, listing_by, order_for
from marketplace.tests.factories.payments import won_auction_order
from marketplace.tests.jazzcash_support import (
    SALT,
    choose,
    pay_at_jazzcash,
    post_merchant_form,
    signed,
)

pytestmark = pytest.mark.django_db

RETURN = "/payments/jazzcash/return/"
IPN = "/payments/jazzcash/ipn/"


@pytest.fixture
def order(jazzcash, seller, buyer, client):
    client.force_login(buyer)
    return order_for(buyer, listing_by(seller, price="2995.00"))


def open_jazzcash(order) -> payments.HostedCheckout:
    return payment_services.open_checkout_payment(
        checkout=order.checkout,
        buyer=order.buyer,
        success_url="http://testserver" + RETURN,
        cancel_url="http://testserver" + RETURN,
        method="jazzcash",
    )


# --- The hash and the request ---------------------------------------------------------------
def test_secure_hash_matches_jazzcash_published_example():
    fields = {"pp_Amount": "2995", "pp_MerchantID": "MER123", "pp_OrderInfo": "A48cvE28"}

    digest = secure_hash(fields, "0F5DD14AE2")

    assert digest == "c7689cda7474eb1adcd343fd0c0b676bad0ba66361cc46db589bdb0da4c1c867"


def test_secure_hash_skips_empty_fields_and_the_hash_and_takes_ppmpf_fields():
    base = {"pp_Amount": "2995", "pp_MerchantID": "MER123", "pp_OrderInfo": "A48cvE28"}
    noisy = {**base, "pp_BankID": "", "pp_SecureHash": "whatever", "other": "x"}

    assert secure_hash(noisy, "0F5DD14AE2") == secure_hash(base, "0F5DD14AE2")
    assert secure_hash({**base, "ppmpf_1": "C1"}, "0F5DD14AE2") != secure_hash(base, "0F5DD14AE2")


def test_hash_check_ignores_hex_case_and_refuses_another_salt():
    fields = signed({"pp_Amount": "2995", "pp_TxnRefNo": "T1"})

    assert hash_is_valid(fields, SALT)
    assert hash_is_valid({**fields, "pp_SecureHash": fields["pp_SecureHash"].lower()}, SALT)
    assert not hash_is_valid(fields, "another")
    assert not hash_is_valid({**fields, "pp_Amount": "2996"}, SALT)


def test_description_drops_the_characters_jazzcash_refuses():
    text = clean_description("Mug <blue> 50% off: \"best\" {a|b} \\*= C/D 'x' ملتانی")

    assert text == "Mug blue 50 off best a b C D x"
    assert len(clean_description("x" * 500)) == 200


def test_request_is_signed_in_paisa_with_a_short_reference_and_pakistan_times(order):
    page = open_jazzcash(order)
    fields = page.form_fields

    assert page.url.endswith("/CustomerPortal/transactionmanagement/merchantform/")
    assert re.fullmatch(r"[A-Za-z0-9]{1,20}", fields["pp_TxnRefNo"])
    assert fields["pp_Amount"] == "299500"
    assert fields["pp_TxnCurrency"] == "PKR"
    assert fields["pp_TxnType"] == "MWALLET"
    started = datetime.strptime(fields["pp_TxnDateTime"], "%Y%m%d%H%M%S").replace(tzinfo=PAKISTAN)
    assert abs(started - timezone.now()) < timedelta(minutes=1)
    expiry = datetime.strptime(fields["pp_TxnExpiryDateTime"], "%Y%m%d%H%M%S")
    assert expiry.replace(tzinfo=PAKISTAN) > started
    assert fields["pp_ReturnURL"] == "http://testserver" + RETURN
    assert hash_is_valid(fields, SALT)
    attempt = PaymentAttempt.objects.get()
    assert (attempt.provider, attempt.session_id) == ("jazzcash", fields["pp_TxnRefNo"])
    assert attempt.amount == Decimal("2995.00")
    assert Order.objects.get().checkout.payment_method == Checkout.PaymentMethod.JAZZCASH


def test_the_emulator_refuses_a_request_signed_with_another_salt(order, jazzcash):
    fields = dict(open_jazzcash(order).form_fields)
    fields["pp_SecureHash"] = secure_hash(fields, "wrong-salt")

    back = post_merchant_form(jazzcash, fields)

    assert 'name="pp_ResponseCode" value="115"' in back


# --- The checkout page -----------------------------------------------------------------------
def test_checkout_page_offers_card_and_jazzcash_with_our_own_logos(order, client):
    page = client.get(reverse("checkout_detail", args=[order.checkout.number])).content.decode()

    assert 'value="card"' in page
    assert 'value="jazzcash"' in page
    assert "img/pay/jazzcash" in page
    assert "img/pay/card" in page
    assert 'id="pay-form"' in page and "hx-post" not in page.split('id="pay-form"')[0][-300:]


def test_checkout_page_offers_only_cards_when_jazzcash_is_not_configured(order, client, settings):
    settings.JAZZCASH_MERCHANT_ID = ""

    page = client.get(reverse("checkout_detail", args=[order.checkout.number])).content.decode()

    assert 'value="jazzcash"' not in page
    assert 'id="pay-button"' in page


def test_paying_with_jazzcash_shows_a_page_that_posts_the_signed_form(order, client, jazzcash):
    response = client.post(
        reverse("checkout_pay", args=[order.checkout.number]), {"method": "jazzcash"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert (
        f'action="{jazzcash.base_url}/CustomerPortal/transactionmanagement/merchantform/"' in page
    )
    assert 'id="wallet-continue"' in page  # works without JavaScript
    assert "js/wallet-redirect" in page
    assert "<script>" not in page  # CSP: no inline script
    assert 'name="pp_SecureHash"' in page


def test_in_urdu_the_redirect_page_isolates_the_checkout_number(order, client, jazzcash):
    client.cookies["django_language"] = "ur"
    response = client.post(
        reverse("checkout_pay", args=[order.checkout.number]), {"method": "jazzcash"}
    )

    page = response.content.decode()
    number = order.checkout.number
    assert f'آپ چیک آؤٹ <bdi class="ltr-text">{number}</bdi> کی ادائیگی' in page


def test_the_content_security_policy_lets_forms_post_to_jazzcash():
    from madeinpk import settings as project_settings

    directives = project_settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]

    assert project_settings.JAZZCASH_BASE_URL in directives["form-action"]


def test_a_wallet_that_is_not_offered_is_refused(order, client):
    response = client.post(
        reverse("checkout_pay", args=[order.checkout.number]), {"method": "easypaisa"}
    )

    assert response.status_code == 302
    assert not PaymentAttempt.objects.exists()


# --- The return page: never paid on its word --------------------------------------------------
@pytest.mark.parametrize(
    ("code", "state", "words"),
    [
        ("000", "paid", "JazzCash reports the payment as received"),
        ("121", "paid", "JazzCash reports the payment as received"),
        ("124", "pending", "Your payment is pending at JazzCash"),
        ("157", "pending", "Your payment is pending at JazzCash"),
        ("112", "failed", "You cancelled the payment on JazzCash"),
        ("115", "failed", "could not verify our payment request"),
        ("004", "failed", "does not have enough balance"),
        ("116", "failed", "expired before it was completed"),
        ("110", "failed", "did not complete the payment (code 110)"),
        ("199", "failed", "did not complete the payment (code 199)"),
    ],
)
def test_return_shows_each_response_code_without_marking_anything_paid(
    order, client, code, state, words
):
    fields = open_jazzcash(order).form_fields
    back = signed(
        {
            "pp_TxnRefNo": fields["pp_TxnRefNo"],
            "pp_Amount": fields["pp_Amount"],
            "pp_MerchantID": fields["pp_MerchantID"],
            "pp_ResponseCode": code,
            "pp_ResponseMessage": "as JazzCash says",
        }
    )
    if state == "failed":  # JazzCash's inquiry agrees the payment failed
        attempt = PaymentAttempt.objects.get()
        attempt.expires_at = timezone.now() - timedelta(hours=2)
        attempt.save()

    response = client.post(RETURN, back)
    page = client.get(response["Location"]).content.decode()

    assert response.status_code == 302
    assert words in page
    # The emulator never saw this payment, so its inquiry cannot confirm it: not paid.
    assert not Payment.objects.exists()
    assert Order.objects.get().status == Order.Status.AWAITING_PAYMENT


def test_return_page_is_in_urdu_for_an_urdu_reader(order, client):
    fields = open_jazzcash(order).form_fields
    back = signed(
        {
            "pp_TxnRefNo": fields["pp_TxnRefNo"],
            "pp_Amount": fields["pp_Amount"],
            "pp_ResponseCode": "157",
        }
    )
    location = client.post(RETURN, back)["Location"]

    page = client.get(location, HTTP_ACCEPT_LANGUAGE="ur").content.decode()

    assert "Your payment is pending" not in page
    assert "جاز کیش" in page


def test_paid_at_jazzcash_is_recorded_by_the_inquiry_the_return_prompts(order, client, jazzcash):
    back = pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "000")

    location = client.post(RETURN, back)["Location"]
    page = client.get(location).content.decode()

    payment = Payment.objects.get()
    assert (payment.provider, payment.amount, payment.status) == (
        "jazzcash",
        Decimal("2995.00"),
        "paid",
    )
    assert "Payment received" in page
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    # The money is the platform's; the seller's share is held in the ledger as for cards.
    assert ledger.has_sale(order.pk)


def test_a_forged_return_is_refused_and_logged(order, client, caplog):
    fields = open_jazzcash(order).form_fields
    back = signed({"pp_TxnRefNo": fields["pp_TxnRefNo"], "pp_Amount": fields["pp_Amount"]})
    back["pp_ResponseCode"] = "000"  # changed after signing

    with caplog.at_level(logging.WARNING):
        response = client.post(RETURN, back)

    assert response.status_code == 400
    assert "not signed by JazzCash" in caplog.text
    assert PaymentAttempt.objects.get().response_code == ""


def test_a_return_for_another_amount_is_refused(order, client, caplog):
    fields = open_jazzcash(order).form_fields
    back = signed(
        {"pp_TxnRefNo": fields["pp_TxnRefNo"], "pp_Amount": "100", "pp_ResponseCode": "000"}
    )

    with caplog.at_level(logging.WARNING):
        response = client.post(RETURN, back)

    assert response.status_code == 400
    assert "does not match" in caplog.text


def test_a_return_for_a_reference_we_never_issued_is_refused(order, client):
    back = signed({"pp_TxnRefNo": "NOTOURS1", "pp_Amount": "299500", "pp_ResponseCode": "000"})

    assert client.post(RETURN, back).status_code == 400


def test_a_late_cancelled_return_does_not_hide_a_settled_payment(order, client, jazzcash):
    fields = open_jazzcash(order).form_fields
    paid = pay_at_jazzcash(jazzcash, fields, "000")
    client.post(RETURN, paid)
    stale = signed(
        {**{k: v for k, v in paid.items() if k != "pp_SecureHash"}, "pp_ResponseCode": "112"}
    )

    location = client.post(RETURN, stale)["Location"]

    assert "Payment received" in client.get(location).content.decode()
    assert PaymentAttempt.objects.get().response_code == "000"
    assert Payment.objects.count() == 1


def test_a_stale_return_for_a_page_closed_since_changes_nothing(order, client, jazzcash):
    fields = open_jazzcash(order).form_fields
    PaymentAttempt.objects.update(status=PaymentAttempt.Status.EXPIRED, response_code="112")
    stale = signed(
        {
            "pp_TxnRefNo": fields["pp_TxnRefNo"],
            "pp_Amount": fields["pp_Amount"],
            "pp_ResponseCode": "000",
        }
    )

    response = client.post(RETURN, stale)

    assert response.status_code == 302
    assert PaymentAttempt.objects.get().response_code == "112"
    assert not Payment.objects.exists()


# --- IPN and inquiry ----------------------------------------------------------------------------
def test_ipn_settles_the_payment_once_and_answers_000_each_time(order, client, jazzcash):
    notice = pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "000")

    first = client.post(IPN, notice, content_type="application/json")
    replay = client.post(IPN, notice)  # the same notice again, as a form this time

    assert first.json()["pp_ResponseCode"] == "000"
    assert hash_is_valid(first.json(), SALT)
    assert replay.json()["pp_ResponseCode"] == "000"
    assert Payment.objects.count() == 1
    assert ledger.has_sale(order.pk)


def test_a_forged_ipn_is_refused_without_000_so_nothing_is_recorded(order, client, jazzcash):
    notice = pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "000")
    forged = {**notice, "pp_Amount": "100"}

    response = client.post(IPN, forged, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["pp_ResponseCode"] != "000"
    assert not Payment.objects.exists()


def test_ipn_saying_paid_is_not_believed_when_the_inquiry_says_failed(order, client, jazzcash):
    fields = open_jazzcash(order).form_fields
    failed = pay_at_jazzcash(jazzcash, fields, "004")
    claims_paid = signed(
        {**{k: v for k, v in failed.items() if k != "pp_SecureHash"}, "pp_ResponseCode": "000"}
    )

    client.post(IPN, claims_paid, content_type="application/json")

    assert not Payment.objects.exists()
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.EXPIRED


def test_ipn_is_answered_with_a_retry_when_jazzcash_cannot_be_asked(
    order, client, jazzcash, settings
):
    notice = pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "000")
    settings.JAZZCASH_BASE_URL = "http://127.0.0.1:9"  # nothing listens there

    response = client.post(IPN, notice, content_type="application/json")

    assert response.status_code == 503
    assert response.json()["pp_ResponseCode"] != "000"
    assert not Payment.objects.exists()


def test_inquiry_reads_the_payment_code_not_the_envelope(monkeypatch, settings):
    provider = JazzCashProvider(merchant_id="M", password="p", salt=SALT, base_url="http://x")
    answers = {
        "pending": {
            "pp_ResponseCode": "000",
            "pp_PaymentResponseCode": "157",
            "pp_Status": "Pending",
        },
        "failed": {
            "pp_ResponseCode": "000",
            "pp_PaymentResponseCode": "004",
            "pp_Status": "Failed",
        },
        "paid": {"pp_ResponseCode": "000", "pp_PaymentResponseCode": "121", "pp_Amount": "100"},
    }
    for expected, answer in answers.items():
        monkeypatch.setattr(provider, "_post", lambda path, body, answer=answer: answer)
        session = provider.retrieve_checkout_session("T1")
        assert (session.is_paid, session.status) == {
            "pending": (False, "open"),
            "failed": (False, "expired"),
            "paid": (True, "complete"),
        }[expected]
    monkeypatch.setattr(provider, "_post", lambda path, body: {"pp_ResponseCode": "101"})
    with pytest.raises(PaymentProviderError):
        provider.retrieve_checkout_session("T1")


def test_the_job_waits_for_a_pending_payment_then_settles_it(order, jazzcash):
    fields = open_jazzcash(order).form_fields
    pay_at_jazzcash(jazzcash, fields, "157")

    assert wallets.settle_pending_wallet_payments() == 0
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.OPEN

    with jazzcash.lock:
        jazzcash.settle(jazzcash.txns[fields["pp_TxnRefNo"]], "000")
    assert wallets.settle_pending_wallet_payments() == 1
    assert Payment.objects.get().provider == "jazzcash"
    assert wallets.settle_pending_wallet_payments() == 0  # nothing left open


def test_the_job_closes_a_failed_payment_so_the_buyer_can_pay_again(order, jazzcash):
    pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "116")

    wallets.settle_pending_wallet_payments()

    attempt = PaymentAttempt.objects.get()
    assert (attempt.status, attempt.response_code) == (PaymentAttempt.Status.EXPIRED, "116")
    open_jazzcash(order)
    assert PaymentAttempt.objects.filter(status="open").count() == 1


def test_the_job_closes_a_page_jazzcash_never_saw_once_it_expires(order, jazzcash):
    open_jazzcash(order)
    assert wallets.settle_pending_wallet_payments() == 0
    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.OPEN

    PaymentAttempt.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    wallets.settle_pending_wallet_payments()

    assert PaymentAttempt.objects.get().status == PaymentAttempt.Status.EXPIRED


# --- Choosing the method at checkout ----------------------------------------------------------
def _place(client, listing, address, method):
    return client.post(
        reverse("checkout_start") + f"?listing={listing.pk}&quantity=1",
        {
            "address": address.pk,
            "expected_total": str(listing.price),
            "checkout_key": "b" * 32,
            "payment_method": method,
        },
    )


def test_the_checkout_form_offers_every_method_with_its_logo(jazzcash, seller, buyer, client):
    client.force_login(buyer)
    address_of(buyer)
    listing = listing_by(seller, price="2995.00")

    page = client.get(reverse("checkout_start") + f"?listing={listing.pk}").content.decode()

    for method in ("card", "jazzcash", "cod"):
        assert f'id="method-{method}"' in page
        assert f"img/pay/{method}.svg" in page
    assert 'id="method-easypaisa"' not in page
    assert 'id="cod-unavailable"' in page  # this shop does not take cash on delivery


def test_placing_with_jazzcash_goes_on_to_pay_with_jazzcash_chosen(jazzcash, seller, buyer, client):
    client.force_login(buyer)
    listing = listing_by(seller, price="2995.00")

    response = _place(client, listing, address_of(buyer), "jazzcash")

    checkout = Checkout.objects.get()
    assert checkout.payment_method == Checkout.PaymentMethod.JAZZCASH
    assert response["Location"] == reverse("checkout_detail", args=[checkout.number])
    page = client.get(response["Location"]).content.decode()
    assert re.search(r'id="method-jazzcash" value="jazzcash" checked', page)
    assert 'id="pay-button"' in page
    assert not PaymentAttempt.objects.exists()  # nothing opened until the buyer pays


def test_a_wallet_that_is_not_configured_cannot_be_placed_with(seller, buyer, client):
    client.force_login(buyer)
    listing = listing_by(seller, price="2995.00")

    page = _place(client, listing, address_of(buyer), "jazzcash").content.decode()

    assert "This way of paying is not available." in page
    assert not Checkout.objects.exists()
    assert 'id="method-jazzcash"' not in page


def test_the_api_opens_jazzcash_with_the_signed_fields_to_post(order):
    client = token_client(order.buyer)

    response = client.post(
        f"/api/checkouts/{order.checkout.number}/pay/", {"method": "jazzcash"}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["method"] == "jazzcash"
    assert body["payment_url"].endswith("/CustomerPortal/transactionmanagement/merchantform/")
    fields = body["form_fields"]
    assert fields["pp_Amount"] == "299500"
    assert fields["pp_ReturnURL"] == "http://testserver" + RETURN
    assert hash_is_valid(fields, SALT)
    attempt = PaymentAttempt.objects.get()
    assert (attempt.provider, attempt.session_id) == ("jazzcash", fields["pp_TxnRefNo"])
    assert Checkout.objects.get().payment_method == Checkout.PaymentMethod.JAZZCASH


def test_the_api_refuses_jazzcash_when_it_is_not_configured(seller, buyer):
    order = order_for(buyer, listing_by(seller, price="2995.00"))
    client = token_client(buyer)
    url = f"/api/checkouts/{order.checkout.number}/pay/"

    refused = client.post(url, {"method": "jazzcash"}, format="json")
    unknown = client.post(url, {"method": "cod"}, format="json")

    assert refused.status_code == 400 and refused.json()["code"] == "bad_method"
    assert unknown.status_code == 400
    assert not PaymentAttempt.objects.exists()


def test_the_api_checks_out_the_cart_with_jazzcash_and_answers_the_form_to_post(
    jazzcash, seller, buyer
):
    address_of(buyer)
    listing = listing_by(seller, price="2995.00")
    client = token_client(buyer)
    client.post("/api/cart/", {"listing": listing.pk, "quantity": 1}, format="json")

    response = client.post("/api/checkout/", {"payment_method": "jazzcash"}, format="json")

    body = response.json()
    assert response.status_code == 201, body
    assert body["payment_method"] == "jazzcash" and body["payment_error"] is None
    assert body["payment_url"].endswith("/CustomerPortal/transactionmanagement/merchantform/")
    assert body["form_fields"]["pp_Amount"] == "299500"
    assert hash_is_valid(body["form_fields"], SALT)
    attempt = PaymentAttempt.objects.get()
    assert (attempt.provider, attempt.session_id) == (
        "jazzcash",
        body["form_fields"]["pp_TxnRefNo"],
    )


def test_the_api_buy_now_takes_jazzcash_too(jazzcash, seller, buyer):
    address_of(buyer)
    listing = listing_by(seller, price="2995.00")

    response = token_client(buyer).post(
        f"/api/listings/{listing.pk}/purchase/", {"payment_method": "jazzcash"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Checkout.objects.get().payment_method == Checkout.PaymentMethod.JAZZCASH


def test_the_cart_lists_the_ways_to_pay_as_the_checkout_page_does(jazzcash, seller, buyer):
    address_of(buyer)
    client = token_client(buyer)
    client.post("/api/cart/", {"listing": listing_by(seller).pk, "quantity": 1}, format="json")

    methods = client.get("/api/cart/").json()["payment_methods"]

    assert [(m["method"], m["available"]) for m in methods] == [
        ("card", True),
        ("jazzcash", True),
        ("cod", False),
    ]
    assert methods[2]["refusal"]["code"] == "cod_not_accepted"


@pytest.mark.parametrize(
    ("method", "code"),
    [("jazzcash", "bad_method"), ("easypaisa", "bad_method"), ("bitcoin", "invalid")],
)
def test_the_api_checkout_refuses_a_method_not_offered_with_a_400(seller, buyer, method, code):
    address_of(buyer)  # JazzCash is not configured here
    client = token_client(buyer)
    client.post("/api/cart/", {"listing": listing_by(seller).pk, "quantity": 1}, format="json")

    response = client.post("/api/checkout/", {"payment_method": method}, format="json")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == code
    assert body["message"]
    assert not Checkout.objects.exists()


def test_an_unknown_method_is_named_in_the_answer_in_the_buyers_language(seller, buyer):
    address_of(buyer)
    client = token_client(buyer)
    client.post("/api/cart/", {"listing": listing_by(seller).pk, "quantity": 1}, format="json")

    response = client.post(
        "/api/checkout/",
        {"payment_method": "bitcoin"},
        format="json",
        headers={"Accept-Language": "ur"},
    )

    assert response.json()["message"].startswith("“bitcoin” ادائیگی کا کوئی طریقہ نہیں")


# --- Switching methods, auctions, refunds ------------------------------------------------------
def test_buyer_can_switch_from_jazzcash_to_card_before_paying(order, jazzcash, emulator):
    from marketplace.tests.payments_fixtures import onboard

    onboard(emulator, order.seller)
    open_jazzcash(order)

    payment_services.open_checkout_payment(
        checkout=order.checkout,
        buyer=order.buyer,
        success_url="http://testserver/ok/?session_id={CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/no/",
    )

    statuses = dict(PaymentAttempt.objects.values_list("provider", "status"))
    assert statuses == {"jazzcash": "expired", "stripe": "open"}
    assert Checkout.objects.get().payment_method == Checkout.PaymentMethod.CARD


def test_switching_is_refused_while_a_jazzcash_payment_is_pending(order, jazzcash):
    pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "157")

    with pytest.raises(PaymentProviderError, match="still being processed"):
        open_jazzcash(order)


def test_an_auction_winner_pays_by_jazzcash(jazzcash, seller, buyer, client):
    order = won_auction_order(seller, buyer)
    payment_services.choose_checkout_address(
        checkout=order.checkout, buyer=buyer, address=address_of(buyer)
    )
    client.force_login(buyer)
    back = pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "000")

    client.post(IPN, back, content_type="application/json")

    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert Payment.objects.get().amount == order.total


def test_a_refund_goes_back_through_jazzcash(order, client, jazzcash, admin_user):
    back = pay_at_jazzcash(jazzcash, open_jazzcash(order).form_fields, "000")
    client.post(IPN, back, content_type="application/json")
    order.refresh_from_db()

    refund = refunds.refund_in_full(order=order, requested_by=admin_user, reason="Out of stock")

    assert refund.status == Refund.Status.SUCCEEDED
    assert jazzcash.txns[back["pp_TxnRefNo"]]["code"] == "131"
    assert jazzcash.txns[back["pp_TxnRefNo"]]["refunded"] == 299500
    order.refresh_from_db()
    assert order.status == Order.Status.REFUNDED


def test_paying_a_checkout_that_cannot_be_paid_is_refused_for_wallets_too(order):
    order.checkout.buyer = order.seller
    with pytest.raises(PaymentRejected):
        payment_services.open_checkout_payment(
            checkout=order.checkout,
            buyer=order.seller,
            success_url="http://testserver" + RETURN,
            cancel_url="http://testserver" + RETURN,
            method="jazzcash",
        )


def test_choose_on_the_emulator_twice_is_refused(order, jazzcash):
    fields = open_jazzcash(order).form_fields
    pay_at_jazzcash(jazzcash, fields, "000")

    with pytest.raises(AssertionError):
        choose(jazzcash, fields["pp_TxnRefNo"], "112")


def test_the_order_page_sends_the_buyer_to_choose_how_to_pay(order, client):
    page = client.get(reverse("order_detail", args=[order.number])).content.decode()

    link = reverse("checkout_detail", args=[order.checkout.number])
    assert f'<a class="btn btn-success" href="{link}" id="pay-button">' in page
