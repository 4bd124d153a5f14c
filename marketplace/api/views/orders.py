"""Cart, checkout (with the hosted payment page's URL), orders, shipping and feedback."""

from decimal import Decimal

from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.errors import error_body
from marketplace.api.views.common import get_scoped, validated
from marketplace.exceptions import MarketplaceError, PurchaseRejected
from marketplace.models import Address, CartItem, Checkout, Feedback, Order, OrderItem
from marketplace.queries.orders import build_basket, cart_basket, listings_with_products
from marketplace.services import cart as cart_services
from marketplace.services import cod, fulfilment
from marketplace.services import feedback as feedback_services
from marketplace.services import orders as order_services
from marketplace.services import payments as payment_services
from marketplace.services.cancellation import cancel_order


def orders_with_items(queryset):
    return queryset.select_related(
        "buyer__seller_profile", "seller__seller_profile", "checkout"
    ).prefetch_related(Prefetch("items", queryset=OrderItem.objects.order_by("pk")))


# --- Cart -----------------------------------------------------------------------------------


def _cart_response(user, status_code: int = status.HTTP_200_OK) -> Response:
    data = out.CartSerializer(cart_basket(user), context={"buyer": user}).data
    return Response(data, status=status_code)


class CartView(APIView):
    """Your cart, lines grouped as on /cart/ (each says whether it can be bought now)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: out.CartSerializer})
    def get(self, request):
        return _cart_response(request.user)

    @extend_schema(request=inputs.CartAddInput, responses={201: out.CartSerializer})
    def post(self, request):
        data = validated(inputs.CartAddInput, request).validated_data
        listing = _listing(data["listing"])
        cart_services.add_to_cart(user=request.user, listing=listing, quantity=data["quantity"])
        return _cart_response(request.user, status.HTTP_201_CREATED)


def _listing(pk: int):
    listing = listings_with_products().filter(pk=pk).first()
    if listing is None:
        raise PurchaseRejected(
            _("That item does not exist or is no longer for sale."), code="not_found"
        )
    return listing


class CartItemView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def _item(self, request, pk: int) -> CartItem:
        return get_scoped(CartItem.objects.filter(user=request.user), pk=pk)

    @extend_schema(request=inputs.QuantityInput, responses={200: out.CartSerializer})
    def patch(self, request, pk: int):
        item = self._item(request, pk)
        data = validated(inputs.QuantityInput, request).validated_data
        cart_services.update_cart_item(item=item, quantity=data["quantity"])
        return _cart_response(request.user)

    @extend_schema(responses={200: out.CartSerializer})
    def delete(self, request, pk: int):
        cart_services.remove_cart_item(item=self._item(request, pk))
        return _cart_response(request.user)


# --- Checkout and payment -------------------------------------------------------------------


def _address(user, address_id: int | None) -> Address:
    """The address chosen, or the user's default; a PurchaseRejected otherwise."""
    addresses = Address.objects.filter(user=user)
    if address_id is not None:
        address = addresses.filter(pk=address_id).first()
        if address is None:
            raise PurchaseRejected(_("Choose one of your own addresses."), code="bad_address")
        return address
    address = addresses.order_by("-is_default", "pk").first()
    if address is None:
        raise PurchaseRejected(_("Choose where to send your order."), code="no_address")
    return address


def open_payment(request, checkout: Checkout, method: str = Checkout.PaymentMethod.CARD):
    """Open the hosted payment page by `method` exactly as the Pay button does."""
    success_url, cancel_url = checkout.payment_return_urls(request.build_absolute_uri, method)
    return payment_services.open_checkout_payment(
        checkout=checkout,
        buyer=request.user,
        success_url=success_url,
        cancel_url=cancel_url,
        method=method,
    )


