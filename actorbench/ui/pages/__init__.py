"""The dashboard's pages, one folder each (``<page>/model.py``, ``<page>/view.py``), and the one
registry of them: ``PAGES`` gives each its title (the tab), its slug (``?page=training-data``)
and where its view is. The tabs, the deep links and the cards' buttons all read it.

A new page: a folder here with its model and view, and one ``Page`` line below. A page's
modules import no other page's (``tests/test_layers.py``); what two pages share goes to
``ui/widgets/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ipywidgets as w

    from actorbench.ui.state import AppState


@dataclass(frozen=True)
class Page:
    """A tab of the dashboard: ``view`` is ``"module:Class"``, imported when first built
    (``lazy`` pages only when their tab is opened: the app starts without their modules)."""

    title: str
    slug: str
    view: str
    lazy: bool = True

    def build(self, state: AppState) -> w.Widget:
        module, _, name = self.view.partition(":")
        return getattr(import_module(module), name)(state)


LIBRARY = Page("Library", "library", "actorbench.ui.pages.library.view:LibraryView", False)
TRAINING_DATA = Page("Training Data", "training-data",
                     "actorbench.ui.pages.training_data.view:TrainingDataView", False)
BATCH = Page("Batch sync", "batch-sync", "actorbench.ui.pages.batch.view:BatchView")
CACHE = Page("Cache", "cache", "actorbench.ui.pages.cache.view:CacheView")
TRAINING = Page("Training", "training", "actorbench.ui.pages.training.view:TrainingView")
REPORTS = Page("Reports", "reports", "actorbench.ui.pages.reports.view:ReportsView")
CONNECTION = Page("Connection", "connection",
                  "actorbench.ui.pages.connection.view:ConnectionView")

#: the tabs, in order
PAGES = (LIBRARY, TRAINING_DATA, BATCH, CACHE, TRAINING, REPORTS, CONNECTION)


def page_for_link(value: str) -> Page | None:
    """The page a link's ``page=`` names: its slug, or its title in any case and spacing
    (``training-data``, ``training_data``, ``Training Data``); None for anything else."""
    wanted = value.replace("_", "-").replace(" ", "-").strip("-").lower()
    return next((p for p in PAGES if p.slug == wanted), None) if wanted else None
