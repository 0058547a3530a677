"""The identity tab: per actor how many pictures fit, the outliers, pose and framing coverage;
per version the likeness of its samples. Tables (pandas) and one plot (matplotlib, Agg)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure

from ..faces import ActorFaces, Finding, VersionScore

FINDING_COLOURS = {Finding.SAME: "#2e7d32", Finding.OTHER: "#c62828", Finding.NO_FACE: "#6d4c41",
                   Finding.FACES: "#ef6c00", Finding.SMALL: "#f9a825",
                   Finding.BLURRED: "#7e57c2", Finding.UNREADABLE: "#757575"}


@dataclass
class IdentityReport:
    actors: pd.DataFrame  # one row per actor
    images: pd.DataFrame  # one row per picture
    versions: pd.DataFrame = field(default_factory=pd.DataFrame)  # one row per version


def image_frame(f: ActorFaces) -> pd.DataFrame:
    """One row per picture of one actor (``wb.faces(actor)``)."""
    rows = [{"actor": f.actor, **r.to_json()} for r in f.images]
    cols = ["actor", "image", "finding", "findings", "faces", "distance", "loo", "pose",
            "framing", "face_px", "sharpness", "box"]
    df = pd.DataFrame(rows, columns=cols)
    df["findings"] = df["findings"].map(lambda w: ", ".join(w) if isinstance(w, list) else w)
    df.attrs["health"] = f.health()
    return df


def build_identity_report(found: Sequence[ActorFaces],
                          scores: dict[str, list[VersionScore]] | None = None) -> IdentityReport:
    actors = pd.DataFrame([{
        "actor": f.actor, "photographic": f.photographic, "images": len(f.images),
        "fit": f.fit if f.photographic else None,
        "outliers": sum(r.finding is Finding.OTHER for r in f.images),
        "no_face": sum(r.finding is Finding.NO_FACE for r in f.images),
        "small_or_blurred": sum(r.finding in (Finding.SMALL, Finding.BLURRED) for r in f.images),
        "poses": ", ".join(sorted({r.pose.value for r in f.images if r.pose})),
        "framings": ", ".join(sorted({r.framing.value for r in f.images if r.framing})),
        "lacks": ", ".join(f.lacks), "health": f.health()} for f in found],
        columns=["actor", "photographic", "images", "fit", "outliers", "no_face",
                 "small_or_blurred", "poses", "framings", "lacks", "health"])
    frames = [image_frame(f) for f in found if f.photographic and f.images]
    images = pd.concat(frames, ignore_index=True) if frames else image_frame(
        ActorFaces("", None, ()))
    vrows = [{"actor": a, "version": s.name, "version_id": s.version_id,
              "likeness": s.likeness, "one_face": s.one_face,
              "best_step": s.best.step if s.best else None, "gain": s.gain}
             for a, vs in (scores or {}).items() for s in vs]
    versions = pd.DataFrame(vrows, columns=["actor", "version", "version_id", "likeness",
                                            "one_face", "best_step", "gain"])
    return IdentityReport(actors, images, versions)


def identity_plot(r: IdentityReport) -> Figure:
    """Per photographic actor, its pictures by finding (stacked bars); beside it, the
    versions' likeness when there are any."""
    import matplotlib.pyplot as plt

    photo = r.images
    counts = (photo.groupby(["actor", "finding"]).size().unstack(fill_value=0)
              if len(photo) else pd.DataFrame())
    two = len(r.versions) > 0
    fig, axes = plt.subplots(1, 2 if two else 1, figsize=(11 if two else 7,
                                                          max(2.5, 0.3 * len(counts) + 1.2)))
    ax = axes[0] if two else axes
    left = pd.Series(0, index=counts.index)
    for finding in Finding:
        key = finding.name.lower()
        if key in counts:
            ax.barh(counts.index, counts[key], left=left, color=FINDING_COLOURS[finding],
                    label=finding.words())
            left = left + counts[key]
    ax.set_xlabel("pictures")
    ax.set_title("Who is in each actor's pictures")
    if len(counts):
        ax.legend(fontsize=7, loc="lower right")
    if two:
        v = r.versions.dropna(subset=["likeness"])
        labels = v["actor"].str.slice(0, 4) + " " + v["version"]
        axes[1].barh(labels, v["likeness"] * 100, color="#1565c0")
        axes[1].axvline(50, color="#999", ls="--", lw=1)
        axes[1].set_xlim(0, 100)
        axes[1].set_xlabel("likeness % (50 = same-person cut)")
        axes[1].set_title("Trained versions' samples")
    fig.tight_layout()
    return fig
