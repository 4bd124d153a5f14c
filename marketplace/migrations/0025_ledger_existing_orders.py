"""Issue 14 phase 2: orders paid before the seller ledger get their entries, with the keys the
live code uses (services/ledger.py), so reconciliation and refunds treat them like new ones.

Per SellerTransfer (one per order paid before the ledger):
- sale and fee (pending), as record_sale writes them;
- SENT: the money left already: release, then one PAID payout line per transfer in the batch
  "migrated" (paid to the seller's Stripe account, reference the Stripe transfer id);
- REVERSED or CANCELLED, or an order refunded: the refund and the fee given back, as
  record_refund writes them (from available when released, so a seller refunded at the
  provider after a transfer owes it);
- PENDING or FAILED: the transfer is cancelled; the money stays pending in the ledger and is
  paid by the payout batches after delivery, never by the old transfers job too.
Running it on a database that has entries for an order already skips that order.
"""

from decimal import Decimal

from django.db import migrations

ZERO = Decimal("0.00")


def _stripe_method(apps, seller_id, connected, when):
    PayoutMethod = apps.get_model("marketplace", "PayoutMethod")
    method = (
        PayoutMethod.objects.filter(seller_id=seller_id, kind="stripe", connected_account=connected)
        .order_by("pk")
        .first()
    )
    if method is None:
        # A method already replaced: it records where the money went, and is no one's current.
        method = PayoutMethod.objects.create(
            seller_id=seller_id,
            kind="stripe",
            connected_account=connected,
            hold_until=when,
            created_at=when,
            replaced_at=when,
        )
    return method


def forwards(apps, schema_editor):
    SellerTransfer = apps.get_model("marketplace", "SellerTransfer")
    LedgerEntry = apps.get_model("marketplace", "LedgerEntry")
    PayoutBatch = apps.get_model("marketplace", "PayoutBatch")
    Payout = apps.get_model("marketplace", "Payout")
    ConnectedAccount = apps.get_model("marketplace", "ConnectedAccount")
    batch = None
    transfers = SellerTransfer.objects.select_related("order", "payment").order_by("pk")
    for transfer in transfers.iterator():
        order = transfer.order
        if LedgerEntry.objects.filter(order_id=order.pk).exists():
            continue
        seller_id = order.seller_id
        when = order.paid_at or transfer.created_at
        links = {"seller_id": seller_id, "order_id": order.pk, "payment_id": transfer.payment_id}

        def post(kind, key, at=when, links=links, **buckets):
            LedgerEntry.objects.create(kind=kind, key=key, created_at=at, **links, **buckets)

        post("sale", f"sale:order:{order.pk}", pending=order.total)
        if transfer.fee:
            post("fee", f"fee:order:{order.pk}", pending=-transfer.fee)
        share = order.total - transfer.fee
        released = transfer.status == "sent"
        if released:
            sent_at = transfer.sent_at or when
            post(
                "release",
                f"release:order:{order.pk}",
                at=sent_at,
                pending=-share,
                available=share,
            )
            if batch is None:
                batch, _created = PayoutBatch.objects.get_or_create(key="migrated")
            connected = ConnectedAccount.objects.get(user_id=seller_id)
            line = Payout.objects.create(
                batch=batch,
                seller_id=seller_id,
                amount=share,
                method=_stripe_method(apps, seller_id, connected, sent_at),
                method_kind="stripe",
                account=connected.stripe_account_id,
                status="paid",
                reference=transfer.stripe_transfer_id or transfer.idempotency_key,
                created_at=sent_at,
                paid_at=sent_at,
            )
            LedgerEntry.objects.create(
                kind="payout",
                key=f"payout:line:{line.pk}",
                seller_id=seller_id,
                payout=line,
                available=-share,
                paid_out=share,
                created_at=sent_at,
            )
        refunded = transfer.status in ("reversed", "cancelled") or order.status == "refunded"
        if refunded:
            bucket = "available" if released else "pending"
            post("refund", f"refund:order:{order.pk}", **{bucket: -order.total})
            if transfer.fee:
                post("fee_refund", f"fee-refund:order:{order.pk}", **{bucket: transfer.fee})
        if transfer.status in ("pending", "failed"):
            SellerTransfer.objects.filter(pk=transfer.pk).update(status="cancelled")


class Migration(migrations.Migration):
    dependencies = [("marketplace", "0024_complaint_messages")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
