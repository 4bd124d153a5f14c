"""The seller ledger (issue 14): append-only money entries, payout methods and payout batches.

Written only by marketplace.services.ledger. A seller's balances are sums over their entries,
never stored: each entry says how it changes three buckets, `pending` (paid by the buyer, not
yet released), `available` (may be paid out) and `paid_out` (in a payout batch).
"""

from datetime import datetime
from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.exceptions import LedgerEntryImmutable
from marketplace.money import quantize
from marketplace.validators import PK_BANK_CODES, validate_pk_iban, validate_wallet_number

MONEY = {"max_digits": 12, "decimal_places": 2}


class LedgerAccount(models.Model):
    """One row per seller, locked (select_for_update) by every ledger write for that seller, so
    two events for the same seller are decided one after the other. It holds no balance."""

    seller = models.OneToOneField(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="ledger_account",
        verbose_name=_("seller"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")

    def __str__(self) -> str:
        return str(self.seller)


class LedgerEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerEntryImmutable(_("Ledger entries are never changed."))

    def delete(self):
        raise LedgerEntryImmutable(_("Ledger entries are never deleted."))

    def totals(self) -> dict[str, Decimal]:
        """Sums of the three buckets over these entries (0 when there are none)."""
        sums = self.aggregate(
            pending=models.Sum("pending"),
            available=models.Sum("available"),
            paid_out=models.Sum("paid_out"),
        )
        # SQLite adds decimals as floats: back to paisa.
        return {name: quantize(total or 0) for name, total in sums.items()}


def _kind_rule(kind: str, rule: Q, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=~Q(kind=kind) | rule, name=name)


class LedgerEntry(models.Model):
    """One change to a seller's money. Never updated or deleted: a correction is a new entry."""

    class Kind(models.TextChoices):
        SALE = "sale", _("Sale")
        FEE = "fee", _("Platform fee")
        FEE_REFUND = "fee_refund", _("Platform fee returned")
        RELEASE = "release", _("Released after the return window")
        REFUND = "refund", _("Refund or return")
        COURIER = "courier", _("Courier charge")
        ADJUSTMENT = "adjustment", _("Adjustment by staff")
        PAYOUT = "payout", _("Payout")
        PAYOUT_REVERSAL = "payout_reversal", _("Payout returned")

    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="ledger_entries",
        verbose_name=_("seller"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Signed changes to each bucket (Rs).
    pending = models.DecimalField(_("pending (Rs)"), default=0, **MONEY)
    available = models.DecimalField(_("available (Rs)"), default=0, **MONEY)
    paid_out = models.DecimalField(_("paid out (Rs)"), default=0, **MONEY)
    # The event's identity ("sale:order:12"): the same event can never be recorded twice.
    key = models.CharField(_("key"), max_length=120, unique=True)
    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("order"),
    )
    payment = models.ForeignKey(
        "marketplace.Payment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("payment"),
    )
    payout = models.ForeignKey(
        "marketplace.Payout",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_entries",
        verbose_name=_("payout"),
    )
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        indexes = [models.Index(fields=["seller", "-created_at"], name="ledger_seller_new")]
        constraints = [
            # What each kind may do to the buckets.
            _kind_rule(
                "sale",
                Q(pending__gt=0, available=0, paid_out=0, order__isnull=False),
                "ledger_sale_adds_pending",
            ),
            _kind_rule(
                "fee",
                Q(pending__lte=0, available__lte=0, paid_out=0, order__isnull=False)
                & (Q(pending__lt=0) | Q(available__lt=0)),
                "ledger_fee_not_positive",
            ),
            _kind_rule(
                "fee_refund",
                Q(pending__gte=0, available__gte=0, paid_out=0, order__isnull=False)
                & (Q(pending__gt=0) | Q(available__gt=0)),
                "ledger_fee_refund_positive",
            ),
            _kind_rule(
                "release",
                Q(pending__lt=0, available=-F("pending"), paid_out=0, order__isnull=False),
                "ledger_release_moves_pending",
            ),
            _kind_rule(
                "refund",
                Q(pending__lte=0, available__lte=0, paid_out=0, order__isnull=False)
                & (Q(pending__lt=0) | Q(available__lt=0)),
                "ledger_refund_not_positive",
            ),
            _kind_rule(
                "courier",
                Q(pending__lte=0, available__lte=0, paid_out=0)
                & (Q(pending__lt=0) | Q(available__lt=0)),
                "ledger_courier_not_positive",
            ),
            _kind_rule(
                "adjustment",
                Q(pending=0, paid_out=0, created_by__isnull=False)
                & ~Q(available=0)
                & ~Q(reason=""),
                "ledger_adjustment_has_reason",
            ),
            _kind_rule(
                "payout",
                Q(pending=0, available__lt=0, paid_out=-F("available"), payout__isnull=False),
                "ledger_payout_moves_available",
            ),
            _kind_rule(
                "payout_reversal",
                Q(pending=0, available__gt=0, paid_out=-F("available"), payout__isnull=False),
                "ledger_payout_reversal_returns",
            ),
            # Nothing happens twice, whatever the keys say.
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="sale"), name="ledger_one_sale_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="fee"), name="ledger_one_fee_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=Q(kind="release"), name="ledger_one_release_per_order"
            ),
            models.UniqueConstraint(
                fields=["payout"], condition=Q(kind="payout"), name="ledger_one_entry_per_payout"
            ),
            models.UniqueConstraint(
                fields=["payout"],
                condition=Q(kind="payout_reversal"),
                name="ledger_one_reversal_per_payout",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise LedgerEntryImmutable(_("Ledger entries are never changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerEntryImmutable(_("Ledger entries are never deleted."))

    @property
    def total(self):
        """What the entry changes in the seller's money still held (pending + available)."""
        return self.pending + self.available


class PayoutMethodQuerySet(models.QuerySet):
    def current(self) -> "PayoutMethodQuerySet":
        return self.filter(replaced_at__isnull=True)

    def payable(self, now: datetime) -> "PayoutMethodQuerySet":
        """Current methods whose hold after a change is over."""
        return self.current().filter(hold_until__lte=now)


class PayoutMethod(models.Model):
    """Where a seller is paid. A change is a new row (the old one gets `replaced_at`), so payout
    lines keep pointing at the details they were paid to."""

    class Kind(models.TextChoices):
        BANK = "bank", _("Bank account (IBAN)")
        JAZZCASH = "jazzcash", _("JazzCash wallet")
        EASYPAISA = "easypaisa", _("Easypaisa wallet")
        STRIPE = "stripe", _("Stripe account")

    WALLETS = (Kind.JAZZCASH, Kind.EASYPAISA)

    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="payout_methods",
        verbose_name=_("seller"),
    )
    kind = models.CharField(_("paid to"), max_length=10, choices=Kind.choices)
    iban = models.CharField(_("IBAN"), max_length=24, blank=True, validators=[validate_pk_iban])
    account_title = models.CharField(_("account title"), max_length=100, blank=True)
    wallet_number = models.CharField(
        _("wallet number"), max_length=11, blank=True, validators=[validate_wallet_number]
    )
    connected_account = models.ForeignKey(
        "marketplace.ConnectedAccount",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Stripe account"),
    )
    hold_until = models.DateTimeField(_("payouts held until"))
    created_at = models.DateTimeField(_("set at"), default=timezone.now)
    replaced_at = models.DateTimeField(_("replaced at"), null=True, blank=True)

    objects = PayoutMethodQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("payout method")
        verbose_name_plural = _("payout methods")
        constraints = [
            models.UniqueConstraint(
                fields=["seller"],
                condition=Q(replaced_at__isnull=True),
                name="payout_method_one_current",
            ),
            models.CheckConstraint(
                condition=~Q(kind="bank")
                | (Q(iban__regex=r"^PK[0-9]{2}[A-Z]{4}[0-9A-Z]{16}$") & ~Q(account_title="")),
                name="payout_method_bank_has_iban",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["jazzcash", "easypaisa"])
                | (Q(wallet_number__regex=r"^03[0-9]{9}$") & ~Q(account_title="")),
                name="payout_method_wallet_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(kind="stripe") | Q(connected_account__isnull=False),
                name="payout_method_stripe_has_account",
            ),
            models.CheckConstraint(
                condition=Q(hold_until__gte=F("created_at")), name="payout_method_hold_after_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.masked}"

    @property
    def bank_code(self) -> str:
        return self.iban[4:8] if self.kind == self.Kind.BANK else ""

    @property
    def bank_name(self) -> str:
        return PK_BANK_CODES.get(self.bank_code, "")

    @property
    def account(self) -> str:
        """The destination in full: IBAN, wallet number or Stripe account id."""
        if self.kind == self.Kind.BANK:
            return self.iban
        if self.kind in self.WALLETS:
            return self.wallet_number
        return self.connected_account.stripe_account_id if self.connected_account else ""

    @property
    def masked(self) -> str:
        """The destination with all but its last four characters hidden, for pages and e-mails."""
        account = self.account
        return "•••• " + account[-4:] if account else ""

    def is_on_hold(self, now: datetime | None = None) -> bool:
        return self.hold_until > (now or timezone.now())


class PayoutBatch(models.Model):
    """The payouts drafted in one run (one per schedule period), reviewed and paid by staff."""

    key = models.CharField(_("period"), max_length=40, unique=True)
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payout batch")
        verbose_name_plural = _("payout batches")

    def __str__(self) -> str:
        return self.key


class Payout(models.Model):
    """One seller's line in a batch: the amount moved out of their available balance when it
    was drafted, and the payout method it goes to, copied at that moment."""

    class Status(models.TextChoices):
        DRAFTED = "drafted", _("Being transferred")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed: back in available")

    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, related_name="lines", verbose_name=_("batch")
    )
    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="payouts",
        verbose_name=_("seller"),
    )
    amount = models.DecimalField(_("amount (Rs)"), **MONEY)
    method = models.ForeignKey(
        PayoutMethod, on_delete=models.PROTECT, related_name="payouts", verbose_name=_("method")
    )
    # Snapshot of the method, as the bank file shows it.
    method_kind = models.CharField(_("paid to"), max_length=10, choices=PayoutMethod.Kind.choices)
    account = models.CharField(_("account"), max_length=64)
    account_title = models.CharField(_("account title"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFTED, db_index=True
    )
    reference = models.CharField(_("bank reference"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("drafted at"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)

    class Meta:
        ordering = ["batch", "pk"]
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.UniqueConstraint(fields=["batch", "seller"], name="payout_once_per_batch"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | (~Q(reference="") & Q(paid_at__isnull=False)),
                name="payout_paid_has_reference",
            ),
            models.CheckConstraint(
                condition=~Q(status="failed") | Q(failed_at__isnull=False),
                name="payout_failed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.transfer_reference

    @property
    def transfer_reference(self) -> str:
        """Our reference on the bank transfer (what the seller sees on their statement)."""
        return f"MIPK-{self.batch_id}-{self.pk}"


class LedgerMismatch(models.Model):
    """A reconciliation finding, kept for staff: mismatches are reported, never corrected."""

    check_name = models.CharField(_("check"), max_length=40)
    provider = models.CharField(_("provider"), max_length=20, blank=True)
    expected = models.DecimalField(_("expected (Rs)"), **MONEY)
    actual = models.DecimalField(_("found (Rs)"), **MONEY)
    details = models.JSONField(_("figures"), default=dict)
    found_at = models.DateTimeField(_("found at"), default=timezone.now)

    class Meta:
        ordering = ["-found_at"]
        verbose_name = _("ledger mismatch")
        verbose_name_plural = _("ledger mismatches")

    def __str__(self) -> str:
        return f"{self.check_name} {self.provider}".strip()

    @property
    def difference(self):
        return self.actual - self.expected
