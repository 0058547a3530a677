"""Browser: every page tells the truth about the actor shown, in words, not codes; picks and
saved parameters survive what they should (issue 16)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import choose_actor, open_tab, shot

pytestmark = pytest.mark.browser

#: status codes that must never reach the visible text of a page
CODES = re.compile(r"\b(not_synced|no_data|s3_only|local_only|local_modified|remote_modified|"
                   r"deleted_local|deleted_remote|IN_QUEUE|IN_PROGRESS|COMPLETED|TIMED_OUT|"
                   r"LAUNCH_FAILED|LAUNCHING|CANCELLED|FAILED|LOST)\b")
#: a count written as a float ("287.0")
FLOAT_COUNT = re.compile(r"(?<![\d.])\d+\.0(?![\d])")


def visible_text(page) -> str:  # type: ignore[no-untyped-def]
    return page.locator(".ab-app").inner_text()


#: the visible text without the choices of drop-downs ("SDXL 1.0" is a name, not a count)
WITHOUT_CHOICES = """() => { const app = document.querySelector('.ab-app'); let t = app.innerText;
  for (const s of app.querySelectorAll('select')) { t = t.replace(s.innerText, ''); }
  return t; }"""


def assert_words(page, where: str) -> None:  # type: ignore[no-untyped-def]
    text = visible_text(page)  # choices included: a drop-down says words too
    assert not CODES.findall(text), (where, CODES.findall(text))
    text = page.evaluate(WITHOUT_CHOICES)
    floats = [text[max(0, m.start() - 40):m.end() + 20] for m in FLOAT_COUNT.finditer(text)]
    assert not floats, (where, floats)


def field(page, label: str):  # type: ignore[no-untyped-def]
    """The input of the visible form field whose label is ``label``."""
    return page.locator(".widget-inline-hbox:visible").filter(
        has=page.locator("label", has_text=re.compile(rf"^{re.escape(label)}$"))).locator(
        "input, select").first


def test_switching_actor_clears_the_previous_actors_results(page, running_app):  # type: ignore[no-untyped-def]
    a, b = running_app.actor("conflict", 0), running_app.actor("missing", 0)
    choose_actor(page, a)
    open_tab(page, "Training Data")
    page.wait_for_selector(".ab-grid .ab-tile")
    page.wait_for_selector(".ab-decision:has-text('Sync from S3 will')")
    page.locator(".ab-tile").first.get_by_role("button", name="Preview").click()
    page.wait_for_selector(".ab-preview:has-text('Base image')")
    page.get_by_role("button", name="Sync from S3").click()
    page.wait_for_selector(".ab-status-line:has-text('downloaded')", timeout=60000)
    page.wait_for_selector(".ab-progress-label:has-text(' / ')")
    said = page.locator(".ab-status-line").inner_text()
    shot(page, "switch-actor-before")
    choose_actor(page, b)
    open_tab(page, "Training Data")
    page.wait_for_selector(f".ab-td-header .ab-title:has-text('{b}')")
    page.wait_for_selector(".ab-decision:has-text('Sync from S3')")
    text = visible_text(page)
    assert a not in text and said not in text
    for gone in ("Base image vs", "downloaded", "Conflict, both versions kept", " / "):
        assert gone not in text, gone
    assert not page.locator(".ab-preview").is_visible()
    assert page.locator(".ab-progress-label").inner_text().strip() == ""
    assert "0%" in (page.locator(".ab-files-bar .progress-bar").get_attribute("style") or "")
    shot(page, "switch-actor-after")


def test_saved_parameters_survive_a_reload(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("missing", 1)
    choose_actor(page, name)
    open_tab(page, "Training")
    page.wait_for_selector(f".ab-title:has-text('Training · {name}')")
    page.wait_for_selector(".ab-train-overview:has-text('images')")
    field(page, "Base model").select_option(label="Stable Diffusion 1.5")
    expect(field(page, "Resolution")).to_have_value("512")  # the preset followed
    field(page, "Repeats").fill("33")
    field(page, "Repeats").press("Enter")
    field(page, "Trigger").fill("ohwx_saved person")
    field(page, "Trigger").press("Enter")
    page.get_by_role("button", name="Save parameters").click()
    page.wait_for_selector(".ab-params-message:has-text('Saved')")
    shot(page, "params-saved")
    page.reload()
    page.wait_for_selector(".ab-app", timeout=60000)
    choose_actor(page, name)
    open_tab(page, "Training")
    page.wait_for_selector(".ab-params-message:has-text('Saved parameters restored')")
    assert field(page, "Repeats").input_value() == "33"
    assert field(page, "Resolution").input_value() == "512"
    assert field(page, "Trigger").input_value() == "ohwx_saved person"
    assert "Stable Diffusion 1.5" in field(page, "Base model").locator(
        "option:checked").inner_text().replace("\xa0", " ")
    assert page.get_by_role("button", name="Cancel training").is_disabled()  # nothing runs
    shot(page, "params-restored")


def test_batch_picks_survive_a_filter_change(page, running_app):  # type: ignore[no-untyped-def]
    reg = running_app.workbench().registry
    female = next(a.name for a in reg if a.facets.gender == "female")
    male = next(a.name for a in reg if a.facets.gender == "male")
    open_tab(page, "Batch sync")
    page.locator(".ab-batch-actors select").select_option([female, male])
    page.wait_for_selector(".ab-batch-picks:has-text('2 actors picked')")
    field(page, "Gender").select_option(label="Female")
    page.wait_for_selector(".ab-batch-picks:has-text('1 hidden by the filters')")
    options = page.locator(".ab-batch-actors select option")
    assert male not in options.all_inner_texts()
    picks = page.locator(".ab-batch-picks").inner_text()
    assert picks.startswith("2 actors picked:") and female.split("_")[0] in picks \
        and male.split("_")[0] in picks
    shot(page, "batch-picks-filtered")
    field(page, "Gender").select_option("Any")
    page.wait_for_function("n => [...document.querySelectorAll('.ab-batch-actors option')]"
                           ".filter(o => o.selected).length === n", arg=2)
    assert "hidden" not in page.locator(".ab-batch-picks").inner_text()
    assert_words(page, "Batch sync")


def test_pages_speak_words_not_codes(page, running_app):  # type: ignore[no-untyped-def]
    name = running_app.actor("local_modified", 0)
    choose_actor(page, name)
    open_tab(page, "Training Data")
    page.wait_for_selector(".ab-grid .ab-status-local_modified")
    page.wait_for_selector(".ab-decision:has-text('Sync to S3 will')")
    assert_words(page, "Training Data")
    shot(page, "words-training-data")
    open_tab(page, "Batch sync")
    page.locator(".ab-batch-actors select").select_option([name])
    page.get_by_role("button", name="Sync selected from S3").click()
    page.wait_for_selector(".ab-batch-summary table", timeout=60000)
    assert_words(page, "Batch sync")
    shot(page, "words-batch")
    choose_actor(page, running_app.actor("synced", 1))  # trained by test_training_page
    open_tab(page, "Training")
    page.wait_for_selector(".ab-train-overview:has-text('images')")
    page.wait_for_selector(".ab-validation div")
    assert_words(page, "Training")
    shot(page, "words-training")
    open_tab(page, "Reports")
    page.get_by_role("button", name="Build report").click()
    page.wait_for_selector(".ab-report-status:has-text('Built in')", timeout=60000)
    assert_words(page, "Reports")
    totals = page.locator(".ab-report-totals").inner_text()
    assert re.match(r"287 actors · \d+ with images · \d+ fully synced · \d+% downloaded here"
                    r" · \d+% backed up in S3", totals), totals
    table = page.locator(".ab-report-table table")
    assert table.bounding_box()["width"] <= 1400  # fits the window: no sideways scrolling
    assert "Backed up in S3" in table.locator("tr").first.inner_text()
    shot(page, "words-reports")
