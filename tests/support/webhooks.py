"""A real webhook receiver on loopback that verifies every delivery as a receiver should."""

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# A fixed test secret (24 random bytes, base64): never used outside the suite.
SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"


@dataclass
class Receiver:
    """What the receiver saw: verified deliveries (by webhook-id) and refused ones."""

    url: str
    status: int = 204  # what it answers each delivery
    redirect_to: str | None = None  # answer 307 to this URL instead
    deliveries: list[dict[str, Any]] = field(default_factory=list)  # verified, in order
    refused: list[str] = field(default_factory=list)  # why signatures did not verify

    @property
    def unique(self) -> dict[str, dict[str, Any]]:
        """Verified payloads de-duplicated on ``webhook-id``, as a receiver must."""
        return {d["webhook-id"]: d["payload"] for d in self.deliveries}


@contextmanager
def receiver(port: int = 0, *, secret: str = SECRET, status: int = 204) -> Iterator[Receiver]:
    verifier = Webhook(secret)
    lock = threading.Lock()
    state = Receiver(url="", status=status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if state.redirect_to is not None:
                self.send_response(307)
                self.send_header("Location", state.redirect_to)
                self.end_headers()
                return
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                payload = verifier.verify(body, headers)
            except WebhookVerificationError as exc:
                with lock:
                    state.refused.append(str(exc))
                self.send_response(400)
                self.end_headers()
                return
            with lock:
                state.deliveries.append(
                    {
                        "webhook-id": headers["webhook-id"],
                        "webhook-timestamp": headers["webhook-timestamp"],
                        "payload": payload,
                        "raw": json.loads(body),
                    }
                )
            self.send_response(state.status)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/snapmatch"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
