"""What the page says when a file is refused, and when the server is busy."""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.flows import new_shopper, pick_photo
from tests.support.stacks import custom_stack
from tools.devstack import Stack


def test_a_text_file_is_refused_with_what_to_pick_instead(
    catalog_stack: Stack, watched: WatchedPage
) -> None:
    page = watched.page
    watched.expect_failed_response(415, "/predict")
    new_shopper(page, catalog_stack.base_url)

    pick_photo(page, "notes.txt", b"shopping list: espresso cups\n", mime="text/plain")
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("This file is not a photo snapmatch can read.")
    expect(error).to_contain_text("Pick a JPEG, PNG, WebP or HEIC photo.")
    expect(page.get_by_test_id("prediction")).to_have_count(0)
    watched.shoot("unsupported-file")


def test_a_photo_the_worker_cannot_decode_ends_with_its_reason(
    catalog_stack: Stack, watched: WatchedPage, coffee_jpeg: bytes
) -> None:
    """Its header passes the gateway; the worker finds the rest missing: a `failed` result."""
    page = watched.page
    new_shopper(page, catalog_stack.base_url)
    pick_photo(page, "half.jpg", coffee_jpeg[: len(coffee_jpeg) // 2])
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("The photo could not be decoded", timeout=60_000)
    expect(page.get_by_test_id("prediction")).to_have_count(0)


def test_a_busy_server_is_waited_out_as_its_retry_after_says(
    watched: WatchedPage, tmp_path: Path, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    """One upload per 4 s: the second photo, right after the first, gets a 429 with
    Retry-After; the page counts down, then sends it again, and it is accepted."""
    page = watched.page
    watched.expect_failed_response(429, "/predict")
    # No worker: accepted photos stay queued, which is all this test needs; short long-polls,
    # so that none is still held when the gateway stops.
    with custom_stack(
        tmp_path,
        SNAPMATCH_UPLOAD_RATE_LIMIT="1",
        SNAPMATCH_RATE_LIMIT_WINDOW_SECONDS="4",
        SNAPMATCH_RESULT_WAIT_MAX_SECONDS="2",
    ) as stack:
        new_shopper(page, stack.base_url)
        pick_photo(page, "first.jpg", coffee_jpeg)
        expect(page.get_by_text("Looking at your photo…")).to_be_visible()

        pick_photo(page, "second.jpg", cat_jpeg)
        error = page.get_by_test_id("error")
        expect(error).to_contain_text(re.compile(r"snapmatch is busy; retrying in [1-4] s…"))
        watched.shoot("busy")
        expect(error).to_be_hidden(timeout=30_000)
        expect(page.get_by_text("Looking at your photo…")).to_be_visible()
        page.goto("about:blank")  # stop polling before the gateway goes

        assert stack.gateway is not None
        statuses = [
            line["status"] for line in stack.gateway.events("request") if line["path"] == "/predict"
        ]
    assert statuses[0] == 202 and statuses[-1] == 202
    assert 429 in statuses
