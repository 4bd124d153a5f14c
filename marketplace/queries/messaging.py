"""Read builders of messaging: the conversation list with unread counts and last lines."""

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from marketplace.models import (
    Conversation,
    Message,
    User,
)


def conversations_for(user: User) -> QuerySet[Conversation]:
    """The user's conversations, newest message first, with unread counts and the last line."""
    last_body = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        Conversation.objects.for_user(user)
        .select_related("buyer__seller_profile", "seller__seller_profile", "product", "order")
        .annotate(
            unread=Count(
                "messages", filter=Q(messages__read_at__isnull=True) & ~Q(messages__sender=user)
            ),
            last_body=Subquery(last_body.values("body")[:1]),
            last_sender_id=Subquery(last_body.values("sender_id")[:1]),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), "-pk")
    )
