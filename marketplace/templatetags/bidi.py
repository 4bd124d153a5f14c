"""Values inside right-to-left sentences (Urdu): isolated so they keep their own direction.

`{{ order.number|ltr }}` for codes read left to right (order and checkout numbers, tracking
numbers, phones, IBANs), `{{ shop|bdi }}` for names and amounts (their own first strong letter
decides), `{{ order.number|isolate }}` in plain text (page titles, e-mails). In a
left-to-right language each gives the value as it is.
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import get_language_bidi

from marketplace.i18n import isolate as isolate_text

register = template.Library()


@register.filter
def ltr(value: object):
    if not get_language_bidi():
        return value
    return format_html('<bdi class="ltr-text">{}</bdi>', value)


@register.filter
def bdi(value: object):
    if not get_language_bidi():
        return value
    return format_html("<bdi>{}</bdi>", value)


@register.filter
def isolate(value: object) -> str:
    return isolate_text(value)
