from decimal import Decimal

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from marketplace.confusables import shop_name_skeleton
from marketplace.validators import validate_pk_mobile


class User(AbstractUser):
    class Role(models.TextChoices):
        BUYER = "buyer", _("Buyer")
        SELLER = "seller", _("Seller")
        BOTH = "both", _("Buyer and seller")

    email = models.EmailField(_("e-mail address"), unique=True)
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.BUYER)
    phone = models.CharField(
        _("mobile number"),
        max_length=13,
        blank=True,
        validators=[validate_pk_mobile],
        help_text=_("Stored as +923XXXXXXXXX."),
    )
    # Set when the buyer is blocked from bidding and buying (repeated non-payment).
    blocked_at = models.DateTimeField(_("blocked at"), null=True, blank=True)
    blocked_reason = models.TextField(_("reason for block"), blank=True)
    email_notifications = models.BooleanField(
        _("e-mail me notifications"),
        default=True,
        help_text=_("Notices are always shown on the site; this also sends them by e-mail."),
    )
    # The language chosen from the menu (a code from settings.LANGUAGES); empty until the user
    # picks one, then it follows them to every device they log in on.
    language = models.CharField(_("language"), max_length=10, blank=True)

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_seller(self) -> bool:
        return self.role in {self.Role.SELLER, self.Role.BOTH}

    @property
    def is_buyer(self) -> bool:
        return self.role in {self.Role.BUYER, self.Role.BOTH}

    @property
    def is_blocked(self) -> bool:
        return self.blocked_at is not None

    @property
    def public_name(self) -> str:
        """Name shown to other users: the shop name for sellers, else the first name."""
        profile = getattr(self, "seller_profile", None)
        if profile is not None and profile.shop_name:
            return profile.shop_name
        return self.first_name or self.username

    def save(self, *args, **kwargs) -> None:
        # A new password (changed, reset, set by staff) or a deactivation ends the sessions;
        # their open sockets are closed once that is committed.
        update_fields = kwargs.get("update_fields")
        ends_sessions = not self._state.adding and (
            (self._password is not None)
            or (not self.is_active and (update_fields is None or "is_active" in update_fields))
        )
        super().save(*args, **kwargs)
        if ends_sessions:
            self._close_sockets_on_commit()

    def _close_sockets_on_commit(self) -> None:
        from marketplace import realtime

        pk = self.pk
        transaction.on_commit(lambda: realtime.broadcast_user_sessions_ended(pk))

    def block(self, reason: str) -> None:
        self.blocked_at = timezone.now()
        self.blocked_reason = reason
        self.save(update_fields=["blocked_at", "blocked_reason"])
        self._close_sockets_on_commit()

    def unblock(self) -> None:
        self.blocked_at = None
        self.blocked_reason = ""
        self.save(update_fields=["blocked_at", "blocked_reason"])


class DeliveryFeeMode(models.TextChoices):
    FLAT = "flat", _("The same everywhere")
    PROVINCE = "province", _("By province")


class SellerProfile(models.Model):
    user = models.OneToOneField(
        User, on_delete=models.CASCADE, related_name="seller_profile", verbose_name=_("user")
    )
    shop_name = models.CharField(_("shop name"), max_length=80, unique=True)
    # The name with look-alikes, case, accents, spaces and punctuation folded away
    # (marketplace.confusables): no shop may imitate another's name. Set by save(); NULL only
    # for a shop that clashed with an older one when the column was added (it must rename).
    name_skeleton = models.CharField(  # noqa: DJ001  (NULLs do not clash under UNIQUE)
        _("name skeleton"), max_length=255, unique=True, null=True, editable=False
    )
    slug = models.SlugField(_("slug"), max_length=90, unique=True, allow_unicode=True)
    bio = models.TextField(_("about the shop"), blank=True, max_length=2000)
    city = models.ForeignKey(
        "marketplace.City",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="seller_profiles",
        verbose_name=_("city"),
    )
    website = models.URLField(_("website"), blank=True)
    facebook = models.URLField(_("Facebook page"), blank=True)
    instagram = models.URLField(_("Instagram"), blank=True)
    is_verified = models.BooleanField(
        _("verified"), default=False, help_text=_("Granted by staff after checking the seller.")
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    # Delivery and cash on delivery (issue 15): the shop settings form.
    accepts_cod = models.BooleanField(
        _("accept cash on delivery"),
        default=False,
        help_text=_("Buyers may pay the courier in cash for fixed-price orders below the limit."),
    )
    cod_for_auctions = models.BooleanField(
        _("allow cash on delivery for auction wins"),
        default=False,
        help_text=_("Winners may choose to pay in cash on delivery instead of online."),
    )
    delivery_fee_mode = models.CharField(
        _("delivery fee"), max_length=10, choices=DeliveryFeeMode.choices, default="flat"
    )
    delivery_fee = models.DecimalField(
        _("delivery fee (Rs)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("Per order. By province: the fee for provinces you have not listed."),
    )
    dispatch_days = models.PositiveSmallIntegerField(
        _("dispatch time (days)"),
        default=2,
        validators=[MaxValueValidator(30)],
        help_text=_("Working days from a paid or confirmed order to handing it to the courier."),
    )

    class Meta:
        verbose_name = _("seller profile")
        verbose_name_plural = _("seller profiles")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(delivery_fee__gte=0), name="seller_delivery_fee_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return self.shop_name

    def save(self, *args, **kwargs) -> None:
        # A name of no letters at all (only punctuation) keeps itself as its skeleton.
        self.name_skeleton = shop_name_skeleton(self.shop_name) or self.shop_name
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "shop_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_skeleton"}
        super().save(*args, **kwargs)


class ShopSlugRedirect(models.Model):
    """A slug a shop had before it was renamed: old links and bookmarks still find the shop."""

    slug = models.SlugField(_("old slug"), max_length=90, unique=True, allow_unicode=True)
    profile = models.ForeignKey(
        SellerProfile,
        on_delete=models.CASCADE,
        related_name="old_slugs",
        verbose_name=_("shop"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("old shop address")
        verbose_name_plural = _("old shop addresses")

    def __str__(self) -> str:
        return self.slug


class DeliveryRate(models.Model):
    """A shop's delivery fee to one province (when its fee is set by province)."""

    profile = models.ForeignKey(
        SellerProfile,
        on_delete=models.CASCADE,
        related_name="delivery_rates",
        verbose_name=_("shop"),
    )
    province = models.ForeignKey(
        "marketplace.Province",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("province"),
    )
    fee = models.DecimalField(
        _("delivery fee (Rs)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["province__name"]
        verbose_name = _("delivery fee by province")
        verbose_name_plural = _("delivery fees by province")
        constraints = [
            models.UniqueConstraint(fields=["profile", "province"], name="delivery_rate_once"),
            models.CheckConstraint(
                condition=models.Q(fee__gte=0), name="delivery_rate_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}: {self.province_id} {self.fee}"
