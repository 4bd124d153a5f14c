"""Photo uploads: decoded and re-encoded by Pillow, anything else refused with a message."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from marketplace.images import THUMB_SIDE, process_image, save_product_images
from marketplace.models import ProductImage
from marketplace.tests.factories.catalog import ProductFactory


def photo(
    fmt: str = "JPEG", size: tuple[int, int] = (800, 600), name: str | None = None, **save_kwargs
) -> SimpleUploadedFile:
    mode = "RGBA" if fmt == "PNG" else "RGB"
    buffer = io.BytesIO()
    Image.new(mode, size, (30, 90, 160)).save(buffer, format=fmt, **save_kwargs)
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}[fmt]
    return SimpleUploadedFile(name or f"photo.{extension}", buffer.getvalue())


def decoded(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_jpeg_png_and_webp_are_accepted_and_reencoded_as_jpeg(fmt):
    result = process_image(photo(fmt))
    assert decoded(result.image).format == "JPEG"
    assert decoded(result.image).mode == "RGB"


def test_a_large_photo_is_shrunk_to_1600_px_and_gets_a_square_thumbnail():
    result = process_image(photo(size=(4000, 3000)))
    assert (result.width, result.height) == (1600, 1200)
    assert decoded(result.thumbnail).size == (THUMB_SIDE, THUMB_SIDE)


def test_exif_orientation_is_applied_and_metadata_is_stripped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    exif[0x010F] = "SecretCam"
    result = process_image(photo(size=(800, 600), exif=exif.tobytes()))
    assert (result.width, result.height) == (600, 800)
    assert not decoded(result.image).getexif()


def test_a_text_file_named_like_a_photo_is_refused():
    upload = SimpleUploadedFile("holiday.jpg", b"this is not a picture at all")
    with pytest.raises(ValidationError) as error:
        process_image(upload)
    assert error.value.code == "not_an_image"
    assert "holiday.jpg" in error.value.messages[0]


def test_a_gif_is_refused_even_though_pillow_can_read_it():
    with pytest.raises(ValidationError) as error:
        process_image(photo("GIF"))
    assert error.value.code == "not_an_image"


def test_an_upload_over_the_size_limit_is_refused(settings):
    settings.IMAGE_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(ValidationError) as error:
        process_image(photo(size=(800, 600), quality=100))
    assert error.value.code == "too_large"


def test_an_image_with_too_many_pixels_is_refused(settings):
    settings.IMAGE_MAX_PIXELS = 100 * 100
    with pytest.raises(ValidationError) as error:
        process_image(photo(size=(200, 200)))
    assert error.value.code == "too_many_pixels"


def test_a_decompression_bomb_is_refused_before_decoding(settings):
    settings.IMAGE_MAX_PIXELS = 1_000_000
    with pytest.raises(ValidationError) as error:
        process_image(photo("PNG", size=(3000, 3000), optimize=True))
    assert error.value.code == "too_many_pixels"


def test_a_truncated_jpeg_is_refused_as_damaged():
    whole = photo(size=(800, 600)).read()
    upload = SimpleUploadedFile("cut.jpg", whole[: len(whole) // 2])
    with pytest.raises(ValidationError) as error:
        process_image(upload)
    assert error.value.code == "corrupt"


@pytest.mark.django_db
def test_saved_photos_are_stored_reencoded_never_the_original(settings):
    product = ProductFactory()
    upload = photo(size=(2000, 1000), name="../../evil.jpg")
    original = upload.read()
    [image] = save_product_images(product=product, files=[upload], start_position=2)
    assert image.position == 2
    assert image.image.name.startswith(f"products/{product.pk}/")
    assert "evil" not in image.image.name
    assert image.image.read() != original
    assert (image.width, image.height) == (1600, 800)
    assert ProductImage.objects.filter(product=product).count() == 1


def test_a_large_photo_also_gets_a_medium_size_for_phones():
    result = process_image(photo(size=(4000, 3000)))

    assert decoded(result.medium).size == (800, 600)
    assert decoded(result.medium).format == "JPEG"


def test_a_photo_no_larger_than_the_medium_size_gets_no_copy_of_itself():
    assert process_image(photo(size=(800, 600))).medium is None


@pytest.mark.django_db
def test_a_stored_photo_offers_its_medium_size_in_srcset():
    product = ProductFactory()
    [image] = save_product_images(product=product, files=[photo(size=(1000, 2000))])

    assert image.medium.name.endswith("-medium.jpg")
    assert image.srcset == f"{image.medium.url} 400w, {image.image.url} 800w"
    small = save_product_images(product=product, files=[photo(size=(640, 480))])[0]
    assert not small.medium and small.srcset == ""


@pytest.mark.django_db
def test_the_product_and_auction_pages_let_a_phone_load_the_medium_photo(client, seller):
    from marketplace.tests.auction_helpers import make_auction

    product = ProductFactory()
    [image] = save_product_images(product=product, files=[photo(size=(2400, 1200))])
    page = client.get(product.get_absolute_url()).content.decode()
    assert f'srcset="{image.medium.url} 800w, {image.image.url} 1600w"' in page

    auction = make_auction(seller)
    [shot] = save_product_images(product=auction.product, files=[photo(size=(2400, 1200))])
    page = client.get(f"/auctions/{auction.pk}/").content.decode()
    assert f'srcset="{shot.medium.url} 800w, {shot.image.url} 1600w"' in page
