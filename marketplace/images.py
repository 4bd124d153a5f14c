"""Product photos: decode, check and re-encode uploads with Pillow.

The uploaded bytes are never stored: every photo is decoded, turned upright, converted to RGB
and re-encoded with pixels only (no EXIF, GPS, ICC, comments, text chunks or XMP) as a display image of
at most 1600 px, a medium one of at most 800 px (what a phone loads; only when the display
image is larger) and a 400 px square thumbnail.
"""

import contextlib
import io
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_SIDE = 1600
MEDIUM_SIDE = 800
THUMB_SIDE = 400
JPEG_QUALITY = 85
MAX_IMAGES = 8


@dataclass(frozen=True)
class ProcessedImage:
    """A re-encoded photo ready to be stored."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int
    name: str = ""
    medium: bytes | None = None  # at most MEDIUM_SIDE; None when `image` is no larger


def _reject(message: str, code: str) -> ValidationError:
    return ValidationError(message, code=code)


# Bytes of decoded pixels one request may still spend (None outside a request). A 38 KB flat
# PNG can decode to 120 MB: the budget is checked from the header, before any pixel is decoded.
_request_budget: ContextVar[list[int] | None] = ContextVar("image_decode_budget", default=None)


@contextlib.contextmanager
def decode_budget(total_bytes: int | None = None) -> Iterator[None]:
    """Let the code inside decode at most `total_bytes` of pixels (IMAGE_MAX_DECODED_BYTES)."""
    limit = settings.IMAGE_MAX_DECODED_BYTES if total_bytes is None else total_bytes
    token = _request_budget.set([limit])
    try:
        yield
    finally:
        _request_budget.reset(token)


class DecodeBudgetMiddleware:
    """One decoded-bytes budget per request, whatever the form or service decoding photos."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        with decode_budget():
            return self.get_response(request)


def _spend(decoded_bytes: int, *, name: str) -> None:
    budget = _request_budget.get()
    if budget is None:
        return
    if decoded_bytes > budget[0]:
        raise _reject(
            _("%(name)s is one photo too many for one upload: send fewer or smaller photos.")
            % {"name": name},
            "decode_budget",
        )
    budget[0] -= decoded_bytes


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


@contextlib.contextmanager
def _decode_slot(name: str) -> Iterator[None]:
    """At most IMAGE_MAX_CONCURRENT_DECODES decodes at once in this process.

    Views run in Daphne's threads, so decoding never blocks the event loop itself; this
    bounds the CPU and memory that simultaneous uploads take from every other request.
    """
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.IMAGE_MAX_CONCURRENT_DECODES)
    if not _slots.acquire(timeout=settings.IMAGE_DECODE_WAIT_SECONDS):
        raise _reject(
            _("The site is busy with other photos: please send %(name)s again in a minute.")
            % {"name": name},
            "busy",
        )
    try:
        yield
    finally:
        _slots.release()


