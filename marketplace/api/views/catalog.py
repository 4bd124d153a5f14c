"""Catalogue: products (browse, detail, the seller's edits), fixed-price listings, shops."""

from django.http import QueryDict
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.pagination import PagePagination
from marketplace.api.permissions import IsSeller, IsSellerOrReadOnly
from marketplace.api.views.common import get_scoped, validated
from marketplace.models import Favourite, Feedback, Product, User
from marketplace.queries import catalog as queries
from marketplace.queries import feedback as feedback_queries
from marketplace.services import feedback as feedback_services
from marketplace.services import listings, payouts
from marketplace.views.access import fixed_price_products_of

BROWSE_PARAMETERS = [
    OpenApiParameter("q", str, description="Words to search for."),
    OpenApiParameter("category", str, description="A category slug (children included)."),
    OpenApiParameter("province", str, description="A province slug."),
    OpenApiParameter("city", str, description="A city slug."),
    OpenApiParameter("min_price", str),
    OpenApiParameter("max_price", str),
    OpenApiParameter("sort", str, enum=list(queries.SORTS)),
    OpenApiParameter("page", int),
    OpenApiParameter("per_page", int),
]


def browse(params: QueryDict, *, listing_type: str | None = None):
    """Browse's own filters and order (`queries.BrowseFilters`), with every card loaded."""
    params = params.copy()
    for key, values in params.lists():
        # PostgreSQL refuses NUL in text parameters; no product contains one anyway.
        params.setlist(key, [value.replace("\x00", "") for value in values])
    filters = queries.BrowseFilters.from_query(params)
    if listing_type is not None:
        filters.listing_type = listing_type
    # At most this many rows are read (PagePagination's largest page): lets a price sort use
    # the list price's index. A page number that is not one is refused later, as before.
    page = params.get("page", "1")
    through = int(page) * PagePagination.max_page_size if page.isdigit() else None
    return queries.card_queryset(queries.browse_products(filters, through=through))


def create_listing(request) -> Response:
    payouts.refuse_unready_seller(request.user)
    serializer = validated(inputs.ListingInput, request)
    product = listings.create_fixed_price_listing(
        seller=request.user,
        images=serializer.validated_data["images"],
        **serializer.form.service_kwargs(),
    )
    return Response(_product_data(product.pk), status=status.HTTP_201_CREATED)


def _product_data(pk: int) -> dict:
    product = queries.card_queryset().defer(None).get(pk=pk)
    return out.ProductSerializer(product).data


class ProductList(generics.ListAPIView):
    """Browse and search what is for sale (as /products/); POST lists an item at a fixed price."""

    permission_classes = [IsSellerOrReadOnly]
    serializer_class = out.ProductCardSerializer

    def get_queryset(self):
        return browse(self.request.query_params)

    @extend_schema(
        parameters=[
            *BROWSE_PARAMETERS,
            OpenApiParameter("type", str, enum=list(queries.LISTING_TYPES)),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=inputs.ListingInput, responses={201: out.ProductSerializer})
    def post(self, request):
        return create_listing(request)


class ProductDetail(generics.GenericAPIView):
    """One product. PUT/PATCH edit your own fixed-price listing; DELETE withdraws it."""

    permission_classes = [IsSellerOrReadOnly]
    serializer_class = out.ProductSerializer

    def get(self, request, pk: int):
        product = get_scoped(
            queries.card_queryset().defer(None).select_related("category", "city__province"),
            pk=pk,
        )
        if not product.is_visible_to(request.user):
            raise NotFound()
        return Response(out.ProductSerializer(product).data)

    @extend_schema(request=inputs.ListingInput)
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @extend_schema(request=inputs.ListingInput)
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool) -> Response:
        product = get_scoped(fixed_price_products_of(request.user), pk=pk)
        removed = validated(inputs.PhotoRemovalInput, request).validated_data
        serializer = validated(
            inputs.ListingInput,
            request,
            initial={
                **(_listing_values(product) if partial else {}),
                **_photo_controls(product, removed=set(removed.get("remove_images", []))),
            },
            form_kwargs={"product": product},
        )
        form = serializer.form
        listings.update_fixed_price_listing(
            seller=request.user,
            product=product,
            new_images=serializer.validated_data["images"],
            remove_image_ids=form.removed_image_ids(),
            image_order=form.image_order(),
            **form.service_kwargs(),
        )
        return Response(_product_data(product.pk))

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        """Withdraw the listing: it leaves browse and search and cannot be bought."""
        product = get_scoped(fixed_price_products_of(request.user), pk=pk)
        listings.withdraw_listing(seller=request.user, product=product)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _photo_controls(product: Product, *, removed: set[int]) -> dict:
    """The edit form's per-photo fields: photos kept in their order, those named removed."""
    controls = {}
    for image in product.images.all():
        controls[f"position_{image.pk}"] = str(image.position + 1)
        if image.pk in removed:
            controls[f"remove_{image.pk}"] = "on"
    return controls


