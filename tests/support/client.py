"""What a mobile client does: upload with a Bearer token, then poll until a terminal result."""

import time
from typing import Any

import httpx


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(
    base_url: str,
    token: str,
    data: bytes,
    *,
    filename: str = "photo.jpg",
    mime: str = "image/jpeg",
    model: str | None = None,
) -> httpx.Response:
    """POST /predict; ``model`` is sent as the form field of that name when given."""
    return httpx.post(
        f"{base_url}/predict",
        headers=auth(token),
        files={"image": (filename, data, mime)},
        data={"model": model} if model is not None else None,
        timeout=30,
    )


def poll(base_url: str, token: str, task_id: str, *, timeout: float = 60.0) -> dict[str, Any]:
    """Poll GET /result until it stops answering 404 pending; return the terminal body."""
    deadline = time.monotonic() + timeout
    while True:
        response = httpx.get(f"{base_url}/result/{task_id}", headers=auth(token), timeout=10)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        assert response.status_code == 404, response.text
        assert response.json()["status"] == "pending", response.text
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {task_id} still pending after {timeout:.0f} s")
        time.sleep(0.05)


def create_upload(
    base_url: str, token: str, *, size_bytes: int, content_type: str = "image/jpeg"
) -> httpx.Response:
    """POST /uploads: ask for a presigned PUT for one photo."""
    return httpx.post(
        f"{base_url}/uploads",
        headers=auth(token),
        json={"content_type": content_type, "size_bytes": size_bytes},
        timeout=30,
    )


def put_upload(ticket: dict[str, Any], data: bytes) -> httpx.Response:
    """PUT the photo to a ticket's presigned URL, as the phone does."""
    return httpx.request(
        ticket["method"], ticket["url"], headers=ticket["headers"], content=data, timeout=30
    )


def submit_upload(base_url: str, token: str, upload_id: str, **fields: str) -> httpx.Response:
    """POST /predict naming a direct upload instead of sending the file."""
    return httpx.post(
        f"{base_url}/predict",
        headers=auth(token),
        data={"upload_id": upload_id, **fields},
        timeout=30,
    )


def direct_upload(base_url: str, token: str, data: bytes, content_type: str) -> str:
    """The whole direct-upload flow; returns the task id."""
    ticket = create_upload(base_url, token, size_bytes=len(data), content_type=content_type)
    assert ticket.status_code == 201, ticket.text
    assert put_upload(ticket.json(), data).status_code == 200
    response = submit_upload(base_url, token, ticket.json()["upload_id"])
    assert response.status_code == 202, response.text
    task_id: str = response.json()["task_id"]
    return task_id


def upload_batch(
    base_url: str,
    token: str,
    images: list[bytes],
    *,
    headers: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> httpx.Response:
    """POST /predict/batch with one ``images`` file part per image, in order."""
    return httpx.post(
        f"{base_url}/predict/batch",
        headers=auth(token) | (headers or {}),
        files=[
            ("images", (f"photo-{i}.jpg", image, "image/jpeg")) for i, image in enumerate(images)
        ],
        data=data,
        timeout=60,
    )


def stable_result(body: dict[str, Any]) -> dict[str, Any]:
    """A result body without what differs per read: the image links are signed anew each time
    (their query and ``expires_at``), the objects they name stay the same."""
    images = body.get("images")
    if not images:
        return body
    links = {k: v.split("?", 1)[0] for k, v in images.items() if k != "expires_at" and v}
    return {**body, "images": links}
