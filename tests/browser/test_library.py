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


def test_a_preheated_page_shows_actors_json_as_it_is_at_the_visit(browser, running_app):  # type: ignore[no-untyped-def]
    """Voila runs the notebook in a pooled kernel before anyone visits; an actor added to
    actors.json after that (by the CLI, another machine's sync) must be on the opened page."""
    import json
    import time

    from actorbench.fsutil import atomic_write_json

    path = running_app.settings.registry_path
    before = path.read_bytes()
    time.sleep(8)  # the pool has refilled: the next visitor gets a kernel that already ran
    raw = json.loads(before)
    raw.append({"id": 9999, "name": "9999_visitor_33_female"})
    atomic_write_json(path, raw)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        pg = ctx.new_page()
        pg.route("**/cdn.jsdelivr.net/**", lambda r: r.abort())
        pg.goto(running_app.url)
        pg.wait_for_selector(".ab-result-count:has-text('288')", timeout=60000)
        pg.get_by_placeholder("Search by name or id").fill("visitor")
        pg.wait_for_function("() => [...document.querySelectorAll('.ab-actor-picker option')]"
                             ".some(o => o.textContent === '9999_visitor_33_female')")
    finally:
        ctx.close()
        path.write_bytes(before)
