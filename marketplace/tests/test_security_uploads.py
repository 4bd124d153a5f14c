"""Issue 12, items 3 and 7: photo uploads are cheap to refuse, bounded to decode, rate-limited
per user, and re-encoded without any metadata."""

import io
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image, ImageFile, PngImagePlugin

from marketplace import images
from marketplace.images import decode_budget, process_image
from marketplace.models import AuctionListing, Complaint, Product
from marketplace.services.complaints import file_complaint
from marketplace.tests.factories.catalog import ProductFactory, category, city

pytestmark = pytest.mark.django_db

SCRIPT = b"<script>alert(document.cookie)</script>"


def photo(fmt: str = "JPEG", size: tuple[int, int] = (200, 150), **save_kwargs):
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, format=fmt, **save_kwargs)
    return SimpleUploadedFile(f"photo.{fmt.lower()}", out.getvalue())


def outputs(result) -> list[bytes]:
    return [data for data in (result.image, result.medium, result.thumbnail) if data]


# --- Item 7: metadata ---------------------------------------------------------------------


def test_a_60_kb_script_comment_in_a_jpeg_is_not_stored():
    upload = photo(size=(1000, 800), comment=SCRIPT * 1560)
    assert len(upload.read()) > 60_000

    result = process_image(upload)

    for data in outputs(result):
        assert SCRIPT[:8] not in data
        assert "comment" not in Image.open(io.BytesIO(data)).info


def test_png_text_chunks_and_xmp_are_not_stored():
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", SCRIPT.decode())
    info.add_text("Description", SCRIPT.decode())
    info.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>" + SCRIPT.decode() + "</x:xmpmeta>")
    result = process_image(photo("PNG", size=(900, 900), pnginfo=info))

    for data in outputs(result):
        assert b"<script>" not in data
        assert b"xmpmeta" not in data
        stored = Image.open(io.BytesIO(data))
        assert not set(stored.info) & {"comment", "Description", "xmp", "icc_profile", "exif"}


def test_an_icc_profile_is_not_stored():
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = process_image(photo(icc_profile=profile))
    assert "icc_profile" not in Image.open(io.BytesIO(result.image)).info


# --- Item 3: decoded size, concurrency -----------------------------------------------------


@pytest.fixture
def loads(monkeypatch):
    """Sizes of the file images whose pixels were decoded (a load with tiles still to read)."""
    counted = []
    original = ImageFile.ImageFile.load

    def load(self):
        if self.tile:
            counted.append(self.size)
        return original(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    return counted


def test_a_photo_over_the_requests_decoded_budget_is_refused_before_decoding(settings, loads):
    # Flat PNGs are tiny on the wire and large in memory: 1000x1000 RGB is 3 MB decoded.
    settings.IMAGE_MAX_DECODED_BYTES = 4_000_000
    with decode_budget():
        process_image(photo("PNG", size=(1000, 1000)))
        with pytest.raises(ValidationError) as error:
            process_image(photo("PNG", size=(1000, 1000)))
    assert error.value.code == "decode_budget"
    assert loads == [(1000, 1000)]


def test_each_request_has_its_own_budget(settings):
    settings.IMAGE_MAX_DECODED_BYTES = 4_000_000
    for _request in range(2):
        with decode_budget():
            process_image(photo("PNG", size=(1000, 1000)))


def test_a_form_post_with_too_many_decoded_bytes_creates_nothing(seller_client, settings, loads):
    settings.IMAGE_MAX_DECODED_BYTES = 4_000_000
    big = [photo("PNG", size=(1000, 1000)) for _ in range(3)]

    response = seller_client.post(reverse("listing_create"), listing_data(images=big))

    assert response.status_code == 200
    assert "one photo too many" in response.text
    assert not Product.objects.exists()
    assert len(loads) == 1


def test_the_pixel_limit_is_checked_before_decoding(settings, loads):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationError) as error:
        process_image(photo("PNG", size=(101, 100)))
    assert error.value.code == "too_many_pixels"
    assert loads == []


@pytest.fixture
def fresh_slots(monkeypatch):
    monkeypatch.setattr(images, "_slots", None)


