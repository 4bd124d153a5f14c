"""The local Stripe emulator, driven by the official stripe library as the product code drives it."""

import json
import time

import pytest
import stripe

from marketplace.tests.stripe_support import (
    WEBHOOK_SECRET,
    WebhookReceiver,
    control,
    emulator_state,
    http,
    wait_until,
)
from stripe_emulator import sign_payload, start_emulator
from stripe_emulator.params import parse_form


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def emulator(receiver):
    server, base_url = start_emulator(
        port=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET, retry_delays=(0.1, 0.2)
    )
    yield base_url
    server.close()


@pytest.fixture
def client(emulator):
    return stripe.StripeClient("sk_test_x", base_addresses={"api": emulator})


def make_account(client, **extra):
    params = {
        "type": "express",
        "country": "PK",
        "email": "amina@example.pk",
        "capabilities": {"transfers": {"requested": True}},
        "tos_acceptance": {"service_agreement": "recipient"},
        **extra,
    }
    return client.v1.accounts.create(params=params)


def make_session(client, *, key=None, **extra):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "pkr",
                    "unit_amount": 250000,
                    "product_data": {"name": "Blue pottery vase"},
                },
                "quantity": 2,
            },
            {
                "price_data": {
                    "currency": "pkr",
                    "unit_amount": 30000,
                    "product_data": {"name": "Delivery"},
                },
                "quantity": 1,
            },
        ],
        "success_url": "http://shop.test/paid/?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "http://shop.test/cancelled/",
        "client_reference_id": "CK12345678",
        "metadata": {"checkout": "CK12345678", "order_ids": "1,2"},
        "payment_intent_data": {
            "transfer_group": "CK12345678",
            "metadata": {"checkout": "CK12345678"},
        },
        "customer_email": "bilal@example.pk",
        **extra,
    }
    options = {"idempotency_key": key} if key else {}
    return client.v1.checkout.sessions.create(params=params, options=options)


def paid_charge(client, emulator):
    session = make_session(client)
    control(emulator, f"sessions/{session.id}/pay")
    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["payment_intent.latest_charge"]}
    )
    return session.payment_intent.latest_charge


def ready_account(client, emulator):
    account = make_account(client)
    control(emulator, f"accounts/{account.id}/enable")
    return account


# --- Accounts and onboarding ----------------------------------------------------------------
def test_new_express_account_is_not_ready_and_lists_what_is_due(client):
    account = make_account(client)
    assert account.id.startswith("acct_")
    assert account.object == "account"
    assert account.type == "express"
    assert account.country == "PK"
    assert account.payouts_enabled is False
    assert account.charges_enabled is False
    assert account.details_submitted is False
    assert "external_account" in account.requirements.currently_due
    assert account.capabilities.transfers == "inactive"


def test_pakistani_account_needs_the_recipient_service_agreement(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        make_account(client, tos_acceptance={"service_agreement": "full"})
    assert caught.value.param == "tos_acceptance[service_agreement]"


def test_account_can_be_retrieved_by_id(client):
    account = make_account(client)
    assert client.v1.accounts.retrieve(account.id).email == "amina@example.pk"


def test_onboarding_page_completes_the_account_and_returns_to_the_site(client, emulator, receiver):
    account = make_account(client)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "http://shop.test/get-paid/refresh/",
            "return_url": "http://shop.test/get-paid/done/",
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link"
    status, _, page = http("GET", link.url)
    assert status == 200
    assert b"Complete onboarding" in page

    status, headers, _ = http("POST", link.url + "/complete")

    assert (status, headers["Location"]) == (303, "http://shop.test/get-paid/done/")
    account = client.v1.accounts.retrieve(account.id)
    assert account.payouts_enabled is True
    assert account.details_submitted is True
    assert account.requirements.currently_due == []
    assert account.capabilities.transfers == "active"
    payload, signature = receiver.wait_for("account.updated")
    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.account == account.id
    assert event.data.object.payouts_enabled is True
    assert event.data.previous_attributes.payouts_enabled is False


def test_a_used_account_link_sends_the_seller_to_the_refresh_url(client):
    account = make_account(client)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "http://shop.test/refresh/",
            "return_url": "http://shop.test/done/",
            "type": "account_onboarding",
        }
    )
    http("POST", link.url + "/complete")

    status, headers, _ = http("GET", link.url)

    assert (status, headers["Location"]) == (303, "http://shop.test/refresh/")


