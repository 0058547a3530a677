"""Browser: the Library's gallery narrows by search and facets, shows thumbnails and the chosen
actor, opens pages from its cards, and follows links (``?actor=0002``)."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import card, choose_actor, shot

pytestmark = pytest.mark.browser

#: status codes the Library must say in words
CODES = ("not_synced", "no_data", "s3_only", "local_only", "local_modified", "remote_modified",
         "deleted_local", "deleted_remote")


def count(page) -> int:  # type: ignore[no-untyped-def]
    text = page.locator(".ab-result-count").inner_text()
    return int(re.search(r"\d+", text).group())  # type: ignore[union-attr]


def names_shown(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.eval_on_selector_all(".ab-gallery .ab-gcard", "cs => cs.map(c => c.dataset.actor)")


def wait_count_not(page, n: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_function("n => !document.querySelector('.ab-result-count').innerText"
                           ".startsWith(String(n) + ' ')", arg=n)


def assert_in_words(page) -> None:  # type: ignore[no-untyped-def]
    text = page.locator(".ab-library").inner_text()
    assert not [c for c in CODES if c in text], text
    assert not re.search(r"\b\d+\.0\b", text), text


def test_search_filters_cards_and_the_chosen_actor(page, running_app):  # type: ignore[no-untyped-def]
    page.wait_for_selector(".ab-result-count:has-text('287')")
    assert count(page) == 287 and len(names_shown(page)) == 24  # a page of cards, not 287
    assert_in_words(page)
    page.get_by_placeholder("Search by name or id").fill("_female")
    wait_count_not(page, 287)
    females = count(page)
    assert 0 < females < 287 and all("_female" in n for n in names_shown(page))
    page.get_by_role("button", name="Clear filters").click()
    page.wait_for_selector(".ab-result-count:has-text('287')")
    page.get_by_label("Ethnicity").select_option(label="African")
    wait_count_not(page, 287)
    # the count and the cards are two widgets: the count may land first
    page.wait_for_function("() => [...document.querySelectorAll('.ab-gallery .ab-gcard')]"
                           ".every(c => c.dataset.actor.includes('_african_'))")
    shown = names_shown(page)
    assert shown and all("_african_" in n for n in shown) and count(page) >= len(shown)
    page.get_by_label("Ethnicity").select_option(label="Any")

    name = running_app.actor("local_modified")
    choose_actor(page, name)
    chosen = page.locator(".ab-actor-card")
    assert chosen.locator("img.ab-base-image").count() == 1
    assert chosen.locator(".ab-status-local_modified").inner_text().endswith(": 2")
    assert chosen.locator(".ab-status-synced").count() == 1
    card(page, name).locator("img.ab-gthumb").wait_for()  # its base image, once decoded
    assert_in_words(page)
    shot(page, "library-card")

    # filters change the cards; the actor chosen stays chosen
    other = "male" if name.endswith("_female") else "female"
    page.get_by_role("button", name="Clear filters").click()  # (the search that chose it)
    page.wait_for_selector(".ab-result-count:has-text('287')")
    page.get_by_label("Gender").select_option(label=other.capitalize())
    wait_count_not(page, 287)
    assert name not in names_shown(page)
    assert all(n.endswith("_" + other) for n in names_shown(page))
    assert name in page.locator(".ab-actor-name").inner_text()  # still the chosen actor
    page.get_by_label("Status").select_option(label="Not synced yet")
    assert_in_words(page)
    page.get_by_role("button", name="Clear filters").click()
    page.get_by_placeholder("Search by name or id").fill(name)
    page.wait_for_selector(f".ab-gcard-selected[data-actor='{name}']")  # shown as chosen
    shot(page, "library-choice-survives-filters")

    # an actor without images: what to do next, and what cannot work is off
    imaged = set(running_app.world.names)
    bare = next(a.name for a in running_app.workbench().registry if a.name not in imaged)
    choose_actor(page, bare)
    empty = page.locator(".ab-actor-card .ab-empty-state").inner_text()
    assert empty.startswith("No images yet: generate some") and bare in empty  # its folder
    # (the card and the buttons are separate widget messages: wait for the buttons' own)
    expect(page.get_by_role("button", name="Sync", exact=True)).to_be_disabled()
    expect(page.get_by_role("button", name="Train", exact=True).first).to_be_disabled()
    assert_in_words(page)
    shot(page, "library-empty-state")


def test_gallery_thumbnails_a_cards_button_and_glyphs(page, running_app):  # type: ignore[no-untyped-def]
    page.wait_for_selector(".ab-result-count:has-text('287')")
    page.get_by_label("Status").select_option(label="Synced")
    wait_count_not(page, 287)
    # the count and the cards are two widgets: wait for the filtered cards themselves
    page.wait_for_function("() => [...document.querySelectorAll('.ab-gallery .ab-gcard')]"
                           ".every(c => c.innerText.includes('Synced'))")
    page.wait_for_function("() => { const i = [...document.querySelectorAll('.ab-gallery img')];"
                           " return i.length && i.every(x => x.complete && x.naturalWidth > 0)"
                           " && !document.querySelector('.ab-gthumb-pending')}")
    name = names_shown(page)[0]
    assert "Synced" in card(page, name).inner_text()
    assert_in_words(page)
    shot(page, "library-gallery")
    card(page, name).get_by_role("button", name="Training data").click()
    page.wait_for_selector(".ab-tabs .lm-TabBar-tab.lm-mod-current:has-text('Training Data')")
    page.wait_for_selector(f".ab-td-header:has-text('{name}')")
    label = page.locator(".ab-actor-header").inner_text()
    assert label.startswith(name[:4] + " · ") and "·" in label  # "0022 · East Asian · 28 · male"
    page.wait_for_selector(".ab-grid .ab-tile img")
    shot(page, "library-card-opens-training-data")  # (looked at: emoji in colour, no boxes)

    # labels use glyphs every Debian font set has; emoji (other pages) need
    # fonts-noto-color-emoji, which `make chromium` installs: drawn in colour, not as boxes
    colourful = page.evaluate("""() => {
        const c = document.createElement('canvas'); c.width = c.height = 40;
        const g = c.getContext('2d'); g.font = '32px sans-serif'; g.fillText('🚀', 2, 34);
        const d = g.getImageData(0, 0, 40, 40).data; let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i + 3] > 0 && Math.max(d[i], d[i + 1], d[i + 2])
                                - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
        return n; }""")
    assert colourful > 20, "emoji are drawn without colour: is fonts-noto-color-emoji installed?"


def test_a_link_opens_the_actor(browser, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("synced")
    number = name.split("_")[0]
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:  # (kernels of closed pages linger until culled, 8 at most: few page loads here)
        pg = ctx.new_page()
        pg.route("**/cdn.jsdelivr.net/**", lambda r: r.abort())
        pg.goto(f"{running_app.url}&actor={number.lstrip('0')}")  # an id, as ?actor=22
        pg.wait_for_selector(f".ab-actor-name:has-text('{name}')", timeout=60000)
        assert pg.locator(".ab-actor-header").inner_text().startswith(f"{number} · ")
        shot(pg, "library-link-actor")
        pg.goto(f"{running_app.url}&actor={name}&page=training-data")  # a name, and a page
        pg.wait_for_selector(f".ab-td-header:has-text('{name}')", timeout=60000)
        pg.wait_for_selector(".ab-tabs .lm-TabBar-tab.lm-mod-current:has-text('Training Data')")
    finally:
        ctx.close()
    saved = running_app.settings.data_dir / ".cache" / "ui-state.json"
    assert json.loads(saved.read_text())["actor"] == name  # the next visit opens it again


def test_a_preheated_page_shows_actors_json_as_it_is_at_the_visit(browser, running_app):  # type: ignore[no-untyped-def]
    """Voila runs the notebook in a pooled kernel before anyone visits; an actor added to
    actors.json after that (by the CLI, another machine's sync) must be on the opened page."""
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
        pg.wait_for_selector(".ab-gcard[data-actor='9999_visitor_33_female']")
    finally:
        ctx.close()
        path.write_bytes(before)
