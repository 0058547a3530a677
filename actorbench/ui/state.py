"""State shared by the pages: the workbench and which actor is selected."""

from __future__ import annotations

import traitlets as t

from ..workbench import Workbench


class AppState(t.HasTraits):
    """The selected actor; pages observe ``actor`` and ``revision`` (bumped after changes)."""

    actor = t.Unicode("")
    revision = t.Int(0)
    open_page = t.Unicode("")  # a page asks the app to switch tabs

    def __init__(self, wb: Workbench) -> None:
        super().__init__()
        self.wb = wb

    def changed(self) -> None:
        """Something on disk or in S3 changed: pages refresh what they show."""
        self.revision += 1
