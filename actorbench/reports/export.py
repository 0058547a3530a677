"""CSV files and one self-contained HTML report (tables and plots inline)."""

from __future__ import annotations

import base64
import html
from datetime import UTC, datetime
from pathlib import Path

from ..fsutil import atomic_write_bytes
from .plots import all_pngs
from .tables import CoverageReport


def write_csvs(r: CoverageReport, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    frames = {"images": r.images, "actors": r.actors, "totals": r.totals,
              **{f"by_{k}": v for k, v in r.facets.items()}}
    for name, df in frames.items():
        path = folder / f"{name}.csv"
        atomic_write_bytes(path, df.to_csv(index=False).encode())
        out.append(path)
    return out


def to_html(r: CoverageReport, title: str = "actorbench coverage report") -> str:
    plots = all_pngs(r)
    imgs = "".join(f'<h3>{html.escape(k)}</h3><img alt="{html.escape(k)}" '
                   f'src="data:image/png;base64,{base64.b64encode(v).decode()}">'
                   for k, v in plots.items())
    facets = "".join(f"<h3>by {html.escape(k)}</h3>{v.to_html(index=False)}"
                     for k, v in r.facets.items())
    cols = ["actor", "ethnicity", "gender", "age", "synced", "s3_only", "local_only",
            "local_modified", "remote_modified", "conflict", "missing", "coverage",
            "bytes_local", "bytes_s3", "trained_versions", "validated"]
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            "</title><style>body{font-family:sans-serif;margin:2em} table{border-collapse:"
            "collapse;font-size:12px} td,th{border:1px solid #ccc;padding:2px 6px}</style>"
            f"</head><body><h1>{html.escape(title)}</h1><p>Built "
            f"{datetime.now(UTC).isoformat(timespec='seconds')}</p><h2>Totals</h2>"
            f"{r.totals.T.to_html(header=False)}<h2>Plots</h2>{imgs}<h2>Facets</h2>{facets}"
            f"<h2>Actors</h2>{r.actors[cols].to_html(index=False, float_format='%.2f')}"
            "</body></html>")


def write_html(r: CoverageReport, path: Path) -> Path:
    atomic_write_bytes(path, to_html(r).encode())
    return path
