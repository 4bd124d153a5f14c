"""Forms: shape validation only; business rules live in services."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db.models.functions import Coalesce
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from marketplace.images import MAX_IMAGES, process_image
from marketplace.models import Address, Category, City, Product
from marketplace.validators import normalize_pk_mobile


class _CitiesByProvince(ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        groups: dict[str, list] = {}
        for city in self.queryset:
            groups.setdefault(city.province.display_name, []).append(self.choice(city))
        yield from groups.items()


class CityChoiceField(forms.ModelChoiceField):
    """A city picker grouped by province (optgroups): works without JavaScript."""

    iterator = _CitiesByProvince

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "queryset", City.objects.select_related("province").order_by("province__name", "name")
        )
        kwargs.setdefault("empty_label", _("Choose a city"))
        super().__init__(**kwargs)


class PakistaniMobileField(forms.CharField):
    """Accepts 0300-1234567 or +923001234567 and cleans to +923001234567."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("help_text", _("For example 0300-1234567"))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("inputmode", "tel")
        self.widget.attrs.setdefault("autocomplete", "tel")

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return value
        return normalize_pk_mobile(value)


class AddressForm(forms.ModelForm):
    phone = PakistaniMobileField(
        label=_("Mobile number"), help_text=_("For the courier, e.g. 0300-1234567")
    )
    city = CityChoiceField(label=_("City"))

    class Meta:
        model = Address
        fields = [
            "label",
            "full_name",
            "phone",
            "line1",
            "line2",
            "city",
            "postal_code",
            "is_default",
        ]
        labels = {"is_default": _("Use as my default address")}
        widgets = {
            # dir="auto": addresses and names are often written in Urdu.
            "full_name": forms.TextInput(attrs={"autocomplete": "name", "dir": "auto"}),
            "line1": forms.TextInput(
                attrs={
                    "autocomplete": "address-line1",
                    "placeholder": _("House, street, area"),
                    "dir": "auto",
                }
            ),
            "line2": forms.TextInput(attrs={"autocomplete": "address-line2", "dir": "auto"}),
            "postal_code": forms.TextInput(
                attrs={"autocomplete": "postal-code", "inputmode": "numeric", "maxlength": 5}
            ),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.is_default:
            # The default moves by making another address the default, never by unticking.
            self.fields["is_default"].disabled = True
            self.fields["is_default"].help_text = _(
                "This is your default address. To change that, make another address the default."
            )

    def clean_postal_code(self) -> str:
        code = self.cleaned_data.get("postal_code", "").strip()
        if code and (len(code) != 5 or not code.isdigit()):
            raise forms.ValidationError(_("A Pakistani postal code has five digits."))
        return code


# --- Cart and checkout ----------------------------------------------------------------------


class QuantityForm(forms.Form):
    """How many of an item: a whole number, 1 or more (stock is the service's business)."""

    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=1_000_000_000_000,
        error_messages={
            "required": _("Enter how many you want."),
            "invalid": _("Enter the quantity as a whole number, like 1 or 2."),
            "min_value": _("Choose a quantity of 1 or more."),
            "max_value": _("That is far more than anyone sells here: choose a smaller quantity."),
        },
    )


