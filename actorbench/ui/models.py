"""The models of the Training Data, Batch sync, Cache and Reports pages: plain state with
validation and ``reset()``; the views bind their widgets to them (no widget in here)."""

from __future__ import annotations

from typing import Any

import traitlets as t

from .background import PageModel
from .state import AppState

DIRECTIONS = ("pull", "push")
#: columns the Reports table can be sorted by
SORTABLE = ["coverage", "actor", "synced", "s3_only", "local_only", "local_modified",
            "remote_modified", "conflict", "missing", "bytes_local", "bytes_s3",
            "trained_versions"]


def _direction(proposal: dict[str, Any]) -> str:
    if proposal["value"] not in ("", *DIRECTIONS):
        raise t.TraitError(f"a sync is a pull or a push, not {proposal['value']!r}")
    return str(proposal["value"])


class TrainingDataModel(PageModel):
    """Which actor the page shows, which of its images are ticked, which sync runs."""

    actor = t.Unicode("")  # whose images the grid shows ("" before one is chosen)
    selected = t.List(t.Int())  # image indices ticked in the grid; none ticked: all images
    syncing = t.Unicode("")  # "pull" or "push" while a sync runs

    @t.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> list[int]:
        if any(i < 0 for i in proposal["value"]):
            raise t.TraitError(f"image indices are never negative: {proposal['value']!r}")
        return sorted(set(proposal["value"]))

    @t.validate("syncing")
    def _valid_syncing(self, proposal: dict[str, Any]) -> str:
        return _direction(proposal)

    def reset(self) -> None:
        self.selected = []
        super().reset()


class BatchModel(PageModel):
    """The filter, the actors it lets through, the ones chosen, and which sync runs."""

    filter = t.Unicode("")
    names = t.List(t.Unicode())  # every actor whose name holds the filter text
    selected = t.Tuple()  # chosen among ``names``
    syncing = t.Unicode("")

    def __init__(self, state: AppState) -> None:
        super().__init__()
        self.state = state
        self.names = self._matching("")

    def _matching(self, text: str) -> list[str]:
        text = text.strip().lower()
        return [a.name for a in self.state.wb.registry if text in a.name.lower()]

    @t.observe("filter")
    def _on_filter(self, change: dict[str, Any]) -> None:
        names = self._matching(change["new"])
        keep = tuple(n for n in self.selected if n in names)
        self.names = names  # (a SelectMultiple bound to it forgets its selection here)
        self.selected = keep

    @t.validate("selected")
    def _valid_selected(self, proposal: dict[str, Any]) -> tuple[str, ...]:
        unknown = [n for n in proposal["value"] if n not in self.names]
        if unknown:
            raise t.TraitError(f"not among the listed actors: {', '.join(map(str, unknown))}")
        return tuple(proposal["value"])

    @t.validate("syncing")
    def _valid_syncing(self, proposal: dict[str, Any]) -> str:
        return _direction(proposal)

    def reset(self) -> None:
        self.selected = ()
        self.filter = ""
        super().reset()


class CacheModel(PageModel):
    """Actors with local files, the one chosen, and a clean waiting for confirmation."""

    options = t.List(t.Unicode(), default_value=[""])  # "" alone: no actor has local files
    actor = t.Unicode("")
    pending = t.Dict()  # the dry run shown, awaiting confirmation ({} when none is)

    @t.validate("actor")
    def _valid_actor(self, proposal: dict[str, Any]) -> str:
        if proposal["value"] and proposal["value"] not in self.options:
            raise t.TraitError(f"{proposal['value']!r} has no local files to clear")
        return str(proposal["value"])

    @t.observe("actor")
    def _on_actor(self, change: dict[str, Any]) -> None:
        self.pending = {}  # a confirmation is for the actor it was asked about

    def reset(self) -> None:
        self.pending = {}
        self.actor = ""
        super().reset()


class ReportsModel(PageModel):
    """The built report and how its table is sorted and filtered."""

    sort_by = t.Enum(SORTABLE, default_value="coverage")
    ascending = t.Bool(True)
    only_images = t.Bool(True)  # leave out actors without images
    report = t.Any(None)  # the last ``CoverageReport`` built

    def reset(self) -> None:
        self.sort_by, self.ascending, self.only_images = "coverage", True, True
        self.report = None
        super().reset()
