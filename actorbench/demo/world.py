"""The demo world: 287 actors, portraits for a subset, in S3 and partly on disk, every status."""

from __future__ import annotations

import json
import random
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from ..actors.model import Actor, Facets
from ..actors.registry import Registry
from ..clock import now_iso
from ..fsutil import atomic_write_bytes, atomic_write_json
from ..storage.base import ObjectStore
from ..storage.layout import Layout
from ..storage.urls import format_s3_url
from ..sync.config import SyncConfig
from ..sync.engine import SyncEngine
from .portraits import Identity, draw_portrait, png_bytes

ETHNICITIES = ["european", "african", "east_asian", "south_asian", "latino", "middle_eastern",
               "southeast_asian", "pacific_islander"]
GENDERS = ["female", "male"]
SCENARIOS = ["synced", "s3_only", "partial", "local_only", "local_modified", "remote_modified",
             "missing", "conflict"]
MARKER = ".demo-world.json"
DEMO_VERSION = 2  # 2: photo actors, stocked actors and a base image for every actor
STOCK_SIZE = 384  # stocked actors' pictures and the bare actors' base images: cheap to draw


def demo_names(count: int = 287, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(1, count + 1):
        eth = rng.choices(ETHNICITIES, weights=[5, 3, 3, 2, 3, 2, 2, 1])[0]
        age = rng.choice(list(range(18, 76)))
        out.append(f"{i:04d}_{eth}_{age}_{rng.choice(GENDERS)}")
    return out


def base_key(layout: Layout, name: str) -> str:
    return f"{layout.actor_prefix(name)}base_image/{name}_base.png"


def _render(args: tuple[str, int, int]) -> bytes:
    name, variant, size = args
    f = Facets.from_name(name)
    return png_bytes(draw_portrait(Identity.for_actor(name, f.ethnicity, f.gender, f.age),
                                   variant, size))


@dataclass
class DemoWorld:
    """Where each imaged actor's scenario is, so tests know what to expect.

    Scenarios: the sync ones (``SCENARIOS``), ``"photos"`` (an actor made from real
    photographs, synced, with ``planted`` pictures: index -> what) and ``"stocked"`` (a
    painted set in S3 only)."""

    names: list[str]
    scenarios: dict[str, str]
    image_counts: dict[str, int]
    planted: dict[str, dict[int, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def build_demo(layout: Layout, store: ObjectStore, region: str, actors: int = 287, imaged: int = 24,
               size: int = 768, force: bool = False, processes: int = 2, stocked: int = 64,
               photos: bool = True) -> DemoWorld:
    """Create (or keep) the demo library. Running it twice is harmless.

    ``imaged`` actors get a painted set in every sync scenario; with ``photos``, three more are
    made from real photographs (each with an intruder, a picture without a face and a small
    face); ``stocked`` more get a small painted set in S3 only; every actor a base image."""
    marker = layout.data_dir / MARKER
    store.ensure_bucket()
    if marker.exists() and not force:
        info = json.loads(marker.read_text())
        if info.get("version") == DEMO_VERSION and any(True for _ in store.list(layout.prefix)):
            return DemoWorld(info["names"], info["scenarios"], info["image_counts"],
                             {n: {int(k): v for k, v in p.items()}
                              for n, p in info.get("planted", {}).items()})
    names = demo_names(actors)
    rng = random.Random(11)
    chosen = sorted(rng.sample(range(actors), min(imaged, actors)))
    imaged_names = [names[i] for i in chosen]
    scenarios = {n: SCENARIOS[k % len(SCENARIOS)] for k, n in enumerate(imaged_names)}
    counts = {n: rng.randint(14, 20) for n in imaged_names}
    rest = [n for n in names if n not in scenarios]
    notes: list[str] = []
    photo_sets = _photo_sets(rest, notes) if photos else {}
    rest = [n for n in rest if n not in photo_sets]
    extra = random.Random(13)
    stocked_names = sorted(extra.sample(rest, min(stocked, len(rest))))
    stock_counts = {n: extra.randint(8, 12) for n in stocked_names}
    bare = [n for n in rest if n not in stock_counts]

    jobs = [(n, v, 1024 if v == 0 else size) for n in imaged_names
            for v in range(0, counts[n] + 1)]
    jobs += [(n, v, STOCK_SIZE) for n in stocked_names for v in range(0, stock_counts[n] + 1)]
    jobs += [(n, 0, STOCK_SIZE) for n in bare]
    if processes > 1:
        with ProcessPoolExecutor(processes) as pool:
            rendered = dict(zip([(j[0], j[1]) for j in jobs], pool.map(_render, jobs,
                                                                       chunksize=8), strict=True))
    else:
        rendered = {(j[0], j[1]): _render(j) for j in jobs}

    # S3 side: every actor with a set except the local-only scenario's extra images (a bare
    # actor's base image stays local: in S3 it would look like the start of a set).
    uploads = []
    for n, base, images in _photo_items(photo_sets):
        rendered[(n, 0)] = base
        for i, data in enumerate(images):
            rendered[(n, i + 1)] = data
        scenarios[n], counts[n] = "photos", len(images)
    for n in stocked_names:
        scenarios[n], counts[n] = "stocked", stock_counts[n]
    for n in scenarios:
        uploads.append((base_key(layout, n), rendered[(n, 0)]))
        for i in range(counts[n]):
            uploads.append((layout.image_key(n, i), rendered[(n, i + 1)]))
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kv: store.put_bytes(*kv), uploads))

    # The registry: imaged actors have training data; a few carry a validated model.
    actors_out = []
    for k, n in enumerate(names):
        a = Actor(id=int(n[:4]), name=n, extra={"description": f"Demo actor {n}"})
        if n in scenarios:
            urls = [format_s3_url(store.bucket, region, layout.image_key(n, i))
                    for i in range(counts[n])]
            a.training_data = {"s3_urls": urls, "local_path": str(layout.training_dir(n)),
                               "base_image_path": str(layout.base_image_path(n)),
                               "count": counts[n], "synced": scenarios[n] in ("synced", "photos")}
            if k % 3 == 0 and scenarios[n] == "synced":
                a.validated_lora_model = {"version_id": "demo-v1", "version_name": "v1",
                                          "lora_url": f"s3://{store.bucket}/loras/{n}/v1.safetensors",
                                          "marked_at": now_iso(), "parameters": {}}
        actors_out.append(a)
    registry = Registry(layout.data_dir / "actors.json", actors_out)
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    registry.save()

    # Local side: base images everywhere, then pull what each scenario keeps on disk.
    for n in bare:
        atomic_write_bytes(layout.base_image_path(n), rendered[(n, 0)], durable=False)
    for n in scenarios:
        atomic_write_bytes(layout.base_image_path(n), rendered[(n, 0)])
        atomic_write_json(layout.request_json(n), {"actor": n, "source": "actorbench demo",
                                                   "runs": []})
        atomic_write_json(layout.response_json(n), {"s3_urls": registry.get(n).s3_urls,
                                                    "count": counts[n]})
        atomic_write_json(layout.poster_json(n), {"poster_urls": []})
    engine = SyncEngine(store, layout, registry, region=region, config=SyncConfig(workers=16))
    pull_all = [n for n in scenarios if scenarios[n] not in ("s3_only", "partial", "stocked")]
    if pull_all:
        engine.pull(pull_all)
    for n in imaged_names:
        if scenarios[n] == "partial":
            engine.pull([n], only=set(range(0, counts[n], 2)))
    for n in imaged_names:
        _apply_scenario(n, scenarios[n], counts[n], layout, store, rendered)
    planted = {n: s[2] for n, s in photo_sets.items()}
    everyone = list(scenarios)
    atomic_write_json(marker, {"version": DEMO_VERSION, "names": everyone,
                               "scenarios": scenarios, "image_counts": counts,
                               "planted": planted})
    return DemoWorld(everyone, scenarios, counts, planted, notes)


def _photo_sets(names: list[str], notes: list[str]
                ) -> dict[str, tuple[bytes, list[bytes], dict[int, str]]]:
    """The photo actors, or none (said in ``notes``) when the photographs cannot be had."""
    from .photo_actors import build_sets
    from .photos import PhotosUnavailable

    try:
        return build_sets(names)
    except PhotosUnavailable as e:
        notes.append(f"demo without photo actors: {e}")
        return {}


def _photo_items(sets: dict[str, tuple[bytes, list[bytes], dict[int, str]]]
                 ) -> list[tuple[str, bytes, list[bytes]]]:
    return [(n, base, images) for n, (base, images, _) in sets.items()]


def _variant(data: bytes, shift: int) -> bytes:
    """Same size class, different content: how a retouched image looks to sync."""
    import io
    img = Image.open(io.BytesIO(data)).convert("RGB")
    img.putpixel((shift, shift), (255, 0, 0))
    img.paste((255 - shift % 255, 40, 40), (10, 10, 40 + shift, 40))
    return png_bytes(img)


def _apply_scenario(n: str, scenario: str, count: int, layout: Layout, store: ObjectStore,
                    rendered: dict[tuple[str, int], bytes]) -> None:
    if scenario == "local_only":
        for extra in range(count, count + 3):
            atomic_write_bytes(layout.image_path(n, extra),
                               _variant(rendered[(n, 1 + extra % count)], extra))
    elif scenario == "local_modified":
        for i in (1, 2):
            atomic_write_bytes(layout.image_path(n, i), _variant(rendered[(n, i + 1)], 5 + i))
    elif scenario == "remote_modified":
        for i in (0, 3):
            store.put_bytes(layout.image_key(n, i), _variant(rendered[(n, i + 1)], 9 + i))
    elif scenario == "missing":
        path = layout.response_json(n)
        resp: dict[str, Any] = json.loads(path.read_text())
        resp["s3_urls"] = resp["s3_urls"] + [
            format_s3_url(store.bucket, "us-west-1", layout.image_key(n, i))
            for i in (count, count + 1)]
        atomic_write_json(path, resp)
    elif scenario == "conflict":
        atomic_write_bytes(layout.image_path(n, 0), _variant(rendered[(n, 1)], 21))
        store.put_bytes(layout.image_key(n, 0), _variant(rendered[(n, 1)], 33))
