"""Cheap checks of an uploaded image: what the bytes are, and how big, without decoding it.

The full decode happens once, in the worker; here only the magic bytes and the header are read.
"""

import io
import warnings
from dataclasses import dataclass

import pillow_heif
from PIL import Image, UnidentifiedImageError

from app.core.errors import APIError

# Lets Pillow read HEIC/HEIF headers (iPhone photos); the worker registers it too, to decode.
pillow_heif.register_heif_opener()

# Magic bytes -> MIME type. The client's filename and Content-Type are never trusted.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)
# ISO base media files: a ``ftyp`` box at offset 4, then the major brand.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_BRANDS = {b"mif1", b"msf1"}
_PIL_FORMATS = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WEBP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
ACCEPTED_TYPES = tuple(_PIL_FORMATS)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def sniff_content_type(data: bytes) -> str | None:
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIC_BRANDS:
            return "image/heic"
        if brand in _HEIF_BRANDS:
            return "image/heif"
        return None
    for magic, offset, content_type in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            if content_type == "image/webp" and not data.startswith(b"RIFF"):
                continue
            return content_type
    return None


def inspect_image(data: bytes, *, max_pixels: int) -> ImageInfo:
    """Accept JPEG, PNG, WebP and HEIC/HEIF whose header parses, of at most ``max_pixels``."""
    if not data:
        raise APIError(422, "empty_file", "the uploaded file is empty")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise APIError(
            415,
            "unsupported_media_type",
            f"the file is not an image of a supported type ({', '.join(ACCEPTED_TYPES)})",
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[content_type]]) as image:
                width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise APIError(
            422, "corrupt_image", f"the {content_type} header cannot be read: {exc}"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise APIError(413, "image_too_large", str(exc)) from exc
    if width * height > max_pixels:
        raise APIError(
            413,
            "image_too_large",
            f"the image has {width}x{height} pixels; at most {max_pixels} pixels are accepted",
        )
    return ImageInfo(content_type=content_type, width=width, height=height)
