"""The notebook API: what a JupyterLab user types, with DataFrames, tqdm bars and rich reprs.

Usage::

    import actorbench as ab
    wb = ab.open()                      # settings from the environment and .env
    wb.actors.query("gender == 'female'").head()
    wb.status("0002")                   # one row per image, statuses in words
    wb.pull("0002", "0003")             # tqdm.auto bars; a summary that renders itself
    wb.report().actors.head()
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import richrepr

if TYPE_CHECKING:
    import pandas as pd

    from .actors.model import Actor
    from .reports.tables import CoverageReport
    from .sync.decide import Transfers
    from .sync.summary import SyncSummary
    from .workbench import Workbench


@dataclass(frozen=True)
class ActorCard:
    """An actor with its base image, as a card in JupyterLab."""

    actor: Actor
    base_image: Path | None

    def _repr_html_(self) -> str:
        return richrepr.actor_html(self.actor, self.base_image)


class Results(dict):
    """Per-actor results (summaries or decisions) that render as one block."""

    def _repr_html_(self) -> str:
        return "".join(v._repr_html_() for v in self.values())


class _Bars:
    """Sync progress as tqdm.auto bars (a widget in JupyterLab, text elsewhere)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.bar, self.total = enabled, None, 0

    def __call__(self, event: Any) -> None:
        if not self.enabled:
            return
        from tqdm.auto import tqdm

        if event.kind == "plan":
            self.total += event.bytes_total
            if self.bar is None:
                self.bar = tqdm(total=self.total, unit="B", unit_scale=True, desc="sync")
            else:
                self.bar.total = self.total
                self.bar.refresh()
        elif event.kind == "bytes" and self.bar is not None:
            self.bar.update(event.nbytes)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class NotebookAPI:
    """Mixed into :class:`~actorbench.workbench.Workbench`: the conveniences of ``ab.open()``."""

    def _wb(self) -> Workbench:
        return self  # type: ignore[return-value]

    @property
    def actors(self) -> pd.DataFrame:
        """Every actor of ``actors.json``: id, name, facets, images listed, synced, validated."""
        import pandas as pd

        rows = []
        for a in self._wb().registry:
            f = a.facets
            rows.append({"id": a.id, "name": a.name, "ethnicity": f.ethnicity, "age": f.age,
                         "gender": f.gender, "images": a.image_count, "synced": a.synced,
                         "validated": (a.validated_lora_model or {}).get("version")})
        df = pd.DataFrame(rows, columns=["id", "name", "ethnicity", "age", "gender", "images",
                                         "synced", "validated"])
        df["age"] = df["age"].astype("Int64")
        return df.set_index("name")

    def actor(self, ref: str | int) -> ActorCard:
        wb = self._wb()
        a = wb.registry.get(ref)
        return ActorCard(a, wb.layout.base_image_path(a.name))

    def status(self, *refs: str | int) -> pd.DataFrame:
        """One row per image of each actor: its status in words, sizes, and why if invalid."""
        import pandas as pd

        wb = self._wb()
        plans = wb.engine.plan([wb.registry.get(r).name for r in refs])
        rows = [{"actor": n, "image": c.index, "status": c.status.label,
                 "here": c.local.size if c.local else None,
                 "in S3": c.remote.size if c.remote else None, "note": c.problem}
                for n, p in plans.items() for c in p.changes]
        df = pd.DataFrame(rows, columns=["actor", "image", "status", "here", "in S3", "note"])
        for col in ("here", "in S3"):
            df[col] = df[col].astype("Int64")
        return df

    def pull(self, *refs: str | int, all: bool = False, only: str | None = None,
             prefer: str | None = None, dry_run: bool = False, progress: bool = True
             ) -> Results:
        """Pull actors (names or ids, or ``all=True``); ``dry_run`` returns the decision."""
        return self._sync("pull", refs, all, only, prefer, dry_run, progress)

    def push(self, *refs: str | int, all: bool = False, only: str | None = None,
             prefer: str | None = None, dry_run: bool = False, progress: bool = True,
             allow_invalid: bool = False) -> Results:
        """Push actors; files that are not sound PNGs are refused unless ``allow_invalid``."""
        return self._sync("push", refs, all, only, prefer, dry_run, progress, allow_invalid)

    def _sync(self, direction: str, refs: tuple[str | int, ...], all_: bool, only: str | None,
              prefer: str | None, dry_run: bool, progress: bool,
              allow_invalid: bool = False) -> Results:
        from .sync.selection import parse_only

        wb = self._wb()
        names = [a.name for a in wb.registry.resolve([str(r) for r in refs], all_)]
        indices = parse_only(only)
        if dry_run:
            decided: dict[str, Transfers] = wb.engine.decide(names, direction, indices, prefer,
                                                             allow_invalid)
            return Results(decided)
        bars = _Bars(progress)
        try:
            if direction == "pull":
                out: dict[str, SyncSummary] = wb.engine.pull(names, indices, prefer, bars)
            else:
                out = wb.engine.push(names, indices, prefer, bars, allow_invalid=allow_invalid)
        finally:
            bars.close()
        return Results(out)

    def faces(self, ref: str | int, resolution: int = 1024, workers: int = 2
              ) -> pd.DataFrame:
        """One row per training image: finding in words, distance to the reference, pose,
        framing, face size at ``resolution``; ``df.attrs["health"]`` is the actor's line.
        Pictures are analysed once (cached by content)."""
        from .faces import identities
        from .reports.identity import image_frame

        wb = self._wb()
        name = wb.registry.get(ref).name
        return image_frame(identities(wb.layout, [name], resolution, workers=workers)[0])

    def report(self) -> CoverageReport:
        """The coverage report of the whole library (one listing of the prefix)."""
        from .reports.tables import build_report

        wb = self._wb()
        return build_report(wb.engine, wb.registry, wb.layout)


def open(data_dir: str | Path | None = None, **overrides: Any) -> Workbench:
    """A workbench from the environment and ``.env``, with optional overrides
    (``data_dir``, ``bucket``, ``prefix``, ``region``, ``endpoint_url``)."""
    from .settings import Settings
    from .workbench import Workbench

    if data_dir is not None:
        overrides["data_dir"] = Path(data_dir)
    return Workbench(Settings.from_env().with_overrides(**overrides))