def test_decodes_in_one_process_are_bounded(settings, monkeypatch, fresh_slots):
    settings.IMAGE_MAX_CONCURRENT_DECODES = 2
    running, peak, lock = [0], [0], threading.Lock()
    original = images._reencode

    def slow_reencode(img, *, name):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return original(img, name=name)

    monkeypatch.setattr(images, "_reencode", slow_reencode)
    threads = [threading.Thread(target=process_image, args=(photo(),)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak[0] == 2


def test_a_photo_waiting_too_long_for_a_decode_slot_is_refused_as_busy(settings, fresh_slots):
    settings.IMAGE_MAX_CONCURRENT_DECODES = 1
    settings.IMAGE_DECODE_WAIT_SECONDS = 0
    with images._decode_slot("first"):
        with pytest.raises(ValidationError) as error:
            process_image(photo())
    assert error.value.code == "busy"


# --- Item 3: per-user rate limits ----------------------------------------------------------


def listing_data(**overrides) -> dict:
    return {
        "title": "Phulkari dupatta",
        "description": "Hand-embroidered in silk thread.",
        "category": category().pk,
        "condition": "new",
        "city": city("Lahore").pk,
        "price": "6500",
        "quantity": "3",
        "images": [photo()],
        **overrides,
    }


def auction_data() -> dict:
    data = listing_data(starting_price="2500", reserve_price="", duration_days="7")
    del data["price"], data["quantity"]
    return data


@pytest.mark.parametrize(
    ("url", "data", "model"),
    [("listing_create", listing_data, Product), ("auction_create", auction_data, AuctionListing)],
)
def test_listing_creation_is_rate_limited_per_seller(
    seller_client, seller, settings, loads, url, data, model
):
    settings.LISTING_RATE_LIMIT = 2
    ProductFactory.create_batch(2, seller=seller)
    before = model.objects.count()

    response = seller_client.post(reverse(url), data())

    assert response.status_code == 200
    assert "You have created 2 listings in the last 60 minutes" in response.text
    assert model.objects.count() == before
    assert loads == []  # the photos were not even decoded


def test_the_listing_limit_counts_only_the_window(seller_client, seller, settings):
    settings.LISTING_RATE_LIMIT = 2
    from django.utils import timezone

    ProductFactory.create_batch(
        2, seller=seller, created_at=timezone.now() - timezone.timedelta(hours=2)
    )

    response = seller_client.post(reverse("listing_create"), listing_data())

    assert response.status_code == 302


def test_the_listing_limit_is_per_seller(seller_client, settings):
    settings.LISTING_RATE_LIMIT = 2
    ProductFactory.create_batch(2)  # someone else's
    assert seller_client.post(reverse("listing_create"), listing_data()).status_code == 302


@pytest.fixture
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def complaint_data(**overrides) -> dict:
    return {
        "category": "platform",
        "subject": "Broken",
        "description": "Arrived broken",
    } | overrides


@pytest.mark.usefixtures("_private_media")
def test_complaint_photos_are_rate_limited_per_user(client, buyer, settings, loads):
    settings.COMPLAINT_PHOTO_RATE_LIMIT = 1
    file_complaint(
        user=buyer, category="platform", subject="a", description="b", photo_upload=photo()
    )
    client.force_login(buyer)
    loads.clear()

    response = client.post(reverse("complaint_create"), complaint_data(photo=photo()))

    assert response.status_code == 200
    assert "You have sent 1 complaint photos recently" in response.text
    assert Complaint.objects.count() == 1
    assert loads == []


@pytest.mark.usefixtures("_private_media")
def test_a_complaint_without_a_photo_is_not_limited(client, buyer, settings):
    settings.COMPLAINT_PHOTO_RATE_LIMIT = 1
    file_complaint(
        user=buyer, category="platform", subject="a", description="b", photo_upload=photo()
    )
    client.force_login(buyer)

    response = client.post(reverse("complaint_create"), complaint_data())

    assert response.status_code == 302
    assert Complaint.objects.count() == 2
