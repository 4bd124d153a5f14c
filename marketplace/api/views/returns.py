"""Returns after delivery through the API: the same services as the order page
(`services.returns`), the same rules (someone else's order is a 404, the wrong party a 403)."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.views.common import get_scoped, validated
from marketplace.models import Order, Refund, ReturnRequest
from marketplace.services import manual_refunds, returns, upload_limits


class _ReturnAction(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def order(self, request, number: str) -> Order:
        return get_scoped(Order.objects.for_user(request.user), number=number)

    def latest(self, request, number: str) -> ReturnRequest:
        order = self.order(request, number)
        return get_scoped(ReturnRequest.objects.filter(order=order).select_related("order"))

    def done(
        self, return_request: ReturnRequest, status_code: int = status.HTTP_200_OK
    ) -> Response:
        fresh = ReturnRequest.objects.select_related("order").get(pk=return_request.pk)
        return Response(out.ReturnRequestSerializer(fresh).data, status=status_code)


class OrderReturn(_ReturnAction):
    """The order's latest return request (GET); the buyer asks for a return of a delivered
    order inside the return window (POST, `open_return`)."""

    @extend_schema(responses={200: out.ReturnRequestSerializer})
    def get(self, request, number: str):
        return self.done(self.latest(request, number))

    @extend_schema(request=inputs.ReturnRequestInput, responses={201: out.ReturnRequestSerializer})
    def post(self, request, number: str):
        order = self.order(request, number)
        limited = request.FILES.getlist("photos") and upload_limits.return_photo_limit_message(
            request.user
        )
        if limited:  # before any photo is decoded, as on the page
            raise serializers.ValidationError({"photos": [limited]})
        data = validated(inputs.ReturnRequestInput, request).validated_data
        made = returns.open_return(order=order, by=request.user, **data)
        return self.done(made, status.HTTP_201_CREATED)


class OrderReturnAccept(_ReturnAction):
    """The seller accepts the open return (`accept_return`): the buyer is refunded in full."""

    @extend_schema(request=None, responses={200: out.ReturnRequestSerializer})
    def post(self, request, number: str):
        return self.done(
            returns.accept_return(request=self.latest(request, number), by=request.user)
        )


class OrderReturnRefuse(_ReturnAction):
    """The seller refuses the open return, saying why (`refuse_return`)."""

    @extend_schema(request=inputs.ReturnRefuseInput, responses={200: out.ReturnRequestSerializer})
    def post(self, request, number: str):
        latest = self.latest(request, number)
        data = validated(inputs.ReturnRefuseInput, request).validated_data
        refused = returns.refuse_return(
            request=latest, by=request.user, reason=data["refusal_reason"]
        )
        return self.done(refused)


class OrderReturnDispute(_ReturnAction):
    """The buyer takes a refused return to staff (`dispute_return`)."""

    @extend_schema(request=inputs.ReturnDisputeInput, responses={200: out.ReturnRequestSerializer})
    def post(self, request, number: str):
        latest = self.latest(request, number)
        data = validated(inputs.ReturnDisputeInput, request).validated_data
        return self.done(returns.dispute_return(request=latest, by=request.user, note=data["note"]))


class OrderRefund(APIView):
    """The order's refund (GET, its buyer or seller); for a cash-on-delivery refund, the buyer
    says where staff send it (POST, `give_refund_account`, the order page's form and rules)."""

    permission_classes = [permissions.IsAuthenticated]

    def refund(self, request, number: str) -> Refund:
        order = get_scoped(Order.objects.for_user(request.user), number=number)
        return get_scoped(Refund.objects.filter(order=order).select_related("order"))

    @extend_schema(responses={200: out.RefundSerializer})
    def get(self, request, number: str):
        return Response(out.RefundSerializer(self.refund(request, number)).data)

    @extend_schema(request=inputs.RefundAccountInput, responses={200: out.RefundSerializer})
    def post(self, request, number: str):
        refund = self.refund(request, number)
        data = validated(inputs.RefundAccountInput, request).validated_data
        given = manual_refunds.give_refund_account(refund=refund, by=request.user, **data)
        return Response(out.RefundSerializer(given).data)