def test_account_link_for_an_unknown_account_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.account_links.create(
            params={
                "account": "acct_missing",
                "refresh_url": "http://x/",
                "return_url": "http://x/",
                "type": "account_onboarding",
            }
        )
    assert (caught.value.param, caught.value.code) == ("account", "resource_missing")


# --- Checkout sessions ----------------------------------------------------------------------
def test_checkout_session_has_stripes_shape(client, emulator):
    session = make_session(client)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.amount_total == 530000
    assert session.currency == "pkr"
    assert (session.status, session.payment_status) == ("open", "unpaid")
    assert session.url == f"{emulator}/c/pay/{session.id}"
    assert session.metadata.to_dict() == {"checkout": "CK12345678", "order_ids": "1,2"}
    assert session.client_reference_id == "CK12345678"
    assert session.payment_intent is None


def test_hosted_page_shows_the_line_items_and_total(client):
    session = make_session(client)
    status, _, page = http("GET", session.url)
    assert status == 200
    assert b"Blue pottery vase &times; 2" in page
    assert b"PKR 5,300.00" in page
    assert b">Cancel<" in page


def test_paying_on_the_hosted_page_redirects_to_success_url_with_the_session_id(client):
    session = make_session(client)

    status, headers, _ = http("POST", session.url + "/pay")

    assert status == 303
    assert headers["Location"] == f"http://shop.test/paid/?session={session.id}"
    session = client.v1.checkout.sessions.retrieve(session.id)
    assert (session.status, session.payment_status) == ("complete", "paid")


def test_cancel_on_the_hosted_page_returns_to_cancel_url_and_leaves_the_session_open(client):
    session = make_session(client)

    status, headers, _ = http("POST", session.url + "/cancel")

    assert (status, headers["Location"]) == (303, "http://shop.test/cancelled/")
    assert client.v1.checkout.sessions.retrieve(session.id).status == "open"


def test_payment_delivers_a_signed_checkout_session_completed(client, emulator, receiver):
    session = make_session(client)

    control(emulator, f"sessions/{session.id}/pay")

    payload, signature = receiver.wait_for("checkout.session.completed")
    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.id.startswith("evt_")
    assert event.data.object.id == session.id
    assert event.data.object.payment_status == "paid"
    assert event.data.object.metadata.order_ids == "1,2"
    assert event.data.object.payment_intent.startswith("pi_")


def test_webhook_with_another_secret_fails_verification(client, emulator, receiver):
    control(emulator, f"sessions/{make_session(client).id}/pay")
    payload, signature = receiver.wait_for("checkout.session.completed")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, signature, "whsec_other")


def test_paid_session_expands_to_payment_intent_and_charge(client, emulator):
    charge = paid_charge(client, emulator)
    assert charge.id.startswith("ch_")
    assert charge.object == "charge"
    assert (charge.amount, charge.currency, charge.paid) == (530000, "pkr", True)
    assert charge.transfer_group == "CK12345678"
    intent = client.v1.payment_intents.retrieve(charge.payment_intent)
    assert (intent.status, intent.latest_charge, intent.amount) == ("succeeded", charge.id, 530000)
    assert intent.transfer_group == "CK12345678"
    assert client.v1.charges.retrieve(charge.id).amount == 530000


def test_a_paid_session_cannot_be_paid_again(client, emulator):
    session = make_session(client)
    control(emulator, f"sessions/{session.id}/pay")
    status, _, body = http("POST", f"{emulator}/_emulator/sessions/{session.id}/pay")
    assert status == 400
    assert json.loads(body)["error"]["type"] == "invalid_request_error"


