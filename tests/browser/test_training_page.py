"""Browser: train a demo actor end to end on the fake RunPod endpoint and mark it good."""

from __future__ import annotations

import pytest

from tests.browser.conftest import choose_actor, open_tab, shot

pytestmark = pytest.mark.browser


def test_train_and_mark_good(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("synced", 1)
    choose_actor(page, name)
    open_tab(page, "Training")
    page.get_by_role("button", name="Auto-adjust").click()
    page.wait_for_selector(".ab-formula:has-text('repeats = max(1, ceil(200')")
    assert "Estimate" in page.locator(".ab-estimate").inner_text()
    # the demo's 384 px images are below SDXL's 1024: a warning in amber, never "Dataset OK"
    validation = page.locator(".ab-validation")
    assert validation.locator(".ab-warn").count() == 1 and "Dataset OK" not in \
        validation.inner_text()
    assert "below the training resolution" in validation.inner_text()
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector(".ab-versions .ab-job-completed", timeout=60000)
    shot(page, "training-completed")
    page.get_by_role("button", name="Mark as good").click()
    page.wait_for_selector(".ab-train-live:has-text('is now the validated model')")
    open_tab(page, "Library")
    page.wait_for_selector(".ab-actor-card .ab-validated:has-text('Validated model')")
    shot(page, "training-validated-card")
    reg = running_app.workbench().registry.get(name)
    assert reg.validated_lora_model and reg.validated_lora_model["lora_url"].endswith(
        ".safetensors")
