"""The versions' likeness on the Training page: measured off the UI thread
(``training.likeness.version_likeness``), shown as text: a column of the versions table, the
suggested checkpoint (a suggestion: marking stays the user's) and two versions side by side.

Without the faces extra, or for an actor whose pictures hold no photographed face (a painted
actor), one line says so instead of numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from actorbench.present.html import Html, h
from actorbench.present.words import percent
from actorbench.training import TrainingVersion

if TYPE_CHECKING:
    from actorbench.faces import VersionScore
    from actorbench.workbench import Workbench


@dataclass(frozen=True)
class Likeness:
    """What the page knows of the versions' likeness: the scores by version id, the suggested
    (version id, step), the reference's name; or ``note``, one line instead of numbers."""

    scores: dict[str, VersionScore] = field(default_factory=dict)
    suggested: tuple[str, int] | None = None
    reference: str = ""
    note: str = ""


MEASURING = Likeness(note="Measuring how like the actor each version's samples are …")


def scored(versions: Sequence[TrainingVersion]) -> list[TrainingVersion]:
    """The versions whose samples can be scored: completed, with samples."""
    return [v for v in versions if str(v.status) == "COMPLETED" and v.samples]


def measure_likeness(wb: Workbench, actor: str,
                     versions: Sequence[TrainingVersion]) -> Likeness:
    """The versions' likeness (slow: samples fetched and analysed; call it off the UI thread)."""
    from actorbench.faces import available
    from actorbench.faces.models import INSTALL_HINT

    if not available():
        return Likeness(note=f"Likeness not measured: {INSTALL_HINT}")
    from actorbench.faces import NOT_PHOTOGRAPHIC, service
    from actorbench.training import likeness

    # a glance first (the base image and a few pictures, cached): a painted set is not
    # analysed whole on every visit
    if service.probe_then_judge(wb.layout, actor, workers=1) is None:
        return Likeness(note=f"Likeness not measured: {NOT_PHOTOGRAPHIC}")
    ident, scores, best = likeness.version_likeness(wb.layout, wb.store, actor, list(versions))
    if ident.reference is None:
        return Likeness(note=f"Likeness not measured: {ident.health()}")
    return Likeness({s.version_id: s for s in scores}, best, ident.reference.image)


def not_measured(exc: BaseException) -> Likeness:
    return Likeness(note=f"Likeness not measured: {exc}")


def likeness_cell(lk: Likeness | None, v: TrainingVersion) -> Html:
    """The best checkpoint's likeness and the share of samples with one face; the suggested
    version says so."""
    s = lk.scores.get(v.id) if lk is not None else None
    if s is None:
        return Html("")
    best = s.best
    if best is None:
        return h("span", "—", cls="ab-likeness")
    parts: list[object] = [h("b", percent(best.likeness)), f" at step {best.step} · one face in ",
                           percent(s.one_face)]
    if s.gain is not None:
        parts.append(f" · {s.gain:+.0%} over the base model")
    if lk is not None and lk.suggested == (v.id, best.step):
        parts += [h("br"), h("span", "suggested, not marked", cls="ab-likeness-suggested")]
    return h("span", *parts, cls="ab-likeness")


def likeness_note(lk: Likeness | None) -> Html:
    """One line above the table: what likeness is measured against and the suggestion, or why
    there are no numbers."""
    if lk is None:
        return Html("")
    if lk.note:
        return h("div", lk.note, cls="ab-likeness-note")
    line: list[object] = [f"Likeness of the samples to {lk.reference} (50 % is the "
                          "same-person cut)."]
    if lk.suggested is not None:
        vid, step = lk.suggested
        name = lk.scores[vid].name if vid in lk.scores else vid
        line.append(h("span", f" Suggested: {name} at step {step} (suggested, not marked: "
                              "“Mark as good” decides).", cls="ab-likeness-suggested"))
    return h("div", *line, cls="ab-likeness-note")


def compare_scores(pair: tuple[TrainingVersion, TrainingVersion],
                   lk: Likeness | None) -> Html:
    """The two versions' scores side by side: overall, best checkpoint, one face, each
    checkpoint (a table), or the one line saying why there are none."""
    if lk is None:
        return Html("")
    if lk.note:
        return h("div", lk.note, cls="ab-likeness-note")
    a, b = (lk.scores.get(v.id) for v in pair)

    def best(s: VersionScore | None) -> str:
        c = s.best if s is not None else None
        return "—" if c is None else f"{percent(c.likeness)} at step {c.step}"

    def cps(s: VersionScore | None) -> str:
        return "—" if s is None or not s.checkpoints else ", ".join(
            f"step {c.step}: {percent(c.likeness)}" for c in s.checkpoints)

    rows = [("likeness (all samples)", *(percent(s.likeness) if s else "—" for s in (a, b))),
            ("best checkpoint", best(a), best(b)),
            ("one face", *(percent(s.one_face) if s else "—" for s in (a, b))),
            ("checkpoints", cps(a), cps(b))]
    head = h("tr", h("th", ""), *(h("th", v.name) for v in pair))
    body = [h("tr", h("th", r[0]), h("td", r[1]), h("td", r[2])) for r in rows]
    return h("table", head, *body, cls=["ab-table", "ab-compare-likeness"])
