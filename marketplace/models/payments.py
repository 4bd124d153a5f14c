"""Payments: connected accounts, payments and refunds, seller transfers, webhook events,
non-payment violations and second-chance offers. Written only by marketplace.services
(payments, refunds, transfers, payouts, deadlines)."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.payout_requirements import describe_all
from marketplace.validators import validate_pk_iban, validate_wallet_number


class ConnectedAccountQuerySet(models.QuerySet):
    def ready(self) -> "ConnectedAccountQuerySet":
        return self.filter(payouts_enabled=True, transfers_active=True)


class ConnectedAccount(models.Model):
    """A seller's Stripe Express account, kept current by account.updated events."""

    user = models.OneToOneField(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="connected_account",
        verbose_name=_("seller"),
    )
    stripe_account_id = models.CharField(_("Stripe account"), max_length=64, unique=True)
    payouts_enabled = models.BooleanField(_("payouts enabled"), default=False)
    charges_enabled = models.BooleanField(_("charges enabled"), default=False)
    details_submitted = models.BooleanField(_("details submitted"), default=False)
    transfers_active = models.BooleanField(_("can receive transfers"), default=False)
    requirements_due = models.JSONField(_("requirements due"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ConnectedAccountQuerySet.as_manager()

    class Meta:
        verbose_name = _("connected account")
        verbose_name_plural = _("connected accounts")

    def __str__(self) -> str:
        return self.stripe_account_id

    @property
    def ready(self) -> bool:
        """The seller can be paid: onboarding finished and transfers active."""
        return self.payouts_enabled and self.transfers_active

    def missing_details(self) -> list[str]:
        """What Stripe still needs, in the reader's language (never its raw codes)."""
        return describe_all(self.requirements_due)


class PaymentAttempt(models.Model):
    """One hosted checkout page opened for a checkout; at most one is open at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        COMPLETE = "complete", _("Paid")
        EXPIRED = "expired", _("Expired")

    checkout = models.ForeignKey(
        "marketplace.Checkout",
        on_delete=models.PROTECT,
        related_name="payment_attempts",
        verbose_name=_("checkout"),
    )
    number = models.PositiveIntegerField(_("attempt"))
    # Who hosts the page: "stripe" (card) or a wallet ("jazzcash"); every call about this
    # attempt, and the Payment it becomes, goes to that provider.
    provider = models.CharField(_("provider"), max_length=20, default="stripe")
    session_id = models.CharField(_("Stripe session"), max_length=255, unique=True)
    url = models.URLField(_("payment page"), max_length=1000, blank=True)
    amount = models.DecimalField(_("amount (Rs)"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    # The orders this page charges for (wallets do not carry our metadata back).
    order_ids = models.CharField(_("orders"), max_length=500, blank=True)
    # The provider's last verified word on the page (JazzCash's return POST or IPN code):
    # shown to the buyer, never a reason to mark anything paid.
    response_code = models.CharField(_("provider's code"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["checkout", "number"]
        verbose_name = _("payment attempt")
        verbose_name_plural = _("payment attempts")
        constraints = [
            models.UniqueConstraint(fields=["checkout", "number"], name="attempt_number_once"),
            models.UniqueConstraint(
                fields=["checkout"], condition=Q(status="open"), name="attempt_one_open"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="attempt_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.checkout_id} #{self.number}"


class Payment(models.Model):
    """Money received for a checkout (one charge)."""

    class Status(models.TextChoices):
        PAID = "paid", _("Paid")
        PARTIALLY_REFUNDED = "partially_refunded", _("Partly refunded")
        REFUNDED = "refunded", _("Refunded")
        # Landed for orders that could no longer be paid (cancelled, or paid already): the
        # whole amount goes back to the buyer.
        UNMATCHED = "unmatched", _("Not matched: refunded")

    checkout = models.ForeignKey(
        "marketplace.Checkout",
        on_delete=models.PROTECT,
        related_name="payments",
        verbose_name=_("checkout"),
    )
    provider = models.CharField(_("provider"), max_length=20, default="stripe")
    session_id = models.CharField(_("Stripe session"), max_length=255, unique=True)
    payment_intent_id = models.CharField(_("payment intent"), max_length=255, blank=True)
    charge_id = models.CharField(_("charge"), max_length=255, blank=True, db_index=True)
    amount = models.DecimalField(_("amount (Rs)"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    platform_fee = models.DecimalField(_("platform fee (Rs)"), max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(
        _("refunded (Rs)"), max_digits=12, decimal_places=2, default=0
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PAID
    )
    created_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=Q(platform_fee__gte=0, platform_fee__lte=F("amount")),
                name="payment_fee_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0, refunded_amount__lte=F("amount")),
                name="payment_refund_within_amount",
            ),
            # One payment that pays for a checkout's orders.
            models.UniqueConstraint(
                fields=["checkout"],
                condition=Q(status__in=["paid", "partially_refunded"]),
                name="payment_one_per_checkout",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.amount})"


class Refund(models.Model):
    """Money sent back to the buyer: by staff for an order, or automatically for a payment that
    landed for orders that could no longer be paid. Sent with its own idempotency key.

    A cash-on-delivery order has no payment to refund: its refund goes through the `manual`
    provider. It is owed (pending) until MadeInPK staff send it by bank transfer or wallet to
    the account the buyer gives (`payee_*`), then marked sent with their reference (kept as
    the provider's id) or failed (the buyer gives the account again)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    class PayeeKind(models.TextChoices):
        BANK = "bank", _("Bank account (IBAN)")
        JAZZCASH = "jazzcash", _("JazzCash wallet")
        EASYPAISA = "easypaisa", _("Easypaisa wallet")

    MANUAL = "manual"  # payments.PROVIDERS: refunds staff send by hand
    WALLETS = (PayeeKind.JAZZCASH, PayeeKind.EASYPAISA)

    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refunds",
        verbose_name=_("payment"),
    )
    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="refund",
        verbose_name=_("order"),
    )
    # Who sends it back: the payment's provider, or "manual" (staff, for cash on delivery).
    provider = models.CharField(_("provider"), max_length=20, default="stripe")
    amount = models.DecimalField(_("amount (Rs)"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    stripe_refund_id = models.CharField(_("refund id or reference"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    requested_by = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    # A manual refund: where the buyer wants it (checked as sellers' payout methods are).
    payee_kind = models.CharField(
        _("refund to"), max_length=10, choices=PayeeKind.choices, blank=True
    )
    payee_iban = models.CharField(
        _("IBAN"), max_length=24, blank=True, validators=[validate_pk_iban]
    )
    payee_wallet = models.CharField(
        _("wallet number"), max_length=11, blank=True, validators=[validate_wallet_number]
    )
    payee_title = models.CharField(_("account title"), max_length=100, blank=True)
    payee_given_at = models.DateTimeField(_("account given at"), null=True, blank=True)
    settled_by = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("marked by"),
    )
    settled_at = models.DateTimeField(_("marked sent or failed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="succeeded") | ~Q(stripe_refund_id=""),
                name="refund_succeeded_has_id",
            ),
            # Only a refund staff send by hand has no payment to send it back from.
            models.CheckConstraint(
                condition=Q(payment__isnull=False) | Q(provider="manual"),
                name="refund_payment_unless_manual",
            ),
            models.CheckConstraint(
                condition=Q(payee_kind="")
                | Q(
                    payee_kind="bank",
                    payee_iban__regex=r"^PK[0-9]{2}[A-Z]{4}[0-9A-Z]{16}$",
                    payee_wallet="",
                )
                | Q(
                    payee_kind__in=["jazzcash", "easypaisa"],
                    payee_wallet__regex=r"^03[0-9]{9}$",
                    payee_iban="",
                ),
                name="refund_payee_account_shape",
            ),
            models.CheckConstraint(
                condition=Q(payee_kind="") | ~Q(payee_title=""), name="refund_payee_has_title"
            ),
            # Sent by hand only to an account the buyer gave.
            models.CheckConstraint(
                condition=~Q(provider="manual", status="succeeded") | ~Q(payee_kind=""),
                name="refund_manual_sent_has_payee",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key

    @property
    def is_manual(self) -> bool:
        return self.provider == self.MANUAL

    @property
    def needs_payee(self) -> bool:
        """A manual refund waiting for the buyer's account: none given yet, or the last one
        failed."""
        if not self.is_manual or self.status == self.Status.SUCCEEDED:
            return False
        return not self.payee_kind or self.status == self.Status.FAILED

    @property
    def payee_account(self) -> str:
        return self.payee_iban if self.payee_kind == self.PayeeKind.BANK else self.payee_wallet

    @property
    def payee_masked(self) -> str:
        account = self.payee_account
        return "•••• " + account[-4:] if account else ""


class SellerTransfer(models.Model):
    """A seller's share of a paid order, sent once to their connected account."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (will retry)")
        REVERSED = "reversed", _("Reversed")
        CANCELLED = "cancelled", _("Not sent (refunded)")

    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="seller_transfer",
        verbose_name=_("order"),
    )
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, related_name="transfers", verbose_name=_("payment")
    )
    amount = models.DecimalField(_("seller's share (Rs)"), max_digits=12, decimal_places=2)
    fee = models.DecimalField(_("platform fee (Rs)"), max_digits=12, decimal_places=2)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    stripe_transfer_id = models.CharField(_("Stripe transfer"), max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("seller transfer")
        verbose_name_plural = _("seller transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="transfer_fee_not_negative"),
            models.CheckConstraint(
                condition=~Q(status__in=["sent", "reversed"]) | ~Q(stripe_transfer_id=""),
                name="transfer_sent_has_id",
            ),
            models.UniqueConstraint(
                fields=["stripe_transfer_id"],
                condition=~Q(stripe_transfer_id=""),
                name="transfer_stripe_id_once",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key


class StripeEvent(models.Model):
    """Every verified webhook event, stored once by its id: replays and duplicates are no-ops."""

    event_id = models.CharField(_("event id"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100, db_index=True)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class PaymentViolation(models.Model):
    """A won auction (or accepted second-chance offer) not paid by its deadline."""

    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="payment_violations",
        verbose_name=_("buyer"),
    )
    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="payment_violation",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment violation")
        verbose_name_plural = _("payment violations")

    def __str__(self) -> str:
        return f"{self.buyer_id}: {self.order_id}"


class CodRefusalQuerySet(models.QuerySet):
    def counting(self) -> "CodRefusalQuerySet":
        """Refusals that still count against the buyer (staff have not cleared them)."""
        return self.filter(cleared_at__isnull=True)


class CodRefusal(models.Model):
    """A cash-on-delivery parcel the buyer refused, or could not be reached for (returned to the
    seller). Counted like payment violations: at COD_REFUSAL_LIMIT the buyer can no longer choose
    cash on delivery, until staff clear them."""

    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="cod_refusals",
        verbose_name=_("buyer"),
    )
    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="cod_refusal",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    cleared_at = models.DateTimeField(_("cleared by staff at"), null=True, blank=True)

    objects = CodRefusalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("refused cash-on-delivery parcel")
        verbose_name_plural = _("refused cash-on-delivery parcels")

    def __str__(self) -> str:
        return f"{self.buyer_id}: {self.order_id}"


class SecondChanceOfferQuerySet(models.QuerySet):
    def open(self, now=None) -> "SecondChanceOfferQuerySet":
        return self.filter(
            status=SecondChanceOffer.Status.OFFERED, expires_at__gt=now or timezone.now()
        )


class SecondChanceOffer(models.Model):
    """After a winner does not pay, the runner-up may buy the item at their last bid."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("Offered")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")

    auction = models.OneToOneField(
        "marketplace.AuctionListing",
        on_delete=models.PROTECT,
        related_name="second_chance_offer",
        verbose_name=_("auction"),
    )
    unpaid_order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("unpaid order"),
    )
    bidder = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="second_chance_offers",
        verbose_name=_("runner-up"),
    )
    amount = models.DecimalField(_("price (Rs)"), max_digits=12, decimal_places=2)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OFFERED
    )
    expires_at = models.DateTimeField(_("answer by"))
    created_at = models.DateTimeField(_("offered at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # The order created when the runner-up accepts (Order.auction stays with the unpaid order,
    # which keeps "at most one order per auction" intact).
    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="second_chance_offer",
        verbose_name=_("order"),
    )

    objects = SecondChanceOfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("second-chance offer")
        verbose_name_plural = _("second-chance offers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="offer_amount_positive"),
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("created_at")), name="offer_expires_after_offered"
            ),
            models.CheckConstraint(
                condition=Q(status="accepted", order__isnull=False)
                | (~Q(status="accepted") & Q(order__isnull=True)),
                name="offer_order_iff_accepted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.auction_id} -> {self.bidder_id}"

    def is_open(self, now=None) -> bool:
        return self.status == self.Status.OFFERED and self.expires_at > (now or timezone.now())
