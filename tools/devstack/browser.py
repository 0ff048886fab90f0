"""Debian's Chromium, headless, driven by Playwright: for the page's tests and its benchmark.

Playwright's own browsers are downloaded at install time, which this offline machine cannot
do; its Python wheel carries the driver, and the driver runs any recent Chromium. The flags
stop Chromium's own background traffic (updates, sync, field trials), which would otherwise
hammer a closed network and show up as requests leaving the machine.
"""

import shutil
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser, Playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def chromium_path() -> Path:
    found = CHROMIUM if CHROMIUM.is_file() else shutil.which("chromium")
    if found is None:
        raise FileNotFoundError("chromium is not installed: run scripts/ensure-tools.sh")
    return Path(found)


def launch_chromium(playwright: Playwright) -> Browser:
    return playwright.chromium.launch(executable_path=chromium_path(), args=list(CHROMIUM_ARGS))


def is_local(url: str) -> bool:
    """Whether a request for ``url`` stays on this machine (page-internal schemes included)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
        return True
    return parts.hostname in LOCAL_HOSTS
