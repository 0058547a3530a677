"""The reference RunPod serverless worker: actorbench's job in, a trained LoRA out.

``handle(job_input, ...)`` does the work; ``make_handler()`` wraps it in the async handler the
``runpod`` SDK runs (``main()`` hands it to ``runpod.serverless.start`` on a GPU worker).
Stages, in order: downloading (each image GET from its presigned URL, streamed to disk under a
size cap, checked against its ETag), training (sd-scripts in its own process group, its
progress bar parsed into step, ETA and loss), sampling (the sample images sd-scripts renders,
a baseline before the first step), uploading (the LoRA and samples to the worker's bucket under
the job's ``loras/<actor>/<version>`` prefix, with Content-MD5), done.

A job is untrusted input: image URLs must be presigned GETs of the worker's own bucket on its
configured S3 endpoint; uploads go only to that bucket under the job's own prefix; names are
checked; sample prompts are plain text with ``{trigger}`` replaced literally.

Stopping: the SDK stops a job (a cancel, RunPod's execution timeout) by cancelling the
handler's asyncio task. The handler runs ``handle`` in a thread, so the event loop stays free to
poll the stop channel; on cancel it sets the job's stop event and terminates the trainer's
process group (SIGTERM, SIGKILL 3 s later), and ``handle`` uploads nothing after a stop.
Any failure is returned as ``{"error": "one line"}``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import models, trainer
from .config import WorkerConfig
from .contract import CONTRACTS, INPUT
from .errors import JobError, Stopped, one_line
from .fetch import check_image_url, download, output_prefix
from .run import RunState, train

__all__ = ["JobError", "RunState", "Stopped", "WorkerConfig", "caption_for", "handle",
           "make_handler", "one_line", "provenance"]

Progress = Callable[[dict[str, Any]], None]
DEFAULT_PROMPTS = ("{trigger}, portrait photo, looking at the camera, soft light",
                   "{trigger}, full body photo, standing in a park",
                   "{trigger}, close-up, smiling, studio background")


def validate_input(job_input: Any) -> dict[str, Any]:
    """Refuse an input outside the contract, naming the field."""
    import jsonschema

    try:
        jsonschema.validate(job_input, INPUT)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "input"
        raise JobError(f"{where}: {exc.message[:200]}") from None
    return dict(job_input)


def handle(job_input: Any, progress: Progress = lambda _: None, *,
           config: WorkerConfig, trainer_cmd: Callable[..., list[str]] = trainer.command,
           s3_client: Any = None, workdir: Path | None = None,
           state: RunState | None = None) -> dict[str, Any]:
    """Run one job; returns the output contract. Raises ``JobError`` with a clear message,
    ``Stopped`` when ``state`` is stopped."""
    state = state or RunState()
    job = validate_input(job_input)
    params = job["parameters"]
    actor, trigger = job["actor"], job["trigger_word"].strip()
    version = job.get("version") or "lora"
    prefix = output_prefix(job, config)
    for image in job["images"]:  # every URL is checked before anything is fetched
        check_image_url(image["url"], config)
    try:  # a missing or wrong model file fails now, not after minutes of loading
        models.check(config.model_store, params["base_model"])
    except models.StoreError as exc:
        raise JobError(str(exc)) from None
    timings: dict[str, float] = {}
    root = Path(workdir or tempfile.mkdtemp(prefix="lora-"))
    try:
        progress({"stage": "downloading", "progress": 0.0,
                  "message": f"downloading {len(job['images'])} images"})
        t0 = time.monotonic()
        repeats = int(params.get("repeats", 1))
        dataset = root / "dataset"
        concept = dataset / f"{repeats}_{_folder_safe(trigger)}"
        concept.mkdir(parents=True)
        budget = [config.max_job_bytes]
        v2 = job["contract"] == CONTRACTS[1]
        for i, image in enumerate(job["images"]):
            state.check()
            download(image, concept / image["name"], config, budget)
            caption = caption_for(image.get("caption") if v2 else None, trigger)
            (concept / image["name"]).with_suffix(".txt").write_text(caption + "\n")
            progress({"stage": "downloading", "progress": (i + 1) / len(job["images"]),
                      "message": f"{i + 1} / {len(job['images'])} images"})
        timings["download_s"] = round(time.monotonic() - t0, 3)

        samples_spec = job.get("samples") or {}
        prompts = [p.replace("{trigger}", trigger) for p in
                   samples_spec.get("prompts") or DEFAULT_PROMPTS]
        every = int(samples_spec.get("every_steps") or max(1, params["max_train_steps"] // 4))
        prompts_file = root / "prompts.json"
        # JSON, not sd-scripts' .txt form: a prompt is plain text there (a "#" is not a comment
        # and " --n" is not an option) (library/train_util.py load_prompts)
        prompts_file.write_text(json.dumps([
            {"prompt": p, "width": params["resolution"], "height": params["resolution"],
             "sample_steps": 28, "seed": 42} for p in prompts], ensure_ascii=False))
        out = root / "out"
        out.mkdir()
        name = f"{actor}_{version}"
        meta = provenance(job, config, prefix)
        cmd = trainer_cmd(params, dataset, out, name, prompts_file, every, sys.executable,
                          store=config.model_store, keep_tokens=1 if v2 else 0, metadata=meta)
        t0 = time.monotonic()
        loss = train(cmd, params["max_train_steps"], progress, state, config)
        timings["train_s"] = round(time.monotonic() - t0, 3)
        state.check()

        lora = out / f"{name}.safetensors"
        if not lora.is_file() or lora.stat().st_size == 0:
            raise JobError(f"the trainer finished without writing {lora.name}")
        t0 = time.monotonic()
        progress({"stage": "uploading", "progress": 0.0, "message": "uploading the LoRA"})
        client = s3_client or _s3_client(config)
        bucket = config.bucket
        lora_url = _upload(client, bucket, f"{prefix}/{lora.name}", lora, state)
        samples = []
        sample_files = sorted((p for p in (out / "sample").glob("*.png")
                               if trainer.sample_step(p)),
                              key=lambda p: trainer.sample_step(p) or (0, 0))
        for k, path in enumerate(sample_files):
            step, idx = trainer.sample_step(path) or (0, 0)
            url = _upload(client, bucket, f"{prefix}/samples/{step:06d}_{idx:02d}.png", path,
                          state)
            samples.append({"step": step, "prompt": prompts[idx] if idx < len(prompts) else "",
                            "url": url})
            progress({"stage": "uploading", "progress": (k + 1) / (len(sample_files) + 1),
                      "message": f"sample {k + 1} / {len(sample_files)}"})
        timings["upload_s"] = round(time.monotonic() - t0, 3)
        progress({"stage": "done", "progress": 1.0, "message": "done"})
        return {"contract": job["contract"], "stage": "done", "lora_url": lora_url,
                "steps": loss[-1][0] if loss else params["max_train_steps"],
                "samples": samples, "loss": loss, "timings": timings}
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def provenance(job: dict[str, Any], config: WorkerConfig, prefix: str) -> dict[str, str]:
    """What the LoRA file says about itself, as sd-scripts' metadata flags: ``ss_*`` keys
    (``ss_training_comment`` carries actorbench's record) and the modelspec keys LoRA managers
    read (``modelspec.title``, ``modelspec.trigger_phrase``, ``modelspec.description``)."""
    params = job["parameters"]
    files = models.manifest(config.model_store)
    base = {rel: str(files.get(rel, {}).get("sha256", "")) for rel in
            trainer.MODEL_FILES[params["base_model"]].values()}
    dataset = hashlib.sha256("\n".join(f"{i['name']} {i['etag']}" for i in sorted(
        job["images"], key=lambda i: i["name"])).encode()).hexdigest()
    version = job.get("version") or "lora"
    record = {"actor": job["actor"], "version": version,
              "version_id": prefix.rsplit("/", 1)[-1], "trigger_word": job["trigger_word"],
              "base_model": params["base_model"], "base_model_sha256": base,
              "dataset_sha256": dataset, "images": len(job["images"]),
              "contract": job["contract"], "parameters": params}
    return {"metadata_title": f"{job['actor']} {version}",
            "metadata_trigger_phrase": job["trigger_word"],
            "metadata_description": f"actorbench LoRA of {job['actor']} ({version}), trigger "
                                    f"'{job['trigger_word']}', base {params['base_model']}",
            "training_comment": json.dumps(record, sort_keys=True, separators=(",", ":"))}


def caption_for(caption: str | None, trigger: str) -> str:
    """The caption file's text: the trigger first (inserted if missing), then the caption.

    Without a caption (contract /1, or an image without one): ``"{trigger}, photo"``."""
    if caption is None or not caption.strip():
        return f"{trigger}, photo"
    text = " ".join(caption.split())  # one line: sd-scripts reads the first line only
    tokens = [t.strip() for t in text.split(",")]
    rest = [t for t in tokens if t and t.lower() != trigger.lower()]
    if tokens and tokens[0].lower().startswith(trigger.lower() + " "):
        return ", ".join([trigger, tokens[0][len(trigger):].strip(), *rest[1:]])
    return ", ".join([trigger, *rest])


def _folder_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _-]", "", text).strip() or "subject"


def _s3_client(config: WorkerConfig) -> Any:
    import boto3

    return boto3.client("s3", region_name=config.region, endpoint_url=config.endpoint_url)


def _upload(client: Any, bucket: str, key: str, path: Path, state: RunState) -> str:
    state.check()  # nothing is uploaded after a stop
    data = path.read_bytes()
    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    client.put_object(Bucket=bucket, Key=key, Body=data,
                      ContentMD5=base64.b64encode(md5).decode())
    return f"s3://{bucket}/{key}"


def make_handler(config: WorkerConfig | None = None, **kwargs: Any) -> Callable[..., Any]:
    """The async handler ``runpod.serverless.start`` runs (keyword arguments go to handle)."""

    async def handler(job: dict[str, Any]) -> dict[str, Any]:
        import runpod

        state = RunState()
        try:
            cfg = config or WorkerConfig.from_env()
        except JobError as exc:
            return {"error": str(exc)}

        def progress(doc: dict[str, Any]) -> None:
            if not state.stop.is_set():
                runpod.serverless.progress_update(job, doc)

        task = asyncio.ensure_future(asyncio.to_thread(
            handle, job.get("input"), progress, config=cfg, state=state, **kwargs))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:  # the SDK's stop: a cancel or RunPod's timeout
            state.request_stop("stopped by RunPod (a cancel or the execution timeout)")
            try:  # the thread sees the stop; wait for it briefly, off the loop's hands
                await asyncio.wait_for(asyncio.shield(task), timeout=5)
            except BaseException:  # it ends with Stopped or the cancel
                pass
            raise
        except Stopped as exc:
            return {"error": f"stopped: {exc}"}
        except Exception as exc:  # every failure is one line
            return {"error": one_line(exc, cfg.bucket)}

    return handler


def main() -> None:  # pragma: no cover - runs on a RunPod GPU worker
    import runpod

    runpod.serverless.start({"handler": make_handler()})


if __name__ == "__main__":  # pragma: no cover
    main()
