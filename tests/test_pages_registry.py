"""One registry of the dashboard's pages: the tabs, the deep links and the cards read it."""

from __future__ import annotations

from importlib import import_module

from actorbench.ui.pages import PAGES, TRAINING, TRAINING_DATA, page_for_link
from actorbench.ui.widgets.actor_card import ACTIONS


def test_every_page_has_one_title_one_slug_and_a_view_that_exists():
    assert len({p.title for p in PAGES}) == len({p.slug for p in PAGES}) == len(PAGES)
    for page in PAGES:
        module, _, name = page.view.partition(":")
        assert callable(getattr(import_module(module), name))


def test_links_name_a_page_by_slug_or_title_and_nothing_else():
    for text in ("training-data", "training_data", "Training Data", " training data "):
        assert page_for_link(text) is TRAINING_DATA
    assert page_for_link("training") is TRAINING
    assert page_for_link("") is None and page_for_link("<script>") is None


def test_the_cards_buttons_open_pages_of_the_registry():
    assert {t for t in ACTIONS.values() if t} <= {p.title for p in PAGES}


def test_the_tabs_are_the_registry(wb):  # type: ignore[no-untyped-def]
    from actorbench.ui import App

    app = App(wb)
    try:
        assert list(app.tabs.titles) == [p.title for p in PAGES]
        app.apply_query("actor=1&page=training-data")
        assert app.tabs.titles[app.tabs.selected_index] == TRAINING_DATA.title
    finally:
        app.close()


def test_the_style_sheets_are_package_files_in_the_one_sheet():
    from importlib.resources import files

    from actorbench.ui.widgets.common import CSS

    names = sorted(f.name for f in files("actorbench.ui.styles").iterdir()
                   if f.name.endswith(".css"))
    assert names == ["base.css", "connection.css", "training.css"]
    assert CSS.count("<style>") == 1 and "var(--ab-tile-px)" in CSS and "--ab-tile-px:" in CSS
    for rule in (".ab-gcard", ".ab-stepper", ".ab-check-ok", ".ab-status-synced"):
        assert rule in CSS
