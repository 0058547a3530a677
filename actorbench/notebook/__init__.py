"""The notebook API: what a JupyterLab user types, with DataFrames, tqdm bars and rich reprs.

``Notebook`` is a ``Workbench`` with the conveniences; ``open()`` builds one and registers the
reprs with IPython (``notebook.reprs``); ``%load_ext actorbench.notebook`` registers them alone.

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

from ..present.progress import TqdmProgress
from ..workbench import Workbench
from . import reprs

if TYPE_CHECKING:
    import pandas as pd

    from ..actors.model import Actor
    from ..reports.tables import CoverageReport
    from ..sync.decide import Transfers
    from ..sync.summary import SyncSummary


@dataclass(frozen=True)
class ActorCard:
    """An actor with its base image, as a card in JupyterLab."""

    actor: Actor
    base_image: Path | None

    def _repr_html_(self) -> str:
        return reprs.actor_html(self.actor, self.base_image)


class Results(dict):
    """Per-actor results (summaries or decisions) that render as one block."""

    def _repr_html_(self) -> str:
        return "".join(reprs.html_of(v) for v in self.values())


class Notebook(Workbench):
    """The workbench ``ab.open()`` returns: DataFrames, sync with bars, cards."""

    @property
    def actors(self) -> pd.DataFrame:
        """Every actor of ``actors.json``: id, name, facets, images listed, synced, validated."""
        import pandas as pd

        rows = []
        for a in self.registry:
            f = a.facets
            rows.append({"id": a.id, "name": a.name, "ethnicity": f.ethnicity, "age": f.age,
                         "gender": f.gender, "images": a.image_count, "synced": a.synced,
                         "validated": (a.validated_lora_model or {}).get("version")})
        df = pd.DataFrame(rows, columns=["id", "name", "ethnicity", "age", "gender", "images",
                                         "synced", "validated"])
        df["age"] = df["age"].astype("Int64")
        return df.set_index("name")

    def actor(self, ref: str | int) -> ActorCard:
        a = self.registry.get(ref)
        return ActorCard(a, self.layout.base_image_path(a.name))

    def status(self, *refs: str | int) -> pd.DataFrame:
        """One row per image of each actor: its status in words, sizes, and why if invalid."""
        import pandas as pd

        plans = self.engine.plan([self.registry.get(r).name for r in refs])

        def caption(p: Any, i: int) -> str:
            c = p.caption_of(i)
            return c.status.label if c is not None else "none"

        rows = [{"actor": n, "image": c.index, "status": c.status.label,
                 "caption": caption(p, c.index),
                 "here": c.local.size if c.local else None,
                 "in S3": c.remote.size if c.remote else None, "note": c.problem}
                for n, p in plans.items() for c in p.changes]
        df = pd.DataFrame(rows, columns=["actor", "image", "status", "caption", "here", "in S3",
                                         "note"])
        for col in ("here", "in S3"):
            df[col] = df[col].astype("Int64")
        return df

    def captions(self, ref: str | int) -> pd.DataFrame:
        """One row per image of the actor: its caption, who wrote it and when, the caption's
        sync state, and the draft used where there is none."""
        import pandas as pd

        from ..captions import CaptionStore
        from ..captions.service import CaptionService
        from ..faces.service import face_words

        store = CaptionStore(self.layout, str(self.settings.who))
        table = CaptionService(self.registry, self.engine, store,
                               describe=face_words(self.layout)).table(str(ref))
        rows = [{"image": r.index, "caption": r.caption.text if r.caption else None,
                 "by": str(r.caption.author) if r.caption else None,
                 "at": r.caption.at if r.caption else None,
                 "caption status": r.caption_status, "image status": r.image_status,
                 "draft": r.draft, "note": r.caption.problem if r.caption else ""}
                for r in table.rows]
        df = pd.DataFrame(rows, columns=["image", "caption", "by", "at", "caption status",
                                         "image status", "draft", "note"])
        df.attrs["trigger_word"] = table.trigger
        return df.set_index("image")

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
        from ..sync.selection import parse_only

        names = [a.name for a in self.registry.resolve([str(r) for r in refs], all_)]
        indices = parse_only(only)
        if dry_run:
            decided: dict[str, Transfers] = self.engine.decide(names, direction, indices, prefer,
                                                             allow_invalid)
            return Results(decided)
        bars = TqdmProgress(progress, notebook=True)
        try:
            if direction == "pull":
                out: dict[str, SyncSummary] = self.engine.pull(names, indices, prefer, bars)
            else:
                out = self.engine.push(names, indices, prefer, bars, allow_invalid=allow_invalid)
        finally:
            bars.close()
        return Results(out)

    def faces(self, ref: str | int, resolution: int = 1024, workers: int = 2
              ) -> pd.DataFrame:
        """One row per training image: finding in words, distance to the reference, pose,
        framing, face size at ``resolution``; ``df.attrs["health"]`` is the actor's line.
        Pictures are analysed once (cached by content)."""
        from ..faces import identities
        from ..reports.identity import image_frame

        name = self.registry.get(ref).name
        return image_frame(identities(self.layout, [name], resolution, workers=workers)[0])

    def report(self) -> CoverageReport:
        """The coverage report of the whole library (one listing of the prefix)."""
        from ..reports.tables import build_report

        return build_report(self.engine, self.registry, self.layout)


def open(data_dir: str | Path | None = None, **overrides: Any) -> Notebook:
    """A notebook workbench from the environment and ``.env``, with optional overrides
    (``data_dir``, ``bucket``, ``prefix``, ``region``, ``endpoint_url``); in IPython, the
    actors, plans, decisions and summaries render as HTML from then on."""
    from ..settings import Settings

    if data_dir is not None:
        overrides["data_dir"] = Path(data_dir)
    nb = Notebook(Settings.from_env().with_overrides(**overrides))
    reprs.install()
    return nb


def load_ipython_extension(ip: Any) -> None:
    """``%load_ext actorbench.notebook``: the HTML reprs without opening a workbench."""
    reprs.install(ip)
