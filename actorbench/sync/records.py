"""What a sync reads from and publishes to ``response.json`` and ``actors.json``."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..actors.registry import Registry, read_json
from ..clock import now_iso
from ..errors import ActorbenchError, EnvironmentProblem, RegistryError, is_disk_full
from ..errors import describe_error as describe
from ..fsutil import atomic_write_json
from ..storage.layout import Layout, image_name_re
from ..storage.urls import format_s3_url
from .plan import OWED_TO_S3, ActorPlan, ImageStatus
from .summary import SyncSummary


def listed_indices(layout: Layout, name: str, warnings: list[str] | None = None) -> set[int]:
    """Indices that ``response.json`` says exist (for the ``missing`` status).

    A malformed file or entry is a warning for this actor (added to ``warnings``), never a
    stop: its images on disk and in S3 sync all the same, and so do other actors'.
    """
    path = layout.response_json(name)
    where = f"{path}, actor {name!r}"
    problems = warnings if warnings is not None else []
    if not path.exists():
        return set()
    try:
        data = read_json(path)
    except RegistryError as exc:
        problems.append(f"{where}: {exc.problem}; its list of images was ignored")
        return set()
    urls = data.get("s3_urls", []) if isinstance(data, dict) else None
    if not isinstance(urls, list):
        problems.append(f"{where}: s3_urls must be a list of URLs; it was ignored")
        return set()
    out = set()
    pat = image_name_re(name)
    for i, url in enumerate(urls):
        # shown and parsed without a query string: a presigned signature never reaches a log
        bare = url.split("?", 1)[0] if isinstance(url, str) else ""
        if m := pat.match(unquote(bare.rsplit("/", 1)[-1])):
            out.add(int(m.group(1)))
        else:
            shown = repr(bare[:300]) if isinstance(url, str) else \
                f"(a {type(url).__name__}, not a URL)"
            problems.append(f"{where}: s3_urls[{i}] {shown} is not an image of this actor "
                            f"({name}_<0-99999>.png); it was ignored")
    return out


def record_push(layout: Layout, registry: Registry, bucket: str, region: str,
                full: ActorPlan, done: set[int], summary: SyncSummary) -> None:
    """After uploads verify: response.json and actors.json list what S3 now holds.

    S3's content is known without another listing: what the plan listed, plus what this push
    uploaded (an object someone else adds meanwhile shows up at the next sync). Failures here
    are errors in ``summary``; the uploads stand and the next push records them.
    """
    name = full.actor
    remote = {c.index for c in full.changes if c.remote is not None} | done
    urls = [format_s3_url(bucket, region, layout.image_key(name, i)) for i in sorted(remote)]
    summary.s3_urls = urls
    pending = {c.index for c in full.changes if c.status in OWED_TO_S3
               or (c.status is ImageStatus.INVALID and c.local)}
    synced = pending <= done and not summary.conflicts and summary.failed == 0
    resp_path = layout.response_json(name)
    try:
        resp = read_json(resp_path) if resp_path.exists() else {}
        if not isinstance(resp, dict):
            raise RegistryError(resp_path, "must hold a JSON object")
    except RegistryError as exc:
        summary.error(str(resp_path), f"{exc} (left unchanged)")
    else:
        resp.update({"s3_urls": urls, "count": len(urls), "updated_at": now_iso()})
        try:
            atomic_write_json(resp_path, resp)
        except OSError as exc:  # a full disk: the uploads stand, the next push records them
            summary.error(str(resp_path), f"not updated ({describe(exc)})")
            note_environment(summary, exc, layout.data_dir)

    def change(raw: dict[str, Any]) -> None:
        old = raw.get("training_data")
        td: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
        td.update({"s3_urls": urls, "count": len(urls), "synced": synced})
        td.setdefault("local_path", str(layout.training_dir(name)))
        td.setdefault("base_image_path", str(layout.base_image_path(name)))
        raw["training_data"] = td

    try:
        registry.update(name, change)
    except (ActorbenchError, OSError) as exc:
        summary.error(str(registry.path), describe(exc))
        note_environment(summary, exc, layout.data_dir)


def note_environment(summary: SyncSummary, exc: BaseException, data_dir: Path) -> None:
    """Keep the first problem of the machine, not of the input, that stopped a transfer."""
    if summary.environment:
        return
    if is_disk_full(exc):
        summary.environment = (f"The disk holding {data_dir} is full "
                               f"({exc.strerror}).")  # type: ignore[attr-defined]
    elif isinstance(exc, EnvironmentProblem):
        summary.environment = str(exc)
    elif isinstance(exc, OSError):  # a folder that cannot be written, a failing disk
        where = f" ({exc.filename})" if exc.filename else ""
        summary.environment = f"{exc.strerror or exc}{where}."
