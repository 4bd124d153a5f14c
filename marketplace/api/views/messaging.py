"""API: conversations and their messages."""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from marketplace.api import inputs
from marketplace.api import serializers as out
from marketplace.api.views.common import get_scoped, validated
from marketplace.models import Conversation, Order, Product
from marketplace.queries import messaging as messaging_queries
from marketplace.services import messaging


class ConversationList(generics.ListAPIView):
    """Your conversations, latest message first, with unread counts; POST starts (or finds) one
    about a product (you ask its seller) or an order (either party)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = out.ConversationSerializer

    def get_queryset(self):
        return messaging_queries.conversations_for(self.request.user)

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
    return get_scoped(messaging_queries.conversations_for(request.user), pk=pk)


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
