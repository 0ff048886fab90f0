"""A shopper signs up, searches the shop with two real photos, signs out and back in."""

import re

from playwright.sync_api import expect

from contracts.labels import load_label_set
from tests.e2e.conftest import WatchedPage
from tests.e2e.flows import new_shopper, open_page, pick_photo, sign_in, sign_up, wait_for_answer
from tests.support.imagenet import CAT_CLASSES, COFFEE_CLASSES
from tools.devstack import Stack
from tools.devstack.emulator import unique_email
from tools.imagenet_labels import IMAGENET_1K


def _shown_predictions(watched: WatchedPage) -> list[tuple[int, str]]:
    rows = watched.page.get_by_test_id("prediction")
    return [
        (int(row.get_attribute("data-class-id") or -1), row.locator(".label").inner_text())
        for row in rows.all()
    ]


def test_an_espresso_brings_cups_a_cat_brings_none_and_signing_out_clears_the_page(
    catalog_stack: Stack, watched: WatchedPage, coffee_jpeg: bytes, cat_jpeg: bytes
) -> None:
    page = watched.page
    open_page(page, catalog_stack.base_url)
    expect(page).to_have_url(re.compile(r"/app/$"))
    watched.shoot("sign-in")
    email = unique_email("web")
    sign_up(page, email)
    expect(page.get_by_test_id("mode-server")).to_be_checked()

    pick_photo(page, "espresso.jpg", coffee_jpeg)
    wait_for_answer(page, "espresso.jpg")
    predictions = _shown_predictions(watched)
    assert len(predictions) == 5
    assert predictions[0][0] in COFFEE_CLASSES
    assert all(
        label == load_label_set(IMAGENET_1K).label(class_id) for class_id, label in predictions
    )
    expect(page.get_by_test_id("answer")).to_contain_text(
        "Answered by the server, efficientnet-lite0"
    )
    products = page.get_by_test_id("product")
    expect(products).to_have_count(5)
    for card in products.all():
        expect(card).to_contain_text("Mugs & cups")
        expect(card).to_contain_text(re.compile(r"€\d+\.\d\d · (In|Out of) stock"))
    watched.shoot("photo-espresso", page.get_by_test_id("photo-search"))

    pick_photo(page, "cat.jpg", cat_jpeg)
    wait_for_answer(page, "cat.jpg")
    predictions = _shown_predictions(watched)
    assert predictions[0][0] in CAT_CLASSES
    assert all(
        label == load_label_set(IMAGENET_1K).label(class_id) for class_id, label in predictions
    )
    expect(page.get_by_test_id("product")).to_have_count(0)
    expect(page.get_by_text("The shop sells nothing that looks like this.")).to_be_visible()
    watched.shoot("photo-cat", page.get_by_test_id("photo-search"))

    page.get_by_test_id("sign-out").click()
    expect(page.get_by_test_id("sign-in")).to_be_visible()
    expect(page.get_by_test_id("prediction")).to_have_count(0)
    expect(page.get_by_test_id("sign-out")).to_be_hidden()

    sign_in(page, email)
    expect(page.get_by_test_id("sign-out")).to_be_visible()
    expect(page.get_by_test_id("account")).to_contain_text(email)


def test_a_wrong_password_is_explained_and_keeps_the_form(
    catalog_stack: Stack, watched: WatchedPage
) -> None:
    page = watched.page
    # The Auth Emulator refuses the password with a 400, which the browser logs.
    watched.expect_failed_response(400, "accounts:signInWithPassword")
    email = new_shopper(page, catalog_stack.base_url)
    page.get_by_test_id("sign-out").click()

    sign_in(page, email, password="not-the-password")
    expect(page.get_by_test_id("error")).to_contain_text("Wrong email or password.")
    expect(page.get_by_test_id("sign-in")).to_be_visible()
