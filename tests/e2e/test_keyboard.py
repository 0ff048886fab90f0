"""The page from the keyboard alone: sign up, pick a photo, search by text."""

from playwright.sync_api import FilePayload, expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.flows import open_page, wait_for_answer
from tools.devstack import Stack
from tools.devstack.emulator import DEFAULT_PASSWORD, unique_email


def test_signing_up_picking_a_photo_and_searching_need_no_mouse(
    catalog_stack: Stack, watched: WatchedPage, coffee_jpeg: bytes
) -> None:
    page = watched.page
    keys = page.keyboard
    open_page(page, catalog_stack.base_url)
    keys.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    keys.press("Tab")
    expect(page.get_by_test_id("email")).to_be_focused()
    keys.type(unique_email("keys"))
    keys.press("Tab")
    keys.type(DEFAULT_PASSWORD)
    keys.press("Tab")
    expect(page.get_by_test_id("sign-in")).to_be_focused()
    keys.press("Tab")
    expect(page.get_by_test_id("sign-up")).to_be_focused()
    keys.press("Enter")
    expect(page.get_by_test_id("sign-out")).to_be_visible()

    # Signed in, the focus is on the photo search: the mode, then the photo picker.
    keys.press("Tab")
    expect(page.get_by_test_id("mode-server")).to_be_focused()
    keys.press("Tab")
    expect(page.get_by_test_id("photo-input")).to_be_focused()
    photo: FilePayload = {"name": "espresso.jpg", "mimeType": "image/jpeg", "buffer": coffee_jpeg}
    with page.expect_file_chooser() as chooser:
        page.get_by_test_id("photo-input").press("Space")  # the focused picker, by keyboard
    chooser.value.set_files(files=[photo])
    wait_for_answer(page, "espresso.jpg")

    page.get_by_test_id("search-input").focus()
    keys.type("espresso cup")
    keys.press("Enter")
    expect(page.get_by_test_id("search-result").first).to_be_visible()
