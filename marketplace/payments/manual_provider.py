"""Refunds MadeInPK staff send by hand: the provider of a cash-on-delivery order's refund.

The buyer paid the courier in cash, so there is no charge to refund: staff send the money by
bank transfer, JazzCash or Easypaisa to the account the buyer gives, outside the site, and
record what happened. This provider is that record behind the same `create_refund` call as the
others, so `refunds.send_refund` is the one path for every refund: asked with no word from
staff, the refund is still owed (`status="pending"`); with staff's reference it is sent (the
reference is its id); with staff's reason for a failure it raises, as a provider refusing does.
"""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from marketplace.exceptions import PaymentProviderError
from marketplace.payments.base import RefundResult

# The metadata keys staff's word travels in (set only by refunds.mark_refund_sent/_failed).
SENT_REFERENCE = "sent_reference"
FAILED_REASON = "failed_reason"


class ManualRefundProvider:
    name = "manual"

    @classmethod
    def from_settings(cls) -> "ManualRefundProvider":
        return cls()

    def create_refund(
        self,
        *,
        charge_or_intent: str,
        amount: Decimal | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> RefundResult:
        if amount is None:
            raise ValueError("a refund sent by hand needs its amount")
        failed = metadata.get(FAILED_REASON, "")
        if failed:
            raise PaymentProviderError(
                _("The refund could not be sent to the account given."), detail=failed
            )
        reference = metadata.get(SENT_REFERENCE, "")
        return RefundResult(
            id=reference,
            amount=amount,
            currency=settings.CURRENCY,
            charge_id="",
            payment_intent_id=None,
            status="succeeded" if reference else "pending",
        )