def test_expiring_a_session_delivers_the_event_and_stops_payment(client, emulator, receiver):
    session = make_session(client)

    expired = client.v1.checkout.sessions.expire(session.id)

    assert expired.status == "expired"
    payload, signature = receiver.wait_for("checkout.session.expired")
    assert stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET).data.object.id == (
        session.id
    )
    status, _, _ = http("POST", f"{emulator}/_emulator/sessions/{session.id}/pay")
    assert status == 400


def test_session_expiry_must_be_between_30_minutes_and_24_hours(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        make_session(client, expires_at=int(time.time()) + 600)
    assert caught.value.param == "expires_at"


# --- Transfers ------------------------------------------------------------------------------
def test_transfer_from_a_charge_reaches_the_connected_account(client, emulator, receiver):
    account = ready_account(client, emulator)
    charge = paid_charge(client, emulator)

    transfer = client.v1.transfers.create(
        params={
            "amount": 519400,
            "currency": "pkr",
            "destination": account.id,
            "source_transaction": charge.id,
            "transfer_group": "CK12345678",
            "metadata": {"order": "MP1"},
        }
    )

    assert transfer.id.startswith("tr_")
    assert (transfer.amount, transfer.destination) == (519400, account.id)
    assert transfer.source_transaction == charge.id
    assert client.v1.transfers.retrieve(transfer.id).metadata.order == "MP1"
    assert receiver.wait_for("transfer.created")


def test_transfer_to_an_account_without_transfers_enabled_is_refused(client, emulator):
    account = make_account(client)
    charge = paid_charge(client, emulator)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={
                "amount": 1000,
                "currency": "pkr",
                "destination": account.id,
                "source_transaction": charge.id,
            }
        )
    assert caught.value.code == "insufficient_capabilities_for_transfer"


def test_transfer_to_an_unknown_account_is_refused(client, emulator):
    charge = paid_charge(client, emulator)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={
                "amount": 1000,
                "currency": "pkr",
                "destination": "acct_nobody",
                "source_transaction": charge.id,
            }
        )
    assert (caught.value.param, caught.value.code, caught.value.http_status) == (
        "destination",
        "resource_missing",
        400,
    )


def test_transfers_cannot_take_more_than_the_source_charge(client, emulator):
    account = ready_account(client, emulator)
    charge = paid_charge(client, emulator)
    params = {"currency": "pkr", "destination": account.id, "source_transaction": charge.id}
    client.v1.transfers.create(params={**params, "amount": 500000})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(params={**params, "amount": 30001})
    assert caught.value.param == "amount"


def test_transfer_from_an_unknown_charge_is_refused(client, emulator):
    account = ready_account(client, emulator)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.transfers.create(
            params={
                "amount": 1000,
                "currency": "pkr",
                "destination": account.id,
                "source_transaction": "ch_missing",
            }
        )
    assert caught.value.param == "source_transaction"


# --- Refunds --------------------------------------------------------------------------------
def test_partial_refund_updates_the_charge_and_delivers_charge_refunded(client, emulator, receiver):
    charge = paid_charge(client, emulator)

    refund = client.v1.refunds.create(params={"charge": charge.id, "amount": 30000})

    assert refund.id.startswith("re_")
    assert (refund.amount, refund.charge, refund.status) == (30000, charge.id, "succeeded")
    charge = client.v1.charges.retrieve(charge.id)
    assert (charge.amount_refunded, charge.refunded) == (30000, False)
    payload, signature = receiver.wait_for("charge.refunded")
    event = stripe.Webhook.construct_event(payload, signature, WEBHOOK_SECRET)
    assert event.data.object.amount_refunded == 30000


def test_refund_by_payment_intent_without_amount_refunds_the_rest(client, emulator):
    charge = paid_charge(client, emulator)
    client.v1.refunds.create(params={"charge": charge.id, "amount": 30000})

    refund = client.v1.refunds.create(params={"payment_intent": charge.payment_intent})

    assert refund.amount == 500000
    assert client.v1.charges.retrieve(charge.id).refunded is True


def test_refunding_more_than_is_left_is_refused(client, emulator):
    charge = paid_charge(client, emulator)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.refunds.create(params={"charge": charge.id, "amount": 530001})
    assert caught.value.code == "amount_too_large"