def checkout_data(request, checkout: Checkout, *, pay: bool) -> dict:
    """The checkout; with `pay`, its unpaid orders' payment page opened by its method."""
    orders = list(orders_with_items(checkout.orders.order_by("pk")))
    awaiting = [o for o in orders if o.status == Order.Status.AWAITING_PAYMENT]
    url = error = fields = None
    if pay and awaiting:
        try:
            page = open_payment(request, checkout, checkout.payment_method)
        except MarketplaceError as refused:
            error = error_body(refused.message, refused.code)
        else:
            url, fields = page.url, page.form_fields or None
    return out.CheckoutSerializer(
        {
            "number": checkout.number,
            "payment_method": checkout.payment_method,
            "orders": orders,
            "total": sum((o.total for o in orders), Decimal("0.00")),
            "amount_due": sum((o.total for o in awaiting), Decimal("0.00")),
            "payment_url": url,
            "form_fields": fields,
            "payment_error": error,
        }
    ).data


def _place(request, basket, *, from_cart: bool, data: dict) -> Response:
    address = _address(request.user, data.get("address"))
    checkout = order_services.place_checkout(
        buyer=request.user,
        lines=[(line.listing, line.quantity) for line in basket.buyable_lines],
        address=address,
        expected_total=data.get("expected_total"),
        from_cart=from_cart,
        idempotency_key=data.get("idempotency_key"),
        payment_method=data["payment_method"],
    )
    pay = checkout.payment_method != Checkout.PaymentMethod.COD
    return Response(checkout_data(request, checkout, pay=pay), status=status.HTTP_201_CREATED)


class CheckoutCart(APIView):
    """Buy what can be bought in your cart, paying by any method the cart's `payment_methods`
    offers (the checkout page's choice, through the same `place_checkout`); the answer has
    the payment page (card, JazzCash) or, for cash on delivery, none."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=inputs.CheckoutInput, responses={201: out.CheckoutSerializer})
    def post(self, request):
        data = validated(inputs.CheckoutInput, request).validated_data
        return _place(request, cart_basket(request.user), from_cart=True, data=data)


class ListingPurchase(APIView):
    """Buy one fixed-price listing now (the cart stays as it is); with the payment URL."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=inputs.PurchaseInput, responses={201: out.CheckoutSerializer})
    def post(self, request, pk: int):
        data = validated(inputs.PurchaseInput, request).validated_data
        listing = _listing(pk)
        basket = build_basket(request.user, [(listing, data["quantity"], None)])
        return _place(request, basket, from_cart=False, data=data)


def _own_checkout(request, number: str) -> Checkout:
    return get_scoped(Checkout.objects.filter(buyer=request.user), number=number)


class CheckoutDetail(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: out.CheckoutSerializer})
    def get(self, request, number: str):
        return Response(checkout_data(request, _own_checkout(request, number), pay=False))


class CheckoutPay(APIView):
    """A fresh hosted payment page for the checkout's unpaid orders (as the Pay button), by
    card or a configured wallet; the method becomes the checkout's (switchable until paid)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=inputs.PayInput, responses={200: out.PaymentPageSerializer})
    def post(self, request, number: str):
        checkout = _own_checkout(request, number)
        method = validated(inputs.PayInput, request).validated_data["method"]
        page = open_payment(request, checkout, method)
        return Response(
            out.PaymentPageSerializer(
                {"payment_url": page.url, "method": method, "form_fields": page.form_fields or None}
            ).data
        )


class CheckoutAddress(APIView):
    """Where to send a checkout's unpaid orders that have none yet (won auctions), before paying
    (`choose_checkout_address`)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=inputs.AddressChoiceInput, responses={200: out.CheckoutSerializer})
    def post(self, request, number: str):
        checkout = _own_checkout(request, number)
        data = validated(inputs.AddressChoiceInput, request).validated_data
        address = Address.objects.filter(user=request.user, pk=data["address"]).first()
        if address is None:
            raise PurchaseRejected(_("Choose one of your addresses."), code="bad_address")
        payment_services.choose_checkout_address(
            checkout=checkout, buyer=request.user, address=address
        )
        return Response(checkout_data(request, checkout, pay=False))


