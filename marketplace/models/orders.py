import secrets
from collections.abc import Callable

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.exceptions import InvalidOrderTransition, OrderActionRefused
from marketplace.models.couriers import Parcel

# Crockford's base32 without I, L, O, U: easy to read aloud over the phone.
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(prefix: str, length: int = 8) -> str:
    # One draw from the OS for the whole number, 5 bits a symbol (32 of them, so uniform), not
    # one per symbol: closing a batch of auctions numbers two references per sale.
    bits = secrets.randbits(5 * length)
    return prefix + "".join(_NUMBER_ALPHABET[(bits >> 5 * i) & 31] for i in range(length))


class Checkout(models.Model):
    """One payment covering one or more orders (one order per seller)."""

    class PaymentMethod(models.TextChoices):
        CARD = "card", _("Card")
        JAZZCASH = "jazzcash", _("JazzCash")
        EASYPAISA = "easypaisa", _("Easypaisa")
        COD = "cod", _("Cash on delivery")

    number = models.CharField(_("checkout number"), max_length=20, unique=True)
    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="checkouts",
        verbose_name=_("buyer"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # A token from the checkout form: a second submit of the same form finds this checkout
    # instead of buying everything twice.
    idempotency_key = models.CharField(
        _("idempotency key"), max_length=64, blank=True, default="", editable=False
    )
    # How the buyer pays for every order of this checkout (one method per checkout).
    payment_method = models.CharField(
        _("payment method"),
        max_length=10,
        choices=PaymentMethod.choices,
        default=PaymentMethod.CARD,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("checkout")
        verbose_name_plural = _("checkouts")
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="checkout_idempotency_key_once",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def payment_return_urls(
        self, absolute: Callable[[str], str], method: str = PaymentMethod.CARD
    ) -> tuple[str, str]:
        """Where the hosted payment page of `method` sends the buyer back: (success, cancel).

        `absolute` makes a path absolute (`request.build_absolute_uri`). The provider fills in
        the session id; its braces must survive, so no urlencode. A wallet returns every
        outcome to one URL of its own (the reference is in the signed fields it posts).
        """
        if method != self.PaymentMethod.CARD:
            url = absolute(reverse("wallet_return", args=[method]))
            return url, url
        success = absolute(reverse("checkout_success", args=[self.number]))
        cancel = absolute(reverse("checkout_cancelled", args=[self.number]))
        return success + "?session_id={CHECKOUT_SESSION_ID}", cancel


class OrderQuerySet(models.QuerySet):
    def for_user(self, user) -> "OrderQuerySet":
        """Orders the user is a party to, as buyer or seller."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(buyer=user) | Q(seller=user))

    def bought_by(self, user) -> "OrderQuerySet":
        return self.filter(buyer=user)

    def sold_by(self, user) -> "OrderQuerySet":
        return self.filter(seller=user)

    def due_for_auto_delivery(self, cutoff) -> "OrderQuerySet":
        """Shipped orders the buyer has not confirmed, shipped before `cutoff`."""
        # A parcel booked through the site is delivered (or returned) by its courier's word.
        # A subquery, not a join: the sweep locks these rows (no FOR UPDATE on an outer join).
        return self.filter(status=Order.Status.SHIPPED, shipped_at__lt=cutoff).exclude(
            Exists(Parcel.objects.filter(order=OuterRef("pk")))
        )


class Order(models.Model):
    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        # Cash on delivery: placed, waiting for the buyer to confirm before it may be sent.
        UNCONFIRMED = "unconfirmed", _("Awaiting confirmation")
        # Cash on delivery, confirmed by the buyer: to be sent, paid to the courier on delivery.
        CONFIRMED = "confirmed", _("Confirmed (cash on delivery)")
        PAID = "paid", _("Paid")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        # The courier brought the parcel back (refused or unreachable): the stock is back.
        RETURNED = "returned", _("Returned to the seller")

    # Which status may follow which; every change goes through transition_to().
    TRANSITIONS: dict[str, set[str]] = {
        # An auction win's buyer may switch to cash on delivery (UNCONFIRMED).
        Status.AWAITING_PAYMENT: {Status.PAID, Status.UNCONFIRMED, Status.CANCELLED},
        Status.UNCONFIRMED: {Status.CONFIRMED, Status.CANCELLED},
        Status.CONFIRMED: {Status.SHIPPED, Status.CANCELLED},
        Status.PAID: {Status.SHIPPED, Status.REFUNDED, Status.CANCELLED},
        Status.SHIPPED: {Status.DELIVERED, Status.REFUNDED, Status.RETURNED},
        Status.DELIVERED: {Status.REFUNDED},
        # A paid order cancelled before shipping becomes refunded once its refund is sent.
        Status.CANCELLED: {Status.REFUNDED},
        Status.REFUNDED: set(),
        # A returned parcel the buyer had paid for online is refunded by staff.
        Status.RETURNED: {Status.REFUNDED},
    }
    # Cash on delivery takes the buyer's money only on delivery: refunded only from there
    # (a parcel returned to the seller, or cancelled or in transit, had nothing to refund).
    COD_REFUNDABLE = frozenset({Status.DELIVERED})

    number = models.CharField(_("order number"), max_length=20, unique=True)
    checkout = models.ForeignKey(
        Checkout, on_delete=models.PROTECT, related_name="orders", verbose_name=_("checkout")
    )
    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="orders_bought",
        verbose_name=_("buyer"),
    )
    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="orders_sold",
        verbose_name=_("seller"),
    )
    # Set for the order created when an auction is won: at most one order per auction.
    auction = models.OneToOneField(
        "marketplace.AuctionListing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
        verbose_name=_("auction"),
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=Status.choices,
        default=Status.AWAITING_PAYMENT,
        db_index=True,
    )
    # Shipping address snapshot, taken when the buyer chooses the address.
    ship_name = models.CharField(_("recipient"), max_length=120, blank=True)
    ship_phone = models.CharField(_("recipient's mobile"), max_length=13, blank=True)
    ship_line1 = models.CharField(_("address line 1"), max_length=200, blank=True)
    ship_line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    ship_city = models.CharField(_("city"), max_length=80, blank=True)
    ship_province = models.CharField(_("province"), max_length=60, blank=True)
    ship_postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    subtotal = models.DecimalField(_("items (Rs)"), max_digits=12, decimal_places=2)
    shipping_fee = models.DecimalField(
        _("delivery (Rs)"), max_digits=12, decimal_places=2, default=0
    )
    total = models.DecimalField(_("total (Rs)"), max_digits=12, decimal_places=2)
    payment_deadline = models.DateTimeField(_("pay by"), null=True, blank=True)
    created_at = models.DateTimeField(_("placed at"), default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.CharField(_("reason for cancelling"), max_length=200, blank=True)

    courier = models.CharField(_("courier"), max_length=60, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=60, blank=True)
    # Claimed by the task that e-mails the buyer for feedback, so a retry never sends twice.
    feedback_requested_at = models.DateTimeField(
        _("feedback requested at"), null=True, blank=True, editable=False
    )

    objects = OrderQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.CheckConstraint(
                condition=Q(subtotal__gte=0), name="order_subtotal_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(shipping_fee__gte=0), name="order_shipping_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(total=models.F("subtotal") + models.F("shipping_fee")),
                name="order_total_is_sum",
            ),
            models.CheckConstraint(condition=~Q(buyer=models.F("seller")), name="order_not_self"),
        ]
        indexes = [
            models.Index(fields=["buyer", "-created_at"], name="order_buyer_new"),
            models.Index(fields=["seller", "-created_at"], name="order_seller_new"),
            models.Index(fields=["status", "payment_deadline"], name="order_status_deadline"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def cancel_reason_shown(self) -> str:
        """The reason in the reader's language when the site wrote it (stored in English)."""
        return gettext(self.cancel_reason) if self.cancel_reason else ""

    @property
    def is_cod(self) -> bool:
        """Paid in cash to the courier on delivery (the checkout's payment method)."""
        return self.checkout.payment_method == Checkout.PaymentMethod.COD

    @property
    def has_shipping_address(self) -> bool:
        return bool(self.ship_name and self.ship_line1 and self.ship_city)

    # Who may do what to this order now. Pages offer an action by these and the services refuse
    # it by the same rule (under the order's lock), so the two never disagree.
    def can_pay(self, user) -> bool:
        """The buyer, while it awaits payment (sellers' payouts and the address are checked
        with the checkout's other orders)."""
        return user.pk == self.buyer_id and self.status == self.Status.AWAITING_PAYMENT

    def can_ship(self, user) -> bool:
        """The seller, once paid, or for cash on delivery once the buyer has confirmed."""
        return user.pk == self.seller_id and self.status in {
            self.Status.PAID,
            self.Status.CONFIRMED,
        }

    def can_confirm_cod(self, user) -> bool:
        """The buyer, while a cash-on-delivery order waits for their confirmation."""
        return user.pk == self.buyer_id and self.status == self.Status.UNCONFIRMED

    def can_confirm_delivery(self, user) -> bool:
        return user.pk == self.buyer_id and self.status == self.Status.SHIPPED

    def can_cancel(self, user) -> bool:
        """Whether `user` may cancel it now (the order page's Cancel button)."""
        return self.cancel_refusal(user) is None

    def cancel_refusal(self, user) -> OrderActionRefused | None:
        """Why `user` may not cancel it now, or None if they may.

        - before payment: the buyer (fixed-price orders only: an auction win is a promise to
          pay), the seller and staff; the stock goes back;
        - paid, not shipped: the buyer of a fixed-price order, and staff (any order), with a
          full refund; the seller may not: they ask staff, so the buyer is refunded;
        - never once shipped or delivered, and not twice.
        """
        is_buyer = user.pk == self.buyer_id
        if not (is_buyer or user.pk == self.seller_id or user.is_staff):
            return OrderActionRefused(gettext("You cannot cancel this order."), code="not_party")
        if self.status == self.Status.DELIVERED:
            return OrderActionRefused(
                gettext(
                    "A delivered order cannot be cancelled. If something is wrong, file a "
                    "complaint."
                ),
                code="delivered",
            )
        if self.status == self.Status.SHIPPED:
            return OrderActionRefused(
                gettext("This order has been shipped and can no longer be cancelled."),
                code="shipped",
            )
        if self.status in {self.Status.CANCELLED, self.Status.REFUNDED}:
            return OrderActionRefused(gettext("This order is already cancelled."), code="closed")
        if user.is_staff:
            return None
        if is_buyer and self.auction_id is not None:
            if self.status != self.Status.AWAITING_PAYMENT:
                return OrderActionRefused(
                    gettext(
                        "An auction you won cannot be cancelled. If something is wrong, "
                        "file a complaint."
                    ),
                    code="auction_order",
                )
            return OrderActionRefused(
                gettext("An auction you won cannot be cancelled: please pay by the deadline."),
                code="auction_order",
            )
        if not is_buyer and self.status == self.Status.PAID:
            return OrderActionRefused(
                gettext(
                    "This order is paid, so only staff can cancel it and refund the buyer. "
                    "If you cannot send it, report a problem with this order."
                ),
                code="seller_paid",
            )
        return None

    def can_transition_to(self, status: str) -> bool:
        if status not in self.TRANSITIONS.get(self.status, set()):
            return False
        if status == self.Status.REFUNDED:
            return self.has_money_to_refund
        return True

    @property
    def has_money_to_refund(self) -> bool:
        """Whether the buyer's money was taken for this order, so a refund gives something back:
        paid online (a cancelled order only if it had been paid), or for cash on delivery
        handed to the courier on delivery."""
        if self.is_cod:
            return self.status in self.COD_REFUNDABLE
        if self.status == self.Status.CANCELLED:
            return self.paid_at is not None
        return self.status in {
            self.Status.PAID,
            self.Status.SHIPPED,
            self.Status.DELIVERED,
            self.Status.RETURNED,
        }

    def transition_to(self, status: str, *, reason: str = "") -> None:
        """Change status through the one guarded path; the caller saves (in its transaction)."""
        if not self.can_transition_to(status):
            raise InvalidOrderTransition(self, status)
        now = timezone.now()
        self.status = status
        stamp = {
            self.Status.PAID: "paid_at",
            self.Status.CONFIRMED: "confirmed_at",
            self.Status.SHIPPED: "shipped_at",
            self.Status.DELIVERED: "delivered_at",
            self.Status.CANCELLED: "cancelled_at",
        }.get(status)
        if stamp:
            setattr(self, stamp, now)
        if status == self.Status.CANCELLED:
            self.cancel_reason = reason


class OrderEvent(models.Model):
    """One entry of an order's timeline: what happened, who did it, when."""

    class Kind(models.TextChoices):
        PLACED = "placed", _("Order placed")
        PAID = "paid", _("Paid")
        CONFIRMED = "confirmed", _("Confirmed for cash on delivery")
        SHIPPED = "shipped", _("Shipped")
        DELIVERED = "delivered", _("Delivery confirmed")
        AUTO_DELIVERED = "auto_delivered", _("Delivery confirmed automatically")
        CANCELLED = "cancelled", _("Cancelled")
        REFUNDED = "refunded", _("Refunded")
        FEEDBACK = "feedback", _("Feedback left")
        RETURN_REQUESTED = "return_requested", _("Return asked for")
        RETURN_ACCEPTED = "return_accepted", _("Return accepted")
        RETURN_REFUSED = "return_refused", _("Return refused")
        RETURN_DISPUTED = "return_disputed", _("Return sent to staff")
        RETURN_REJECTED = "return_rejected", _("Return rejected by staff")
        COURIER = "courier", _("Courier update")
        COURIER_DELIVERED = "courier_delivered", _("Delivered, says the courier")
        RETURNED = "returned", _("Returned to the seller")
        # A cash-on-delivery parcel refused by the buyer or undeliverable (counted against them).
        COD_REFUSED = "cod_refused", _("Cash-on-delivery parcel refused")
        # A refund MadeInPK staff send by hand (cash on delivery): the buyer's account, and a
        # transfer that did not go through.
        REFUND_ACCOUNT = "refund_account", _("Account given for the refund")
        REFUND_FAILED = "refund_failed", _("Refund could not be sent")

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("order")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # Empty for what the system did on its own (automatic delivery confirmation).
    actor = models.ForeignKey(
        "marketplace.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("order event")
        verbose_name_plural = _("order events")
        indexes = [models.Index(fields=["order", "created_at"], name="order_event_order_time")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.get_kind_display()}"


class OrderItem(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="items", verbose_name=_("order")
    )
    product = models.ForeignKey(
        "marketplace.Product",
        on_delete=models.SET_NULL,
        null=True,
        related_name="order_items",
        verbose_name=_("product"),
    )
    listing = models.ForeignKey(
        "marketplace.FixedPriceListing",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="order_items",
        verbose_name=_("listing"),
    )
    title = models.CharField(_("title"), max_length=120)
    unit_price = models.DecimalField(_("unit price (Rs)"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(_("quantity"))
    line_total = models.DecimalField(_("line total (Rs)"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("order item")
        verbose_name_plural = _("order items")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="order_item_quantity_positive"
            ),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="order_item_price_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class CartItem(models.Model):
    user = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="cart_items",
        verbose_name=_("user"),
    )
    listing = models.ForeignKey(
        "marketplace.FixedPriceListing",
        on_delete=models.CASCADE,
        related_name="cart_items",
        verbose_name=_("listing"),
    )
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    # The price the buyer saw when adding, so the cart can warn when it has changed since.
    price_when_added = models.DecimalField(
        _("price when added (Rs)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        verbose_name = _("cart item")
        verbose_name_plural = _("cart items")
        constraints = [
            models.UniqueConstraint(fields=["user", "listing"], name="cart_item_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x listing {self.listing_id}"
