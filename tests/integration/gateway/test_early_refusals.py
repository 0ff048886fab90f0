"""Refusals sent before the upload is read reach clients that write their whole body first.

The gateway answers 401 (and 413, 429) without reading the body; it then drains the rest
before closing (lingering close), so the client reads the status instead of a reset. Clients
that ask with ``Expect: 100-continue`` get the refusal without sending their body at all.
"""

import socket
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from tools.devstack import Stack

MB = 1024 * 1024
_BOUNDARY = "early-refusal"


def _multipart(size: int) -> bytes:
    head = (
        f"--{_BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    return head + b"\xff\xd8\xff" + b"\x5a" * size + f"\r\n--{_BOUNDARY}--\r\n".encode()


def _request_head(base_url: str, length: int, *extra: str) -> bytes:
    url = urlsplit(base_url)
    lines = [
        "POST /predict HTTP/1.1",
        f"Host: {url.netloc}",
        f"Content-Type: multipart/form-data; boundary={_BOUNDARY}",
        f"Content-Length: {length}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes; a reset fails the test."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def test_urllib_uploads_without_a_token_all_get_the_401(stack: Stack) -> None:
    """urllib sends the whole 4 MB before it reads anything: without the drain, most of these
    uploads ended in ConnectionResetError or BrokenPipeError."""
    body = _multipart(4 * MB)
    for attempt in range(10):
        request = urllib.request.Request(
            f"{stack.base_url}/predict",
            data=body,
            method="POST",
            headers={"Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 401, attempt
        assert b'"missing_token"' in refused.value.read()


def test_a_client_that_sends_everything_first_reads_the_refusal_and_a_clean_close(
    stack: Stack,
) -> None:
    body = _multipart(4 * MB)
    url = urlsplit(stack.base_url)
    assert url.hostname is not None and url.port is not None
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(_request_head(stack.base_url, len(body)) + body)  # never reads meanwhile
        received = _read_until_closed(sock)  # ConnectionResetError here is the defect
    status_line, _, rest = received.partition(b"\r\n")
    assert status_line.split()[1] == b"401", received[:200]
    assert b"\r\nconnection: close\r\n" in rest.lower()
    assert rest.endswith(b"}"), "the JSON error body arrived whole"


def test_an_expect_100_continue_client_is_refused_without_sending_its_body(
    stack: Stack,
) -> None:
    """curl asks first for bodies over 1 MB: the gateway answers the 401 instead of
    ``100 Continue`` and closes without waiting for a body that is never sent."""
    url = urlsplit(stack.base_url)
    assert url.hostname is not None and url.port is not None
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(_request_head(stack.base_url, 4 * MB, "Expect: 100-continue"))
        received = _read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 401 "), received[:200]
    assert b"100 Continue" not in received
    assert received.endswith(b"}")
