"""django-q2 entry points: thin, they call services."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from marketplace.models import Order
from marketplace.services import fulfilment

logger = logging.getLogger(__name__)


# --- After the sale (aftersale) -------------------------------------------------------------


def auto_confirm_deliveries() -> int:
    """Hourly: confirm delivery of orders shipped AUTO_CONFIRM_DELIVERY_DAYS ago or more."""
    return fulfilment.auto_confirm_deliveries()


def send_feedback_request_email(order_id: int) -> bool:
    """Ask the buyer of a delivered order for feedback, at most once.

    The send is claimed with a conditional update; a failure gives the claim back and raises,
    so django-q2 retries, and a retry after a success finds the claim taken and sends nothing.
    """
    now = timezone.now()
    claimed = Order.objects.filter(
        pk=order_id, status=Order.Status.DELIVERED, feedback_requested_at__isnull=True
    ).update(feedback_requested_at=now)
    if not claimed:
        return False
    order = Order.objects.select_related("buyer", "seller__seller_profile").get(pk=order_id)
    if not order.buyer.email:
        return False
    context = {
        "order": order,
        "url": settings.SITE_URL + reverse("feedback_create", args=[order.number]),
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("How was your order %(number)s?") % {"number": order.number}
        body = render_to_string("marketplace/emails/feedback_request.txt", context)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [order.buyer.email])
    except Exception:
        Order.objects.filter(pk=order_id, feedback_requested_at=now).update(
            feedback_requested_at=None
        )
        logger.exception("feedback request e-mail for order %s failed", order_id)
        raise
    return True
