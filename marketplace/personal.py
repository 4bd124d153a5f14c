"""Signed-in visitors' catalogue pages from one shared copy (issue 20).

The copy is rendered once per page, language and query, like the visitors' page, but for a
stand-in member who has nothing: no name, no saved items, no bids, no address, and a CSRF token
that is a random placeholder. Where a member's page differs it holds markers: every heart
(`<!--heart:<pk>-->`), and each `{% personal %}` region (the navigation, the delivery estimate,
the review button, the auction's viewer state), recorded with the shared values it needs. A
signed-in request fills them from a few small renders and queries of its own (`fill`), and puts
its own CSRF token in the placeholder's place. Nothing personal is in the copy: it is rendered
for nobody. A region whose visitor needs a page of their own (a seller on their own listing)
makes `fill` answer None, and the view renders that page for them.
"""

import copy
import re
import secrets
from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template import RequestContext
from django.template.loader import get_template

from marketplace import delivery, fragments
from marketplace.models import Address, Bid, City, Order, OrderItem, Product, User
from marketplace.queries.auctions import bidder_token
from marketplace.queries.catalog import reference_data, saved_among
from marketplace.queries.prepared import first_row
from marketplace.services.feedback import can_review
from marketplace.templatetags.personal import PersonalNode

# No user has this id: the stand-in's queries (favourites, bids, address) find nothing.
STAND_IN_PK = 987_654_321_987_655
MARK = re.compile(rb"<!--(personal|heart):(\d+)-->")


class Holes(list):
    """The regions left in a shared copy while it is rendered (truthy from the start)."""

    def __init__(self) -> None:
        super().__init__()
        # Random per copy: no listing's text can contain it, so only tokens are replaced.
        self.csrf = f"csrf{secrets.token_hex(16)}"

    def __bool__(self) -> bool:
        return True

    def leave(self, template_name: str, region: str, facts: dict) -> str:
        if region not in REGIONS:
            raise ImproperlyConfigured(f"No personal region {region!r} in marketplace.personal")
        self.append((template_name, region, facts))
        return f"<!--personal:{len(self) - 1}-->"


def member_copy(request: HttpRequest) -> HttpRequest:
    """The request as the stand-in member makes it, for rendering the shared copy."""
    stand_in = copy.copy(request)
    stand_in.user = User(pk=STAND_IN_PK, username="", role=User.Role.BUYER)
    stand_in.personal_holes = Holes()
    return stand_in


def shared_copy_context(request: HttpRequest) -> dict:
    """Context processor: the placeholder instead of a CSRF token in the shared copy."""
    holes = getattr(request, "personal_holes", None)
    return {"csrf_token": holes.csrf} if holes else {}


def fill(request: HttpRequest, body: bytes, holes: list, csrf: str) -> bytes | None:
    """The shared copy `body` with this signed-in visitor's parts, or None when they need a
    page rendered for them."""
    memo: dict = {}
    personal = []
    for _template_name, region, facts in holes:
        values = REGIONS[region](request, facts, memo)
        if values is None:
            return None
        personal.append(values)
    pieces: dict[tuple[bytes, int], bytes] = {}
    hearts = [int(pk) for kind, pk in MARK.findall(body) if kind == b"heart"]
    context = RequestContext(request)
    with context.bind_template(get_template("base.html").template):
        for index, ((template_name, region, facts), values) in enumerate(
            zip(holes, personal, strict=True)
        ):
            template, node = _region(template_name, region)
            context.template = template
            with context.render_context.push_state(template), context.push(facts, **values):
                pieces[b"personal", index] = node.nodelist.render(context).encode()
        if hearts:
            heart = fragments.member_hearts(saved_among(request.user.pk, hearts), context)
            pieces.update(((b"heart", pk), heart(pk).encode()) for pk in hearts)
    body = MARK.sub(lambda match: pieces[match.group(1), int(match.group(2))], body)
    return body.replace(csrf.encode(), get_token(request).encode())


def _region(template_name: str, region: str) -> tuple:
    """The compiled template and its `{% personal %}` node of that region (found once per
    compiled template: a template reloaded in development is searched again)."""
    template = get_template(template_name).template
    found = template.__dict__.get("_personal_regions")
    if found is None:
        found = {node.region: node for node in template.nodelist.get_nodes_by_type(PersonalNode)}
        template._personal_regions = found
    return template, found[region]


# --- What each region adds for the visitor ---------------------------------------------------
# Each takes the request, the region's shared values and a dict shared by the regions of one
# page; it answers the visitor's values, or None when the visitor needs a page of their own.


def _nothing(request: HttpRequest, facts: dict, memo: dict) -> dict:
    """The region reads only what every request has (the user, the navigation counts)."""
    return {}


def _owner(request: HttpRequest, facts: dict, memo: dict) -> dict | None:
    """A seller on their own listing gets the owner's page (edit link, no buying or bidding)."""
    return None if facts["seller_id"] == request.user.pk else {}


def _delivery(request: HttpRequest, facts: dict, memo: dict) -> dict:
    city = _buyer_city(request.user.pk)
    return {"delivery_quote": delivery.quote(facts["delivery_shop"], city, origin=facts["origin"])}


def _buyer_city(user_id: int) -> City | None:
    """delivery.buyer_city, from a statement built once and the cities already in memory."""
    row = first_row(
        "buyer-city",
        Address,
        lambda user: (
            Address.objects.filter(user_id=user)
            .order_by(*Address._meta.ordering, "-pk")
            .values_list("city_id")
        ),
        user_id,
    )
    if row is None:
        return None
    cities = {city.pk: city for _province, cities in reference_data().provinces for city in cities}
    return cities.get(row[0]) or City.objects.select_related("province").get(pk=row[0])


def _review(request: HttpRequest, facts: dict, memo: dict) -> dict:
    bought = first_row(
        "bought-and-delivered",
        OrderItem,
        lambda product, buyer: OrderItem.objects.filter(
            product_id=product, order__buyer_id=buyer, order__status=Order.Status.DELIVERED
        ).values_list("pk"),
        facts["product_id"],
        request.user.pk,
    )
    # Most visitors never bought it: the whole rule only for those who did.
    product = Product(pk=facts["product_id"], fixed_price_id=facts["fixed_price_id"])
    return {"can_review": bought is not None and can_review(product=product, user=request.user)}


def _viewer(request: HttpRequest, facts: dict, memo: dict) -> dict:
    """Whether the visitor leads the auction or has bid on it (one query, once per page)."""
    auction_id = facts["auction_id"]
    if ("viewer", auction_id) not in memo:
        token = bidder_token(auction_id, request.user.pk)
        leading = bool(facts["leader_token"]) and token == facts["leader_token"]
        has_bid = leading or None is not first_row(
            "has-bid",
            Bid,
            lambda auction, bidder: Bid.objects.filter(
                auction_id=auction, bidder_id=bidder
            ).values_list("pk"),
            auction_id,
            request.user.pk,
        )
        memo["viewer", auction_id] = {
            "viewer_token": token,
            "viewer_has_bid": has_bid,
            "viewer_is_leader": leading,
        }
    return memo["viewer", auction_id]


REGIONS: dict[str, Callable[[HttpRequest, dict, dict], dict | None]] = {
    "navbar": _nothing,
    "auction-start": _nothing,
    "owner": _owner,
    "delivery": _delivery,
    "review": _review,
    "auction-viewer": _viewer,
    "panel-viewer": _viewer,
    "viewer-notes": _viewer,
}
