"""The model in the browser: the same photos give the server's top-1 class and the same
products; the model is downloaded once and afterwards revalidated from the browser's copy."""

import re

from playwright.sync_api import Page, Response, expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.flows import ANSWER_TIMEOUT_MS, new_shopper, pick_photo
from tests.support.imagenet import CAT_CLASSES, COFFEE_CLASSES
from tools.devstack import Stack

_DOWNLOAD = re.compile(r"/models/[^/]+/download$")


def _answered(page: Page, mode: str, name: str) -> None:
    """Until the answer for ``name`` from ``mode`` ('the server' or 'this device') is shown."""
    answer = page.get_by_test_id("answer")
    expect(answer).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    expect(answer).to_contain_text(f"Answered by {mode}", timeout=ANSWER_TIMEOUT_MS)
    expect(page.get_by_test_id("answer-heading")).to_have_text(f"What the model sees in {name}")


def _top_class(page: Page) -> int:
    expect(page.get_by_test_id("prediction")).to_have_count(5)
    return int(page.get_by_test_id("prediction").first.get_attribute("data-class-id") or -1)


def _product_names(page: Page) -> list[str]:
    return [card.locator("h4").inner_text() for card in page.get_by_test_id("product").all()]


def _download_statuses(page: Page) -> list[int]:
    statuses: list[int] = []

    def note(response: Response) -> None:
        if _DOWNLOAD.search(response.url.split("?")[0]):
            statuses.append(response.status)

    page.on("response", note)
    return statuses


def test_on_device_mode_gives_the_servers_top_class_and_products_for_the_same_photos(
    catalog_stack: Stack, watched: WatchedPage, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    page = watched.page
    downloads = _download_statuses(page)
    new_shopper(page, catalog_stack.base_url)

    for name, photo, classes in (
        ("espresso.jpg", coffee_jpeg, COFFEE_CLASSES),
        ("cat.jpg", cat_jpeg, CAT_CLASSES),
    ):
        page.get_by_test_id("mode-server").check()
        pick_photo(page, name, photo)
        _answered(page, "the server", name)
        server_top, server_products = _top_class(page), _product_names(page)
        assert server_top in classes

        # Switching the mode asks again about the photo on the page.
        page.get_by_test_id("mode-device").check()
        _answered(page, "this device (WebAssembly), efficientnet-lite0", name)
        assert _top_class(page) == server_top
        assert _product_names(page) == server_products
        expect(page.get_by_test_id("answer")).to_contain_text("running the model")
        if name == "espresso.jpg":
            assert server_products, "the espresso is expected to bring products"
            watched.shoot("photo-espresso-on-device", page.get_by_test_id("photo-search"))

    # Downloaded once, for the first photo; the second ran on the model already loaded.
    assert downloads == [200]
    expect(page.get_by_test_id("answer")).to_contain_text("model already loaded")


def test_a_reloaded_page_revalidates_its_copy_of_the_model_and_runs_it(
    catalog_stack: Stack, watched: WatchedPage, coffee_jpeg: bytes
) -> None:
    page = watched.page
    downloads = _download_statuses(page)
    new_shopper(page, catalog_stack.base_url)
    # The switch from the keyboard: a radio group, the arrow keys move the choice.
    page.get_by_test_id("mode-server").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("radio", name="On this device")).to_be_focused()
    expect(page.get_by_test_id("mode-device")).to_be_checked()
    pick_photo(page, "espresso.jpg", coffee_jpeg)
    _answered(page, "this device", "espresso.jpg")
    expect(page.get_by_test_id("answer")).to_contain_text("model downloaded")
    first_top = _top_class(page)

    page.reload()  # the user stays signed in; the model is only in the browser's storage now
    expect(page.get_by_test_id("sign-out")).to_be_visible()
    page.get_by_test_id("mode-device").check()
    pick_photo(page, "espresso.jpg", coffee_jpeg)
    _answered(page, "this device", "espresso.jpg")
    expect(page.get_by_test_id("answer")).to_contain_text("model from this device's cache")
    assert _top_class(page) == first_top
    assert downloads == [200, 304]


def test_a_file_the_browser_cannot_read_is_explained_and_never_uploaded(
    catalog_stack: Stack, watched: WatchedPage
) -> None:
    page = watched.page
    sent_requests: list[str] = []
    page.on("request", lambda request: sent_requests.append(f"{request.method} {request.url}"))
    new_shopper(page, catalog_stack.base_url)
    page.get_by_test_id("mode-device").check()

    pick_photo(page, "notes.txt", b"shopping list: espresso cups\n", mime="text/plain")
    error = page.get_by_test_id("error")
    expect(error).to_contain_text("This browser cannot read this photo.", timeout=ANSWER_TIMEOUT_MS)
    expect(error).to_contain_text("switch to “On the server”")
    expect(page.get_by_test_id("prediction")).to_have_count(0)
    assert not [sent for sent in sent_requests if "/predict" in sent], "the photo left the device"
