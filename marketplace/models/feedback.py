from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ONE_TO_FIVE = [MinValueValidator(1), MaxValueValidator(5)]


def _score(verbose_name: str) -> models.PositiveSmallIntegerField:
    return models.PositiveSmallIntegerField(verbose_name, validators=ONE_TO_FIVE)


def _one_to_five(field: str, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": 1, f"{field}__lte": 5}), name=name
    )


class Feedback(models.Model):
    """The buyer's verdict on one delivered order: about the seller and about MadeInPK."""

    order = models.OneToOneField(
        "marketplace.Order",
        on_delete=models.PROTECT,
        related_name="feedback",
        verbose_name=_("order"),
    )
    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="feedback_given",
        verbose_name=_("buyer"),
    )
    seller = models.ForeignKey(
        "marketplace.User",
        on_delete=models.PROTECT,
        related_name="feedback_received",
        verbose_name=_("seller"),
    )
    seller_rating = _score(_("seller rating"))
    communication = _score(_("communication"))
    shipping_speed = _score(_("shipping speed"))
    item_as_described = models.BooleanField(_("item as described"))
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    platform_rating = _score(_("MadeInPK rating"))
    platform_comment = models.TextField(_("comment about MadeInPK"), max_length=2000, blank=True)
    seller_reply = models.TextField(_("seller's reply"), max_length=2000, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    created_at = models.DateTimeField(_("left at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            _one_to_five("seller_rating", "feedback_seller_rating_1_5"),
            _one_to_five("communication", "feedback_communication_1_5"),
            _one_to_five("shipping_speed", "feedback_shipping_speed_1_5"),
            _one_to_five("platform_rating", "feedback_platform_rating_1_5"),
            # A reply and its time come together, or not at all.
            models.CheckConstraint(
                condition=Q(replied_at__isnull=True, seller_reply="")
                | (Q(replied_at__isnull=False) & ~Q(seller_reply="")),
                name="feedback_reply_with_time",
            ),
        ]
        indexes = [models.Index(fields=["seller", "-created_at"], name="feedback_seller_new")]

    def __str__(self) -> str:
        return f"{self.order} ({self.seller_rating}/5)"


class ProductReview(models.Model):
    product = models.ForeignKey(
        "marketplace.Product",
        on_delete=models.CASCADE,
        related_name="reviews",
        verbose_name=_("product"),
    )
    buyer = models.ForeignKey(
        "marketplace.User",
        on_delete=models.CASCADE,
        related_name="reviews",
        verbose_name=_("buyer"),
    )
    rating = _score(_("rating"))
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("review"), max_length=4000)
    verified_purchase = models.BooleanField(_("verified purchase"), default=False)
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("product review")
        verbose_name_plural = _("product reviews")
        constraints = [
            models.UniqueConstraint(fields=["product", "buyer"], name="review_once_per_product"),
            _one_to_five("rating", "review_rating_1_5"),
        ]

    def __str__(self) -> str:
        return self.title
