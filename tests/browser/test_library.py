"""Browser: the Library page narrows by search and facets and shows the actor card."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import choose_actor, shot

pytestmark = pytest.mark.browser


def count(page) -> int:  # type: ignore[no-untyped-def]
    text = page.locator(".ab-result-count").inner_text()
    return int(re.search(r"\d+", text).group())  # type: ignore[union-attr]


def test_search_filter_and_card(page, running_app):  # type: ignore[no-untyped-def]
    page.wait_for_selector(".ab-result-count:has-text('287')")
    assert count(page) == 287
    page.get_by_placeholder("Search by name or id").fill("_female")
    page.wait_for_function("() => !document.querySelector('.ab-result-count')"
                           ".innerText.includes('287')")
    females = count(page)
    assert 0 < females < 287
    page.get_by_placeholder("Search by name or id").fill("")
    page.wait_for_selector(".ab-result-count:has-text('287')")
    page.get_by_label("Ethnicity").select_option("african")
    page.wait_for_function("() => !document.querySelector('.ab-result-count')"
                           ".innerText.includes('287')")
    options = page.locator(".ab-actor-picker option").all_inner_texts()
    assert options and all("_african_" in o for o in options)
    assert count(page) == len(options)
    page.get_by_label("Ethnicity").select_option("Any")

    name = running_app.actor("local_modified")
    choose_actor(page, name)
    card = page.locator(".ab-actor-card")
    assert card.locator("img.ab-base-image").count() == 1
    assert card.locator(".ab-status-local_modified").inner_text().endswith(": 2")
    assert card.locator(".ab-status-synced").count() == 1
    shot(page, "library-card")
