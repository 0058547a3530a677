"""The Cache page's model: the space each actor's local copies take, and what a clean frees."""

from __future__ import annotations

from typing import Any

import traitlets as t

from actorbench.ui.mvc import PageModel


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
