"""The model store: base models, text encoders, the AE and tokenizers in one place, checked.

Layout (a RunPod network volume, mounted at ``/runpod-volume`` on serverless workers)::

    actorbench-models/
      manifest.json          {"files": {"<relative path>": {"size": int, "sha256": "<hex>"}}}
      sd15/v1-5-pruned-emaonly.safetensors
      sdxl/sd_xl_base_1.0.safetensors
      flux1-dev/flux1-dev.safetensors, ae.safetensors, clip_l.safetensors, t5xxl_fp16.safetensors
      tokenizers/            a Hugging Face cache (sd-scripts' --tokenizer_cache_dir)

Every job checks the files its base model needs exist with the manifest's size (seconds, not
the minutes a trainer takes to fail); the SHA-256 of each file is checked the first time it is
used and remembered in ``.verified/`` (by size and mtime), so a file replaced or corrupted later
is hashed again.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from .trainer import MODEL_FILES, TOKENIZER_DIR


class StoreError(Exception):
    """A model file missing or not the one the manifest names; the message names it."""


def manifest(store: Path) -> dict[str, dict[str, Any]]:
    path = store / "manifest.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise StoreError(f"the model store has no manifest: {path} is missing (see "
                         "docs/runpod-worker.md, Model store)") from None
    except ValueError as exc:
        raise StoreError(f"{path} is not valid JSON ({exc})") from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise StoreError(f"{path} has no \"files\" object")
    return files


def check(store: Path, base_model: str) -> list[Path]:
    """The model files ``base_model`` needs, each present and as the manifest says."""
    files = manifest(store)
    needed = list(MODEL_FILES[base_model].values())
    if not (store / TOKENIZER_DIR).is_dir():
        raise StoreError(f"model store: {store / TOKENIZER_DIR} is missing (the tokenizers' "
                         "cache; the hub is not reached during a job)")
    out = []
    for rel in needed:
        path = store / rel
        entry = files.get(rel)
        if not isinstance(entry, dict):
            raise StoreError(f"model store: {rel} is not in manifest.json")
        if not path.is_file():
            raise StoreError(f"model store: {path} is missing")
        st = path.stat()
        if st.st_size != entry.get("size"):
            raise StoreError(f"model store: {path} is {st.st_size} bytes, the manifest says "
                             f"{entry.get('size')} (an incomplete copy?)")
        mark = store / ".verified" / (rel.replace("/", "__") + ".json")
        stamp = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": entry.get("sha256")}
        try:
            known = json.loads(mark.read_text())
        except (OSError, ValueError):
            known = None
        if known != stamp:
            digest = sha256(path)
            if digest != entry.get("sha256"):
                raise StoreError(f"model store: {path} has SHA-256 {digest[:12]}..., the "
                                 f"manifest says {str(entry.get('sha256'))[:12]}...")
            try:
                mark.parent.mkdir(exist_ok=True)
                mark.write_text(json.dumps(stamp))
            except OSError:  # a read-only store: hash again next time
                pass
        out.append(path)
    return out


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def write_manifest(store: Path) -> dict[str, Any]:
    """Hash every model file under ``store`` into manifest.json (run once, when filling it)."""
    files = {}
    for base in MODEL_FILES.values():
        for rel in base.values():
            p = store / rel
            if p.is_file():
                files[rel] = {"size": p.stat().st_size, "sha256": sha256(p)}
    data = {"files": files}
    (store / "manifest.json").write_text(json.dumps(data, indent=1) + "\n")
    return data
