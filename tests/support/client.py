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
