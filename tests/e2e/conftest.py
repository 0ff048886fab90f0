"""The web page in Debian's headless Chromium, against the real gateway, worker, catalog and
Auth Emulator.

Every test fails on a console error, an uncaught exception (CSP violations included), or any
request for a host other than this machine's: such requests are aborted and reported.
``SNAPMATCH_SCREENSHOTS_DIR`` (``make screenshots``) also writes the screenshots the tests take
to that folder, e.g. docs/screenshots/.
"""

import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Route,
    ViewportSize,
    expect,
    sync_playwright,
)

from tools.devstack.browser import is_local, launch_chromium

PHONE: ViewportSize = {"width": 390, "height": 844}
# Playwright's 5 s default is short for a first page load on a machine shared with other suites.
TIMEOUT_MS = 30_000
expect.set_options(timeout=TIMEOUT_MS)
SCREENSHOTS_DIR = os.environ.get("SNAPMATCH_SCREENSHOTS_DIR")
# What Chromium logs for an answered request with an error status; the tests say which they
# expect (a 415 for a text file), anything else fails.
_FAILED_RESPONSE = re.compile(
    r"^Failed to load resource: the server responded with a status of (\d+)"
)
# A long-poll that ran out of time before the result: an ordinary 404 "pending".
_ALWAYS_EXPECTED = ((404, "/result/"),)


@dataclass
class WatchedPage:
    """A page in a fresh browser context, and what it did that a test must not allow."""

    page: Page
    shots: Path
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    expected_failures: list[tuple[int, str]] = field(default_factory=lambda: [*_ALWAYS_EXPECTED])

    def expect_failed_response(self, status: int, url_part: str) -> None:
        """An error status the test provokes on purpose (the browser logs it as an error)."""
        self.expected_failures.append((status, url_part))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        failed = _FAILED_RESPONSE.match(message.text)
        url = message.location.get("url", "")
        if failed and any(
            int(failed.group(1)) == status and part in url
            for status, part in self.expected_failures
        ):
            return
        self.console_errors.append(f"{message.text} ({url})")

    def shoot(self, name: str, target: Locator | None = None) -> None:
        """A screenshot of the page (or of ``target``), kept with the test's files and, with
        SNAPMATCH_SCREENSHOTS_DIR set, written there as a small palette PNG."""
        path = self.shots / f"{name}.png"
        png = target.screenshot() if target is not None else self.page.screenshot()
        path.write_bytes(png)
        if SCREENSHOTS_DIR:
            image = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=96)
            image.save(Path(SCREENSHOTS_DIR) / f"{name}.png", optimize=True)


# Package scope, not session: while Playwright's sync API runs, its event loop counts as
# running in this thread, and the rest of the suite calls asyncio.run().
@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def watched(chromium: Browser, tmp_path: Path) -> Iterator[WatchedPage]:
    """A phone-sized page in a fresh context (no cache, no signed-in user)."""
    if SCREENSHOTS_DIR:
        Path(SCREENSHOTS_DIR).mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport=PHONE, device_scale_factor=1)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    watched = WatchedPage(page, tmp_path)

    def keep_local(route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            route.abort("blockedbyclient")

    def note_outside(request: Request) -> None:
        if not is_local(request.url):
            watched.outside_requests.append(request.url)

    context.route("**/*", keep_local)
    context.on("request", note_outside)
    page.on("console", watched.on_console)
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))
    try:
        yield watched
    finally:
        context.close()
    assert watched.outside_requests == [], "the page asked for something beyond this machine"
    assert watched.console_errors == [], "the page logged errors"
