"""Browser: the seed's Training Data workflows in the Voila app, with screenshots."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import choose_actor, open_tab, shot, wait_listed

pytestmark = pytest.mark.browser


def badge_count(page, status: str) -> int:  # type: ignore[no-untyped-def]
    return page.locator(f".ab-grid .ab-status-{status}").count()


def wait_status_line(page, text: str) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector(f".ab-status-line:has-text('{text}')", timeout=60000)


def test_view_training_data_badges(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("remote_modified")
    choose_actor(page, name)
    open_tab(page, "Training Data")
    wait_listed(page)
    n = running_app.world.image_counts[name]
    assert page.locator(".ab-grid .ab-tile").count() == n
    assert badge_count(page, "remote_modified") == 2
    assert badge_count(page, "synced") == n - 2
    assert "Modified in S3: 2" in page.locator(".ab-td-header").inner_text()
    shot(page, "training-data-badges")


def test_tick_boxes_pick_images_and_keep_the_focus(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("remote_modified")
    choose_actor(page, name)
    open_tab(page, "Training Data")
    wait_listed(page)
    box = page.locator(".ab-grid .ab-tile input[type=checkbox]").nth(1)
    index = box.get_attribute("data-ab-target")
    box.click()  # the tile is drawn again, ticked, and the decision is about the pick
    page.wait_for_selector(".ab-decision:has-text('the 1 picked image')")
    assert page.locator(".ab-range-box input").input_value() == index
    ticked = page.locator(f".ab-grid input[data-ab-target='{index}']")
    assert ticked.is_checked()
    page.keyboard.press("Space")  # a keyboard user unticks it: the box kept the focus
    page.wait_for_selector(".ab-decision:has-text('all ')")
    assert not ticked.is_checked() and page.locator(".ab-range-box input").input_value() == ""
    assert page.evaluate("() => document.activeElement.getAttribute('data-ab-target')") == index
    page.keyboard.press("Space")
    page.wait_for_selector(".ab-decision:has-text('the 1 picked image')")
    page.get_by_role("button", name="Select none").click()
    page.wait_for_selector(".ab-decision:has-text('all ')")
    assert page.locator(".ab-grid input[type=checkbox]:checked").count() == 0


def test_sync_from_s3(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("s3_only")
    n = running_app.world.image_counts[name]
    choose_actor(page, name)
    open_tab(page, "Training Data")
    page.wait_for_selector(".ab-grid .ab-status-s3_only")
    assert badge_count(page, "s3_only") == n
    page.get_by_role("button", name="Sync from S3").click()
    wait_status_line(page, f"{n} downloaded")
    bar = page.locator(".ab-files-bar .progress-bar")
    assert "100%" in (bar.get_attribute("style") or "")
    page.wait_for_function(f"() => document.querySelectorAll('.ab-grid .ab-status-synced')"
                           f".length === {n}")
    assert badge_count(page, "s3_only") == 0
    wb = running_app.workbench()
    for i in range(n):
        local = wb.layout.image_path(name, i).read_bytes()
        body, _ = wb.store.open_get(wb.layout.image_key(name, i))
        assert local == body.read()
    shot(page, "sync-from-s3")


def test_sync_to_s3(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("local_only")
    n = running_app.world.image_counts[name]
    choose_actor(page, name)
    open_tab(page, "Training Data")
    # (each tile is its own widget, drawn as its message arrives: wait for the last)
    page.wait_for_function("() => document.querySelectorAll('.ab-grid .ab-status-local_only')"
                           ".length >= 3")
    assert badge_count(page, "local_only") == 3
    page.get_by_role("button", name="Sync to S3").click()
    wait_status_line(page, "3 uploaded")
    page.wait_for_function("() => document.querySelectorAll('.ab-grid .ab-status-local_only')"
                           ".length === 0")
    assert badge_count(page, "synced") == n + 3
    wb = running_app.workbench()
    resp = json.loads(wb.layout.response_json(name).read_text())
    assert [u.rsplit("_", 1)[1] for u in resp["s3_urls"]] == [f"{i}.png" for i in range(n + 3)]
    shot(page, "sync-to-s3")


def test_preview_and_compare(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("partial")
    choose_actor(page, name)
    open_tab(page, "Training Data")
    page.wait_for_selector(".ab-grid .ab-status-s3_only")
    tile = page.locator(".ab-tile", has=page.locator(".ab-status-s3_only")).first
    tile.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".ab-preview:has-text('fetched from S3')")
    imgs = page.locator(".ab-preview img")
    assert imgs.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('.ab-preview img')]"
                           ".every(i => i.naturalWidth > 0)")
    shot(page, "preview-compare")


def test_batch_sync_three_actors(page, running_app):  # type: ignore[no-untyped-def]
    names = [running_app.actor("s3_only", 1), running_app.actor("partial", 1),
             running_app.actor("remote_modified", 1)]
    open_tab(page, "Batch sync")
    sel = page.locator(".ab-batch-actors select")
    sel.select_option(names)
    page.get_by_role("button", name="Sync selected from S3").click()
    page.wait_for_selector(".ab-batch-summary table", timeout=60000)
    rows = page.locator(".ab-batch-summary tbody tr")
    assert rows.count() == 3
    text = page.locator(".ab-batch-summary").inner_text()
    assert all(n in text for n in names)
    wb = running_app.workbench()
    plans = wb.engine.plan(names)
    for n in names:
        assert plans[n].counts()["s3_only"] == 0 and plans[n].counts()["remote_modified"] == 0
    shot(page, "batch-sync")


def test_clear_cache(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("local_modified", 1)
    wb = running_app.workbench()
    before = wb.engine.plan([name])[name].counts()
    choose_actor(page, name)
    open_tab(page, "Cache")
    page.locator(".ab-cache-table").wait_for()
    page.get_by_role("button", name="Clear local cache").click()
    page.wait_for_selector(f".ab-cache-message:has-text('Delete {before['synced']}')")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_selector(".ab-cache-message:has-text('Deleted')")
    after = wb.engine.plan([name])[name].counts()
    assert after["synced"] == 0 and after["s3_only"] == before["synced"]
    assert after["local_modified"] == 2  # never the only copy
    shot(page, "clear-cache")


def test_generate_images(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("synced", 0)
    n = running_app.world.image_counts[name]
    choose_actor(page, name)
    open_tab(page, "Training Data")
    page.wait_for_selector(".ab-grid .ab-tile")
    page.locator(".ab-generate input[type=number]").first.fill("3")
    page.locator(".ab-generate input[type=number]").first.press("Enter")
    page.get_by_role("button", name="Generate Images").click()
    page.wait_for_selector(".ab-generate-message:has-text('Generated 3 images')", timeout=60000)
    page.wait_for_function("() => document.querySelectorAll('.ab-grid .ab-status-local_only')"
                           ".length === 3")
    assert page.locator(".ab-grid .ab-tile").count() == n + 3
    shot(page, "generate-images")


def test_thumbnails_are_as_sharp_as_the_screen(browser, page, running_app):  # type: ignore[no-untyped-def]
    """The page says its pixel ratio; the pictures carry as many pixels as the screen shows,
    no more: tiles (140 CSS px) 140 at 1x, 280 at 2x; cards 160 / 320; base image 220 / 440."""
    name = running_app.actor("remote_modified")

    def sides(pg) -> set[int]:  # type: ignore[no-untyped-def]
        choose_actor(pg, name)
        open_tab(pg, "Training Data")
        wait_listed(pg)
        pg.wait_for_function("() => [...document.querySelectorAll('.ab-grid .ab-tile img')]"
                             ".every(x => x.complete && x.naturalWidth > 0)")
        return set(pg.eval_on_selector_all(".ab-grid .ab-tile img",
                                           "i => i.map(x => x.naturalWidth)"))

    assert page.evaluate("() => window.devicePixelRatio") == 1
    assert sides(page) == {140}
    assert set(page.eval_on_selector_all(".ab-gallery img.ab-gthumb",
                                         "i => i.map(x => x.naturalWidth)")) == {160}
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=2)
    try:
        hi = ctx.new_page()
        hi.route("**/cdn.jsdelivr.net/**", lambda r: r.abort())
        hi.goto(running_app.url)
        hi.wait_for_selector(".ab-app", timeout=60000)
        # the cards come at 1x with the page, then again at 2x once the page has said
        hi.wait_for_function("() => { const i = [...document.querySelectorAll("
                             "'.ab-gallery img.ab-gthumb')]; return i.length > 0 && "
                             "i.every(x => x.complete && x.naturalWidth === 320) }")
        assert sides(hi) == {280}
        assert hi.eval_on_selector(".ab-actor-card img.ab-base-image", "i => i.naturalWidth") \
            == 440
        shot(hi, "training-data-2x-screen")
    finally:
        ctx.close()


def test_a_zoom_or_another_screen_redraws_the_thumbnails(page, running_app):  # type: ignore[no-untyped-def]
    """The ratio changes under an open page (here through the DevTools protocol, as a move to
    a 2x screen does): the page script says so, the grid is drawn again at 2x."""
    name = running_app.actor("remote_modified")
    choose_actor(page, name)
    open_tab(page, "Training Data")
    wait_listed(page)
    widths = "i => i.map(x => x.naturalWidth)"
    page.wait_for_function("() => [...document.querySelectorAll('.ab-grid .ab-tile img')]"
                           ".every(x => x.complete && x.naturalWidth === 140)")
    cdp = page.context.new_cdp_session(page)
    # (chromium evaluates the media queries again only when the viewport changes too)
    cdp.send("Emulation.setDeviceMetricsOverride", {"width": 1380, "height": 1000,
                                                    "deviceScaleFactor": 2, "mobile": False})
    assert page.evaluate("() => window.devicePixelRatio") == 2
    page.wait_for_function("() => { const i = [...document.querySelectorAll("
                           "'.ab-grid .ab-tile img')]; return i.length > 0 && "
                           "i.every(x => x.complete && x.naturalWidth === 280) }")
    assert set(page.eval_on_selector_all(".ab-grid .ab-tile img", widths)) == {280}
    assert page.locator(".ab-grid .ab-status-checking").count() == 0  # no listing again
