"""Strict uploads: streamed size limit, formats by their bytes (HEIC included), decompression
bombs refused from the header, bounded form fields; each with its exact status."""

import io
import select
import socket
import struct
import zlib
from urllib.parse import urlsplit

import httpx
import pillow_heif
import pytest
from PIL import Image

from tests.support.client import auth, poll, upload
from tools.devstack import Stack
from tools.devstack.emulator import SignedInUser

MB = 1024 * 1024


def _raw_upload(
    base_url: str, headers: dict[str, str], *, total_bytes: int, chunked: bool
) -> tuple[int, int]:
    """Stream a ``total_bytes`` body until the server answers; (status, bytes actually sent).

    A plain socket, so that the test sees how much the server took before it answered.
    """
    url = urlsplit(base_url)
    lines = ["POST /predict HTTP/1.1", f"Host: {url.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append("Content-Type: multipart/form-data; boundary=xyz")
    lines.append("Transfer-Encoding: chunked" if chunked else f"Content-Length: {total_bytes}")
    part_header = (
        b'--xyz\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff"
    )
    chunk = b"\x00" * (64 * 1024)
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while sent < total_bytes:
            if select.select([sock], [], [], 0)[0]:
                break  # the answer is in: stop sending
            data = part_header + chunk if sent == 0 else chunk
            frame = b"%x\r\n%s\r\n" % (len(data), data) if chunked else data
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        status_line = sock.makefile("rb").readline().decode()
    return int(status_line.split()[1]), sent


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_50mb_upload_is_refused_while_it_streams(
    stack: Stack, user: SignedInUser, chunked: bool
) -> None:
    status, sent = _raw_upload(
        stack.base_url, auth(user.id_token), total_bytes=50 * MB, chunked=chunked
    )
    assert status == 413
    # The 10 MB limit plus what the socket buffers held, far from the whole 50 MB.
    assert sent < 30 * MB


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(
    stack: Stack, chunked: bool
) -> None:
    status, sent = _raw_upload(stack.base_url, {}, total_bytes=9 * MB, chunked=chunked)
    assert status == 401
    assert sent < 9 * MB


def test_a_refused_upload_closes_its_connection(stack: Stack) -> None:
    """Answered before its body was read, an upload must not leave the connection half-used:
    the server says so and closes it, rather than waiting for the rest of the body forever."""
    url = urlsplit(stack.base_url)
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {url.netloc}\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 1000000\r\n\r\n"
    )
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"--xyz\r\n")  # a start of the body, never the rest
        received = b""
        while chunk := sock.recv(65536):  # returns b"" once the server has closed
            received += chunk
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.split()[1] == b"401"
    assert b"\r\nconnection: close\r\n" in rest.lower()


def _png_header(width: int, height: int) -> bytes:
    """A valid PNG whose IHDR declares ``width`` x ``height``, with a tiny zlib stream of zeros
    that would inflate to the full image: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    idat = zlib.compressobj(9).compress(b"\x00" * (16 * MB)) + zlib.compressobj(9).flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _jpeg_declaring(width: int, height: int, coffee_jpeg: bytes) -> bytes:
    """A real JPEG whose start-of-frame is rewritten to declare another size."""
    sof = coffee_jpeg.index(b"\xff\xc0")
    return coffee_jpeg[: sof + 5] + struct.pack(">HH", height, width) + coffee_jpeg[sof + 9 :]


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_decompression_bombs_are_refused_from_the_header(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    assert stack.gateway is not None
    bombs = {
        "png 60000x60000": _png_header(60_000, 60_000),
        "jpeg 65000x65000": _jpeg_declaring(65_000, 65_000, coffee_jpeg),
    }
    upload(stack.base_url, user.id_token, coffee_jpeg)  # warm up the gateway's allocations
    rss_before = _rss_kib(stack.gateway.popen.pid)
    for name, bomb in bombs.items():
        for _ in range(3):
            response = upload(stack.base_url, user.id_token, bomb)
            assert response.status_code == 413, (name, response.text)
            assert response.json()["error"] == "image_too_large"
    growth_mib = (_rss_kib(stack.gateway.popen.pid) - rss_before) / 1024
    # Decoding either would take 3.6-12 GB; the header check costs next to nothing.
    assert growth_mib < 64, f"gateway RSS grew by {growth_mib:.0f} MiB"


def _encode(format: str, **options: object) -> bytes:
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, format=format, **options)  # type: ignore[no-untyped-call]
    return buffer.getvalue()


def test_a_heic_photo_is_classified(stack: Stack, user: SignedInUser) -> None:
    pillow_heif.register_heif_opener()
    heic = _encode("HEIF", quality=85)
    # The name and declared type don't matter; the bytes do.
    response = upload(stack.base_url, user.id_token, heic, filename="x.jpg", mime="image/jpeg")
    assert response.status_code == 202, response.text
    result = poll(stack.base_url, user.id_token, response.json()["task_id"])
    assert result["status"] == "done", result
    assert result["predictions"][0]["label"] in {"espresso", "cup", "coffee mug"}


@pytest.mark.parametrize("format", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_unsupported(stack: Stack, user: SignedInUser, format: str) -> None:
    response = upload(stack.base_url, user.id_token, _encode(format), filename="photo.jpg")
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_media_type"


def test_a_png_with_a_corrupt_header_is_unprocessable(stack: Stack, user: SignedInUser) -> None:
    png = _encode("PNG")
    response = upload(stack.base_url, user.id_token, png[:20])
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "corrupt_image"


def _post_form(
    stack: Stack, user: SignedInUser, *, content_type: str | None = None, **kwargs: object
) -> httpx.Response:
    headers = auth(user.id_token) | ({"Content-Type": content_type} if content_type else {})
    return httpx.post(f"{stack.base_url}/predict", headers=headers, timeout=30, **kwargs)  # type: ignore[arg-type]


def test_an_oversize_form_field_is_refused(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = _post_form(
        stack, user, files={"image": ("c.jpg", coffee_jpeg)}, data={"note": "x" * 5000}
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "form_too_large"


def test_too_many_form_fields_are_refused(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    fields = {f"f{i}": "x" for i in range(20)}
    response = _post_form(stack, user, files={"image": ("c.jpg", coffee_jpeg)}, data=fields)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "form_too_large"


def test_a_second_file_is_refused(stack: Stack, user: SignedInUser, coffee_jpeg: bytes) -> None:
    files = [("image", ("a.jpg", coffee_jpeg)), ("image", ("b.jpg", coffee_jpeg))]
    response = _post_form(stack, user, files=files)
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "form_too_large"


def test_a_form_without_a_boundary_is_malformed(stack: Stack, user: SignedInUser) -> None:
    response = _post_form(stack, user, content=b"abc", content_type="multipart/form-data")
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "malformed_form"


def test_a_json_body_has_no_image(stack: Stack, user: SignedInUser) -> None:
    response = _post_form(stack, user, json={"image": "aGVsbG8="})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "missing_image"


def test_fields_other_than_the_image_are_refused(
    stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    response = _post_form(stack, user, files={"image": ("c.jpg", coffee_jpeg)}, data={"tag": "x"})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "unexpected_field"
