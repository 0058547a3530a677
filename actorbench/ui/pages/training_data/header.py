"""The Training Data page's words about an actor's plan: its header (counts, storage, what
to do when it has no images), the files that are not training images, and what each sync
would do."""

from __future__ import annotations

from pathlib import Path

from actorbench.present.html import Html, h
from actorbench.present.words import human_bytes, plural, sentence
from actorbench.sync.decide import Direction, Transfers
from actorbench.sync.files import Side, printable
from actorbench.sync.plan import ActorPlan
from actorbench.ui.widgets.actor_card import counts_html
from actorbench.ui.widgets.common import empty_state, esc


def plan_header_html(plan: ActorPlan, used: int, has_base: bool, folder: Path) -> str:
    """The actor's name, its counts by status, local and S3 storage (``used``: bytes here);
    without images, what to do next (``folder``: where training images go)."""
    empty = "" if plan.changes else empty_state(
        "No training images yet",
        ("✨ Generate Images below makes some from the base image" if has_base
         else "add a base image to generate some")
        + ", or put PNG files in this folder and press ↻ Refresh:", str(folder))
    return (f'<div class="ab-title">{esc(plan.actor)}</div>'
            f"{counts_html(plan.counts()) if plan.changes else ''}"
            f'<div class="ab-storage">Local storage: {human_bytes(used)} · '
            f"S3: {human_bytes(plan.remote_bytes)} · "
            f"{plural(len(plan.changes), 'image')}</div>{empty}")


#: unrecognised files listed by name; the rest are counted
UNRECOGNISED_SHOWN = 200


def unrecognised_html(plan: ActorPlan) -> str:
    """The files beside the training images that are not ones (listed, never synced)."""
    shown = plan.unrecognised[:UNRECOGNISED_SHOWN]  # a bucket may hold 100,000 odd files
    items = [f"<li><code>{esc(printable(u.name))}</code> "
             f"({Side(u.where).label}): {esc(u.reason)}</li>"
             for u in shown]
    rest = len(plan.unrecognised) - len(shown)
    if rest:
        items.append(f"<li>… and {plural(rest, 'more file')}</li>")
    total = len(plan.unrecognised)
    return (f"<details open><summary>{plural(total, 'file')} that "
            f"{'is' if total == 1 else 'are'} not training images "
            f"(never synced)</summary><ul>{''.join(items)}</ul></details>" if total else "")


def decision_html(decisions: dict[Direction, Transfers], plan: ActorPlan, chosen: ActorPlan,
                  picked: bool) -> Html:
    """What Sync from S3 and Sync to S3 would do to the picked images (all, if none is)."""
    scope = (f"the {plural(len(chosen.changes), 'picked image')}" if picked
             else f"all {plural(len(plan.changes), 'image')}")
    parts = []
    for d, button in ((Direction.PULL, "Sync from S3"), (Direction.PUSH, "Sync to S3")):
        said = decisions[d].describe()
        parts.append(f"{button}: nothing to do" if said == "nothing to do"
                     else f"{button} will {sentence(said)}")
    return h("div", " · ".join(parts), f" ({scope}).", cls="ab-hint")
