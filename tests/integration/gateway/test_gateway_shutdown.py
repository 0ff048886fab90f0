"""SIGTERM on the gateway: a request still uploading is finished and answered, then the
gateway closes its broker connection and exits."""

import signal
import socket
import uuid
from urllib.parse import urlsplit

from tools.devstack import Stack, queue_counts, wait_until
from tools.devstack.emulator import SignedInUser


def _multipart(image: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + image
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def test_sigterm_answers_the_request_in_flight_then_exits_cleanly(
    private_stack: Stack, user: SignedInUser, coffee_jpeg: bytes
) -> None:
    assert private_stack.gateway is not None
    gateway = private_stack.gateway
    url = urlsplit(private_stack.base_url)
    body, content_type = _multipart(coffee_jpeg)
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"Authorization: Bearer {user.id_token}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()

    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        half = len(body) // 2
        conn.sendall(head + body[:half])
        gateway.send(signal.SIGTERM)
        wait_until(lambda: "Shutting down" in gateway.log(), timeout=30, what="shutdown")
        # New connections are refused now; this upload is still being received.
        conn.sendall(body[half:])
        response = b""
        while chunk := conn.recv(65536):
            response += chunk

    status_line = response.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 202 Accepted", response.decode(errors="replace")
    # uvicorn re-raises the signal once shut down (exit status 128+15 to a supervisor).
    assert gateway.popen.wait(30) in (0, -signal.SIGTERM), gateway.log()
    assert "Application shutdown complete" in gateway.log()
    assert "RabbitMQ connection closed" in gateway.log()
    # The accepted task is safely queued for a worker.
    assert queue_counts(private_stack.queue)[0] == 1
