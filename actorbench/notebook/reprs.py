"""Rich HTML for JupyterLab: an actor, a plan, a decision, a summary.

The domain types carry no HTML: ``install()`` registers these functions as IPython's
``text/html`` formatters for them (``ab.open()`` and ``%load_ext actorbench.notebook`` call it).
Every string from a file or a server goes through :func:`esc` (names, keys, reasons).
"""

from __future__ import annotations

import base64
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..present.html import escape_text as esc
from ..present.words import facet_word, plural

if TYPE_CHECKING:
    from ..actors.model import Actor
    from ..sync.decide import Transfers
    from ..sync.plan import ActorPlan
    from ..sync.summary import SyncSummary

_STYLE = ("<style>.abr{font-family:sans-serif;font-size:13px}.abr-chip{display:inline-block;"
          "padding:1px 7px;margin:1px 3px 1px 0;border-radius:9px;background:#eef;"
          "border:1px solid #99b}.abr img{border-radius:6px;margin-right:10px;"
          "vertical-align:middle}.abr td,.abr th{padding:2px 8px;text-align:left}</style>")


def chip(text: str) -> str:
    return f'<span class="abr-chip">{esc(text)}</span>'


def _thumb(path: Path | None, size: int = 96) -> str:
    if path is None or not path.is_file():
        return ""
    try:
        from ..thumbs import thumbnail_bytes

        data = thumbnail_bytes(path, size)
    except Exception:  # no thumbnail is no reason to fail a repr
        return ""
    return (f'<img width="{size}" height="{size}" alt="" '
            f'src="data:image/jpeg;base64,{base64.b64encode(data).decode()}">')


def actor_html(actor: Actor, base_image: Path | None = None) -> str:
    f = actor.facets
    facets = " · ".join(esc(x) for x in (
        facet_word(f.ethnicity or "") or None,
        f.age, f.gender) if x not in (None, ""))
    chips = [chip(plural(actor.image_count, "image") + " listed")]
    chips.append(chip("synced" if actor.synced else "not synced"))
    if actor.validated_lora_model:
        vlm = actor.validated_lora_model
        chips.append(chip(f"✓ validated {vlm.get('version_name') or vlm.get('version') or ''}"))
    return (f'{_STYLE}<div class="abr">{_thumb(base_image)}<b>{esc(actor.name)}</b> '
            f'<span>#{esc(actor.id)}</span><div>{facets}</div><div>{"".join(chips)}</div></div>')


def plan_html(plan: ActorPlan) -> str:
    counts = Counter(c.status.label for c in plan.changes)
    chips = "".join(chip(f"{n} {label}") for label, n in sorted(counts.items()))
    rows = "".join(f"<tr><td>{c.index}</td><td>{esc(c.status.label)}</td>"
                   f"<td>{esc(c.problem)}</td></tr>" for c in plan.changes)
    other = "".join(f"<li>{esc(u.name)}: {esc(u.reason)}</li>" for u in plan.unrecognised)
    return (f'{_STYLE}<div class="abr"><b>{esc(plan.actor)}</b> '
            f'{plural(len(plan.changes), "image")} {chips}<table><tr><th>#</th><th>status</th>'
            f'<th>note</th></tr>{rows}</table>'
            + (f"<div>Not training images:<ul>{other}</ul></div>" if other else "") + "</div>")


def transfers_html(t: Transfers) -> str:
    rows = "".join(f"<tr><td>{esc(x.action)}</td><td>{esc(x.key)}</td></tr>"
                   for x in t.moving)
    refused = "".join(f"<tr><td>refused</td><td>{esc(r.key)}: {esc(r.reason)}</td></tr>"
                      for r in t.refused)
    return (f'{_STYLE}<div class="abr"><b>{esc(t.actor)}</b>: {t.direction} would '
            f'{esc(t.describe())}<table>{rows}{refused}</table></div>')


def summary_html(s: SyncSummary) -> str:
    from ..sync.summary import transferred_verb

    verb = transferred_verb(s.direction)
    chips = [chip(f"{s.transferred} {verb}"), chip(f"{s.skipped} already in place"),
             chip(plural(s.failed, "failed", "failed"))]
    if s.conflicts:
        chips.append(chip(plural(len(s.conflicts), "conflict")))
    errs = "".join(f"<li>{esc(e['key'])}: {esc(e['error'])}</li>" for e in s.errors)
    return (f'{_STYLE}<div class="abr"><b>{esc(s.actor)}</b> {"".join(chips)}'
            + (f"<ul>{errs}</ul>" if errs else "") + "</div>")


#: (module, class) -> its HTML: the types IPython is told about (by name: nothing imported)
FORMATTERS: dict[tuple[str, str], Any] = {
    ("actorbench.actors.model", "Actor"): actor_html,
    ("actorbench.sync.plan", "ActorPlan"): plan_html,
    ("actorbench.sync.decide", "Transfers"): transfers_html,
    ("actorbench.sync.summary", "SyncSummary"): summary_html,
}


def html_of(value: object) -> str:
    """The HTML of a value these reprs know (``""`` for another)."""
    t = type(value)
    fn = FORMATTERS.get((t.__module__, t.__name__))
    if fn is not None:
        return str(fn(value))
    own = getattr(value, "_repr_html_", None)
    return str(own()) if callable(own) else ""


def install(ip: Any | None = None) -> bool:
    """Register the reprs with IPython (the running shell, or ``ip``); False outside IPython."""
    if ip is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ip = get_ipython()
    if ip is None:
        return False
    html = ip.display_formatter.formatters["text/html"]
    for (module, name), fn in FORMATTERS.items():
        html.for_type_by_name(module, name, fn)
    return True
