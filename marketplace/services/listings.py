"""Write flows for fixed-price listings: create, edit, withdraw, relist."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVector
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from marketplace.exceptions import ListingError
from marketplace.images import MAX_IMAGES, delete_image_files, save_product_images
from marketplace.models import Category, City, FixedPriceListing, Product, ProductImage, User
from marketplace.models.catalog import DEFAULT_MAX_PER_ORDER
from marketplace.page_cache import catalogue_changed
from marketplace.queries.search import SEARCH_CONFIG, add_title_words, normalized_sql


def search_document() -> SearchVector:
    """The full-text document of a product (PostgreSQL), normalised as queries are
    (queries.search): Urdu letter variants unified, aerab and accents off, English stemmed."""
    return SearchVector(
        normalized_sql(F("title"), vendor="postgresql"), weight="A", config=SEARCH_CONFIG
    ) + SearchVector(
        normalized_sql(F("description"), vendor="postgresql"), weight="B", config=SEARCH_CONFIG
    )


def refresh_search_vector(product_ids: Sequence[int]) -> None:
    """The products' search documents, and their titles' words for correcting typos."""
    if connection.vendor != "postgresql":
        return
    products = Product.objects.filter(pk__in=product_ids)
    products.update(search_vector=search_document())
    add_title_words(products.values_list("title", flat=True))


def _check_seller(seller: User) -> None:
    if not seller.is_seller:
        raise ListingError(_("Only sellers can list items. Open a shop first."), code="not_seller")


def _check_terms(
    *,
    price: Decimal,
    quantity: int,
    sale_percent: int | None,
    sale_starts_at: datetime | None,
    sale_ends_at: datetime | None,
    max_per_order: int = 1,
) -> None:
    if price is None or price <= 0 or price > settings.MAX_PRICE:
        raise ListingError(_("Enter a price above zero and at most the allowed maximum."))
    if quantity is None or not 1 <= quantity <= settings.MAX_QUANTITY:
        raise ListingError(
            _("Quantity must be between 1 and %(max)s.") % {"max": settings.MAX_QUANTITY}
        )
    if max_per_order is None or not 1 <= max_per_order <= settings.MAX_QUANTITY:
        raise ListingError(
            _("The most per order must be between 1 and %(max)s.") % {"max": settings.MAX_QUANTITY}
        )
    if sale_percent is not None:
        if not 1 <= sale_percent <= 90:
            raise ListingError(_("A sale takes between 1 and 90 percent off."))
        if sale_starts_at is None or sale_ends_at is None or sale_ends_at <= sale_starts_at:
            raise ListingError(_("A sale needs a start and an end after the start."))


def _check_image_count(count: int) -> None:
    if count < 1:
        raise ListingError(_("A listing needs at least one photo."), code="images")
    if count > MAX_IMAGES:
        raise ListingError(
            _("A listing can have at most %(max)s photos.") % {"max": MAX_IMAGES}, code="images"
        )


def save_images(*, product: Product, files: Sequence, start_position: int) -> None:
    """Store a product's photos; a photo that fails to decode is a ListingError."""
    try:
        save_product_images(product=product, files=files, start_position=start_position)
    except ValidationError as error:
        raise ListingError(" ".join(error.messages), code="images") from None


@transaction.atomic
def create_fixed_price_listing(
    *,
    seller: User,
    title: str,
    description: str,
    category: Category,
    condition: str,
    city: City,
    price: Decimal,
    quantity: int,
    images: Sequence,
    sale_percent: int | None = None,
    sale_starts_at: datetime | None = None,
    sale_ends_at: datetime | None = None,
    max_per_order: int = DEFAULT_MAX_PER_ORDER,
) -> Product:
    _check_seller(seller)
    _check_terms(
        price=price,
        quantity=quantity,
        sale_percent=sale_percent,
        sale_starts_at=sale_starts_at,
        sale_ends_at=sale_ends_at,
        max_per_order=max_per_order,
    )
    _check_image_count(len(images))
    listing = FixedPriceListing.objects.create(
        price=price,
        quantity=quantity,
        max_per_order=max_per_order,
        sale_percent=sale_percent,
        sale_starts_at=sale_starts_at if sale_percent else None,
        sale_ends_at=sale_ends_at if sale_percent else None,
    )
    product = Product.objects.create(
        seller=seller,
        title=title,
        description=description,
        category=category,
        condition=condition,
        city=city,
        fixed_price=listing,
        display_price=price,
    )
    save_images(product=product, files=images, start_position=0)
    refresh_search_vector([product.pk])
    catalogue_changed(product_ids=[product.pk])
    return product


