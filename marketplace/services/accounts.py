"""Account write flows: registration (with a shop for sellers) and opening or editing a shop."""

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from marketplace.confusables import shop_name_skeleton
from marketplace.exceptions import AccountError, ShopNameTaken
from marketplace.models import City, SellerProfile, ShopSlugRedirect, User
from marketplace.page_cache import catalogue_changed

SELLING_ROLES = {User.Role.SELLER, User.Role.BOTH}
_SLUG_MAX = SellerProfile._meta.get_field("slug").max_length


def _shop_name_taken(name: str) -> ShopNameTaken:
    return ShopNameTaken(
        _("A shop called “%(name)s” already exists. Please choose another name.") % {"name": name}
    )


def shop_slug_base(shop_name: str) -> str:
    """A slug for the name, keeping Urdu and other scripts (allow_unicode); "shop" if empty."""
    base = slugify(shop_name, allow_unicode=True)[: _SLUG_MAX - 6].strip("-")
    return base or "shop"


def unique_shop_slug(shop_name: str, *, exclude_pk: int | None = None) -> str:
    base = shop_slug_base(shop_name)
    taken = SellerProfile.objects.filter(slug__startswith=base)
    # Another shop's old slug still leads to that shop: not free either.
    retired = ShopSlugRedirect.objects.filter(slug__startswith=base)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
        retired = retired.exclude(profile_id=exclude_pk)
    used = set(taken.values_list("slug", flat=True)) | set(retired.values_list("slug", flat=True))
    if base not in used:
        return base
    n = 2
    while f"{base}-{n}" in used:
        n += 1
    return f"{base}-{n}"


def _slug_still_fits(slug: str, shop_name: str) -> bool:
    """True when the current slug was made from this name (a case or spacing change)."""
    base = shop_slug_base(shop_name)
    if slug == base:
        return True
    head, _sep, tail = slug.rpartition("-")
    return head == base and tail.isdigit()


def register_user(
    *,
    username: str,
    email: str,
    password: str,
    first_name: str,
    last_name: str = "",
    phone: str = "",
    role: str = User.Role.BUYER,
    shop_name: str = "",
) -> User:
    """Create an account; a seller's shop is created in the same transaction."""
    if role in SELLING_ROLES and not shop_name:
        raise AccountError(_("Choose a shop name to sell on MadeInPK."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username=username,
                    email=email,
                    password=password,
                    first_name=first_name,
                    last_name=last_name,
                    phone=phone,
                    role=role,
                )
        except IntegrityError:
            # Another registration took the name or e-mail between the form check and now.
            raise AccountError(
                _("That username or e-mail address was just taken. Please choose another.")
            ) from None
        if role in SELLING_ROLES:
            _save_profile(SellerProfile(user=user), shop_name=shop_name)
    return user


def shop_name_imitates(name: str, *, exclude_pk: int | None = None) -> bool:
    """Whether another shop's name looks like `name` (the same confusable skeleton)."""
    skeleton = shop_name_skeleton(name) or name
    return SellerProfile.objects.filter(name_skeleton=skeleton).exclude(pk=exclude_pk).exists()


def _save_profile(profile: SellerProfile, *, shop_name: str, **fields) -> SellerProfile:
    if shop_name_imitates(shop_name, exclude_pk=profile.pk):
        # Also enforced by the unique name_skeleton column, for two sign-ups at once.
        raise _shop_name_taken(shop_name)
    old_slug = profile.slug if profile.pk else ""
    if not profile.slug or not _slug_still_fits(profile.slug, shop_name):
        profile.slug = unique_shop_slug(shop_name, exclude_pk=profile.pk)
    profile.shop_name = shop_name
    for name, value in fields.items():
        setattr(profile, name, value)
    try:
        with transaction.atomic():
            profile.save()
            if old_slug and old_slug != profile.slug:
                # The old address keeps leading here; taking back an old name reclaims it.
                ShopSlugRedirect.objects.filter(profile=profile, slug=profile.slug).delete()
                ShopSlugRedirect.objects.get_or_create(slug=old_slug, defaults={"profile": profile})
    except IntegrityError:
        raise _shop_name_taken(shop_name) from None
    # The shop's name and city show on every card and page of its products.
    catalogue_changed(everything=True)
    return profile


def save_seller_profile(
    *,
    user: User,
    shop_name: str,
    bio: str = "",
    city: City | None = None,
    website: str = "",
    facebook: str = "",
    instagram: str = "",
) -> SellerProfile:
    """Open a shop or edit it. Opening one makes a buyer a buyer-and-seller."""
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        profile = SellerProfile.objects.filter(user=locked).first() or SellerProfile(user=locked)
        profile = _save_profile(
            profile,
            shop_name=shop_name,
            bio=bio,
            city=city,
            website=website,
            facebook=facebook,
            instagram=instagram,
        )
        if locked.role == User.Role.BUYER:
            locked.role = User.Role.BOTH
            locked.save(update_fields=["role"])
            user.role = locked.role
    return profile


def save_shop_settings(*, form) -> SellerProfile:
    """Save a valid `ShopSettingsForm` (delivery fees, dispatch days, cash on delivery): the
    page's and the API's one path. Product pages show the shop's delivery estimate."""
    profile = form.save()
    catalogue_changed(everything=True)
    return profile
