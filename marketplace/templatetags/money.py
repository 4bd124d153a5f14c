"""Money formatting: `{{ amount|pkr }}` renders Rs 12,500 (paisa only when there are some)."""

from decimal import Decimal, InvalidOperation

from django import template
from django.utils.translation import gettext as _

register = template.Library()


def format_pkr(amount: object) -> str:
    if amount is None or amount == "":
        return ""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return ""
    digits = format(value, ",.0f") if value == value.to_integral_value() else format(value, ",.2f")
    return _("Rs %(amount)s") % {"amount": digits}


@register.filter
def pkr(amount: object) -> str:
    return format_pkr(amount)