class CheckoutCashOnDelivery(APIView):
    """An auction win's buyer pays in cash on delivery instead (`choose_cash_on_delivery`),
    where its shop allows it for wins and it is below the limit."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=None, responses={200: out.CheckoutSerializer})
    def post(self, request, number: str):
        checkout = _own_checkout(request, number)
        cod.choose_cash_on_delivery(checkout=checkout, buyer=request.user)
        return Response(checkout_data(request, checkout, pay=False))


# --- Orders ---------------------------------------------------------------------------------


def _party_orders(request):
    return orders_with_items(Order.objects.for_user(request.user))


class OrderList(generics.ListAPIView):
    """Orders you bought or sold, newest first (`role=buyer` or `role=seller` to narrow)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.OrderSerializer

    def get_queryset(self):
        orders = _party_orders(self.request)
        role = self.request.query_params.get("role")
        if role == "buyer":
            orders = orders.filter(buyer=self.request.user)
        elif role == "seller":
            orders = orders.filter(seller=self.request.user)
        return orders.order_by("-created_at", "-pk")

    @extend_schema(parameters=[OpenApiParameter("role", str, enum=["buyer", "seller"])])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class OrderDetail(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.OrderSerializer

    def get_object(self):
        return get_scoped(_party_orders(self.request), number=self.kwargs["number"])


class _OrderAction(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def order(self, request, number: str) -> Order:
        return get_scoped(_party_orders(request), number=number)

    def done(self, request, order: Order, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = get_scoped(_party_orders(request), pk=order.pk)
        return Response(out.OrderSerializer(fresh).data, status=status_code)


class OrderMarkShipped(_OrderAction):
    """The seller ships a paid order (`mark_shipped`): courier and tracking number."""

    @extend_schema(request=inputs.ShipInput, responses={200: out.OrderSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        data = validated(inputs.ShipInput, request).validated_data
        fulfilment.mark_shipped(order=order, by=request.user, **data)
        return self.done(request, order)


class OrderConfirmDelivery(_OrderAction):
    """The buyer confirms a shipped order arrived (`confirm_delivery`)."""

    @extend_schema(request=None, responses={200: out.OrderSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        fulfilment.confirm_delivery(order=order, by=request.user)
        return self.done(request, order)


class OrderConfirmCod(_OrderAction):
    """The buyer confirms a cash-on-delivery order, so the seller may send it
    (`confirm_cod_order`)."""

    @extend_schema(request=None, responses={200: out.OrderSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        cod.confirm_cod_order(order=order, by=request.user)
        return self.done(request, order)


class OrderFeedback(_OrderAction):
    """The buyer's one feedback on a delivered order (`leave_feedback`)."""

    @extend_schema(request=inputs.FeedbackInput, responses={201: out.FeedbackSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        data = validated(inputs.FeedbackInput, request).validated_data
        feedback = feedback_services.leave_feedback(order=order, by=request.user, **data)
        return Response(out.FeedbackSerializer(feedback).data, status=status.HTTP_201_CREATED)


class OrderFeedbackReply(_OrderAction):
    """The seller's one public reply to the buyer's feedback (`reply_to_feedback`)."""

    @extend_schema(request=inputs.ReplyInput, responses={200: out.FeedbackSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        feedback = get_scoped(Feedback.objects.select_related("buyer", "order"), order=order)
        data = validated(inputs.ReplyInput, request).validated_data
        feedback = feedback_services.reply_to_feedback(
            feedback=feedback, by=request.user, reply=data["reply"]
        )
        return Response(out.FeedbackSerializer(feedback).data)


class OrderCancel(_OrderAction):
    """Cancel an order (`cancel_order`; who may: `Order.can_cancel`). Before payment the stock
    goes back; paid and not shipped, the buyer is refunded the whole total."""

    @extend_schema(request=inputs.CancelInput, responses={200: out.OrderSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        data = validated(inputs.CancelInput, request).validated_data
        cancel_order(order=order, by=request.user, reason=data["reason"])
        return self.done(request, order)
