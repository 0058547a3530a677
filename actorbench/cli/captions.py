"""`actorbench captions ACTOR`: each image's caption, drafts, one edit, undo, the trigger word."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ActorbenchError
from .context import CliContext, emit

if TYPE_CHECKING:
    from ..captions.bulk import Preview

Command = Callable[..., argparse.ArgumentParser]


def captions(a: argparse.Namespace, ctx: CliContext) -> None:
    """Show each image's caption (who wrote it, its sync state, its draft); --draft writes
    drafts where no person wrote one, --set I TEXT writes one, --undo takes back the last."""
    from ..captions import CaptionStore
    from ..captions.service import CaptionService
    from ..clock import stamp
    from ..faces.service import face_words
    from ..sync.selection import parse_only

    wb = ctx.workbench()
    name = wb.registry.get(a.actor).name
    if a.trigger is not None:
        word = a.trigger or None
        wb.registry.set_trigger(name, word)  # checked (and kept) here first
        if wb.team is not None:  # shared: the later setting wins on every workstation
            wb.team.registry.record_trigger(wb.registry, name, word, stamp(),
                                            str(wb.settings.who))
    svc = CaptionService(wb.registry, wb.engine, CaptionStore(wb.layout, str(wb.settings.who)),
                         describe=face_words(wb.layout))
    done: dict[str, Any] = {}
    if a.undo:
        u = svc.undo(name)
        done = {"undo": {"operation": u.operation, "restored": list(u.restored),
                         "kept": list(u.kept)}, "message": u.describe()}
    elif a.set is not None or a.draft:
        preview = (svc.preview_set(name, _index(a.set[0]), a.set[1]) if a.set is not None
                   else svc.preview_drafts(name, parse_only(a.only) if a.only else None))
        refused = [e for e in preview.skipped if a.set is not None and e.skipped != "unchanged"]
        if refused:
            raise ActorbenchError(f"{name} image {refused[0].index}: {refused[0].skipped}; "
                                  "nothing was written.")
        if not a.dry_run:
            svc.apply(preview)
        done = {"preview": [e.to_json() for e in preview.edits], "dry_run": a.dry_run,
                "message": ("would " if a.dry_run else "") + preview.describe(),
                "lines": _preview_lines(preview)}
    table = svc.table(name)
    out = {"actor": name, "trigger_word": table.trigger,
           "images": [r.to_json() for r in table.rows], "problems": table.problems,
           "unrecognised": table.unrecognised,
           **{k: v for k, v in done.items() if k != "lines"}}
    lines = [f"{name}: trigger {table.trigger!r}, {len(table.rows)} images"]
    if done:
        lines[:0] = [done["message"], *done.get("lines", [])]
    for r in table.rows:
        c = r.caption
        text = (f"! {c.problem}" if c and c.problem else repr(c.text) if c
                else f"(none; draft {r.draft!r})")
        by = f"{c.author}" + (f" {c.who}" if c and c.who else "") if c else ""
        lines.append(f"  {r.index:>3}  {r.image_status:<15} caption {r.caption_status:<15} "
                     f"{by:<24} {text}")
    lines += [f"  ⚠ {p!r}" for p in table.problems]
    lines += [f"  ? {'in S3' if u['where'] == 's3' else 'here'}: {u['name']!r}: {u['reason']}"
              for u in table.unrecognised]
    emit(out, a.json, "\n".join(lines))


def _preview_lines(preview: Preview) -> list[str]:
    """One line per image of a bulk edit: before -> after, or why it is left alone."""
    out = []
    for e in preview.edits:
        before = repr(e.before.text) if e.before else "(none)"
        out.append(f"  {e.index:>3}  " + (f"{before} -> {e.after!r}" if e.changes
                                          else f"left alone: {e.skipped}"))
    return out


def _index(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 5:
        raise ActorbenchError(f"--set takes an image index (0-99999) and a text, not {text!r}.")
    return int(text)


def add_commands(command: Command) -> None:
    p = command(captions, actors=False)
    p.add_argument("actor", help="Actor name or id.")
    p.add_argument("--draft", action="store_true",
                   help="Write the draft caption of each image no person captioned.")
    p.add_argument("--only", help="With --draft: image indices, e.g. 0-9,12.")
    p.add_argument("--set", nargs=2, metavar=("I", "TEXT"), help="Write image I's caption.")
    p.add_argument("--undo", action="store_true", help="Take back the last --draft or --set.")
    p.add_argument("--trigger", metavar="WORD",
                   help="Set the actor's trigger word in actors.json ('' for the default).")
    p.add_argument("--dry-run", action="store_true", help="Show the changes; write nothing.")
