"""Conversations and messages, and complaints."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from marketplace import aftersale_queries
from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.views.common import get_scoped, validated
from marketplace.models import Complaint, Conversation, Order, Product
from marketplace.services import complaints as complaint_services
from marketplace.services import messaging


class ConversationList(generics.ListAPIView):
    """Your conversations, latest message first, with unread counts; POST starts (or finds) one
    about a product (you ask its seller) or an order (either party)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ConversationSerializer

    def get_queryset(self):
        return aftersale_queries.conversations_for(self.request.user)

    @extend_schema(
        request=inputs.ConversationStartInput, responses={201: out.ConversationSerializer}
    )
    def post(self, request):
        data = validated(inputs.ConversationStartInput, request).validated_data
        product = order = None
        if "order" in data:
            order = get_scoped(Order.objects.for_user(request.user), number=data["order"])
        else:
            product = get_scoped(Product.objects.visible(), pk=data["product"])
        conversation = messaging.start_conversation(user=request.user, product=product, order=order)
        conversation = get_scoped(self.get_queryset(), pk=conversation.pk)
        return Response(
            out.ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED
        )


def _conversation(request, pk: int) -> Conversation:
    return get_scoped(aftersale_queries.conversations_for(request.user), pk=pk)


class ConversationDetail(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ConversationSerializer

    def get_object(self):
        return _conversation(self.request, self.kwargs["pk"])


class MessageList(generics.ListAPIView):
    """The thread, newest first; reading it marks the other party's messages read (as the
    page does). POST sends one (`send_message`: length and flood limits apply)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.MessageSerializer

    def get_queryset(self):
        conversation = _conversation(self.request, self.kwargs["pk"])
        return conversation.messages.select_related("sender__seller_profile").order_by("-pk")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        conversation = _conversation(request, kwargs["pk"])
        messaging.mark_read(conversation=conversation, user=request.user)
        return response

    @extend_schema(request=inputs.MessageInput, responses={201: out.MessageSerializer})
    def post(self, request, pk: int):
        conversation = _conversation(request, pk)
        data = validated(inputs.MessageInput, request).validated_data
        message = messaging.send_message(
            conversation=conversation, sender=request.user, body=data["body"]
        )
        context = {"request": request}
        return Response(
            out.MessageSerializer(message, context=context).data, status=status.HTTP_201_CREATED
        )


def _complaints(request):
    return Complaint.objects.filter(user=request.user).select_related(
        "order", "seller__seller_profile"
    )


class ComplaintList(generics.ListAPIView):
    """Your complaints, newest first; POST files one (`file_complaint`; photo optional)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ComplaintSerializer

    def get_queryset(self):
        return _complaints(self.request).order_by("-created_at", "-pk")

    @extend_schema(request=inputs.ComplaintInput, responses={201: out.ComplaintSerializer})
    def post(self, request):
        serializer = validated(inputs.ComplaintInput, request, form_kwargs={"user": request.user})
        data = serializer.validated_data
        complaint = complaint_services.file_complaint(
            user=request.user,
            photo_upload=data.get("photo") or None,
            **{
                name: data[name]
                for name in ("category", "subject", "description", "order", "seller")
            },
        )
        complaint = get_scoped(_complaints(request), pk=complaint.pk)
        return Response(out.ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)


class ComplaintDetail(generics.RetrieveAPIView):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ComplaintSerializer

    def get_object(self):
        return get_scoped(_complaints(self.request), number=self.kwargs["number"])
