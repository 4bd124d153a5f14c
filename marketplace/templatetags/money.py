"""`{{ amount|pkr }}` renders Rs 12,500: the template side of `marketplace.money.format_pkr`."""

from django import template

from marketplace.money import format_pkr

register = template.Library()


@register.filter
def pkr(amount: object) -> str:
    return format_pkr(amount)
