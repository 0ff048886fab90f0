import io

import pytest
from PIL import Image

from app.core.errors import APIError
from app.tasks.image_check import inspect_image, sniff_content_type


def _encode(fmt: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color=0).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp"), ("HEIF", "image/heic")],
)
def test_supported_formats_are_recognised_by_their_bytes(fmt: str, expected: str) -> None:
    data = _encode(fmt)
    assert sniff_content_type(data) == expected
    info = inspect_image(data, max_pixels=10_000)
    assert (info.content_type, info.width, info.height) == (expected, 40, 30)


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is text",
        b"GIF89a" + b"\x00" * 20,
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"%PDF-1.7",
    ],
)
def test_other_bytes_are_unsupported_media(data: bytes) -> None:
    with pytest.raises(APIError) as info:
        inspect_image(data, max_pixels=10_000)
    assert (info.value.status_code, info.value.code) == (415, "unsupported_media_type")


def test_a_gif_is_refused_even_if_it_claims_to_be_jpeg() -> None:
    data = _encode("GIF")
    with pytest.raises(APIError) as info:
        inspect_image(data, max_pixels=10_000)
    assert info.value.status_code == 415


def test_empty_file_is_unprocessable() -> None:
    with pytest.raises(APIError) as info:
        inspect_image(b"", max_pixels=10_000)
    assert (info.value.status_code, info.value.code) == (422, "empty_file")


def test_a_jpeg_signature_with_a_broken_header_is_unprocessable() -> None:
    with pytest.raises(APIError) as info:
        inspect_image(b"\xff\xd8\xff\xe0" + b"\x00" * 4, max_pixels=10_000)
    assert (info.value.status_code, info.value.code) == (422, "corrupt_image")


def test_pixel_limit_is_checked_from_the_header() -> None:
    data = _encode("PNG", size=(200, 100))
    inspect_image(data, max_pixels=20_000)
    with pytest.raises(APIError) as info:
        inspect_image(data, max_pixels=19_999)
    assert (info.value.status_code, info.value.code) == (413, "image_too_large")


@pytest.mark.parametrize(
    ("brand", "expected"),
    [(b"heic", "image/heic"), (b"heix", "image/heic"), (b"mif1", "image/heif"), (b"avif", None)],
)
def test_iso_media_files_are_told_apart_by_their_brand(brand: bytes, expected: str | None) -> None:
    assert sniff_content_type(b"\x00\x00\x00\x18ftyp" + brand + b"\x00" * 12) == expected
