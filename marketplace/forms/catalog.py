"""Listing forms (fixed price) and the photo fields every listing form shares. Shape only."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from marketplace.forms.fields import CityChoiceField
from marketplace.images import MAX_IMAGES, process_image
from marketplace.models import Category, Product
from marketplace.models.catalog import DEFAULT_MAX_PER_ORDER


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
    max_per_order = forms.IntegerField(
        label=_("Most per order"),
        min_value=1,
        required=False,
        initial=DEFAULT_MAX_PER_ORDER,
        help_text=_("The most one buyer can buy in one order."),
    )
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
                max_per_order=listing.max_per_order,
                sale_percent=listing.sale_percent,
                sale_starts_at=listing.sale_starts_at,
                sale_ends_at=listing.sale_ends_at,
            )
        super().__init__(*args, instance=product, **kwargs)
        self.fields["price"].max_value = settings.MAX_PRICE
        self.fields["price"].validators.append(MaxValueValidator(settings.MAX_PRICE))
        self.fields["quantity"].validators.append(MaxValueValidator(settings.MAX_QUANTITY))
        self.fields["quantity"].widget.attrs["max"] = settings.MAX_QUANTITY
        self.fields["max_per_order"].validators.append(MaxValueValidator(settings.MAX_QUANTITY))
        self.fields["max_per_order"].widget.attrs["max"] = settings.MAX_QUANTITY
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
            "max_per_order": data.get("max_per_order") or DEFAULT_MAX_PER_ORDER,
            "sale_percent": data.get("sale_percent"),
            "sale_starts_at": data.get("sale_starts_at"),
            "sale_ends_at": data.get("sale_ends_at"),
        }
