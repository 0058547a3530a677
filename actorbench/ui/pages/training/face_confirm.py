"""The Training page's "They are the actor" button: confirms the images a face check blocks
(another person?, no face) so the launch can go on; shown only while such blockers stand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as w

FACE_BLOCKERS = ("other_person", "no_face")


class FaceConfirm(w.Button):
    """Hidden unless the validation shown has face blockers; a click confirms their images."""

    def __init__(self, state: Any, reread: Callable[[str], None]) -> None:
        super().__init__(description="They are the actor: confirm", icon="check",
                         tooltip="Confirm the images the face check doubts as this actor's "
                                 "(until a file changes); the check runs again.")
        self.add_class("ab-face-confirm")
        self.layout.display = "none"
        self.state, self.reread = state, reread
        self.names: list[str] = []

    def show_for(self, validation: Any) -> None:
        actor = self.state.actor
        layout = self.state.wb.layout
        self.names = sorted({layout.image_path(actor, i).name for f in validation.findings
                             if f.code in FACE_BLOCKERS for i in f.indices}) if actor else []
        self.layout.display = "" if self.names else "none"

    def confirm_shown(self, _: object = None) -> None:
        """Confirm the images shown as blocked (the page wires this to the click, guarded)."""
        from actorbench.training.likeness import confirm

        actor = self.state.actor
        confirm(self.state.wb.layout, actor, self.names)
        self.layout.display = "none"
        self.reread(actor)
