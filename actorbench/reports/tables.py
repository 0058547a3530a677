"""Coverage DataFrames built from sync plans: per image, per actor, totals, per facet."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from ..actors.registry import Registry
from ..errors import UnsafePathError
from ..storage.layout import Layout
from ..sync.engine import SyncEngine
from ..sync.manifest import Manifest
from ..sync.plan import ActorPlan, ImageStatus, in_s3

STATUS_COLS = [s.value for s in ImageStatus]
#: what the pages call the columns (the DataFrames, CSVs and notebooks keep the names)
COLUMN_TITLES = {
    "actor": "Actor", "id": "Id", "ethnicity": "Ethnicity", "gender": "Gender", "age": "Age",
    "age_band": "Age band", "images": "Images", "images_s3": "Images in S3",
    "images_local": "Images here", "images_backed_up": "Images backed up",
    "downloaded": "Downloaded here",
    "backed_up": "Backed up in S3", "coverage": "Synced of those in S3",
    "bytes_local": "Size here", "bytes_s3": "Size in S3", "last_sync": "Last sync",
    "trained_versions": "Trainings", "validated": "Validated model",
    **{s.value: s.label for s in ImageStatus},
}


def share(part: int, whole: int) -> float:
    """``part / whole``; NaN when there is nothing to measure (no images at all)."""
    return part / whole if whole else float("nan")


def trained_versions(layout: Layout, actor_id: str | int) -> int:
    """How many training versions an actor has (0 when the file is absent or unreadable, or
    the id cannot name a file: one odd actor must not stop the library's report)."""
    try:
        data = json.loads(layout.versions_path(actor_id).read_text())
        versions = data.get("versions", []) if isinstance(data, dict) else []
        return len(versions) if isinstance(versions, list) else 0
    except (OSError, ValueError, RecursionError, UnsafePathError):
        return 0


@dataclass
class CoverageReport:
    """The four tables of a coverage report.

    Usage::

        report = build_report(wb.engine, wb.registry, wb.layout)
        report.actors.sort_values("coverage").head()
    """

    images: pd.DataFrame
    actors: pd.DataFrame
    totals: pd.DataFrame
    facets: dict[str, pd.DataFrame]


def image_rows(plans: dict[str, ActorPlan]) -> pd.DataFrame:
    rows = []
    for name, plan in plans.items():
        for c in plan.changes:
            rows.append({
                "actor": name, "index": c.index, "key": c.key, "status": c.status.value,
                "local_size": c.local.size if c.local else pd.NA,
                "s3_size": c.remote.size if c.remote else pd.NA,
                "etag": c.remote.etag if c.remote else None,
                "local_mtime": pd.Timestamp(c.local.mtime_ns, unit="ns", tz="UTC")
                if c.local else pd.NaT,
                "s3_modified": pd.Timestamp(c.remote.last_modified)
                if c.remote and c.remote.last_modified else pd.NaT,
            })
    cols = ["actor", "index", "key", "status", "local_size", "s3_size", "etag", "local_mtime",
            "s3_modified"]
    df = pd.DataFrame(rows, columns=cols)
    df["local_size"] = df["local_size"].astype("Int64")
    df["s3_size"] = df["s3_size"].astype("Int64")
    return df


def build_report(engine: SyncEngine, registry: Registry, layout: Layout,
                 plans: dict[str, ActorPlan] | None = None) -> CoverageReport:
    """One listing of the library prefix, then pure pandas."""
    names = [a.name for a in registry]
    plans = plans if plans is not None else engine.plan(names)
    images = image_rows(plans)
    rows = []
    for a in registry:
        plan = plans.get(a.name, ActorPlan(a.name))
        counts = plan.counts()
        s3 = sum(1 for c in plan.changes if c.remote is not None)
        # an image "exists" when some side holds it; MISSING ones (listed, held nowhere) do not
        anywhere = sum(1 for c in plan.changes if c.local is not None or c.remote is not None)
        local = sum(1 for c in plan.changes if c.local is not None)
        backed_up = sum(1 for c in plan.changes if in_s3(c))
        f = a.facets
        rows.append({
            "actor": a.name, "id": a.id, "ethnicity": f.ethnicity, "gender": f.gender,
            "age": f.age, "age_band": f.age_band, **counts, "images_s3": s3,
            "images_local": local, "images": anywhere, "images_backed_up": backed_up,
            # two plain measures: a copy here, and this very content safe in S3
            "downloaded": share(local, anywhere), "backed_up": share(backed_up, anywhere),
            "coverage": counts["synced"] / s3 if s3 else float("nan"),
            "bytes_local": plan.local_bytes, "bytes_s3": plan.remote_bytes,
            "last_sync": pd.Timestamp(Manifest.load(layout.manifest_path(a.name)).last_sync)
            if layout.manifest_path(a.name).exists() else pd.NaT,
            "trained_versions": trained_versions(layout, a.id),
            "validated": a.has_validated_model,
        })
    actors = pd.DataFrame(rows)
    if not actors.empty:
        actors["last_sync"] = pd.to_datetime(actors["last_sync"], utc=True)
    with_images = actors[actors["images_s3"] > 0] if not actors.empty else actors
    imaged = actors[actors["images"] > 0] if not actors.empty else actors
    anywhere = int(actors["images"].sum()) if not actors.empty else 0
    totals = pd.DataFrame([{
        "actors": len(actors),
        "actors_with_images": int((actors[["images_s3", "images_local"]].sum(axis=1) > 0).sum())
        if not actors.empty else 0,
        "images_s3": int(actors["images_s3"].sum()) if not actors.empty else 0,
        "images_local": int(actors["images_local"].sum()) if not actors.empty else 0,
        "images": anywhere,
        **{s: int(actors[s].sum()) if not actors.empty else 0 for s in STATUS_COLS},
        "coverage": (with_images["synced"].sum() / with_images["images_s3"].sum())
        if len(with_images) else float("nan"),
        "downloaded": share(int(actors["images_local"].sum()) if not actors.empty else 0,
                            anywhere),
        "backed_up": share(int(actors["images_backed_up"].sum()) if not actors.empty else 0,
                           anywhere),
        # every image it has is here and in S3, the same
        "fully_synced_actors": int((imaged["synced"] == imaged["images"]).sum()),
        "bytes_local": int(actors["bytes_local"].sum()) if not actors.empty else 0,
        "bytes_s3": int(actors["bytes_s3"].sum()) if not actors.empty else 0,
        "trained_actors": int((actors["trained_versions"] > 0).sum()) if not actors.empty else 0,
        "validated_actors": int(actors["validated"].sum()) if not actors.empty else 0,
    }])
    facets = {}
    for facet in ("ethnicity", "gender", "age_band"):
        if actors.empty:
            facets[facet] = pd.DataFrame()
            continue
        g = actors.groupby(facet, dropna=False)
        facets[facet] = pd.DataFrame({
            "actors": g.size(),
            "with_images": g["images_s3"].apply(lambda s: int((s > 0).sum())),
            "images_s3": g["images_s3"].sum(),
            "synced": g["synced"].sum(),
            "validated": g["validated"].sum(),
        }).reset_index()
    return CoverageReport(images, actors, totals, facets)
