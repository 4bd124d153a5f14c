"""Star ratings: `{% for star in rating|stars %}` yields "full", "half" or "empty" five times."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def stars(score) -> list[str]:
    try:
        value = Decimal(str(score))
    except (ArithmeticError, ValueError, TypeError):
        return ["empty"] * 5
    # Round to the nearest half star.
    halves = int((value * 2).to_integral_value())
    return [
        "full" if halves >= 2 * n else "half" if halves == 2 * n - 1 else "empty"
        for n in range(1, 6)
    ]
