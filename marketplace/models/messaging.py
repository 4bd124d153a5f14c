from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MESSAGE_MAX_LENGTH = 2000


class ConversationQuerySet(models.QuerySet):
    def for_user(self, user) -> "ConversationQuerySet":
        """Conversations the user takes part in, as buyer or seller."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(buyer=user) | Q(seller=user))


class Conversation(models.Model):
    """A thread between a buyer and a seller, about one product (or none)."""

    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="conversations_as_buyer",
        verbose_name=_("buyer"),
    )
    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="conversations_as_seller",
        verbose_name=_("seller"),
    )
    product = models.ForeignKey(
        "marketplace.Product",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("product"),
    )
    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("order"),
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    # Denormalised from the newest message so the list sorts without a subquery.
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = [F("last_message_at").desc(nulls_last=True), "-pk"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "seller", "product"], name="conversation_once_per_product"
            ),
            # NULLs are distinct in a unique index: one product-less thread per pair too.
            models.UniqueConstraint(
                fields=["buyer", "seller"],
                condition=Q(product__isnull=True),
                name="conversation_once_without_product",
            ),
            models.CheckConstraint(
                condition=~Q(buyer=F("seller")), name="conversation_not_with_self"
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "-last_message_at"], name="conversation_buyer_new"),
            models.Index(fields=["seller", "-last_message_at"], name="conversation_seller_new"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer} ↔ {self.seller}"

    def get_absolute_url(self) -> str:
        return reverse("conversation_detail", args=[self.pk])

    def has_participant(self, user) -> bool:
        return user.is_authenticated and user.pk in {self.buyer_id, self.seller_id}

    def other_party(self, user):
        return self.seller if user.pk == self.buyer_id else self.buyer


class MessageQuerySet(models.QuerySet):
    def unread_by(self, user) -> "MessageQuerySet":
        """Messages waiting for `user` (a user or an `OuterRef` to one) in their conversations:
        the one definition of the unread count."""
        return (
            self.filter(read_at__isnull=True)
            .filter(Q(conversation__buyer=user) | Q(conversation__seller=user))
            .exclude(sender=user)
        )


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    sender = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="messages_sent",
        verbose_name=_("sender"),
    )
    body = models.CharField(_("message"), max_length=MESSAGE_MAX_LENGTH)
    created_at = models.DateTimeField(_("sent at"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="message_not_empty"),
        ]
        indexes = [
            models.Index(
                fields=["conversation", "sender"],
                condition=Q(read_at__isnull=True),
                name="message_unread",
            ),
            models.Index(fields=["sender", "created_at"], name="message_sender_time"),
        ]

    def __str__(self) -> str:
        return self.body[:50]
