"""Issue 14: photos with a return request. Up to three, re-encoded (the complaint photos'
pipeline), stored privately and served to the order's buyer and seller and to staff only;
a bad, too large or extra photo is an error on the form that keeps what the buyer typed."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, PngImagePlugin

from marketplace.exceptions import ReturnActionRefused
from marketplace.models import Order, ReturnPhoto, ReturnRequest
from marketplace.services import returns
from marketplace.tests.api_support import token_client
from marketplace.tests.factories.accounts import UserFactory
from marketplace.tests.factories.ledger import deliver, sold, staff_user

pytestmark = pytest.mark.django_db

ASK = {"reason": "damaged", "details": "The spout is chipped, see the photos."}


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def delivered(seller, buyer):
    order = sold(seller, buyer)
    deliver(order, days_ago=1)
    return Order.objects.get(pk=order.pk)


def png(name="my home in Lahore.png", colour=(200, 30, 30)) -> SimpleUploadedFile:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "<script>alert(1)</script>")
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, format="PNG", pnginfo=info)
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def post(client, order, **data):
    return client.post(reverse("order_return", args=[order.number]), {**ASK, **data})


def test_the_buyer_sends_photos_that_are_re_encoded_and_kept_private(
    client, delivered, buyer, settings
):
    client.force_login(buyer)

    response = post(client, delivered, photos=[png(), png(colour=(0, 0, 200))])

    assert response.status_code == 302
    photos = list(ReturnPhoto.objects.filter(return_request__order=delivered))
    assert [p.position for p in photos] == [0, 1]
    for photo in photos:
        stored = photo.image.read()
        assert stored.startswith(b"\xff\xd8")  # a JPEG we wrote, not the PNG sent
        assert b"<script>" not in stored
        assert "home" not in photo.image.name
        assert str(settings.PRIVATE_MEDIA_ROOT) in photo.image.path


@pytest.mark.parametrize(
    ("photos", "message"),
    [
        (lambda: [SimpleUploadedFile("x.jpg", b"not an image", "image/jpeg")], "is not a JPEG"),
        (lambda: [png(name=f"p{i}.png") for i in range(4)], "Choose at most 3 photos"),
    ],
    ids=["not-an-image", "four-photos"],
)
def test_a_bad_photo_is_an_error_on_the_form_that_keeps_what_was_typed(
    client, delivered, buyer, photos, message
):
    client.force_login(buyer)

    response = post(client, delivered, photos=photos())

    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "The spout is chipped, see the photos." in html
    assert re.search(r'<input[^>]*value="damaged"[^>]*checked', html)
    assert not ReturnRequest.objects.exists() and not ReturnPhoto.objects.exists()


def test_a_photo_over_the_size_limit_is_refused_before_decoding(client, delivered, buyer, settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 100
    client.force_login(buyer)

    response = post(client, delivered, photos=[png()])

    assert "is too large" in response.content.decode()
    assert not ReturnRequest.objects.exists()


def test_the_photo_rate_limit_keeps_the_form_and_decodes_nothing(
    client, delivered, buyer, settings, monkeypatch
):
    settings.COMPLAINT_PHOTO_RATE_LIMIT = 1
    other = sold(delivered.seller, buyer)
    deliver(other, days_ago=1)
    returns.open_return(order=other, by=buyer, photos=[png()], **ASK)
    decoded = []
    monkeypatch.setattr("marketplace.forms.catalog.process_image", decoded.append)
    client.force_login(buyer)

    response = post(client, delivered, photos=[png()])

    html = response.content.decode()
    assert "return requests with photos recently" in html
    assert "The spout is chipped, see the photos." in html
    assert decoded == []
    assert not ReturnRequest.objects.filter(order=delivered).exists()


def test_the_service_refuses_more_than_three_photos(delivered, buyer):
    with pytest.raises(ReturnActionRefused) as refused:
        returns.open_return(order=delivered, by=buyer, photos=[png() for _ in range(4)], **ASK)

    assert refused.value.code == "too_many_photos"
    assert not ReturnRequest.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [("buyer", 200), ("seller", 200), ("staff", 200), ("outsider", 404), ("other_buyer", 404)],
)
def test_the_photo_is_served_to_the_buyer_the_seller_and_staff_only(
    client, delivered, seller, buyer, who, status
):
    request = returns.open_return(order=delivered, by=buyer, photos=[png()], **ASK)
    photo = request.photos.get()
    users = {
        "buyer": buyer,
        "seller": seller,
        "staff": staff_user(),
        "outsider": UserFactory(),
        "other_buyer": UserFactory(),
    }
    client.force_login(users[who])

    response = client.get(reverse("return_photo", args=[delivered.number, photo.pk]))

    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "image/jpeg"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_a_photo_is_not_reachable_through_another_order_number(client, seller, buyer, delivered):
    request = returns.open_return(order=delivered, by=buyer, photos=[png()], **ASK)
    mine = sold(seller, buyer)  # the buyer's own other order
    client.force_login(buyer)

    url = reverse("return_photo", args=[mine.number, request.photos.get().pk])

    assert client.get(url).status_code == 404


def test_the_seller_sees_the_photos_where_they_answer(client, delivered, seller, buyer):
    request = returns.open_return(order=delivered, by=buyer, photos=[png(), png()], **ASK)
    client.force_login(seller)

    html = client.get(reverse("order_detail", args=[delivered.number])).content.decode()

    assert 'id="return-photos"' in html and 'id="return-accept-form"' in html
    for photo in request.photos.all():
        assert reverse("return_photo", args=[delivered.number, photo.pk]) in html


def test_staff_see_the_photos_in_the_admin(client, delivered, buyer):
    request = returns.open_return(order=delivered, by=buyer, photos=[png()], **ASK)
    client.force_login(staff_user())

    html = client.get(
        reverse("admin:marketplace_returnrequest_change", args=[request.pk])
    ).content.decode()

    assert reverse("return_photo", args=[delivered.number, request.photos.get().pk]) in html


def test_the_api_takes_photos_and_lists_their_paths(client, delivered, buyer):
    response = token_client(buyer).post(
        reverse("api:order_return", args=[delivered.number]),
        {**ASK, "photos": [png(), png()]},
        format="multipart",
    )
    client.force_login(buyer)

    assert response.status_code == 201, response.content
    photo_paths = response.json()["photos"]
    assert len(photo_paths) == 2
    assert client.get(photo_paths[0]).status_code == 200


def test_the_api_refuses_a_file_that_is_not_an_image(delivered, buyer):
    fake = SimpleUploadedFile("x.png", b"GIF89a nope", "image/png")

    response = token_client(buyer).post(
        reverse("api:order_return", args=[delivered.number]),
        {**ASK, "photos": [fake]},
        format="multipart",
    )

    assert response.status_code == 400
    assert "photos" in response.json()["errors"]
    assert not ReturnRequest.objects.exists()
