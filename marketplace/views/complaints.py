"""Complaints: file one, see your own and their status. Staff work them in the admin."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from marketplace.exceptions import ComplaintRejected
from marketplace.forms.complaints import ComplaintForm, ComplaintMessageForm
from marketplace.models import Complaint
from marketplace.services import upload_limits
from marketplace.services.complaints import add_complaint_message, file_complaint
from marketplace.views.access import get_complaint_for_owner, get_complaint_for_owner_or_staff


@login_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    complaints = Complaint.objects.filter(user=request.user).order_by("-created_at", "-pk")
    page = Paginator(complaints, 20).get_page(request.GET.get("page"))
    return render(request, "marketplace/complaints/complaint_list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def complaint_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.method == "GET":
        # "Report a problem" links from an order page or a shop pass these along.
        initial = {
            key: request.GET[key] for key in ("order", "seller", "category") if key in request.GET
        }
    # Over the limit, the photo is not even decoded.
    limited = request.FILES.get("photo") and upload_limits.complaint_photo_limit_message(
        request.user
    )
    files = None if limited else request.FILES or None
    form = ComplaintForm(request.POST or None, files, user=request.user, initial=initial)
    if limited:
        form.add_error("photo", limited)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            complaint = file_complaint(
                user=request.user,
                category=data["category"],
                subject=data["subject"],
                description=data["description"],
                order=data["order"],
                seller=data["seller"],
                photo_upload=data.get("photo") or None,
            )
        except ComplaintRejected as rejected:
            form.add_error("photo" if rejected.code == "bad_photo" else None, rejected.message)
        else:
            messages.success(
                request,
                _("Thank you. Your complaint number is %(number)s; we will get back to you.")
                % {"number": complaint.number},
            )
            return redirect(complaint)
    return render(request, "marketplace/complaints/complaint_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def complaint_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The complaint, its thread with staff, and a form to add to it."""
    complaint = get_complaint_for_owner(request, number)
    form = ComplaintMessageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            add_complaint_message(
                complaint=complaint, by=request.user, body=form.cleaned_data["body"]
            )
        except ComplaintRejected as error:
            form.add_error("body", error.message)
        else:
            messages.success(request, _("Your message was sent to our team."))
            return redirect(complaint.get_absolute_url())
    context = {
        "complaint": complaint,
        "thread": complaint.messages.select_related("author"),
        "form": form,
    }
    return render(request, "marketplace/complaints/complaint_detail.html", context)


@login_required
def complaint_photo(request: HttpRequest, number: str) -> HttpResponse:
    """The re-encoded photo, to the person who filed the complaint and to staff only."""
    complaint = get_complaint_for_owner_or_staff(request, number)
    if not complaint.photo:
        raise Http404
    response = FileResponse(complaint.photo.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response
