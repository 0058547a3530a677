"""Browser: captions on the Training Data page: edit one, bulk-apply drafts to a pick (the
preview shows each change, a person's caption left alone), undo, sync to S3."""

from __future__ import annotations

import pytest

from tests.browser.conftest import choose_actor, open_tab, shot, wait_listed

pytestmark = pytest.mark.browser


def test_edit_bulk_drafts_undo_and_sync(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("local_only", 1)  # (no other browser test uses it)
    wb = running_app.workbench()
    trigger = wb.registry.get(name).trigger_word
    choose_actor(page, name)
    open_tab(page, "Training Data")
    wait_listed(page)
    page.wait_for_selector(f".ab-captions-title:has-text('{trigger}')")
    tiles = page.locator(".ab-grid .ab-tile")
    tiles.nth(1).get_by_role("button", name="Preview").click()
    editor = page.locator(".ab-caption-text input")
    page.wait_for_function("() => { const i = document.querySelector('.ab-caption-text input');"
                           " return i && !i.disabled; }")
    editor.fill(f"{trigger}, smiling, by the window")
    page.get_by_role("button", name="Save caption").click()
    page.wait_for_selector(".ab-caption-message:has-text('Saved the caption of #1')")
    page.wait_for_selector(".ab-captions-title:has-text('1 by a person')")
    for i in range(3):
        tiles.nth(i).locator("input[type=checkbox]").click()
        page.wait_for_selector(f".ab-decision:has-text('the {i + 1} picked image')")
    page.get_by_role("button", name="Preview changes").click()
    changes = page.locator(".ab-caption-changes")
    page.wait_for_selector(".ab-caption-changes:has-text('2 captions change, 1 left alone')")
    assert changes.locator("tr.ab-caption-change").count() == 2
    kept = changes.locator("tr.ab-caption-kept")
    assert kept.count() == 1 and "written by a person" in kept.inner_text()
    assert f"{trigger}, photo" in changes.inner_text()
    shot(page, "captions-bulk-preview")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_selector(".ab-caption-message:has-text('Undo takes it back')")
    folder = wb.layout.training_dir(name)
    assert (folder / f"{name}_0.txt").read_text() == f"{trigger}, photo"
    assert (folder / f"{name}_1.txt").read_text() == f"{trigger}, smiling, by the window"
    page.get_by_role("button", name="Undo last bulk edit").click()
    page.wait_for_selector(".ab-caption-message:has-text('2 restored')")
    assert not (folder / f"{name}_0.txt").exists()
    page.get_by_role("button", name="Select none").click()
    page.wait_for_selector(".ab-decision:has-text('(1 caption)')")
    page.get_by_role("button", name="Sync to S3").click()
    page.wait_for_selector(".ab-status-line:has-text('uploaded')", timeout=60000)
    body, _ = wb.store.open_get(wb.layout.caption_key(name, 1))
    try:
        assert body.read().decode() == f"{trigger}, smiling, by the window"
    finally:
        body.close()
    page.wait_for_selector(".ab-captions-title:has-text('1 Local')")
    shot(page, "captions-synced")
