"""Text search with a category filter, and its second page."""

import re

from playwright.sync_api import expect

from tests.e2e.conftest import WatchedPage
from tests.e2e.flows import new_shopper
from tools.devstack import Stack

# Seven guitars in the seed catalog match "guitar": six on the first page, one on the second.
QUERY, CATEGORY, CATEGORY_NAME = "guitar", "guitars", "Guitars"
PAGE_SIZE = 6


def test_a_search_filtered_by_category_pages_through_its_hits(
    catalog_stack: Stack, watched: WatchedPage
) -> None:
    page = watched.page
    new_shopper(page, catalog_stack.base_url)
    category = page.get_by_label("Category")
    expect(category.locator(f'option[value="{CATEGORY}"]')).to_have_count(1)
    category.select_option(CATEGORY)
    page.get_by_test_id("search-input").fill(QUERY)
    page.get_by_test_id("search-submit").click()

    hits = page.get_by_test_id("search-result")
    expect(hits).to_have_count(PAGE_SIZE)
    for hit in hits.all():
        expect(hit).to_contain_text(CATEGORY_NAME)
    summary = page.get_by_test_id("search-summary")
    expect(summary).to_have_text(
        re.compile(rf"^Results 1\D{PAGE_SIZE} for .{QUERY}. in {CATEGORY_NAME}")
    )
    first_page = set(hits.locator("h4").all_inner_texts())
    expect(page.get_by_test_id("search-previous")).to_be_disabled()
    watched.shoot("text-search", page.get_by_test_id("text-search"))

    page.get_by_test_id("search-next").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(summary).to_have_text(re.compile(rf"^Results {PAGE_SIZE + 1}\D"))
    second_page = set(hits.locator("h4").all_inner_texts())
    assert second_page and not second_page & first_page
    for hit in hits.all():
        expect(hit).to_contain_text(CATEGORY_NAME)
    expect(page.get_by_test_id("search-next")).to_be_disabled()

    page.get_by_test_id("search-previous").click()
    expect(page.get_by_text("Page 1")).to_be_visible()
    expect(hits).to_have_count(PAGE_SIZE)
