"""Buyer-seller messages: list, thread (HTMX send, live updates), start from a product or order."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from marketplace.exceptions import MessageRejected
from marketplace.forms.messaging import MessageForm
from marketplace.models import Conversation, Order, Product
from marketplace.queries import messaging as queries
from marketplace.services import messaging
from marketplace.views.access import get_conversation_for_participant

CONVERSATIONS_PER_PAGE = 30
THREAD_LENGTH = 200
DETAIL_TEMPLATE = "marketplace/messaging/conversation_detail.html"


@login_required
def conversation_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.conversations_for(request.user), CONVERSATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "marketplace/messaging/conversation_list.html", {"page": page})


def _thread(conversation: Conversation, before: int | None = None) -> tuple[list, bool]:
    """Up to THREAD_LENGTH messages, oldest first, ending just before message `before` (the
    newest ones without it), and whether there are earlier ones."""
    newest = conversation.messages.select_related("sender").order_by("-pk")
    if before is not None:
        newest = newest.filter(pk__lt=before)
    rows = list(newest[: THREAD_LENGTH + 1])
    return list(reversed(rows[:THREAD_LENGTH])), len(rows) > THREAD_LENGTH


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def conversation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    conversation = get_conversation_for_participant(request, pk)
    form = MessageForm(request.POST or None)
    sent = None
    if request.method == "POST" and form.is_valid():
        try:
            sent = messaging.send_message(
                conversation=conversation, sender=request.user, body=form.cleaned_data["body"]
            )
        except MessageRejected as rejected:
            form.add_error("body", rejected.message)
        else:
            if not request.htmx:
                return redirect(f"{reverse('conversation_detail', args=[pk])}#message-form")
            form = MessageForm()
    if request.method == "GET":
        messaging.mark_read(conversation=conversation, user=request.user)
    context = {
        "conversation": conversation,
        "other": conversation.other_party(request.user),
        "form": form,
        "sent": sent,
    }
    if request.htmx and request.method == "POST":
        # The cleared (or erroneous) form, and the new message appended out of band.
        return render(request, f"{DETAIL_TEMPLATE}#message-form", context)
    before = _int(request.GET.get("before")) if request.method == "GET" else None
    context["thread"], context["has_earlier"] = _thread(conversation, before)
    context["before"] = before
    return render(request, DETAIL_TEMPLATE, context)


def _int(value: object) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 < number < 2**63 else None


@login_required
@require_POST
def conversation_start(request: HttpRequest) -> HttpResponse:
    """POST `product` (a product page's "Message the seller") or `order` (either party)."""
    product = order = None
    if "order" in request.POST:
        number = str(request.POST["order"])[:20]
        order = Order.objects.for_user(request.user).filter(number=number).first()
        if order is None:
            raise Http404
    else:
        product_id = _int(request.POST.get("product"))
        product = Product.objects.visible().filter(pk=product_id).first() if product_id else None
        if product is None:
            raise Http404
    try:
        conversation = messaging.start_conversation(user=request.user, product=product, order=order)
    except MessageRejected as rejected:
        messages.error(request, rejected.message)
        if order is not None:
            return redirect("order_detail", number=order.number)
        return redirect(product.get_absolute_url())
    return redirect("conversation_detail", pk=conversation.pk)
