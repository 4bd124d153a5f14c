"""Complaints: filing, who sees what, staff handling in the admin."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from marketplace.exceptions import ComplaintRejected
from marketplace.models import Complaint, Notification
from marketplace.services.complaints import file_complaint, update_complaint
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.orders import listing_by, order_for

pytestmark = pytest.mark.django_db


def complaint_by(user, **fields) -> Complaint:
    values = {
        "category": Complaint.Category.SHIPPING,
        "subject": "Parcel never came",
        "description": "Shipped three weeks ago, nothing yet.",
    }
    values.update(fields)
    return file_complaint(user=user, **values)


@pytest.fixture
def staff(db):
    return UserFactory(username="sana", first_name="Sana", is_staff=True, is_superuser=True)


# --- file_complaint -------------------------------------------------------------------------


def test_a_complaint_gets_a_number_and_starts_open(buyer):
    complaint = complaint_by(buyer)

    assert complaint.number.startswith("CMP-")
    assert complaint.status == Complaint.Status.OPEN


def test_a_complaint_about_an_order_names_its_seller(seller, buyer):
    order = order_for(buyer, listing_by(seller))

    complaint = complaint_by(buyer, order=order)

    assert complaint.seller == seller


def test_a_complaint_cannot_name_someone_elses_order(seller, buyer, outsider):
    order = order_for(buyer, listing_by(seller))

    with pytest.raises(ComplaintRejected) as rejected:
        complaint_by(outsider, order=order)

    assert rejected.value.code == "not_your_order"


def test_a_complaint_needs_a_subject_and_a_description(buyer):
    with pytest.raises(ComplaintRejected):
        complaint_by(buyer, subject="  ", description="")


def test_a_seller_cannot_complain_about_themselves(seller):
    with pytest.raises(ComplaintRejected):
        complaint_by(seller, seller=seller)


# --- update_complaint -----------------------------------------------------------------------


def test_staff_change_status_note_and_assignee(buyer, staff):
    complaint = complaint_by(buyer)

    update_complaint(
        complaint=complaint,
        by=staff,
        status=Complaint.Status.RESOLVED,
        assigned_to=staff,
        resolution_note="Courier found it; delivered today.",
    )

    complaint.refresh_from_db()
    assert complaint.status == Complaint.Status.RESOLVED
    assert complaint.assigned_to == staff
    assert complaint.resolved_at is not None


def test_someone_who_is_not_staff_cannot_update_a_complaint(buyer):
    complaint = complaint_by(buyer)

    with pytest.raises(ComplaintRejected):
        update_complaint(
            complaint=complaint,
            by=buyer,
            status=Complaint.Status.CLOSED,
            assigned_to=None,
            resolution_note="",
        )


def test_a_complaint_is_assigned_only_to_staff(buyer, staff, outsider):
    complaint = complaint_by(buyer)

    with pytest.raises(ComplaintRejected):
        update_complaint(
            complaint=complaint,
            by=staff,
            status=Complaint.Status.OPEN,
            assigned_to=outsider,
            resolution_note="",
        )


def test_the_user_is_notified_of_each_change_and_not_of_a_save_without_change(buyer, staff):
    complaint = complaint_by(buyer)
    for status in (Complaint.Status.IN_PROGRESS, Complaint.Status.IN_PROGRESS):
        update_complaint(
            complaint=complaint, by=staff, status=status, assigned_to=None, resolution_note=""
        )
    update_complaint(
        complaint=complaint,
        by=staff,
        status=Complaint.Status.RESOLVED,
        assigned_to=None,
        resolution_note="Refunded.",
    )

    notices = Notification.objects.filter(user=buyer, kind=Notification.Kind.COMPLAINT_UPDATED)
    assert notices.count() == 2
    assert notices.first().url == complaint.get_absolute_url()
    assert "Resolved" in notices.first().title


def test_the_notice_is_e_mailed_and_the_bell_updated_after_commit(
    buyer, staff, django_capture_on_commit_callbacks, monkeypatch
):
    bells = []
    monkeypatch.setattr("marketplace.realtime.broadcast_counts", bells.append)
    complaint = complaint_by(buyer)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        update_complaint(
            complaint=complaint,
            by=staff,
            status=Complaint.Status.IN_PROGRESS,
            assigned_to=None,
            resolution_note="",
        )
        assert bells == []

    assert len(callbacks) == 1
    assert bells == [buyer.pk]


# --- Views ----------------------------------------------------------------------------------


def test_filing_a_complaint_from_the_form_shows_its_number(client, buyer):
    client.force_login(buyer)

    response = client.post(
        reverse("complaint_create"),
        {"category": "platform", "subject": "Search is slow", "description": "Takes ages."},
        follow=True,
    )

    complaint = Complaint.objects.get()
    assert complaint.user == buyer
    assert complaint.number in response.content.decode()


def test_the_form_offers_only_the_users_own_orders(client, seller, buyer, outsider):
    theirs = order_for(buyer, listing_by(seller))
    client.force_login(outsider)

    response = client.post(
        reverse("complaint_create"),
        {"category": "shipping", "subject": "x", "description": "y", "order": theirs.pk},
    )

    assert response.status_code == 200
    assert "Choose one of your own orders." in response.content.decode()
    assert not Complaint.objects.exists()


def test_an_empty_complaint_form_shows_errors(client, buyer):
    client.force_login(buyer)

    response = client.post(reverse("complaint_create"), {"category": "nonsense"})

    assert response.status_code == 200
    assert "is-invalid" in response.content.decode()


def test_the_complaint_list_shows_only_the_users_complaints(client, buyer, outsider):
    mine = complaint_by(buyer, subject="Mine")
    complaint_by(outsider, subject="Not mine")
    client.force_login(buyer)

    response = client.get(reverse("complaint_list"))

    assert list(response.context["page"]) == [mine]
    assert "Not mine" not in response.content.decode()


def test_the_owner_sees_the_status_and_the_resolution_note(client, buyer, staff):
    complaint = complaint_by(buyer)
    update_complaint(
        complaint=complaint,
        by=staff,
        status=Complaint.Status.RESOLVED,
        assigned_to=staff,
        resolution_note="Refunded in full.",
    )
    client.force_login(buyer)

    page = client.get(reverse("complaint_detail", args=[complaint.number])).content.decode()

    assert "Resolved" in page
    assert "Refunded in full." in page


@pytest.mark.parametrize("who", ["seller", "outsider"])
def test_anyone_else_gets_404_on_a_complaint(client, buyer, seller, outsider, who):
    complaint = complaint_by(buyer, seller=seller)
    client.force_login({"seller": seller, "outsider": outsider}[who])

    assert client.get(reverse("complaint_detail", args=[complaint.number])).status_code == 404
    assert client.get(reverse("complaint_photo", args=[complaint.number])).status_code == 404


@pytest.mark.parametrize("name", ["complaint_list", "complaint_create"])
def test_complaint_pages_send_anonymous_visitors_to_log_in(client, name):
    assert client.get(reverse(name)).url.startswith(reverse("login"))


def test_a_complaint_page_sends_an_anonymous_visitor_to_log_in(client, buyer):
    complaint = complaint_by(buyer)

    assert client.get(reverse("complaint_detail", args=[complaint.number])).url.startswith(
        reverse("login")
    )


def test_a_complaint_without_a_photo_has_no_photo_to_fetch(client, buyer):
    complaint = complaint_by(buyer)
    client.force_login(buyer)

    assert client.get(reverse("complaint_photo", args=[complaint.number])).status_code == 404


# --- Admin ----------------------------------------------------------------------------------


def test_staff_resolve_a_complaint_in_the_admin_and_the_change_goes_through_the_service(
    client, buyer, staff
):
    complaint = complaint_by(buyer)
    client.force_login(staff)

    response = client.post(
        reverse("admin:marketplace_complaint_change", args=[complaint.pk]),
        {
            "status": "resolved",
            "assigned_to": staff.pk,
            "resolution_note": "Sorted.",
            # The replies inline's management form (no reply written).
            "messages-TOTAL_FORMS": "0",
            "messages-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    complaint.refresh_from_db()
    assert (complaint.status, complaint.resolution_note) == ("resolved", "Sorted.")
    assert Notification.objects.filter(user=buyer, kind="complaint_updated").exists()


def test_the_assign_to_me_action(client, buyer, staff):
    complaint = complaint_by(buyer)
    client.force_login(staff)

    client.post(
        reverse("admin:marketplace_complaint_changelist"),
        {"action": "assign_to_me", "_selected_action": [complaint.pk]},
    )

    complaint.refresh_from_db()
    assert complaint.assigned_to == staff


def test_a_regular_user_cannot_open_the_complaints_admin(client, buyer):
    client.force_login(buyer)

    response = client.get(reverse("admin:marketplace_complaint_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response.url


# --- Photos ---------------------------------------------------------------------------------


def _png_with_metadata() -> SimpleUploadedFile:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    info = PngImagePlugin.PngInfo()
    info.add_text("secret", "GPS 31.5204 N 74.3587 E")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return SimpleUploadedFile("my home.png", out.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def test_a_photo_is_re_encoded_and_never_stored_as_uploaded(client, buyer, settings):
    client.force_login(buyer)

    client.post(
        reverse("complaint_create"),
        {
            "category": "product",
            "subject": "Broken",
            "description": "Arrived broken",
            "photo": _png_with_metadata(),
        },
    )

    complaint = Complaint.objects.get()
    stored = complaint.photo.read()
    assert stored.startswith(b"\xff\xd8")  # a JPEG we wrote, not the PNG sent
    assert b"GPS" not in stored
    assert "my home" not in complaint.photo.name
    assert str(settings.PRIVATE_MEDIA_ROOT) in complaint.photo.path
    assert str(settings.MEDIA_ROOT) not in complaint.photo.path


def test_something_that_is_not_a_photo_is_refused_in_the_form(client, buyer):
    client.force_login(buyer)
    fake = SimpleUploadedFile("x.jpg", b"<?php echo 'hi'; ?>", content_type="image/jpeg")

    response = client.post(
        reverse("complaint_create"),
        {"category": "product", "subject": "S", "description": "D", "photo": fake},
    )

    assert response.status_code == 200
    assert "is not a JPEG, PNG or WebP photo" in response.content.decode()
    assert not Complaint.objects.exists()


def test_the_photo_is_served_to_its_owner_and_staff_only(client, buyer, outsider, staff):
    complaint = file_complaint(
        user=buyer,
        category="product",
        subject="S",
        description="D",
        photo_upload=_png_with_metadata(),
    )
    url = reverse("complaint_photo", args=[complaint.number])

    client.force_login(buyer)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    client.force_login(staff)
    assert client.get(url).status_code == 200
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).url.startswith(reverse("login"))
