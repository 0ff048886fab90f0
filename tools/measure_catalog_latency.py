"""Measure the latency of catalog reads through a running gateway (`make run`).

    .venv/bin/python -m tools.measure_catalog_latency --token "$(make -s token)" \
        [--base-url URL] [--requests N]

Uploads a photo of an espresso (scikit-image's sample), waits for its result, then times N
sequential `GET /result/{id}` (a terminal result, so each one also runs the product-match
query) and N `GET /products/search` over a rotating set of queries, and prints p50/p95/max.
A measurement, not a test: numbers depend on the machine and on what else runs on it. It polls
far more than one user's budget allows, so start the gateway without the per-user limits:
`SNAPMATCH_POLL_RATE_LIMIT=0 make run`.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time

import httpx

from tools.model.photos import sample_photo

QUERIES = ["espresso cup", "running shoe", "leather wallet", "tv", "café", "backpack 22 l"]


def _coffee_jpeg() -> bytes:
    buffer = io.BytesIO()
    sample_photo("coffee.png").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def _summary(name: str, samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return (
        f"{name:<28} n={len(ms):<5} p50={statistics.median(ms):6.2f} ms  "
        f"p95={p95:6.2f} ms  max={ms[-1]:6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.measure_catalog_latency",
        description="Measure the latency of catalog reads through a running gateway.",
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--token", required=True, help="a Firebase ID token (make -s token)")
    args = parser.parse_args()
    token = args.token
    with httpx.Client(
        base_url=args.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        accepted = client.post("/predict", files={"image": ("coffee.jpg", _coffee_jpeg())})
        accepted.raise_for_status()
        result_url = accepted.json()["result_url"]
        deadline = time.monotonic() + 60
        while (response := client.get(result_url)).status_code != 200:
            if time.monotonic() > deadline:
                print("the result did not arrive within 60 s", file=sys.stderr)
                return 1
            time.sleep(0.05)
        body = response.json()
        print(f"result: {len(body['products'])} products, status {body['products_status']}")

        for _ in range(20):  # warm up connections and caches
            client.get(result_url)
            client.get("/products/search", params={"q": "mug"})
        results, searches = [], []
        for i in range(args.requests):
            started = time.perf_counter()
            client.get(result_url).raise_for_status()
            results.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.get(
                "/products/search", params={"q": QUERIES[i % len(QUERIES)]}
            ).raise_for_status()
            searches.append(time.perf_counter() - started)
    print(_summary("GET /result (with matches)", results))
    print(_summary("GET /products/search", searches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
