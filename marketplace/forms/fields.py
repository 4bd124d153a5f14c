"""Form fields shared by several areas: a city picker and a Pakistani mobile number."""

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from marketplace.models import City
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
