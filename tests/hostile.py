"""A library whose files and objects carry markup in every field they can, for escaping tests.

``plant(wb)`` adds two actors whose ``actors.json`` entries, training records, request and
response files, saved parameters, training folder and S3 prefix hold ``PAYLOAD``; rendered
as HTML it would run script (``window.__pwned``) and add ``#ab-injected``. ``Planted.remove``
puts the library back as it was.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from actorbench.demo.portraits import Identity, draw_portrait, png_bytes
from actorbench.fsutil import atomic_write_json
from actorbench.training import TrainingParams
from actorbench.workbench import Workbench

MARK = '<b id="ab-injected">'
PAYLOAD = (f'"><img src=x onerror="window.__pwned=1">{MARK}INJ</b>'
           '<script>window.__pwned=1</script><svg onload="window.__pwned=1">')
#: the trigger word is at most 64 characters
TRIGGER = '<img src=x onerror="window.__pwned=1">'
#: file names a training folder or an S3 prefix may hold ('/' is the one character refused)
BAD_NAMES = ('<svg onload="window.__pwned=1">.png', "<img src=x onerror=window.__pwned=1>.png")

DATA_ACTOR = "9901_hostile_30_female"  # a plain name (names are checked): markup everywhere else
ID_ACTOR = "9902_hostile_31_male"  # its id is markup


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def assert_inert(markup: str) -> None:
    """Parsed as a browser would, ``markup`` has no element or attribute the payload brings:
    no script, svg, event handler, ``#ab-injected``, or image other than our own thumbnails."""
    parser = _Elements()
    parser.feed(markup)
    parser.close()
    for tag, attrs in parser.found:
        where = (tag, attrs, markup[:200])
        assert tag not in ("script", "svg", "iframe", "object", "embed"), where
        assert not any(name.startswith("on") for name in attrs), where
        assert attrs.get("id") != "ab-injected", where
        assert tag != "img" or (attrs.get("src") or "").startswith("data:image/"), where
        assert not (attrs.get("href") or "").strip().lower().startswith("javascript:"), where


@dataclass
class Planted:
    wb: Workbench
    registry_before: str
    paths: list[Path] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def remove(self) -> None:
        atomic_write_json(self.wb.settings.registry_path, json.loads(self.registry_before))
        for p in self.paths:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        for key in self.keys:
            with contextlib.suppress(Exception):
                self.wb.store.delete(key)


def _portrait(name: str, variant: int, size: int = 256) -> bytes:
    return png_bytes(draw_portrait(Identity.for_actor(name, "european", "female", 30), variant,
                                   size))


def versions() -> list[dict[str, object]]:
    """A training record as someone with an editor (or a hostile server) could leave it."""
    return [
        {"id": "a1", "name": PAYLOAD, "created_at": PAYLOAD, "status": PAYLOAD,
         "job_id": PAYLOAD, "lora_url": "javascript:" + PAYLOAD, "error": PAYLOAD,
         "parameters": {"base_model": PAYLOAD, "max_train_steps": PAYLOAD,
                        "trigger_word": PAYLOAD},
         "images": [{"key": PAYLOAD, "etag": PAYLOAD}], "timings": {"x": PAYLOAD},
         "progress": {"progress": PAYLOAD, "message": PAYLOAD}, "estimate": {"gpu": PAYLOAD}},
        {"id": "a2", "name": "v2", "created_at": "2026-01-01T00:00:00Z", "status": "COMPLETED",
         "job_id": "job-2", "lora_url": "javascript:alert(1)//" + PAYLOAD,
         "parameters": {"base_model": "sdxl", "max_train_steps": PAYLOAD}, "images": []},
        {"id": "a3", "name": "v3", "created_at": "2026-01-02T00:00:00Z", "status": "IN_PROGRESS",
         "job_id": PAYLOAD, "parameters": {"base_model": "sdxl", "max_train_steps": 900},
         "images": [], "progress": {"progress": 0.5, "message": PAYLOAD}},
    ]


def plant(wb: Workbench) -> Planted:
    reg_path = wb.settings.registry_path
    before = reg_path.read_text()
    planted = Planted(wb, before)
    lay, prefix = wb.layout, wb.layout.actor_prefix(DATA_ACTOR)
    raw = json.loads(before)
    raw += [
        {"id": 9901, "name": DATA_ACTOR, "notes": PAYLOAD,
         "metadata": {"bio": PAYLOAD, PAYLOAD: [PAYLOAD]},
         "training_data": {"s3_urls": [f"s3://{wb.settings.bucket}/{prefix}{PAYLOAD}.png"],
                           "count": 2, "synced": False, "note": PAYLOAD},
         "validated_lora_model": {"version_id": PAYLOAD, "version_name": PAYLOAD,
                                  "lora_url": "javascript:" + PAYLOAD, "marked_at": PAYLOAD,
                                  "parameters": {"trigger_word": PAYLOAD}}},
        {"id": PAYLOAD, "name": ID_ACTOR, "training_data": {"note": PAYLOAD}},
    ]
    for name in (DATA_ACTOR, ID_ACTOR):
        planted.paths.append(lay.actor_dir(name))
    ledger = lay.versions_path(9901)
    planted.paths.append(ledger)
    ledger.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(ledger, {"versions": versions()})
    training = lay.training_dir(DATA_ACTOR)
    training.mkdir(parents=True, exist_ok=True)
    base = lay.base_image_path(DATA_ACTOR)
    base.parent.mkdir(parents=True, exist_ok=True)
    base.write_bytes(_portrait(DATA_ACTOR, 0, 384))
    lay.image_path(DATA_ACTOR, 0).write_bytes(_portrait(DATA_ACTOR, 1))
    for bad in BAD_NAMES:
        (training / bad).write_bytes(_portrait(DATA_ACTOR, 2))
    atomic_write_json(lay.response_json(DATA_ACTOR), {
        "s3_urls": [PAYLOAD, f"s3://{wb.settings.bucket}/{prefix}{PAYLOAD}"], "count": PAYLOAD,
        "note": PAYLOAD})
    atomic_write_json(lay.request_json(DATA_ACTOR), {
        "prompt": PAYLOAD, "generation_runs": [{"backend": PAYLOAD, "images": [PAYLOAD]}]})
    atomic_write_json(lay.actor_dir(DATA_ACTOR) / "training_params.json",
                      TrainingParams.from_preset("sdxl", trigger_word=TRIGGER).model_dump())
    for key, data in ((lay.image_key(DATA_ACTOR, 1), _portrait(DATA_ACTOR, 3)),
                      *((prefix + bad, b"<svg onload=window.__pwned=1>") for bad in BAD_NAMES)):
        wb.store.put_bytes(key, data)
        planted.keys.append(key)
    # actors.json last: an app watching it sees the actors with everything already in place
    atomic_write_json(reg_path, raw)
    wb.reload_registry()
    return planted
