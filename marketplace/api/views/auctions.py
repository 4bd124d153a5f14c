"""Auctions: list, detail, create, and bids through the one `place_bid`."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.permissions import IsSellerOrReadOnly
from marketplace.api.views.common import get_scoped, validated
from marketplace.models import AuctionListing, ProductImage
from marketplace.queries import auctions as queries
from marketplace.services import auctions as auction_services
from marketplace.services import bidding, payouts

# GET /api/auctions/<id>/bids/ is a plain list (the original project's shape): the newest ones.
BID_LIST_LIMIT = 100
AUCTION_FIELDS = (
    *("title", "description", "category", "condition", "city", "images"),
    *("starting_price", "reserve_price", "duration_days"),
)


def _cards():
    return queries.auction_cards().select_related("leading_bid")


def get_visible_auction(pk: int) -> AuctionListing:
    """`AuctionQuerySet.visible`, as the pages: cancelled or scheduled ones are a 404."""
    return get_scoped(_cards().visible(), pk=pk)


class AuctionList(generics.ListAPIView):
    """Live auctions, ending soonest first (as /auctions/); POST starts one (sellers)."""

    permission_classes = [IsSellerOrReadOnly]
    serializer_class = out.AuctionSerializer

    def get_queryset(self):
        return _cards().ending_soon()

    @extend_schema(request=inputs.AuctionInput, responses={201: out.AuctionSerializer})
    def post(self, request):
        payouts.refuse_unready_seller(request.user)
        serializer = validated(inputs.AuctionInput, request)
        data = serializer.validated_data
        auction = auction_services.create_auction(
            seller=request.user, **{name: data[name] for name in AUCTION_FIELDS}
        )
        return Response(
            out.AuctionSerializer(get_visible_auction(auction.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class AuctionDetail(generics.RetrieveAPIView):
    permission_classes = [permissions.AllowAny]
    serializer_class = out.AuctionSerializer

    def get_object(self):
        return get_visible_auction(self.kwargs["pk"])


class AuctionBids(generics.GenericAPIView):
    """GET: the latest bids, newest first, a plain list. POST: place a bid (`place_bid`).

    A bid is broadcast to every watcher of `ws/auction/<id>/` exactly as one sent over the
    socket, and is rate limited by place_bid itself, as on every other path.
    """

    permission_classes = [permissions.AllowAny]  # place_bid answers login_required itself
    serializer_class = out.BidSerializer
    pagination_class = None

    @extend_schema(responses={200: out.BidSerializer(many=True)})
    def get(self, request, pk: int):
        auction = get_visible_auction(pk)
        bids = auction.bids.select_related("bidder").order_by("-id")[:BID_LIST_LIMIT]
        context = {"leading_bid_id": auction.leading_bid_id}
        return Response(out.BidSerializer(bids, many=True, context=context).data)

    @extend_schema(request=inputs.BidInput, responses={201: out.BidAcceptedSerializer})
    def post(self, request, pk: int):
        auction = get_visible_auction(pk)
        if not request.user.is_authenticated:
            self.permission_denied(request)
        data = validated(inputs.BidInput, request).validated_data
        result = bidding.place_bid(
            auction_id=auction.pk,
            bidder=request.user,
            amount=data["amount"],
            max_amount=data["max_amount"],
        )
        return Response(out.BidAcceptedSerializer(result).data, status=status.HTTP_201_CREATED)


class AuctionPlaceBid(AuctionBids):
    """POST a bid (the original project's path); same as POST /api/auctions/<id>/bids/."""

    http_method_names = ["post", "options"]


class MyBidList(generics.ListAPIView):
    """Auctions you have bid on, each with where you stand: leading, outbid, won or lost."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.MyBidSerializer

    def get_queryset(self):
        return queries.bids_by_user(self.request.user).prefetch_related(
            Prefetch("product__images", queryset=ProductImage.objects.order_by("position", "id"))
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = [
            {"state": auction.standing_of(request.user), "auction": auction} for auction in page
        ]
        return self.get_paginated_response(out.MyBidSerializer(rows, many=True).data)
