"""Count what clients see when the gateway refuses an upload before reading its body.

    .venv/bin/python -m tools.measure_refusals [--base-url URL] [--uploads N] [--size-mb M]
        [--newman-runs R]

Two clients that write their whole request body before they read the answer, against a running
gateway (`make run`):

- Python's urllib: N uploads of a real photograph (scaled to about M MB) without a token. Each
  must come back as the 401; a connection reset or a broken pipe instead is counted as a reset.
- newman: R runs of the Postman collection, each as a fresh Auth Emulator user (so the per-user
  upload budget never interferes). A run is clean when newman exits 0.

A measurement, not a test: it prints the counts and exits 1 when any upload was reset or any
newman run failed.
"""

from __future__ import annotations

import argparse
import http.client
import io
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

from PIL import Image

from tools.devstack.emulator import DEFAULT_HOST as AUTH_EMULATOR_HOST
from tools.model.photos import sample_photo

REPO_ROOT = Path(__file__).resolve().parent.parent
POSTMAN_DIR = REPO_ROOT / "docs" / "postman"
_BOUNDARY = "snapmatch-refusal-measurement"


def photo_of_size(megabytes: float) -> bytes:
    """A real photograph (scikit-image's espresso) scaled up until its quality-95 JPEG is at
    least ``megabytes`` MB."""
    photo = sample_photo("coffee.png")
    scale = 1.0
    while True:
        size = (round(photo.width * scale), round(photo.height * scale))
        buffer = io.BytesIO()
        photo.resize(size, Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=95)
        if buffer.tell() >= megabytes * 1e6:
            return buffer.getvalue()
        scale *= 1.05


def multipart(photo: bytes) -> bytes:
    return (
        (
            f"--{_BOUNDARY}\r\n"
            'Content-Disposition: form-data; name="image"; filename="photo.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + photo
        + f"\r\n--{_BOUNDARY}--\r\n".encode()
    )


def upload_without_token(base_url: str, body: bytes) -> str:
    """One urllib upload: the status it got (``"401"``), or ``"reset"`` when the connection
    broke before the answer could be read."""
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's gateway
        f"{base_url}/predict",
        data=body,
        method="POST",
        headers={"Content-Type": f"multipart/form-data; boundary={_BOUNDARY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return str(response.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return str(exc.code)
    except (ConnectionError, http.client.RemoteDisconnected) as exc:
        return f"reset ({type(exc).__name__})"
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionError):
            return f"reset ({type(exc.reason).__name__})"
        raise


def newman_run(base_url: str) -> tuple[bool, str]:
    """One run of the Postman collection as a fresh user; (clean, the lines that say why not)."""
    cmd = [
        str(REPO_ROOT / "scripts" / "newman.sh"), "run",
        str(POSTMAN_DIR / "snapmatch.postman_collection.json"),
        "--environment", str(POSTMAN_DIR / "snapmatch.postman_environment.json"),
        "--env-var", f"baseUrl={base_url}",
        "--env-var", f"authBaseUrl=http://{AUTH_EMULATOR_HOST}/identitytoolkit.googleapis.com",
        "--env-var", f"email=refusals-{uuid.uuid4().hex[:12]}@snapmatch.test",
        "--working-dir", str(POSTMAN_DIR / "files"),
        "--timeout-request", "60000",
        "--color", "off",
        "--disable-unicode",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    # newman ends with a table of failures: "  #  failure  detail", then numbered entries.
    lines = (proc.stdout + proc.stderr).splitlines()
    start = next((i for i, line in enumerate(lines) if "failure" in line and "detail" in line), 0)
    why = [" ".join(line.split()) for line in lines[start + 1 : start + 9] if line.strip()]
    return proc.returncode == 0, " | ".join(why)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.measure_refusals",
        description="Count resets seen by clients whose uploads the gateway refuses early.",
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--uploads", type=int, default=200)
    parser.add_argument("--size-mb", type=float, default=4.0)
    parser.add_argument("--newman-runs", type=int, default=20)
    args = parser.parse_args()

    body = multipart(photo_of_size(args.size_mb))
    outcomes: Counter[str] = Counter()
    started = time.monotonic()
    for _ in range(args.uploads):
        outcomes[upload_without_token(args.base_url, body)] += 1
    resets = sum(count for outcome, count in outcomes.items() if outcome.startswith("reset"))
    print(
        f"urllib, {args.uploads} uploads of {len(body) / 1e6:.1f} MB without a token "
        f"({time.monotonic() - started:.0f} s): "
        + ", ".join(f"{outcome}: {count}" for outcome, count in sorted(outcomes.items()))
        + f" -> {resets} reset(s)"
    )

    clean = 0
    for run in range(1, args.newman_runs + 1):
        ok, why = newman_run(args.base_url)
        clean += ok
        if not ok:
            print(f"  newman run {run} failed: {why}")
    print(f"newman, {args.newman_runs} runs of the Postman collection: {clean} clean")
    return 0 if resets == 0 and clean == args.newman_runs else 1


if __name__ == "__main__":
    sys.exit(main())
