"""The Training Data page's model: plain state with validation and ``reset()``; the view binds
its widgets to it (no widget in here)."""

from __future__ import annotations

from typing import Any

import traitlets as t

from actorbench.errors import ActorbenchError
from actorbench.present.words import plural
from actorbench.sync.selection import format_only, parse_only
from actorbench.ui.mvc import PageModel, direction


class TrainingDataModel(PageModel):
    """Which actor the page shows, which of its images are ticked, which sync runs."""

    actor = t.Unicode("")  # whose images the grid shows ("" before one is chosen)
    indices = t.List(t.Int())  # every image index the grid shows
    selected = t.List(t.Int())  # image indices ticked in the grid; none ticked: all images
    syncing = t.Unicode("")  # "pull" or "push" while a sync runs

    def select_all(self) -> None:
        self.selected = list(self.indices)

    def select_none(self) -> None:
        self.selected = []

    def invert(self) -> None:
        self.selected = sorted(set(self.indices) - set(self.selected))

    def pick(self, spec: str) -> str:
        """Tick the images ``spec`` names (``0-9,12``, as the CLI's ``--only``) and say what
        was picked; ``ActorbenchError`` for text that names no images."""
        try:
            wanted = parse_only(spec)
        except ActorbenchError:
            raise ActorbenchError(f"{spec.strip()!r} is not a list of images: use indices and "
                                  "ranges like 0-9,12.") from None
        if wanted is None:
            self.selected = []
            return "No image picked: a sync takes every image."
        self.selected = sorted(wanted & set(self.indices))
        absent = wanted - set(self.indices)
        text = f"{plural(len(self.selected), 'image')} picked"
        return text + (f"; this actor has no image {format_only(absent)}." if absent else ".")

    @t.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> list[int]:
        if any(i < 0 for i in proposal["value"]):
            raise t.TraitError(f"image indices are never negative: {proposal['value']!r}")
        return sorted(set(proposal["value"]))

    @t.validate("syncing")
    def _valid_syncing(self, proposal: dict[str, Any]) -> str:
        return direction(proposal)

    def reset(self) -> None:
        self.selected = []
        self.indices = []
        super().reset()
