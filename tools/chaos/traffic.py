"""The load of a chaos run or drill: real photos uploaded over HTTP, and a ledger of every
answer."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from tools.model.photos import sample_photo


def photos() -> list[bytes]:
    """Real photos, plus truncated copies that must end ``failed`` (undecodable)."""
    images = []
    for name in ("coffee.png", "chelsea.png", "astronaut.png"):
        buffer = io.BytesIO()
        sample_photo(name).save(buffer, format="JPEG", quality=90)
        images.append(buffer.getvalue())
    return [*images, images[0][: len(images[0]) // 2]]


@dataclass
class Ledger:
    lock: threading.Lock = field(default_factory=threading.Lock)
    sent: int = 0
    accepted: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    other: Counter[int] = field(default_factory=Counter)
    terminal: dict[str, str] = field(default_factory=dict)
    failure_codes: Counter[str] = field(default_factory=Counter)
    vanished: list[str] = field(default_factory=list)  # answered, then gone at the final re-read

    def outstanding(self) -> list[str]:
        with self.lock:
            return [t for t in self.accepted if t not in self.terminal]

    def lost(self) -> list[str]:
        """Accepted tasks without a terminal result by the end, or whose result was lost."""
        return self.outstanding() + self.vanished


def upload_one(
    client: httpx.Client, base_url: str, token: str, image: bytes, ledger: Ledger
) -> None:
    with ledger.lock:
        ledger.sent += 1
    try:
        response = client.post(
            f"{base_url}/predict",
            headers={"Authorization": f"Bearer {token}"},
            files={"image": ("photo.jpg", image, "image/jpeg")},
            timeout=30,
        )
    except httpx.HTTPError as exc:
        with ledger.lock:
            ledger.refused[f"no answer ({type(exc).__name__})"] += 1
        return
    with ledger.lock:
        if response.status_code == 202:
            ledger.accepted.append(response.json()["task_id"])
        elif response.status_code in (429, 503) and response.headers.get("Retry-After"):
            ledger.refused[response.json().get("error", str(response.status_code))] += 1
        else:
            ledger.other[response.status_code] += 1


def poll_until_stopped(base_url: str, token: str, ledger: Ledger, stop: threading.Event) -> None:
    """Records the first terminal answer of every accepted task (results expire after 5 min)."""
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            for task_id in ledger.outstanding():
                try:
                    response = client.get(
                        f"{base_url}/result/{task_id}",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                except httpx.HTTPError:
                    break
                if response.status_code == 200:
                    body = response.json()
                    with ledger.lock:
                        ledger.terminal[task_id] = body["status"]
                        if body.get("error"):
                            ledger.failure_codes[body["error"]["code"]] += 1
            stop.wait(0.5)


def read_all_again(base_url: str, token: str, ledger: Ledger, *, timeout: float = 60) -> None:
    """Read every answered task's result once more: one that is gone now (a Redis that lost an
    acknowledged write) goes to ``ledger.vanished``. Results must outlive the run (TTL)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=10) as client:
        for task_id in list(ledger.terminal):
            while True:
                response = client.get(
                    f"{base_url}/result/{task_id}", headers={"Authorization": f"Bearer {token}"}
                )
                if response.status_code != 503 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)  # a store still failing over: ask again
            if response.status_code == 404:
                ledger.vanished.append(task_id)
            elif response.status_code != 200:
                ledger.other[response.status_code] += 1
