"""Every lookup of an object scoped to the signed-in user, in one place.

The queryset is narrowed to what the user may see first, then `get_object_or_404`: someone
else's order, checkout or conversation is a 404, never a 403 that would confirm it exists.
What a user may *do* with an object they can see is the model's (`Order.can_ship(user)`, ...).
"""

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404

from marketplace.models import (
    Address,
    CartItem,
    Checkout,
    Complaint,
    Conversation,
    Notification,
    Order,
    OrderItem,
    Product,
    ReturnRequest,
    SecondChanceOffer,
    User,
)


def orders_with_items(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with their parties and items (in order), as list and detail pages show them."""
    return queryset.select_related(
        "buyer__seller_profile", "seller__seller_profile", "checkout"
    ).prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("pk")))


def get_order_for_party(request: HttpRequest, number: str, *, with_items: bool = False) -> Order:
    """An order the user bought or sold."""
    queryset = Order.objects.for_user(request.user).select_related(
        "buyer", "seller__seller_profile", "checkout"
    )
    if with_items:
        queryset = orders_with_items(queryset)
    return get_object_or_404(queryset, number=number)


def get_return_for_party(request: HttpRequest, number: str) -> ReturnRequest:
    """The latest return request of an order the user bought or sold."""
    queryset = ReturnRequest.objects.filter(
        order__in=Order.objects.for_user(request.user)
    ).select_related("order__buyer", "order__seller")
    return get_object_or_404(queryset.order_by("-created_at", "-pk")[:1])


def get_checkout_for_buyer(request: HttpRequest, number: str) -> Checkout:
    return get_object_or_404(Checkout.objects.filter(buyer=request.user), number=number)


def get_cart_item_for_user(request: HttpRequest, pk: int) -> CartItem:
    return get_object_or_404(CartItem.objects.filter(user=request.user), pk=pk)


def get_conversation_for_participant(request: HttpRequest, pk: int) -> Conversation:
    queryset = Conversation.objects.for_user(request.user).select_related(
        "buyer__seller_profile", "seller__seller_profile", "product", "order"
    )
    return get_object_or_404(queryset, pk=pk)


def offers_for_bidder(request: HttpRequest) -> QuerySet[SecondChanceOffer]:
    """The second-chance offers made to the user."""
    return SecondChanceOffer.objects.filter(bidder=request.user).select_related(
        "auction__product__seller__seller_profile", "order__checkout"
    )


def get_offer_for_bidder(request: HttpRequest, pk: int) -> SecondChanceOffer:
    return get_object_or_404(offers_for_bidder(request), pk=pk)


def get_address_for_user(user: User, pk: int) -> Address:
    return get_object_or_404(
        Address.objects.filter(user=user).select_related("city__province"), pk=pk
    )


def get_complaint_for_owner(request: HttpRequest, number: str) -> Complaint:
    queryset = Complaint.objects.filter(user=request.user).select_related("order", "seller")
    return get_object_or_404(queryset, number=number)


def get_complaint_for_owner_or_staff(request: HttpRequest, number: str) -> Complaint:
    queryset = (
        Complaint.objects.all()
        if request.user.is_staff
        else Complaint.objects.filter(user=request.user)
    )
    return get_object_or_404(queryset, number=number)


def get_notification_for_user(request: HttpRequest, pk: int) -> Notification:
    return get_object_or_404(Notification.objects.filter(user=request.user), pk=pk)


def fixed_price_products_of(user: User) -> QuerySet[Product]:
    """The user's own fixed-price products, the ones they may edit or withdraw."""
    return Product.objects.select_related("fixed_price").fixed_price().filter(seller=user)


def get_own_fixed_price_product(request: HttpRequest, pk: int) -> Product:
    return get_object_or_404(fixed_price_products_of(request.user), pk=pk)
