"""`actorbench faces ACTOR... [--all] [--json]`: who is in each picture, incrementally, and the
versions' likeness lines for `actorbench versions`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ActorbenchError
from ..sync.files import printable
from .context import CliContext, actor_names, emit

if TYPE_CHECKING:
    from ..faces import ActorFaces, VersionScore
    from ..workbench import Workbench

Command = Callable[..., argparse.ArgumentParser]


def faces(a: argparse.Namespace, ctx: CliContext) -> None:
    """Find the faces in each actor's pictures: same person, another, none, small, blurred."""
    from ..faces import FacesUnavailable, available, identities
    from ..faces.models import INSTALL_HINT

    if not available():
        raise FacesUnavailable(INSTALL_HINT)
    wb = ctx.workbench()
    names = actor_names(wb, a.actors, a.all)
    if (a.reference or a.confirm) and len(names) != 1:
        raise ActorbenchError("--reference and --confirm take one actor.")
    if a.reference:
        from ..faces import choose_reference

        choose_reference(wb.layout, names[0], None if a.reference == "auto" else a.reference)
    if a.confirm:
        from ..training.likeness import confirm

        confirm(wb.layout, names[0], a.confirm)
    s3_only = None
    if a.s3:
        from ..faces.remote import fetch_s3_only

        plans = wb.engine.plan(names)
        s3_only = {n: fetch_s3_only(wb.layout, wb.store, plans[n].changes) for n in names}
    bar = _bar(a.json)
    try:
        found = identities(wb.layout, names, a.resolution, progress=bar, workers=a.workers,
                           s3_only=s3_only)
    finally:
        bar(-1, -1)
    emit({"resolution": a.resolution, "actors": [f.to_json() for f in found]}, a.json,
          "\n".join(actor_lines(f) for f in found))


def actor_lines(f: ActorFaces) -> str:
    """An actor's health line, then one line per picture that needs attention."""
    lines = [f"{f.actor}: {printable(f.health())}"]
    if f.base is not None and f.photographic and f.base.findings and \
            f.base.words != ["Same person"]:
        lines.append(f"  base image: {', '.join(f.base.words)}")
    for r in f.attention if f.photographic else []:
        d = f"  distance {r.distance:.2f}" if r.distance is not None else ""
        where = " (in S3 only)" if r.s3_only else ""
        lines.append(f"  {printable(r.name)}{where}: {', '.join(r.words)}{d}")
    return "\n".join(lines)


def _bar(quiet: bool) -> Callable[[int, int], None]:
    """A tqdm bar on stderr while pictures are analysed (none for --json or off a terminal)."""
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if done < 0:
            if state.get("bar") is not None:
                state["bar"].close()
            return
        if quiet or total == 0 or not sys.stderr.isatty():
            return
        if state.get("bar") is None:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, unit="picture", desc="faces", file=sys.stderr)
        state["bar"].n = done
        state["bar"].refresh()
    return update


def version_faces(wb: Workbench, actor: str, versions: Sequence[Any]
                  ) -> tuple[dict[str, Any] | None, list[str]]:
    """The versions' likeness for `actorbench versions`: (JSON or None, lines to print)."""
    from ..faces import available
    from ..faces.models import INSTALL_HINT

    if not any(getattr(v, "samples", None) for v in versions):
        return None, []
    if not available():
        return None, [f"  likeness: {INSTALL_HINT}"]
    from ..training.likeness import version_likeness

    try:
        ident, scores, best = version_likeness(wb.layout, wb.store, actor, versions)
    except (OSError, ActorbenchError) as e:
        return None, [f"  likeness: not measured ({printable(str(e))})"]
    doc = {"reference": ident.to_json()["reference"], "health": ident.health(),
           "versions": [s.to_json() for s in scores],
           "suggested": {"version_id": best[0], "step": best[1]} if best else None}
    return doc, version_lines(ident, scores, best)


def version_lines(ident: ActorFaces, scores: Sequence[VersionScore],
                  best: tuple[str, int] | None) -> list[str]:
    if ident.reference is None:
        return [f"  likeness: {ident.health()}"]
    lines = [f"  likeness against {printable(ident.reference.image)} "
             f"({ident.reference.source}); 50 % is the same-person cut:"]
    for s in scores:
        like, one = s.likeness, s.one_face
        cps = ", ".join(f"step {c.step} {c.likeness:.0%}" for c in s.checkpoints)
        gain = f", {s.gain:+.0%} over the base model" if s.gain is not None else ""
        lines.append(f"    {printable(s.name):<5} {'-' if like is None else f'{like:.0%}'}"
                     f" (one face in {'-' if one is None else f'{one:.0%}'}; {cps}{gain})"
                     + ("  <- suggested" if best and best[0] == s.version_id else ""))
    if best:
        name = next(s.name for s in scores if s.version_id == best[0])
        lines.append(f"  suggested: {printable(name)} at step {best[1]} (a suggestion: "
                     "`actorbench mark-good` decides)")
    return lines


def add_faces_command(command: Command) -> None:
    p = command(faces)
    p.add_argument("--resolution", type=int, default=1024,
                   help="The training resolution faces are measured against (default 1024).")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="Processes analysing pictures (default 2).")
    p.add_argument("--s3", action="store_true",
                   help="Also look at images only in S3 (fetched into a cache keyed by ETag, "
                        "never into training_data/).")
    p.add_argument("--reference", metavar="IMAGE",
                   help="Measure against this training image (file name) instead of the base "
                        "image or the set's medoid; 'auto' goes back.")
    p.add_argument("--confirm", nargs="+", metavar="IMAGE",
                   help="Confirm these training images (file names) as the actor's: another "
                        "person or no face stops blocking a launch (until the file changes).")
