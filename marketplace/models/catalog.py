from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.images import MEDIUM_SIDE
from marketplace.money import quantize


class Category(models.Model):
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent category"),
    )
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="category_unique_name"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the current language (marketplace/reference_names.py lists the msgids)."""
        return gettext(self.name)


class ProductQuerySet(models.QuerySet):
    def fixed_price(self) -> "ProductQuerySet":
        return self.filter(fixed_price__isnull=False)

    def auctions(self) -> "ProductQuerySet":
        return self.filter(auction__isnull=False)

    def visible(self) -> "ProductQuerySet":
        """Products a visitor may see: active fixed-price listings and live or ended auctions."""
        return self.filter(
            Q(fixed_price__status__in=["active", "sold_out"])
            | Q(auction__status__in=["live", "ended_sold", "ended_unsold"])
        )


class Product(models.Model):
    """Something a seller offers: EITHER a fixed-price listing OR an auction, never both.

    The product points at its one listing (not the other way round) so that a single
    CheckConstraint on this row enforces "exactly one", on SQLite and PostgreSQL alike.
    """

    class Condition(models.TextChoices):
        NEW = "new", _("New")
        LIKE_NEW = "like_new", _("Like new")
        GOOD = "good", _("Good")
        FAIR = "fair", _("Fair")

    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("seller"),
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=5000)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    condition = models.CharField(
        _("condition"), max_length=10, choices=Condition.choices, default=Condition.NEW
    )
    city = models.ForeignKey(
        "marketplace.City",
        on_delete=models.PROTECT,
        related_name="products",
        verbose_name=_("city"),
    )
    fixed_price = models.OneToOneField(
        "marketplace.FixedPriceListing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="product",
        verbose_name=_("fixed-price listing"),
    )
    auction = models.OneToOneField(
        "marketplace.AuctionListing",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="product",
        verbose_name=_("auction"),
    )
    # Denormalised for browse sorting: the fixed price, or the auction's current price.
    display_price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, db_index=True)
    # PostgreSQL full-text search document (title, description); NULL on SQLite.
    search_vector = SearchVectorField(null=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(fixed_price__isnull=False, auction__isnull=True)
                    | Q(fixed_price__isnull=True, auction__isnull=False)
                ),
                name="product_is_fixed_price_xor_auction",
            ),
            models.CheckConstraint(
                condition=Q(display_price__gte=0), name="product_display_price_not_negative"
            ),
        ]
        indexes = [
            models.Index(fields=["category", "-created_at"], name="product_category_new"),
            models.Index(fields=["city", "-created_at"], name="product_city_new"),
            # Browse a category sorted by price (the GIN index on search_vector is added by
            # migration 0003 on PostgreSQL only).
            models.Index(fields=["category", "display_price"], name="product_category_price"),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        if self.auction_id is not None:
            return reverse("auction_detail", args=[self.auction_id])
        return reverse("product_detail", args=[self.pk])

    @property
    def is_auction(self) -> bool:
        return self.auction_id is not None

    def is_visible_to(self, user) -> bool:
        """Hidden: a cancelled or scheduled auction; a withdrawn listing, except to its seller."""
        if self.is_auction:
            return self.auction.status not in self.auction.HIDDEN_STATUSES
        is_owner = user.is_authenticated and self.seller_id == user.pk
        return self.fixed_price.status != self.fixed_price.Status.WITHDRAWN or is_owner

    @property
    def listing(self):
        return self.auction if self.is_auction else self.fixed_price

    @property
    def main_image(self):
        images = list(self.images.all())
        return images[0] if images else None


def product_image_path(instance: "ProductImage", filename: str) -> str:
    return f"products/{instance.product_id}/{filename}"


class ProductImage(models.Model):
    """A photo, re-encoded by Pillow on upload; the uploaded original is never stored."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="images", verbose_name=_("product")
    )
    image = models.ImageField(
        _("image"), upload_to=product_image_path, width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(_("thumbnail"), upload_to=product_image_path)
    # At most 800 px, for phones (srcset); empty when the image itself is no larger.
    medium = models.ImageField(_("medium-size image"), upload_to=product_image_path, blank=True)
    width = models.PositiveIntegerField(_("width"), default=0)
    height = models.PositiveIntegerField(_("height"), default=0)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    alt_text = models.CharField(_("description of the photo"), max_length=200, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("product image")
        verbose_name_plural = _("product images")

    def __str__(self) -> str:
        return f"{self.product} #{self.position}"

    @property
    def srcset(self) -> str:
        """`srcset` for the photo at its sizes: a phone fetches the medium one, not 1600 px."""
        if not self.medium:
            return ""
        medium_width = round(self.width * MEDIUM_SIDE / max(self.width, self.height, 1))
        return f"{self.medium.url} {medium_width}w, {self.image.url} {self.width}w"


# What one buyer may take of a listing in one order unless its seller chooses otherwise.
DEFAULT_MAX_PER_ORDER = 5
MAX_SALE_PERCENT = 90  # a sale's price is at least a tenth of the list price


class FixedPriceListing(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SOLD_OUT = "sold_out", _("Sold out")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    price = models.DecimalField(_("price (Rs)"), max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField(
        _("quantity in stock"), default=1, help_text=_("Items still available to buy.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    max_per_order = models.PositiveSmallIntegerField(
        _("most per order"),
        default=DEFAULT_MAX_PER_ORDER,
        help_text=_("The most one buyer can buy in one order (keeps stock from being hoarded)."),
    )
    sale_percent = models.PositiveSmallIntegerField(_("sale: percent off"), null=True, blank=True)
    sale_starts_at = models.DateTimeField(_("sale starts"), null=True, blank=True)
    sale_ends_at = models.DateTimeField(_("sale ends"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("fixed-price listing")
        verbose_name_plural = _("fixed-price listings")
        indexes = [
            # Listings with a sale by price: a price sort finds the sales that can reach
            # its first pages (queries.catalog.order_by_price).
            models.Index(
                fields=["price"],
                condition=Q(sale_percent__isnull=False),
                name="fixed_price_sale_price",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gt=0), name="fixed_price_positive"),
            models.CheckConstraint(
                condition=Q(quantity__gte=0), name="fixed_quantity_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(max_per_order__gte=1), name="fixed_max_per_order_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="sold_out", quantity=0) | ~Q(status="sold_out"),
                name="fixed_sold_out_has_no_stock",
            ),
            models.CheckConstraint(
                condition=Q(sale_percent__isnull=True)
                | Q(
                    sale_percent__gte=1,
                    sale_percent__lte=MAX_SALE_PERCENT,
                    sale_starts_at__isnull=False,
                    sale_ends_at__isnull=False,
                    sale_ends_at__gt=F("sale_starts_at"),
                ),
                name="fixed_sale_is_well_formed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price} x {self.quantity}"

    def is_on_sale(self, now: datetime | None = None) -> bool:
        if not self.sale_percent:
            return False
        now = now or timezone.now()
        return self.sale_starts_at <= now < self.sale_ends_at

    def current_price(self, now: datetime | None = None) -> Decimal:
        """The price a buyer pays right now, the sale applied (rounded half up to paisa)."""
        if not self.is_on_sale(now):
            return self.price
        factor = (Decimal(100) - Decimal(self.sale_percent)) / Decimal(100)
        return quantize(self.price * factor, rounding=ROUND_HALF_UP)

    @property
    def is_buyable(self) -> bool:
        return self.status == self.Status.ACTIVE and self.quantity > 0


class Favourite(models.Model):
    user = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="favourites",
        verbose_name=_("user"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="favourited_by", verbose_name=_("product")
    )
    created_at = models.DateTimeField(_("saved at"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("favourite")
        verbose_name_plural = _("favourites")
        constraints = [
            models.UniqueConstraint(fields=["user", "product"], name="favourite_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} saved {self.product_id}"
