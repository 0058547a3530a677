"""Who is in each tile of the Training Data grid: a badge per face finding (ab-face-...).

Analysed off the UI thread, after the grid is drawn, in a thread of its own: the page's own
work (listing, thumbnails) never waits for it. A painted set is found out from its base image
and first pictures and left without badges; an error shows on the page like any other.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from actorbench.errors import describe_error

_INDEX = re.compile(r"_(\d+)\.[A-Za-z]+$")
RESOLUTION = 1024  # the Training page's default; the badge says which


def faces_of_grid(page: Any, generation: int, name: str) -> None:
    """Start judging ``name``'s pictures; the tiles get their badges if the page still shows
    the same generation when it is done."""
    from actorbench.faces import available

    if not available():
        return
    # not a daemon: a thread stopped inside dlib at exit aborts the process
    threading.Thread(target=_judge, args=(page, generation, name), daemon=False,
                     name="actorbench-faces").start()


def badges(found: Any) -> dict[int, tuple[str, str]]:
    """{image index: (finding in words, CSS class)} of an actor judged by actorbench.faces."""
    out = {}
    for r in found.images:
        m = _INDEX.search(r.name)
        if m:
            out[int(m.group(1))] = (", ".join(r.words), r.finding.css)
    return out


def _judge(page: Any, generation: int, name: str) -> None:
    from actorbench.faces.service import probe_then_judge

    try:
        found = probe_then_judge(page.state.wb.layout, name, RESOLUTION)
    except Exception as e:  # shown on the page, never lost in a thread
        page.model.error = f"Face check of {name}: {describe_error(e)}"
        return
    if found is None or not found.photographic:
        return
    shown = badges(found)
    with page._render_lock:
        if generation != page._generation:
            return
        for tile in page.images.shown:
            tile.show_face(shown.get(tile.index))
