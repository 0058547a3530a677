"""Matplotlib figures of a coverage report (Agg backend: no display needed)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from ..present.palette import IMAGE, NEUTRAL, colour
from ..sync.plan import ImageStatus
from .tables import STATUS_COLS, CoverageReport

#: the pages' badge colours (``actorbench.present.palette``), by status value
COLORS = {s.value: sw.colour for s, sw in IMAGE.items()}
SYNCED, S3, LOCAL = (colour(ImageStatus.SYNCED), colour(ImageStatus.S3_ONLY),
                     colour(ImageStatus.LOCAL_ONLY))


def coverage_per_actor(r: CoverageReport) -> Figure:
    df = r.actors[r.actors["images_s3"] + r.actors["images_local"] > 0]
    df = df.sort_values(["coverage", "actor"], na_position="first")
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.22 * len(df) + 1)))
    ax.barh(df["actor"], df["coverage"].fillna(0) * 100, color=SYNCED)
    ax.set_xlim(0, 100)
    ax.set_xlabel("coverage: % of S3 images present and identical locally")
    ax.set_title(f"Sync coverage per actor ({len(df)} actors with images)")
    ax.tick_params(axis="y", labelsize=7)
    fig.tight_layout()
    return fig


def status_mix(r: CoverageReport) -> Figure:
    df = r.actors[r.actors[STATUS_COLS].sum(axis=1) > 0].set_index("actor")[STATUS_COLS]
    df = df.loc[:, df.sum() > 0]
    fig, ax = plt.subplots(figsize=(9.5, max(2.5, 0.22 * len(df) + 1)))
    left = None
    for col in df.columns:
        swatch = IMAGE[ImageStatus(col)]
        ax.barh(df.index, df[col], left=left, color=swatch.colour, hatch=swatch.hatch or None,
                edgecolor="white", linewidth=0.3, label=swatch.label)
        left = df[col] if left is None else left + df[col]
    ax.set_xlabel("images")
    ax.set_title("Status mix per actor")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig


def facet_balance(r: CoverageReport) -> Figure:
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, facet in zip(axes, ("ethnicity", "gender", "age_band"), strict=True):
        df = r.facets[facet]
        if df.empty:
            continue
        x = range(len(df))
        ax.bar(x, df["actors"], color=NEUTRAL, label="actors")
        ax.bar(x, df["with_images"], color=S3, label="with images")
        ax.bar(x, df["validated"], color=SYNCED, label="validated model")
        ax.set_xticks(list(x), [str(v) for v in df[facet]], rotation=40, ha="right", fontsize=8)
        ax.set_title(f"by {facet.replace('_', ' ')}")
    axes[0].legend(fontsize=7)
    fig.suptitle("Library balance across facets")
    fig.tight_layout()
    return fig


def storage_used(r: CoverageReport) -> Figure:
    df = r.actors[(r.actors["bytes_local"] + r.actors["bytes_s3"]) > 0].sort_values("bytes_s3")
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.22 * len(df) + 1)))
    y = range(len(df))
    ax.barh([i - 0.2 for i in y], df["bytes_s3"] / 2**20, height=0.4, label="S3",
            color=S3)
    ax.barh([i + 0.2 for i in y], df["bytes_local"] / 2**20, height=0.4, label="local",
            color=LOCAL)
    ax.set_yticks(list(y), list(df["actor"]), fontsize=7)
    ax.set_xlabel("MiB")
    ax.set_title("Storage used")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def training_coverage(r: CoverageReport) -> Figure:
    a = r.actors
    buckets = {
        "no images": int(((a["images_s3"] + a["images_local"]) == 0).sum()),
        "images, untrained": int(((a["images_s3"] + a["images_local"] > 0)
                                  & (a["trained_versions"] == 0) & ~a["validated"]).sum()),
        "trained, not validated": int(((a["trained_versions"] > 0) & ~a["validated"]).sum()),
        "validated model": int(a["validated"].sum()),
    }
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar(list(buckets), list(buckets.values()),
           color=[NEUTRAL, S3, colour(ImageStatus.LOCAL_MODIFIED), SYNCED])
    for i, v in enumerate(buckets.values()):
        ax.text(i, v, str(v), ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("actors")
    ax.set_title("Training coverage")
    fig.tight_layout()
    return fig


def loss_points(raw: object) -> list[tuple[float, float]]:
    """``[[step, loss], ...]`` from a record as finite number pairs (anything else dropped:
    the record is a file anyone may have edited)."""
    import math

    out = []
    for item in raw if isinstance(raw, list) else []:
        if (isinstance(item, list | tuple) and len(item) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool)
                        and math.isfinite(x) for x in item)):
            out.append((float(item[0]), float(item[1])))
    return sorted(out)


def loss_curve(raw: object, title: str = "Training loss") -> Figure | None:
    """A version's loss per step; None with fewer than two points. Built without pyplot, so
    pages may draw it from a background thread."""
    points = loss_points(raw)
    if len(points) < 2:
        return None
    fig = Figure(figsize=(4.2, 2.4))
    ax = fig.add_subplot()
    ax.plot([p[0] for p in points], [p[1] for p in points], color=SYNCED, linewidth=1.6)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title.replace("$", r"\$")[:80], fontsize=10)  # "$" would start mathtext
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


PLOTS = {"coverage": coverage_per_actor, "status_mix": status_mix, "facets": facet_balance,
         "storage": storage_used, "training": training_coverage}


def png(fig: Figure, dpi: int = 90) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def all_pngs(r: CoverageReport) -> dict[str, bytes]:
    return {name: png(fn(r)) for name, fn in PLOTS.items()}