def _listing_values(product: Product) -> dict:
    listing = product.fixed_price
    values = {
        "title": product.title,
        "description": product.description,
        "category": product.category_id,
        "condition": product.condition,
        "city": product.city_id,
        "price": listing.price,
        "quantity": listing.quantity,
        "sale_percent": listing.sale_percent,
        "sale_starts_at": listing.sale_starts_at and listing.sale_starts_at.isoformat(),
        "sale_ends_at": listing.sale_ends_at and listing.sale_ends_at.isoformat(),
    }
    return {name: str(value) for name, value in values.items() if value is not None}


class ListingList(generics.ListAPIView):
    """Fixed-price listings for sale (browse with type=fixed); POST lists one (sellers)."""

    permission_classes = [IsSellerOrReadOnly]
    serializer_class = out.ProductCardSerializer

    def get_queryset(self):
        return browse(self.request.query_params, listing_type="fixed")

    @extend_schema(parameters=BROWSE_PARAMETERS)
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=inputs.ListingInput, responses={201: out.ProductSerializer})
    def post(self, request):
        return create_listing(request)


class SellerListingList(generics.ListAPIView):
    """The seller's own listings, withdrawn ones and auctions included (as /sell/listings/)."""

    permission_classes = [IsSeller]
    serializer_class = out.ProductCardSerializer

    def get_queryset(self):
        products = queries.card_queryset(Product.objects.filter(seller=self.request.user))
        wanted = self.request.query_params.get("status", "")
        if wanted in queries.DASHBOARD_STATUSES:
            products = products.filter(queries.DASHBOARD_STATUSES[wanted])
        return products.order_by("-created_at", "-pk")

    @extend_schema(
        parameters=[OpenApiParameter("status", str, enum=list(queries.DASHBOARD_STATUSES))]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SellerFeedbackList(generics.ListAPIView):
    """Feedback buyers left a seller, newest first, with the seller's averages in `rating`."""

    permission_classes = [permissions.AllowAny]
    serializer_class = out.FeedbackSerializer

    def get_seller(self) -> User:
        sellers = User.objects.filter(role__in=[User.Role.SELLER, User.Role.BOTH])
        return get_scoped(sellers, pk=self.kwargs["pk"])

    def get_queryset(self):
        return (
            Feedback.objects.filter(seller=self.get_seller())
            .select_related("buyer", "order")
            .order_by("-created_at", "-pk")
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        rating = feedback_queries.seller_rating(self.get_seller())
        response.data["rating"] = out.SellerRatingSerializer(rating).data
        return response


def _visible_product(request, pk: int) -> Product:
    """A product the caller may look at (`Product.is_visible_to`), as on its page."""
    product = get_scoped(Product.objects.select_related("auction", "fixed_price", "seller"), pk=pk)
    if not product.is_visible_to(request.user):
        raise NotFound()
    return product


class ProductReviewList(generics.ListAPIView):
    """Reviews of a product, newest first, with `summary` (average, count); POST leaves yours
    (`leave_review`: once, after the item was delivered to you)."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    serializer_class = out.ReviewSerializer

    def get_queryset(self):
        return feedback_queries.product_reviews(_visible_product(self.request, self.kwargs["pk"]))

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        summary = feedback_queries.review_summary(_visible_product(request, kwargs["pk"]))
        response.data["summary"] = {"average": summary["average"], "count": summary["count"]}
        return response

    @extend_schema(request=inputs.ReviewInput, responses={201: out.ReviewSerializer})
    def post(self, request, pk: int):
        product = _visible_product(request, pk)
        data = validated(inputs.ReviewInput, request).validated_data
        review = feedback_services.leave_review(product=product, by=request.user, **data)
        return Response(out.ReviewSerializer(review).data, status=status.HTTP_201_CREATED)


class FavouriteList(generics.ListAPIView):
    """Products you saved that are still for sale (as /saved/); POST saves one."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ProductCardSerializer

    def get_queryset(self):
        return queries.favourite_products(self.request.user)

    @extend_schema(request=inputs.FavouriteInput, responses={201: out.ProductCardSerializer})
    def post(self, request):
        data = validated(inputs.FavouriteInput, request).validated_data
        product = get_scoped(Product.objects.visible(), pk=data["product"])
        Favourite.objects.get_or_create(user=request.user, product=product)
        card = queries.card_queryset(Product.objects.filter(pk=product.pk)).get()
        return Response(out.ProductCardSerializer(card).data, status=status.HTTP_201_CREATED)


class FavouriteDetail(generics.GenericAPIView):
    """Forget a saved product (its product id)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ProductCardSerializer

    @extend_schema(responses={204: None})
    def delete(self, request, pk: int):
        favourite = get_scoped(Favourite.objects.filter(user=request.user), product_id=pk)
        favourite.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
