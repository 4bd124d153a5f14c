from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from marketplace.validators import validate_pk_mobile


class Province(models.Model):
    """A province or territory (the four provinces, ICT, Gilgit-Baltistan, AJK)."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    name_ur = models.CharField(_("name in Urdu"), max_length=60, blank=True)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("province or territory")
        verbose_name_plural = _("provinces and territories")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the current language (marketplace/reference_names.py lists the msgids)."""
        return gettext(self.name)


class City(models.Model):
    province = models.ForeignKey(
        Province, on_delete=models.PROTECT, related_name="cities", verbose_name=_("province")
    )
    name = models.CharField(_("name"), max_length=80)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        constraints = [
            models.UniqueConstraint(fields=["province", "name"], name="city_unique_per_province"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The name in the current language (marketplace/reference_names.py lists the msgids)."""
        return gettext(self.name)


class Address(models.Model):
    user = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="addresses",
        verbose_name=_("user"),
    )
    label = models.CharField(_("label"), max_length=40, blank=True, help_text=_("e.g. Home, Shop"))
    full_name = models.CharField(_("full name"), max_length=120)
    phone = models.CharField(_("mobile number"), max_length=13, validators=[validate_pk_mobile])
    line1 = models.CharField(_("address line 1"), max_length=200)
    line2 = models.CharField(_("address line 2"), max_length=200, blank=True)
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, related_name="addresses", verbose_name=_("city")
    )
    postal_code = models.CharField(_("postal code"), max_length=5, blank=True)
    is_default = models.BooleanField(_("default address"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="address_one_default_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name}, {self.line1}, {self.city}"

    @property
    def province(self) -> Province:
        return self.city.province
