"""`{% card_grid products %}` (or `auctions=...`): the shared card grid with this visitor's hearts."""

from django import template

from marketplace import fragments

register = template.Library()


@register.simple_tag(takes_context=True)
def card_grid(context, products=(), *, auctions=None):
    if auctions is not None:
        products = [auction.product for auction in auctions]
    return fragments.card_grid(list(products), context)