# --- Idempotency ----------------------------------------------------------------------------
def test_same_idempotency_key_and_params_replays_the_first_response(client, emulator):
    first = make_session(client, key="attempt-1")
    second = make_session(client, key="attempt-1")

    assert second.id == first.id
    state = emulator_state(emulator)
    sessions = [o for o in state["objects"].values() if o["object"] == "checkout.session"]
    assert len(sessions) == 1


def test_replayed_response_is_marked_as_replayed(emulator):
    headers = {"Authorization": "Bearer sk_test_x", "Idempotency-Key": "raw-1"}
    body = b"type=express&country=US"
    _, _, first = http("POST", f"{emulator}/v1/accounts", body, headers)

    status, reply_headers, second = http("POST", f"{emulator}/v1/accounts", body, headers)

    assert status == 200
    assert reply_headers["Idempotent-Replayed"] == "true"
    assert json.loads(second)["id"] == json.loads(first)["id"]


def test_same_idempotency_key_with_other_params_raises_idempotency_error(client):
    make_session(client, key="attempt-3")
    with pytest.raises(stripe.IdempotencyError):
        make_session(client, key="attempt-3", customer_email="someone@else.pk")


def test_same_transfer_key_sends_money_once(client, emulator):
    account = ready_account(client, emulator)
    charge = paid_charge(client, emulator)
    params = {
        "amount": 400000,
        "currency": "pkr",
        "destination": account.id,
        "source_transaction": charge.id,
    }
    first = client.v1.transfers.create(params=params, options={"idempotency_key": "tr-MP1"})
    second = client.v1.transfers.create(params=params, options={"idempotency_key": "tr-MP1"})
    assert first.id == second.id
    assert len(client.v1.transfers.list(params={"destination": account.id}).data) == 1


# --- Errors ---------------------------------------------------------------------------------
def test_request_without_an_api_key_gets_stripes_401(emulator):
    status, _, body = http("GET", f"{emulator}/v1/accounts")
    assert status == 401
    error = json.loads(body)["error"]
    assert error["type"] == "invalid_request_error"
    assert "API key" in error["message"]


def test_a_non_test_key_raises_authentication_error(emulator):
    live = stripe.StripeClient("sk_live_123456", base_addresses={"api": emulator})
    with pytest.raises(stripe.AuthenticationError):
        live.v1.accounts.list()


def test_missing_required_parameter_has_stripes_error_shape(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.create(params={"mode": "payment", "success_url": "http://x/"})
    error = caught.value
    assert (error.http_status, error.param, error.code) == (400, "line_items", "parameter_missing")
    assert error.json_body["error"]["type"] == "invalid_request_error"


def test_unknown_parameter_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        make_account(client, colour="green")
    assert (caught.value.param, caught.value.code) == ("colour", "parameter_unknown")


def test_unknown_object_is_a_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.checkout.sessions.retrieve("cs_test_missing")
    assert (caught.value.http_status, caught.value.code) == (404, "resource_missing")


# --- Events and delivery --------------------------------------------------------------------
def test_events_can_be_retrieved_listed_and_resent(client, emulator, receiver):
    control(emulator, f"sessions/{make_session(client).id}/pay")
    payload, _ = receiver.wait_for("checkout.session.completed")
    event_id = json.loads(payload)["id"]
    assert client.v1.events.retrieve(event_id).type == "checkout.session.completed"
    listed = client.v1.events.list(params={"type": "checkout.session.completed"})
    assert [event.id for event in listed.data] == [event_id]
    already = len(receiver.deliveries)

    control(emulator, f"events/{event_id}/resend")

    resent, signature = receiver.wait_for("checkout.session.completed", after=already)
    assert json.loads(resent)["id"] == event_id
    assert stripe.Webhook.construct_event(resent, signature, WEBHOOK_SECRET).id == event_id


def test_a_failed_delivery_is_retried(client, emulator, receiver):
    receiver.fail_next = 1
    control(emulator, f"sessions/{make_session(client).id}/pay")
    assert receiver.wait_for("charge.succeeded")

    def attempts():
        deliveries = emulator_state(emulator)["deliveries"]
        found = [(d["attempt"], d["status"]) for d in deliveries if d["type"] == "charge.succeeded"]
        return found if len(found) == 2 else None

    assert wait_until(attempts) == [(1, 500), (2, 200)]


def test_an_unreachable_webhook_url_does_not_break_the_api():
    server, base_url = start_emulator(
        port=0, webhook_url="http://127.0.0.1:9/nowhere/", webhook_secret=WEBHOOK_SECRET
    )
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})
        session = make_session(client)
        assert control(base_url, f"sessions/{session.id}/pay")["payment_status"] == "paid"
    finally:
        server.close()


