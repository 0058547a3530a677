"""Browser: markup in every field a file or a server can supply is shown as text, never run,
on every page (tests/hostile.py plants it: actors.json, a training record, request and response
files, saved parameters, file names in training_data and in S3)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser.conftest import choose_actor, open_tab, shot
from tests.hostile import BAD_NAMES, DATA_ACTOR, ID_ACTOR, MARK, Planted, plant

pytestmark = pytest.mark.browser

#: what the payload does if any of it runs or becomes an element
INJECTED = ("() => ({pwned: window.__pwned !== undefined, element: (el => el && el.outerHTML)"
            "(document.querySelector('#ab-injected, [onerror], [onload]'))})")


@pytest.fixture
def hostile_library(running_app) -> Iterator[Planted]:  # type: ignore[no-untyped-def]
    planted = plant(running_app.workbench())
    yield planted
    planted.remove()  # the demo library as the other tests expect it (287 actors)


def assert_not_injected(page, where: str) -> None:  # type: ignore[no-untyped-def]
    state = page.evaluate(INJECTED)
    assert state == {"pwned": False, "element": None}, (where, state)


def assert_shown_as_text(page, selector: str, text: str = MARK) -> None:  # type: ignore[no-untyped-def]
    """The markup is on the page as characters: the field was rendered, and escaped."""
    page.wait_for_function("([sel, text]) => [...document.querySelectorAll(sel)]"
                           ".some(e => e.innerText.includes(text))", arg=[selector, text])


@pytest.mark.attack('markup in every field a file or S3 supplies (actors.json, ledger, '
                    'request/response.json, trigger word, file names), rendered in chromium '
                    'on all six pages',
                    'shown as text; no injected element, attribute or script ran')
def test_every_page_shows_markup_as_text(hostile_library, page):  # type: ignore[no-untyped-def]
    assert_not_injected(page, "the app as it opens")
    # Library: an id that is markup, then a validated model whose name and URL are markup
    choose_actor(page, ID_ACTOR)
    assert_shown_as_text(page, ".ab-actor-card")
    assert_not_injected(page, "Library, markup id")
    choose_actor(page, DATA_ACTOR)
    assert_shown_as_text(page, ".ab-actor-card .ab-validated")
    assert_not_injected(page, "Library")
    shot(page, "injection-library")

    # Training Data: markup file names beside the images, locally and in S3
    open_tab(page, "Training Data")
    page.wait_for_selector(f".ab-td-header:has-text('{DATA_ACTOR}')")
    page.wait_for_selector(".ab-grid .ab-tile")
    for name in BAD_NAMES:  # listed as files that are not training images
        assert_shown_as_text(page, ".ab-unrecognised", name)
    assert_not_injected(page, "Training Data")
    shot(page, "injection-training-data")

    # Training: a record whose every field is markup; a job id that is never sent; a LoRA URL
    # that is javascript: and is refused when marked good
    open_tab(page, "Training")
    assert_shown_as_text(page, ".ab-versions")
    page.wait_for_selector(".ab-versions .ab-job-unknown")
    page.wait_for_selector(".ab-versions .ab-job-lost")  # v3: its markup job id was not sent
    page.get_by_role("button", name="Mark as good").click()
    page.wait_for_selector(".ab-error:has-text('is not an http(s) or s3 URL')")
    assert_not_injected(page, "Training")
    shot(page, "injection-training")

    # Batch sync and Cache: the hostile actor synced with the rest
    open_tab(page, "Batch sync")
    page.locator(".ab-batch-actors select").select_option(DATA_ACTOR)
    page.get_by_role("button", name="Sync selected from S3").click()
    page.wait_for_selector(f".ab-batch-summary td:has-text('{DATA_ACTOR}')", timeout=60000)
    assert_not_injected(page, "Batch sync")
    shot(page, "injection-batch")
    open_tab(page, "Cache")
    page.get_by_role("button", name="Refresh").click()
    page.wait_for_selector(f".ab-cache-table td:has-text('{DATA_ACTOR}')")
    assert_not_injected(page, "Cache")

    # Reports: the library with both actors in it
    open_tab(page, "Reports")
    page.get_by_role("button", name="Build report").click()
    page.wait_for_selector(".ab-report-status:has-text('Built in')", timeout=60000)
    page.wait_for_selector(f".ab-report-table td:has-text('{DATA_ACTOR}')")
    assert_not_injected(page, "Reports")
    shot(page, "injection-reports")

    # an error message that carries markup: no record can be named after the markup id
    choose_actor(page, ID_ACTOR)
    open_tab(page, "Training")
    page.wait_for_selector(".ab-error:has-text('cannot name a file')")
    assert_shown_as_text(page, ".ab-error")
    assert_not_injected(page, "Training, markup id")
    shot(page, "injection-error")