def process_image(upload) -> ProcessedImage:
    """Decode and re-encode one upload; raise ValidationError with a readable message."""
    name = getattr(upload, "name", "") or _("the photo")
    max_bytes = settings.IMAGE_MAX_UPLOAD_BYTES
    max_pixels = settings.IMAGE_MAX_PIXELS
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise _reject(
            _("%(name)s is too large (%(size)s). Photos can be at most %(max)s.")
            % {"name": name, "size": filesizeformat(size), "max": filesizeformat(max_bytes)},
            "too_large",
        )
    if size == 0:
        raise _reject(_("%(name)s is empty.") % {"name": name}, "empty")
    # Pillow refuses images over twice this limit with DecompressionBombError and warns above
    # it; we turn the warning into an error and also check the header size ourselves below.
    Image.MAX_IMAGE_PIXELS = max_pixels
    too_many_pixels = _reject(
        _("%(name)s has too many pixels. Photos can have at most %(max)s megapixels.")
        % {"name": name, "max": max_pixels // 1_000_000},
        "too_many_pixels",
    )
    not_an_image = _reject(
        _("%(name)s is not a JPEG, PNG or WebP photo.") % {"name": name}, "not_an_image"
    )
    try:
        upload.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(upload) as img:
                if img.format not in ALLOWED_FORMATS:
                    raise not_an_image
                # Image.open has read the header only: refuse before any pixel is decoded.
                width, height = img.size
                if width * height > max_pixels:
                    raise too_many_pixels
                _spend(width * height * len(img.getbands()), name=name)
                with _decode_slot(name):
                    img.load()
                    return _reencode(img, name=name)
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except UnidentifiedImageError:
        raise not_an_image from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _reject(
            _("%(name)s is damaged or incomplete; please choose it again.") % {"name": name},
            "corrupt",
        ) from None


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")


def _encode(img: Image.Image) -> bytes:
    out = io.BytesIO()
    # Pixels only. Pillow writes `info["comment"]` back as a JPEG COM segment by default, and
    # convert()/copy()/thumbnail() carry `info` over from the upload: a JPEG comment or a PNG
    # tEXt/iTXt chunk named "comment" (a 60 KB <script> survived) would reach the stored file.
    # So `info` is emptied and no exif=, icc_profile= or comment= is passed. The ICC profile
    # goes too: the pixels are not converted from it, and almost every phone photo is sRGB.
    img.info = {}
    img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


def _reencode(img: Image.Image, *, name: str) -> ProcessedImage:
    upright = ImageOps.exif_transpose(img) or img
    rgb = _to_rgb(upright)
    display = rgb.copy()
    display.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    thumb = ImageOps.fit(rgb, (THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    medium = None
    if max(display.size) > MEDIUM_SIDE:
        medium = display.copy()
        medium.thumbnail((MEDIUM_SIDE, MEDIUM_SIDE), Image.Resampling.LANCZOS)
    return ProcessedImage(
        image=_encode(display),
        thumbnail=_encode(thumb),
        medium=_encode(medium) if medium is not None else None,
        width=display.width,
        height=display.height,
        name=name,
    )


def save_product_images(*, product, files: Iterable, start_position: int = 0) -> list:
    """Store photos for a saved product: uploads (processed here) or ProcessedImage objects.

    Call inside the caller's transaction, after its other checks: every photo is decoded
    first, so a failing photo raises ValidationError before any file or row is written.
    """
    from marketplace.models import ProductImage

    processed = [f if isinstance(f, ProcessedImage) else process_image(f) for f in files]
    created = []
    for offset, photo in enumerate(processed):
        stem = uuid.uuid4().hex
        row = ProductImage(
            product=product, position=start_position + offset, alt_text=product.title[:200]
        )
        row.image.save(f"{stem}.jpg", ContentFile(photo.image), save=False)
        row.thumbnail.save(f"{stem}-thumb.jpg", ContentFile(photo.thumbnail), save=False)
        if photo.medium:
            row.medium.save(f"{stem}-medium.jpg", ContentFile(photo.medium), save=False)
        row.width, row.height = photo.width, photo.height
        row.save()
        created.append(row)
    return created


def stored_photo(image) -> ProcessedImage:
    """A stored ProductImage as a ProcessedImage, to copy it to another product."""
    medium = None
    if image.medium:
        with image.medium.open("rb") as stored:
            medium = stored.read()
    with image.image.open("rb") as display, image.thumbnail.open("rb") as thumb:
        return ProcessedImage(
            image=display.read(),
            thumbnail=thumb.read(),
            width=image.width,
            height=image.height,
            name=image.image.name,
            medium=medium,
        )


def delete_image_files(image) -> None:
    """Remove a ProductImage's files from storage (call on commit)."""
    for field in (image.image, image.medium, image.thumbnail):
        if field.name:
            field.storage.delete(field.name)
