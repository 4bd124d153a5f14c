"""Issue 13 (3): a complaint carries follow-up messages between the user and staff."""

import pytest
from django.urls import reverse

from marketplace.exceptions import ComplaintRejected
from marketplace.models import Complaint, ComplaintMessage, Notification
from marketplace.services.complaints import add_complaint_message, update_complaint
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.test_complaints import complaint_by

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(username="sana", first_name="Sana", is_staff=True, is_superuser=True)


def test_the_user_follows_up_and_every_staff_member_hears_while_nobody_is_assigned(
    client, buyer, staff
):
    complaint = complaint_by(buyer)
    client.force_login(buyer)
    response = client.post(complaint.get_absolute_url(), {"body": "Tracking: TCS-998877"})
    assert response.status_code == 302
    message = ComplaintMessage.objects.get()
    assert (message.author, message.body, message.from_staff) == (
        buyer,
        "Tracking: TCS-998877",
        False,
    )
    notice = Notification.objects.get(user=staff)
    assert notice.url == reverse("admin:marketplace_complaint_change", args=[complaint.pk])
    page = client.get(complaint.get_absolute_url()).content.decode()
    assert "Tracking: TCS-998877" in page


def test_a_staff_reply_tells_the_user_in_their_language(client, buyer, staff):
    buyer.language = "ur"
    buyer.save(update_fields=["language"])
    complaint = complaint_by(buyer)
    add_complaint_message(complaint=complaint, by=staff, body="Which courier?")
    notice = Notification.objects.get(user=buyer, dedupe_key__startswith="complaint-message:")
    assert notice.url == complaint.get_absolute_url()
    client.force_login(buyer)
    page = client.get(reverse("notification_list")).content.decode()
    assert complaint.number in page and "Which courier?" in page
    assert "New message on complaint" not in page  # read in Urdu


def test_a_reply_from_the_assigned_staff_member_reaches_only_the_user(buyer, staff):
    complaint = complaint_by(buyer)
    update_complaint(
        complaint=complaint, by=staff, status="in_progress", assigned_to=staff, resolution_note=""
    )
    complaint.refresh_from_db()
    add_complaint_message(complaint=complaint, by=buyer, body="Any news?")
    assert Notification.objects.filter(user=staff).count() == 1


def test_nobody_else_may_write_on_a_complaint(buyer, outsider, client):
    complaint = complaint_by(buyer)
    with pytest.raises(ComplaintRejected):
        add_complaint_message(complaint=complaint, by=outsider, body="Me too")
    client.force_login(outsider)
    assert client.post(complaint.get_absolute_url(), {"body": "Me too"}).status_code == 404
    assert not ComplaintMessage.objects.exists()


def test_an_empty_message_or_a_closed_complaint_is_refused(client, buyer, staff):
    complaint = complaint_by(buyer)
    client.force_login(buyer)
    page = client.post(complaint.get_absolute_url(), {"body": "   "})
    assert page.status_code == 200 and not ComplaintMessage.objects.exists()
    Complaint.objects.filter(pk=complaint.pk).update(status=Complaint.Status.CLOSED)
    complaint.refresh_from_db()
    with pytest.raises(ComplaintRejected) as refused:
        add_complaint_message(complaint=complaint, by=buyer, body="Hello?")
    assert refused.value.code == "closed"


def test_staff_reply_in_the_admin_inline(client, buyer, staff):
    complaint = complaint_by(buyer)
    client.force_login(staff)
    url = reverse("admin:marketplace_complaint_change", args=[complaint.pk])
    response = client.post(
        url,
        {
            "status": "in_progress",
            "assigned_to": staff.pk,
            "resolution_note": "",
            "messages-TOTAL_FORMS": "1",
            "messages-INITIAL_FORMS": "0",
            "messages-MIN_NUM_FORMS": "0",
            "messages-MAX_NUM_FORMS": "1000",
            "messages-0-body": "Please send a photo of the parcel.",
        },
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    reply = ComplaintMessage.objects.get()
    assert reply.author == staff and reply.from_staff
    assert Notification.objects.filter(
        user=buyer, dedupe_key=f"complaint-message:{reply.pk}"
    ).exists()


def test_the_api_complaint_detail_includes_the_thread(buyer, staff):
    complaint = complaint_by(buyer)
    add_complaint_message(complaint=complaint, by=buyer, body="Tracking: TCS-1")
    add_complaint_message(complaint=complaint, by=staff, body="Thanks")
    body = token_client(buyer).get(f"/api/complaints/{complaint.number}/").json()
    assert [(m["body"], m["from_staff"]) for m in body["messages"]] == [
        ("Tracking: TCS-1", False),
        ("Thanks", True),
    ]
