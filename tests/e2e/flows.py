"""What a shopper does on the page, step by step, for the tests to compose."""

from playwright.sync_api import FilePayload, Page, expect

from tools.devstack.emulator import DEFAULT_PASSWORD, unique_email

# Room for a busy machine: a photo's answer waits for the shared worker.
ANSWER_TIMEOUT_MS = 60_000


def open_page(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/")
    expect(page.get_by_test_id("email")).to_be_visible()


def sign_up(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-up").click()
    expect(page.get_by_test_id("sign-out")).to_be_visible()


def new_shopper(page: Page, base_url: str) -> str:
    """Open the page and sign up a fresh user; returns the user's email."""
    open_page(page, base_url)
    email = unique_email("web")
    sign_up(page, email)
    return email


def sign_in(page: Page, email: str, password: str = DEFAULT_PASSWORD) -> None:
    page.get_by_test_id("email").fill(email)
    page.get_by_test_id("password").fill(password)
    page.get_by_test_id("sign-in").click()


def pick_photo(page: Page, name: str, data: bytes, mime: str = "image/jpeg") -> None:
    photo: FilePayload = {"name": name, "mimeType": mime, "buffer": data}
    page.get_by_test_id("photo-input").set_input_files(files=[photo])


def wait_for_answer(page: Page, name: str) -> None:
    """Until the answer for the photo called ``name`` is on the page."""
    expect(page.get_by_test_id("answer-heading")).to_have_text(
        f"What the model sees in {name}", timeout=ANSWER_TIMEOUT_MS
    )
