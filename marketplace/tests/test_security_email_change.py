"""Issue 12, item 5: changing the e-mail address needs the password and a link opened at the
new address; the old address is told and can undo it, which locks the intruder out."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from marketplace.models import ApiToken
from marketplace.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "bilal.new@example.pk"


def edit(client, **fields):
    data = {"first_name": "Bilal", "email": NEW, "phone": "", **fields}
    return client.post(reverse("profile_edit"), data)


def link_in(message) -> str:
    return re.search(r"http://testserver(/\S+)", message.body).group(1)


def test_changing_the_e_mail_needs_the_current_password(buyer_client, buyer):
    response = edit(buyer_client, current_password="wrong")

    assert response.status_code == 200
    assert "Enter your current password" in response.text
    buyer.refresh_from_db()
    assert buyer.email == "bilal@example.pk"
    assert mail.outbox == []


def test_the_address_changes_only_when_the_link_sent_to_it_is_opened(
    buyer_client, buyer, django_capture_on_commit_callbacks
):
    edit(buyer_client, current_password=PASSWORD)

    buyer.refresh_from_db()
    assert buyer.email == "bilal@example.pk"
    [sent] = mail.outbox
    assert sent.to == [NEW]
    link = link_in(sent)
    assert buyer_client.get(link).status_code == 200  # a GET (mail scanners) changes nothing
    buyer.refresh_from_db()
    assert buyer.email == "bilal@example.pk"

    with django_capture_on_commit_callbacks(execute=True):
        buyer_client.post(link)

    buyer.refresh_from_db()
    assert buyer.email == NEW
    told = mail.outbox[-1]
    assert told.to == ["bilal@example.pk"] and NEW in told.body
    assert buyer_client.post(link).status_code == 302  # used once only
    buyer.refresh_from_db()
    assert buyer.email == NEW


def test_a_forged_or_tampered_link_changes_nothing(buyer_client, buyer):
    edit(buyer_client, current_password=PASSWORD)
    link = link_in(mail.outbox[0])

    buyer_client.post(link.replace(":", "x:", 1))

    buyer.refresh_from_db()
    assert buyer.email == "bilal@example.pk"


def test_the_old_address_can_undo_and_the_intruder_is_locked_out(
    buyer_client, buyer, django_capture_on_commit_callbacks
):
    ApiToken.issue(user=buyer, name="intruder's app")
    edit(buyer_client, current_password=PASSWORD)
    with django_capture_on_commit_callbacks(execute=True):
        buyer_client.post(link_in(mail.outbox[0]))
    undo = link_in(mail.outbox[-1])
    owner = Client()

    response = owner.post(undo)

    assert response.url == reverse("password_reset")
    buyer.refresh_from_db()
    assert buyer.email == "bilal@example.pk"
    assert not buyer.has_usable_password()
    # The intruder's session is over.
    assert buyer_client.get(reverse("profile")).status_code == 302
    assert SESSION_KEY not in buyer_client.session
    assert not ApiToken.objects.filter(user=buyer).exists()


def test_e_mails_are_written_in_the_users_language(buyer_client, buyer):
    buyer.language = "ur"
    buyer.save(update_fields=["language"])

    edit(buyer_client, current_password=PASSWORD)

    assert "MadeInPK" in mail.outbox[0].subject
    assert mail.outbox[0].subject != "Confirm your new e-mail address on MadeInPK"
