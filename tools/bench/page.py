"""``python -m tools.bench.page``: the web page in headless Chromium, as a shopper meets it.

On a gateway and a worker started for the run, ``--runs`` times each:

- cold load: a fresh browser context (empty cache) opens /app/; measured from the navigation's
  start to the first frame with a usable sign-in form (Firebase initialised included);
- warm load: a second page in the same context, the bundles from the cache and index.html
  revalidated (304);
- first answer, server mode: a signed-in page picks a photo; measured from the pick to its
  labels and products on the page (upload, queue, model, long-poll and rendering);
- first answer, on-device mode, model download cold: the same in a fresh context with the
  on-device switch on (the WASM runtime and the model downloaded, the session created, the
  model run, the products asked for);
- first answer, on-device mode, model cached: a second page of that context (the model from
  IndexedDB after a 304, the runtime from the HTTP cache);
- per photo in that page: the WASM inference and the page's preprocessing, as the page's own
  ``performance.measure`` entries (``snapmatch:inference``, ``snapmatch:preprocess``), next to
  the worker's inference for the server-mode answers.

Prints a Markdown section and writes it into ``--out`` between markers that `make bench` keeps.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import io
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import (
    Browser,
    BrowserContext,
    FilePayload,
    Page,
    ViewportSize,
    sync_playwright,
)

from app.catalog.database import connect
from app.catalog.migrations import migrate
from app.catalog.seed import apply_seed, load_seed
from config import Settings
from tools.bench.pipeline import running_stack
from tools.bench.sections import PAGE_END, PAGE_START, with_page_section
from tools.devstack import REPO_ROOT, TEST_SERVICES, Services
from tools.devstack.browser import chromium_path, launch_chromium
from tools.devstack.emulator import DEFAULT_PASSWORD, sign_up, unique_email
from tools.devstack.services import local_redis_url
from tools.model.photos import sample_photo

PHONE: ViewportSize = {"width": 390, "height": 844}
WEB_ASSETS = REPO_ROOT / "build" / "web" / "assets"
# The first frame on which the sign-in form can be used: ms since the navigation started.
_SIGN_IN_USABLE = """() => {
    const email = document.querySelector('[data-testid="email"]');
    return email !== null && email.offsetParent !== null && performance.now();
}"""
_ANSWERED = """(name) => {
    const heading = document.querySelector('[data-testid="answer-heading"]');
    return heading !== null && heading.offsetParent !== null
        && heading.textContent === `What the model sees in ${name}`;
}"""
_MEASURES = """(name) => performance.getEntriesByName(`snapmatch:${name}`).map((e) => e.duration)"""
# The worker's own inference time, as the page shows a server-mode answer's timings.
_SERVER_INFERENCE = re.compile(r"running the model (\d+) ms")
# Photos picked again in the page that has the model loaded, for its inference time.
WARM_PHOTOS = 3


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def photo_jpeg() -> bytes:
    """scikit-image's espresso, as a quality-90 JPEG (the suite's coffee photo)."""
    buffer = io.BytesIO()
    sample_photo("coffee.png").convert("RGB").save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def seed_catalog(services: Services) -> None:
    connection = connect(Settings(_env_file=None, database_url=services.database_url))
    try:
        migrate(connection)
        apply_seed(connection, load_seed())
    finally:
        connection.close()


def page_load(page: Page, base_url: str) -> float:
    page.goto(f"{base_url}/app/", wait_until="commit")
    return float(page.wait_for_function(_SIGN_IN_USABLE).json_value())


def loads(browser: Browser, base_url: str) -> tuple[float, float]:
    """(cold, warm) ms to a usable sign-in form, in one fresh context."""
    context = browser.new_context(viewport=PHONE)
    try:
        cold = page_load(context.new_page(), base_url)
        warm = page_load(context.new_page(), base_url)
    finally:
        context.close()
    return cold, warm


def signed_in_page(context: BrowserContext, base_url: str, email: str) -> Page:
    """A page of ``context`` on /app/, signed in as ``email`` (by the form when need be)."""
    page = context.new_page()
    page.goto(f"{base_url}/app/")
    page.locator('[data-testid="email"]:visible, [data-testid="sign-out"]:visible').wait_for()
    if page.get_by_test_id("email").is_visible():
        page.get_by_test_id("email").fill(email)
        page.get_by_test_id("password").fill(DEFAULT_PASSWORD)
        page.get_by_test_id("sign-in").click()
    page.get_by_test_id("sign-out").wait_for()
    return page


def answer_ms(page: Page, name: str, jpeg: bytes) -> float:
    """ms from picking the photo (named ``name``) to its answer on the page."""
    photo: FilePayload = {"name": name, "mimeType": "image/jpeg", "buffer": jpeg}
    started = time.perf_counter()
    page.get_by_test_id("photo-input").set_input_files(files=[photo])
    page.wait_for_function(_ANSWERED, arg=name, timeout=120_000)
    return (time.perf_counter() - started) * 1000


def first_answer(browser: Browser, base_url: str, email: str, jpeg: bytes) -> tuple[float, float]:
    """Server mode in a freshly signed-in page: (ms to the answer, the worker's inference ms)."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = signed_in_page(context, base_url, email)
        answer = answer_ms(page, "espresso.jpg", jpeg)
        shown = _SERVER_INFERENCE.search(page.locator("#timings").inner_text())
        return answer, float(shown.group(1)) if shown else float("nan")
    finally:
        context.close()


@dataclasses.dataclass(frozen=True)
class OnDeviceRun:
    cold: float
    cached: float
    cold_file: float  # of ``cold``: the model downloaded
    cached_file: float  # of ``cached``: the model revalidated (304) and read from IndexedDB
    session: list[float]  # of either: the runtime loaded, the session created
    first_inference: float  # ms, the first photo a session runs
    inference: list[float]  # ms per photo, the model already loaded in the page
    preprocess: list[float]


def on_device(browser: Browser, base_url: str, email: str, jpeg: bytes) -> OnDeviceRun:
    """On-device mode: the first answer with an empty browser, then on a second visit."""
    context = browser.new_context(viewport=PHONE)
    try:
        page = signed_in_page(context, base_url, email)
        page.get_by_test_id("mode-device").check()
        cold = answer_ms(page, "espresso.jpg", jpeg)
        [cold_file] = page.evaluate(_MEASURES, "model-file")
        sessions = page.evaluate(_MEASURES, "model-session")
        page.close()
        page = signed_in_page(context, base_url, email)
        page.get_by_test_id("mode-device").check()
        cached = answer_ms(page, "espresso-again.jpg", jpeg)
        for n in range(WARM_PHOTOS):
            answer_ms(page, f"espresso-{n}.jpg", jpeg)
        [cached_file] = page.evaluate(_MEASURES, "model-file")
        sessions += page.evaluate(_MEASURES, "model-session")
        first_inference, *inference = page.evaluate(_MEASURES, "inference")
        preprocess = page.evaluate(_MEASURES, "preprocess")
        return OnDeviceRun(
            cold, cached, cold_file, cached_file, sessions, first_inference, inference, preprocess
        )
    finally:
        context.close()


def chromium_version() -> str:
    run = subprocess.run(  # noqa: S603 - the chromium binary on this machine
        [str(chromium_path()), "--version"], capture_output=True, text=True, check=False
    )
    return run.stdout.strip() or "Chromium (version unknown)"


def bundle_sizes(pattern: str) -> tuple[int, int]:
    """(bytes, gzipped bytes) of the page's bundles matching ``pattern`` (KB)."""
    files = [path.read_bytes() for path in WEB_ASSETS.glob(pattern)]
    return (
        round(sum(len(f) for f in files) / 1024),
        round(sum(len(gzip.compress(f)) for f in files) / 1024),
    )


def _row(what: str, values: list[float]) -> str:
    return f"| {what} | {statistics.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |"


def render(
    results: dict[str, list[float]], *, runs: int, load_before: str, load_after: str, photo_kb: int
) -> str:
    js, css, ort = bundle_sizes("index-*.js"), bundle_sizes("*.css"), bundle_sizes("ort*.js")
    wasm = sum(path.stat().st_size for path in WEB_ASSETS.glob("*.wasm")) / 2**20

    def ratio(what: str, to: str) -> float:
        return statistics.median(results[what]) / statistics.median(results[to])

    return "\n".join(
        [
            PAGE_START,
            "## Web page (headless Chromium)",
            "",
            f"Written by `make bench-page` (`python -m tools.bench.page`) on "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {chromium_version()}, headless, phone "
            f"viewport, gateway and one worker on this machine ({os.cpu_count()} cores), "
            f"{runs} runs each. Load average {load_before} at the start, {load_after} at the "
            "end.",
            "",
            "| | median ms | min | max |",
            "|---|---|---|---|",
            _row("cold load: navigation to a usable sign-in form, empty cache", results["cold"]),
            _row("warm load: the same on a second visit, bundles cached", results["warm"]),
            _row(
                f"first answer, server mode: photo picked ({photo_kb} KB JPEG) to labels and "
                "products on the page",
                results["answer"],
            ),
            _row(
                "first answer, on-device mode, model download cold: the same with an empty "
                "browser (runtime and model downloaded)",
                results["device_cold"],
            ),
            _row("of it, downloading the model file", results["device_cold_file"]),
            _row(
                "first answer, on-device mode, model cached: a second visit (model from "
                "IndexedDB after a 304, runtime from the HTTP cache)",
                results["device_cached"],
            ),
            _row(
                "of it, the model file revalidated (304) and read from IndexedDB",
                results["device_cached_file"],
            ),
            _row(
                "of either, loading the runtime and creating the model's session",
                results["device_session"],
            ),
            _row(
                "model inference per photo, WASM in the page (one thread, model loaded)",
                results["wasm_inference"],
            ),
            _row(
                "model inference, WASM in the page, the first photo of a session",
                results["wasm_first_inference"],
            ),
            _row(
                "model inference per photo, the worker (onnxruntime, CPU), server-mode answers",
                results["server_inference"],
            ),
            _row(
                "preparing the photo in the page (decode, resize and crop as the worker does)",
                results["device_preprocess"],
            ),
            "",
            f"The page's bundles: {js[0]} KB of JavaScript ({js[1]} KB gzipped; the Firebase "
            f"Auth SDK is most of it) and {css[0]} KB of CSS, served uncompressed by the "
            "gateway; a warm load fetches only index.html (304) and /app/config.json. The "
            "first answer is the pipeline's own time plus the upload, the long-poll's answer "
            "and the rendering. On-device mode loads onnxruntime-web only when first used: "
            f"{ort[0]} KB of JavaScript ({ort[1]} KB gzipped) and its {wasm:.1f} MB "
            "WebAssembly file, cached for good by the browser (hashed names); the inference rows "
            f"are the medians of {WARM_PHOTOS} photos per run on a loaded model "
            "(the first run of a session has its own row), and the "
            "worker's of one answer per run, both the same model (efficientnet-lite0, fp32). "
            "Side by side: WASM inference in the page takes "
            f"{ratio('wasm_inference', 'server_inference'):.1f}x the worker's; the first "
            "on-device answer takes "
            f"{ratio('device_cold', 'answer'):.1f}x a server-mode answer with an empty browser and "
            f"{ratio('device_cached', 'answer'):.1f}x with the model cached, "
            f"{ratio('device_session', 'device_cached'):.0%} of that creating the session, "
            "which later photos in the page skip.",
            PAGE_END,
        ]
    )


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.page", description=__doc__)
    parser.add_argument("--vhost", default=TEST_SERVICES.vhost)
    parser.add_argument("--redis-db", default=os.environ.get("TEST_REDIS_DB", "1"))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "BENCHMARKS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    services = dataclasses.replace(
        TEST_SERVICES, vhost=args.vhost, redis_url=local_redis_url(args.redis_db)
    )
    load_before = _load()
    jpeg = photo_jpeg()
    seed_catalog(services)
    email = sign_up(unique_email("bench")).email
    results: dict[str, list[float]] = {
        name: []
        for name in (
            "cold",
            "warm",
            "answer",
            "server_inference",
            "device_cold",
            "device_cached",
            "device_cold_file",
            "device_cached_file",
            "device_session",
            "wasm_inference",
            "wasm_first_inference",
            "device_preprocess",
        )
    }
    with (
        tempfile.TemporaryDirectory(prefix="bench-page-") as logs,
        running_stack(Path(logs), 1, services) as stack,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        first_answer(browser, stack.base_url, email, jpeg)  # warm-up: worker, pools, caches
        for run in range(1, args.runs + 1):
            cold, warm = loads(browser, stack.base_url)
            answer, server_inference = first_answer(browser, stack.base_url, email, jpeg)
            device = on_device(browser, stack.base_url, email, jpeg)
            say(
                f"run {run}: cold {cold:.0f} ms, warm {warm:.0f} ms, first answer {answer:.0f} "
                f"ms; on-device {device.cold:.0f} ms cold, {device.cached:.0f} ms cached, "
                f"inference {statistics.median(device.inference):.0f} ms "
                f"(worker {server_inference:.0f} ms)"
            )
            results["cold"].append(cold)
            results["warm"].append(warm)
            results["answer"].append(answer)
            results["server_inference"].append(server_inference)
            results["device_cold"].append(device.cold)
            results["device_cached"].append(device.cached)
            results["device_cold_file"].append(device.cold_file)
            results["device_cached_file"].append(device.cached_file)
            results["device_session"].extend(device.session)
            results["wasm_inference"].extend(device.inference)
            results["wasm_first_inference"].append(device.first_inference)
            results["device_preprocess"].extend(device.preprocess)
        browser.close()
    section = render(
        results,
        runs=args.runs,
        load_before=load_before,
        load_after=_load(),
        photo_kb=round(len(jpeg) / 1024),
    )
    print(section)
    old = args.out.read_text() if args.out.is_file() else "# Benchmarks\n"
    args.out.write_text(with_page_section(old, section))
    say(f"wrote its section of {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
