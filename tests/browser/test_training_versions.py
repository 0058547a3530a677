"""Browser: a training's stages while it runs; each completed version's samples (fetched from
S3) beside the base image; two versions side by side; the Reports page's Training tab."""

from __future__ import annotations

import pytest

from tests.browser.conftest import choose_actor, open_tab, shot

pytestmark = pytest.mark.browser

#: every stage the page showed, in order (a MutationObserver, so a short stage is seen too)
RECORD_STAGES = """() => { window.__stages = [];
  const note = () => { for (const el of document.querySelectorAll('.ab-train-stage .ab-stage')) {
      const s = el.dataset.stage; if (window.__stages.at(-1) !== s) window.__stages.push(s); } };
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true,
                                                     characterData: true}); }"""
#: all images under the selector decoded (naturalWidth > 0), and at least ``n`` of them
LOADED = """([sel, n]) => { const imgs = [...document.querySelectorAll(sel)];
  return imgs.length >= n && imgs.every(i => i.complete && i.naturalWidth > 0); }"""


def launch_and_wait(page, done: int) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector(".ab-train-stage .ab-stage:not([data-stage=done])", timeout=30000)
    page.wait_for_function(f"() => document.querySelectorAll('.ab-versions .ab-job-completed')"
                           f".length === {done}", timeout=60000)


def test_versions_preview_and_compare(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("synced", 0)
    # another test generates local-only images for this actor: in S3 first, so nothing blocks
    running_app.workbench().engine.push([name])
    choose_actor(page, name)
    open_tab(page, "Training")
    page.wait_for_selector(".ab-versions:has-text('No trainings yet')")
    page.evaluate(RECORD_STAGES)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector(".ab-train-stage .ab-stage", timeout=30000)
    shot(page, "training-stage-running")
    page.wait_for_function("() => document.querySelectorAll('.ab-versions .ab-job-completed')"
                           ".length === 1", timeout=60000)
    page.wait_for_selector(".ab-train-stage .ab-stage[data-stage=done]")
    stages = page.evaluate("() => window.__stages")
    assert stages[0] != "done" and stages[-1] == "done", stages
    assert "Done" in page.locator(".ab-train-stage .ab-step-current").inner_text()
    # the version's samples, from S3, beside the actor's base image: in the table and the preview
    page.wait_for_function(LOADED, arg=[".ab-versions img.ab-sample-mini", 2], timeout=30000)
    page.wait_for_function(LOADED, arg=[".ab-versions img.ab-base-image", 1])
    page.wait_for_function(LOADED, arg=[".ab-version-preview img.ab-sample", 4], timeout=30000)
    page.wait_for_function(LOADED, arg=[".ab-version-preview img.ab-base-image", 1])
    page.wait_for_function(LOADED, arg=["img.ab-loss-curve", 1], timeout=30000)
    assert "launched by" in page.locator(".ab-version-preview").inner_text()
    assert "step" in page.locator(".ab-version-preview figcaption").nth(1).inner_text()
    assert "Two completed versions are needed" in page.locator(".ab-compare-view").inner_text()
    page.locator(".ab-version-preview").scroll_into_view_if_needed()
    shot(page, "training-version-preview")
    # a second version: the two side by side
    page.get_by_role("button", name="Start training").click()
    page.wait_for_function("() => document.querySelectorAll('.ab-versions .ab-job-completed')"
                           ".length === 2", timeout=60000)
    page.wait_for_function(LOADED, arg=[".ab-compare .ab-compare-col img.ab-sample", 8],
                           timeout=30000)
    cols = page.locator(".ab-compare .ab-compare-col")
    assert cols.count() == 2
    assert "v1" in cols.nth(0).locator(".ab-preview-head").inner_text()
    assert "v2" in cols.nth(1).locator(".ab-preview-head").inner_text()
    left, right = (cols.nth(i).bounding_box() for i in (0, 1))
    assert abs(left["y"] - right["y"]) < 2 and right["x"] > left["x"] + left["width"] - 1
    page.wait_for_function(LOADED, arg=[".ab-compare img.ab-base-image", 1])
    page.locator(".ab-compare-view").scroll_into_view_if_needed()
    shot(page, "training-compare-versions")
    # "Mark as good" is on the preview; the row then says who marked it
    page.get_by_role("button", name="Mark as good").click()
    page.wait_for_selector(".ab-versions .ab-who:has-text('marked good by')")
    # the Reports page's Training tab: versions, success, cost, in words
    open_tab(page, "Reports")
    page.get_by_role("button", name="Build report").click()
    page.wait_for_selector(".ab-report-status:has-text('Built in')", timeout=60000)
    page.locator(".ab-report-sections").get_by_role("tab", name="Training", exact=True).click()
    totals = page.locator(".ab-training-report-totals").inner_text()
    assert "completed" in totals and "succeeded" in totals and "spent" in totals, totals
    assert name in page.locator(".ab-training-report-table").inner_text()
    shot(page, "reports-training-tab")