def test_state_file_keeps_objects_across_restarts(tmp_path):
    state_file = tmp_path / "stripe.json"
    server, base_url = start_emulator(port=0, state_file=state_file)
    account = make_account(stripe.StripeClient("sk_test_x", base_addresses={"api": base_url}))
    server.close()

    server, base_url = start_emulator(port=0, state_file=state_file)
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})
        assert client.v1.accounts.retrieve(account.id).email == "amina@example.pk"
    finally:
        server.close()


def test_signature_scheme_is_stripes():
    payload = '{"id": "evt_1", "object": "event", "type": "ping", "data": {"object": {}}}'
    header = sign_payload(payload, WEBHOOK_SECRET, timestamp=int(time.time()))
    assert stripe.WebhookSignature.verify_header(payload, header, WEBHOOK_SECRET, tolerance=300)


def test_stale_signature_is_refused_by_the_library():
    payload = '{"id": "evt_1"}'
    header = sign_payload(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, WEBHOOK_SECRET)


def test_form_decoding_follows_stripes_bracket_notation():
    form = (
        "line_items[0][price_data][unit_amount]=500&line_items[0][quantity]=2"
        "&line_items[1][quantity]=1&metadata[checkout]=CK1&expand[]=a&expand[]=b"
    )
    assert parse_form(form) == {
        "line_items": [
            {"price_data": {"unit_amount": "500"}, "quantity": "2"},
            {"quantity": "1"},
        ],
        "metadata": {"checkout": "CK1"},
        "expand": ["a", "b"],
    }


def test_an_account_falling_behind_is_no_longer_paid_out(client, emulator, receiver):
    account = ready_account(client, emulator)

    control(emulator, f"accounts/{account.id}/disable")

    account = client.v1.accounts.retrieve(account.id)
    assert account.payouts_enabled is False
    assert account.capabilities.transfers == "inactive"
    assert account.requirements.currently_due == ["individual.verification.document"]


def test_a_transfer_can_be_reversed_and_its_money_sent_again(client, emulator):
    account = ready_account(client, emulator)
    charge = paid_charge(client, emulator)
    params = {"currency": "pkr", "destination": account.id, "source_transaction": charge.id}
    transfer = client.v1.transfers.create(params={**params, "amount": 530000})

    reversal = client.v1.transfers.reversals.create(transfer.id)

    assert (reversal.object, reversal.amount, reversal.transfer) == (
        "transfer_reversal",
        530000,
        transfer.id,
    )
    assert client.v1.transfers.retrieve(transfer.id).reversed is True
    assert client.v1.transfers.create(params={**params, "amount": 530000}).id != transfer.id


def test_open_sessions_expire_on_their_own_at_expires_at(receiver):
    server, base_url = start_emulator(
        port=0, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET
    )
    try:
        client = stripe.StripeClient("sk_test_x", base_addresses={"api": base_url})
        session = make_session(client)
        server.store.objects[session.id]["expires_at"] = int(time.time()) - 1

        assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
        assert receiver.wait_for("checkout.session.expired")
    finally:
        server.close()


def test_the_webhook_url_can_be_changed_while_running(client, emulator):
    other = WebhookReceiver()
    try:
        data = f"url={other.url}".encode()
        assert http("POST", f"{emulator}/_emulator/webhook", data)[0] == 200

        control(emulator, f"sessions/{make_session(client).id}/pay")

        assert other.wait_for("checkout.session.completed")
    finally:
        other.close()