class CheckoutForm(forms.Form):
    """The address to ship to, chosen from the buyer's own address book."""

    address = forms.ModelChoiceField(
        label=_("Ship to"),
        queryset=Address.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={
            "required": _("Choose where to send your order."),
            "invalid_choice": _("Choose one of your own addresses."),
        },
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["address"]
        field.queryset = Address.objects.filter(user=user).select_related("city__province")
        first = field.queryset.first()
        if first is not None and not self.is_bound:
            self.initial.setdefault("address", first.pk)


# --- Catalogue ------------------------------------------------------------------------------


class MultipleImageInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """Several photos in one input; each is decoded and re-encoded while the form cleans,
    so a bad photo is an error on this field and nothing is stored."""

    widget = MultipleImageInput

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", "image/jpeg,image/png,image/webp")

    def clean(self, data, initial=None) -> list:
        uploads = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if self.required and not uploads:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        processed, errors = [], []
        for upload in uploads:
            try:
                processed.append(process_image(upload))
            except forms.ValidationError as error:
                errors.extend(error.error_list)
        if errors:
            raise forms.ValidationError(errors)
        return processed


def photos_field() -> MultipleImageField:
    """The photos input of every listing form (fixed price and auction)."""
    return MultipleImageField(
        label=_("Photos"),
        help_text=_("JPEG, PNG or WebP; 1 to 8 photos. The first one is shown in search."),
    )


def check_photo_count(form: forms.BaseForm, *, kept: int = 0) -> None:
    """A listing has 1 to MAX_IMAGES photos: `kept` already stored plus the new uploads."""
    if "images" in form.errors:
        return
    count = kept + len(form.cleaned_data.get("images") or [])
    if count < 1:
        form.add_error("images", _("A listing needs at least one photo."))
    elif count > MAX_IMAGES:
        form.add_error(
            "images",
            _("A listing can have at most %(max)s photos; this would make %(count)s.")
            % {"max": MAX_IMAGES, "count": count},
        )


class CategoryChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault(
            "queryset",
            Category.objects.select_related("parent").order_by(
                Coalesce("parent__position", "position"),
                Coalesce("parent__name", "name"),
                "parent_id",
                "position",
                "name",
            ),
        )
        kwargs.setdefault("empty_label", _("Choose a category"))
        super().__init__(**kwargs)

    def label_from_instance(self, obj) -> str:
        return (
            f"{obj.parent.display_name} / {obj.display_name}" if obj.parent_id else obj.display_name
        )


class FixedPriceListingForm(forms.ModelForm):
    """Product fields, price and stock, an optional sale, and photos."""

    category = CategoryChoiceField(label=_("Category"))
    city = CityChoiceField(label=_("City"))
    price = forms.DecimalField(
        label=_("Price (Rs)"), max_digits=12, decimal_places=2, min_value=Decimal("1")
    )
    quantity = forms.IntegerField(label=_("Quantity in stock"), min_value=1, initial=1)
    sale_percent = forms.IntegerField(
        label=_("Sale: percent off"), required=False, min_value=1, max_value=90
    )
    sale_starts_at = forms.DateTimeField(
        label=_("Sale starts"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    sale_ends_at = forms.DateTimeField(
        label=_("Sale ends"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    images = photos_field()

    class Meta:
        model = Product
        fields = ["title", "description", "category", "condition", "city"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, product=None, **kwargs) -> None:
        self.existing_images = list(product.images.all()) if product is not None else []
        if product is not None and product.fixed_price_id:
            listing = product.fixed_price
            kwargs.setdefault("initial", {}).update(
                price=listing.price,
                quantity=listing.quantity,
                sale_percent=listing.sale_percent,
                sale_starts_at=listing.sale_starts_at,
                sale_ends_at=listing.sale_ends_at,
            )
        super().__init__(*args, instance=product, **kwargs)
        self.fields["price"].max_value = settings.MAX_PRICE
        self.fields["price"].validators.append(MaxValueValidator(settings.MAX_PRICE))
        self.fields["quantity"].validators.append(MaxValueValidator(settings.MAX_QUANTITY))
        self.fields["quantity"].widget.attrs["max"] = settings.MAX_QUANTITY
        self.fields["price"].widget.attrs["max"] = str(settings.MAX_PRICE)
        if self.existing_images:
            self.fields["images"].label = _("Add photos")
        else:
            self.fields["images"].required = True
        for image in self.existing_images:
            self.fields[f"remove_{image.pk}"] = forms.BooleanField(
                label=_("Remove"), required=False
            )
            self.fields[f"position_{image.pk}"] = forms.IntegerField(
                label=_("Order"),
                min_value=1,
                max_value=99,
                initial=image.position + 1,
                widget=forms.NumberInput(attrs={"class": "form-control form-control-sm"}),
            )

    def image_controls(self) -> list[tuple]:
        return [
            (image, self[f"remove_{image.pk}"], self[f"position_{image.pk}"])
            for image in self.existing_images
        ]

    def listing_fields(self) -> list:
        return [self[name] for name in ("title", "description", "category", "condition", "city")]

    def clean(self) -> dict:
        data = super().clean()
        percent = data.get("sale_percent")
        starts, ends = data.get("sale_starts_at"), data.get("sale_ends_at")
        if percent is not None:
            if starts is None:
                self.add_error("sale_starts_at", _("Choose when the sale starts."))
            if ends is None:
                self.add_error("sale_ends_at", _("Choose when the sale ends."))
            if starts and ends and ends <= starts:
                self.add_error("sale_ends_at", _("The sale must end after it starts."))
        elif (starts or ends) and "sale_percent" not in self.errors:
            self.add_error("sale_percent", _("Enter the percentage off, or clear the sale dates."))

        check_photo_count(self, kept=len(self.existing_images) - len(self.removed_image_ids()))
        return data

    def removed_image_ids(self) -> list[int]:
        data = getattr(self, "cleaned_data", {})
        return [image.pk for image in self.existing_images if data.get(f"remove_{image.pk}")]

    def image_order(self) -> list[int]:
        data = self.cleaned_data
        kept = [image for image in self.existing_images if not data.get(f"remove_{image.pk}")]
        kept.sort(key=lambda image: (data.get(f"position_{image.pk}") or 99, image.position))
        return [image.pk for image in kept]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "category": data["category"],
            "condition": data["condition"],
            "city": data["city"],
            "price": data["price"],
            "quantity": data["quantity"],
            "sale_percent": data.get("sale_percent"),
            "sale_starts_at": data.get("sale_starts_at"),
            "sale_ends_at": data.get("sale_ends_at"),
        }


# --- Auctions -------------------------------------------------------------------------------


class BidForm(forms.Form):
    """Shape only: the amount is money; whether it is enough is place_bid's call."""

    amount = forms.DecimalField(
        label=_("Your bid (Rs)"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    max_amount = forms.DecimalField(
        label=_("Maximum bid (optional)"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        help_text=_("We bid for you, one step at a time, up to this amount. Nobody sees it."),
    )

    def __init__(self, *args, minimum: Decimal | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.update({"inputmode": "decimal", "step": "any"})
        if minimum is not None:
            self.fields["amount"].widget.attrs["placeholder"] = str(minimum)

    def clean(self):
        cleaned = super().clean()
        amount, ceiling = cleaned.get("amount"), cleaned.get("max_amount")
        if amount is not None and ceiling is not None and ceiling < amount:
            self.add_error("max_amount", _("Your maximum must be at least your bid."))
        return cleaned


class AuctionForm(forms.ModelForm):
    """The product's fields plus the auction's: price, optional reserve, duration, photos."""

    category = CategoryChoiceField(label=_("Category"))
    city = CityChoiceField(label=_("City"))
    starting_price = forms.DecimalField(
        label=_("Starting price (Rs)"), min_value=Decimal("1"), max_digits=12, decimal_places=2
    )
    reserve_price = forms.DecimalField(
        label=_("Reserve price (Rs, optional)"),
        required=False,
        min_value=Decimal("1"),
        max_digits=12,
        decimal_places=2,
        help_text=_("Hidden from bidders: the item is not sold below it."),
    )
    duration_days = forms.TypedChoiceField(
        label=_("Duration"),
        coerce=int,
        initial=7,
        # A callable, so the labels are made in the language of each request, not at import.
        choices=lambda: [
            (days, ngettext("%d day", "%d days", days) % days) for days in range(1, 15)
        ],
    )
    images = photos_field()

    class Meta:
        model = Product
        fields = ["title", "description", "category", "condition", "city"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["images"].required = True

    def clean(self):
        cleaned = super().clean()
        check_photo_count(self)
        start, reserve = cleaned.get("starting_price"), cleaned.get("reserve_price")
        for name in ("starting_price", "reserve_price"):
            value = cleaned.get(name)
            if value is not None and value > settings.MAX_PRICE:
                self.add_error(name, _("That amount is too large."))
        if start is not None and reserve is not None and reserve < start:
            self.add_error("reserve_price", _("The reserve cannot be below the starting price."))
        return cleaned
