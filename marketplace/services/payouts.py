"""Sellers' connected accounts: onboarding, keeping them current, and who can be paid."""

import logging
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from marketplace import payments
from marketplace.exceptions import PaymentRejected
from marketplace.models import ConnectedAccount, PayoutMethod, User

log = logging.getLogger(__name__)


def _queue_transfers() -> None:
    from django_q.tasks import async_task

    async_task("marketplace.tasks.send_pending_transfers")


def unready_sellers(seller_ids: Iterable[int]) -> set[int]:
    """The sellers among these who cannot be paid yet: no payout method (bank account or wallet,
    issue 14: the ledger holds their money until a payout) and no ready Stripe account."""
    seller_ids = set(seller_ids)
    ready = set(
        ConnectedAccount.objects.ready()
        .filter(user_id__in=seller_ids)
        .values_list("user_id", flat=True)
    )
    with_method = PayoutMethod.objects.current().filter(seller_id__in=seller_ids)
    return seller_ids - ready - set(with_method.values_list("seller_id", flat=True))


def start_payouts_onboarding(*, seller: User, refresh_url: str, return_url: str) -> str:
    """The seller's onboarding page URL, creating their Express account the first time."""
    if not seller.is_seller:
        raise PaymentRejected(_("Only sellers can set up payouts."), code="not_seller")
    account = ConnectedAccount.objects.filter(user=seller).first()
    if account is None:
        # The same key returns the same account if two requests race or one is retried.
        created = payments.create_connected_account(
            seller=seller, idempotency_key=f"connect-account-{seller.pk}"
        )
        try:
            with transaction.atomic():
                account = ConnectedAccount.objects.create(user=seller, stripe_account_id=created.id)
        except IntegrityError:
            account = ConnectedAccount.objects.get(user=seller)
        _copy_account(account, created)
    return payments.create_account_link(
        account_id=account.stripe_account_id, refresh_url=refresh_url, return_url=return_url
    )


def _copy_account(row: ConnectedAccount, account: payments.ConnectedAccount) -> None:
    row.payouts_enabled = account.payouts_enabled
    row.charges_enabled = account.charges_enabled
    row.details_submitted = account.details_submitted
    row.transfers_active = account.can_receive_transfers
    row.requirements_due = list(account.requirements_due)
    row.save(
        update_fields=[
            "payouts_enabled",
            "charges_enabled",
            "details_submitted",
            "transfers_active",
            "requirements_due",
            "updated_at",
        ]
    )


def update_connected_account(*, account: payments.ConnectedAccount) -> ConnectedAccount | None:
    """account.updated (or the onboarding return): copy the provider's view of the account."""
    with transaction.atomic():
        row = (
            ConnectedAccount.objects.select_for_update()
            .filter(stripe_account_id=account.id)
            .first()
        )
        if row is None:
            log.warning("update for unknown connected account %s", account.id)
            return None
        was_ready = row.ready
        _copy_account(row, account)
        if row.ready and not was_ready:
            transaction.on_commit(_queue_transfers)
    return row


def refresh_connected_account(*, seller: User) -> ConnectedAccount | None:
    row = ConnectedAccount.objects.filter(user=seller).first()
    if row is None:
        return None
    return update_connected_account(account=payments.retrieve_account(row.stripe_account_id))
