"""Browser: a demo actor made from real photographs, with an intruder planted: its tile says
"Other person?", the picture without a face "No face", and the Training page's validation
names the intruder as a blocker until the user confirms it. Screenshots are kept."""

from __future__ import annotations

import pytest

from tests.browser.conftest import choose_actor, open_tab, shot, wait_listed

pytestmark = pytest.mark.browser


def test_intruder_is_badged_and_blocks_training(page, running_app):  # type: ignore[no-untyped-def]
    world = running_app.world
    name = next(n for n, s in world.scenarios.items() if s == "photos")
    planted = {what: i for i, what in world.planted[name].items()}
    choose_actor(page, name)
    open_tab(page, "Training Data")
    wait_listed(page)
    intruder = page.locator(f".ab-grid .ab-tile[data-index='{planted['intruder']}']")
    intruder.locator(".ab-face-other").wait_for(timeout=180000)
    assert "Other person?" in intruder.inner_text()
    no_face = page.locator(f".ab-grid .ab-tile[data-index='{planted['no face']}']")
    assert "No face" in no_face.locator(".ab-face-no-face").inner_text()
    small = page.locator(f".ab-grid .ab-tile[data-index='{planted['small face']}']")
    assert "Face small for 1024 px" in small.locator(".ab-face-small").inner_text()
    assert page.locator(".ab-grid .ab-face-same").count() == world.image_counts[name] - len(
        planted)
    shot(page, "faces-grid-intruder")
    open_tab(page, "Training")
    page.wait_for_selector(".ab-validation:has-text('another person')", timeout=180000)
    text = page.locator(".ab-validation").inner_text()
    assert "Not ready to train" in text and f"{name}_{planted['intruder']}.png" in text
    assert f"{name}_{planted['no face']}.png" in text
    start = page.get_by_role("button", name="Start training")
    assert start.is_disabled()
    shot(page, "faces-validation-blocker")
    # launching needs the user's word: confirming the doubted images lifts the blockers
    page.get_by_role("button", name="They are the actor: confirm").click()
    page.wait_for_function("() => !document.querySelector('.ab-validation').innerText"
                           ".includes('another person')", timeout=180000)
    assert "Not ready to train" not in page.locator(".ab-validation").inner_text()
    assert start.is_enabled()