def _locked_own_listing(*, seller: User, product: Product) -> tuple[Product, FixedPriceListing]:
    locked = (
        Product.objects.select_for_update()
        .filter(pk=product.pk, seller=seller, fixed_price__isnull=False)
        .first()
    )
    if locked is None:
        raise ListingError(_("This listing is not yours to change."), code="not_owner")
    listing = FixedPriceListing.objects.select_for_update().get(pk=locked.fixed_price_id)
    return locked, listing


@transaction.atomic
def update_fixed_price_listing(
    *,
    seller: User,
    product: Product,
    title: str,
    description: str,
    category: Category,
    condition: str,
    city: City,
    price: Decimal,
    quantity: int,
    sale_percent: int | None = None,
    sale_starts_at: datetime | None = None,
    sale_ends_at: datetime | None = None,
    new_images: Sequence = (),
    remove_image_ids: Sequence[int] = (),
    image_order: Sequence[int] | None = None,
    max_per_order: int | None = None,
) -> Product:
    """Edit a listing and its photos. `image_order` lists kept photo ids, first shown first;
    `max_per_order` None keeps the listing's."""
    _check_seller(seller)
    _check_terms(
        price=price,
        quantity=quantity,
        sale_percent=sale_percent,
        sale_starts_at=sale_starts_at,
        sale_ends_at=sale_ends_at,
        max_per_order=1 if max_per_order is None else max_per_order,
    )
    product, listing = _locked_own_listing(seller=seller, product=product)
    existing = {image.pk: image for image in product.images.all()}
    removed = [existing[pk] for pk in remove_image_ids if pk in existing]
    kept_ids = [pk for pk in existing if pk not in set(remove_image_ids)]
    _check_image_count(len(kept_ids) + len(new_images))

    listing.price = price
    listing.quantity = quantity
    if max_per_order is not None:
        listing.max_per_order = max_per_order
    if listing.status == FixedPriceListing.Status.SOLD_OUT and quantity > 0:
        listing.status = FixedPriceListing.Status.ACTIVE
    listing.sale_percent = sale_percent
    listing.sale_starts_at = sale_starts_at if sale_percent else None
    listing.sale_ends_at = sale_ends_at if sale_percent else None
    listing.save()

    product.title = title
    product.description = description
    product.category = category
    product.condition = condition
    product.city = city
    product.display_price = price
    product.save()

    for image in removed:
        image.delete()
        transaction.on_commit(lambda image=image: delete_image_files(image))
    order = [pk for pk in (image_order or []) if pk in kept_ids]
    order += [pk for pk in kept_ids if pk not in order]
    for position, pk in enumerate(order):
        ProductImage.objects.filter(pk=pk).update(position=position)
    save_images(product=product, files=new_images, start_position=len(order))
    refresh_search_vector([product.pk])
    catalogue_changed(product_ids=[product.pk])
    return product


@transaction.atomic
def withdraw_listing(*, seller: User, product: Product) -> Product:
    """Take a listing off sale: it leaves browse and search and cannot be bought."""
    product, listing = _locked_own_listing(seller=seller, product=product)
    if listing.status != FixedPriceListing.Status.WITHDRAWN:
        listing.status = FixedPriceListing.Status.WITHDRAWN
        listing.save(update_fields=["status"])
        catalogue_changed(product_ids=[product.pk])
    return product


@transaction.atomic
def relist_listing(*, seller: User, product: Product) -> Product:
    """Put a withdrawn listing back on sale (sold out if it has no stock left)."""
    _check_seller(seller)
    product, listing = _locked_own_listing(seller=seller, product=product)
    if listing.status != FixedPriceListing.Status.WITHDRAWN:
        raise ListingError(_("Only a withdrawn listing can be relisted."), code="not_withdrawn")
    listing.status = (
        FixedPriceListing.Status.ACTIVE
        if listing.quantity > 0
        else FixedPriceListing.Status.SOLD_OUT
    )
    listing.save(update_fields=["status"])
    catalogue_changed(product_ids=[product.pk])
    return product
