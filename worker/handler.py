"""The reference RunPod serverless worker: actorbench's job in, a trained LoRA out.

``handle(job_input, ...)`` does the work and is what the tests call (on CPU, with a stand-in
trainer); ``main()`` hands it to ``runpod.serverless.start`` on a GPU worker (worker/Dockerfile).
Stages, in order: downloading (each image GET from its presigned URL and checked against its
ETag), training (sd-scripts, its progress bar parsed into step, ETA and loss), sampling (the
sample images sd-scripts renders at checkpoints), uploading (the LoRA and samples to S3 with
Content-MD5), done. Every stage change and at most one step a second go to ``progress``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import trainer
from .contract import CONTRACT, INPUT

Progress = Callable[[dict[str, Any]], None]
DOWNLOAD_TIMEOUT_S = 60
#: the trainer's exit is waited for at most this long past the job's own limit
TRAIN_TIMEOUT_S = 6 * 3600
DEFAULT_PROMPTS = ("{trigger}, portrait photo, looking at the camera, soft light",
                   "{trigger}, full body photo, standing in a park",
                   "{trigger}, close-up, smiling, studio background")


class JobError(Exception):
    """A job that cannot succeed; the message is what the user sees in actorbench."""


def validate_input(job_input: Any) -> dict[str, Any]:
    """Refuse an input outside the contract, naming the field."""
    try:
        import jsonschema
    except ImportError:  # the worker image installs it; keep a minimal check without it
        if not isinstance(job_input, dict) or job_input.get("contract") != CONTRACT:
            raise JobError(f"input is not an {CONTRACT} job") from None
        return job_input
    try:
        jsonschema.validate(job_input, INPUT)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "input"
        raise JobError(f"{where}: {exc.message}") from None
    return dict(job_input)


def handle(job_input: Any, progress: Progress = lambda _: None,
           trainer_cmd: Callable[..., list[str]] = trainer.command,
           s3_client: Any = None, workdir: Path | None = None,
           http_get: Callable[..., Any] | None = None) -> dict[str, Any]:
    """Run one job; returns the output contract. Raises ``JobError`` with a clear message."""
    job = validate_input(job_input)
    params, out_spec = job["parameters"], job["output"]
    timings: dict[str, float] = {}
    root = Path(workdir or tempfile.mkdtemp(prefix="lora-"))
    try:
        progress({"stage": "downloading", "progress": 0.0,
                  "message": f"downloading {len(job['images'])} images"})
        t0 = time.monotonic()
        repeats = int(params.get("repeats", 1))
        dataset = root / "dataset"
        concept = dataset / f"{repeats}_{_folder_safe(job['trigger_word'])}"
        concept.mkdir(parents=True)
        for i, image in enumerate(job["images"]):
            _download(image, concept / image["name"], http_get)
            (concept / image["name"]).with_suffix(".txt").write_text(
                f"{job['trigger_word']}, photo\n")
            progress({"stage": "downloading", "progress": (i + 1) / len(job["images"]),
                      "message": f"{i + 1} / {len(job['images'])} images"})
        timings["download_s"] = round(time.monotonic() - t0, 3)

        samples_spec = job.get("samples") or {}
        prompts = [p.format(trigger=job["trigger_word"]) for p in
                   samples_spec.get("prompts") or DEFAULT_PROMPTS]
        every = int(samples_spec.get("every_steps") or max(1, params["max_train_steps"] // 4))
        prompts_file = root / "prompts.txt"
        prompts_file.write_text("".join(f"{p} --w {params['resolution']} --h "
                                        f"{params['resolution']} --s 28 --d 42\n"
                                        for p in prompts))
        out = root / "out"
        out.mkdir()
        name = f"{job['actor']}_{job.get('version', 'lora')}"
        t0 = time.monotonic()
        loss = _train(trainer_cmd(params, dataset, out, name, prompts_file, every,
                                  sys.executable), params["max_train_steps"], progress)
        timings["train_s"] = round(time.monotonic() - t0, 3)

        lora = out / f"{name}.safetensors"
        if not lora.is_file() or lora.stat().st_size == 0:
            raise JobError(f"the trainer finished without writing {lora.name}")
        t0 = time.monotonic()
        progress({"stage": "uploading", "progress": 0.0, "message": "uploading the LoRA"})
        client = s3_client or _s3_client(out_spec)
        bucket, prefix = out_spec["bucket"], out_spec["prefix"].strip("/")
        lora_url = _upload(client, bucket, f"{prefix}/{lora.name}", lora)
        samples = []
        sample_files = sorted((p for p in (out / "sample").glob("*.png")
                               if trainer.sample_step(p)), key=trainer.sample_step)
        for k, path in enumerate(sample_files):
            step, idx = trainer.sample_step(path) or (0, 0)
            url = _upload(client, bucket, f"{prefix}/samples/{step:06d}_{idx:02d}.png", path)
            samples.append({"step": step, "prompt": prompts[idx] if idx < len(prompts) else "",
                            "url": url})
            progress({"stage": "uploading", "progress": (k + 1) / (len(sample_files) + 1),
                      "message": f"sample {k + 1} / {len(sample_files)}"})
        timings["upload_s"] = round(time.monotonic() - t0, 3)
        progress({"stage": "done", "progress": 1.0, "message": "done"})
        return {"contract": CONTRACT, "stage": "done", "lora_url": lora_url,
                "steps": params["max_train_steps"], "samples": samples,
                "loss": loss, "timings": timings}
    finally:
        if workdir is None:
            shutil.rmtree(root, ignore_errors=True)


def _folder_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _-]", "", text).strip() or "subject"


def _download(image: dict[str, str], target: Path, http_get: Callable[..., Any] | None) -> None:
    """GET a presigned URL into ``target``; its MD5 must be the ETag actorbench listed."""
    import requests

    get = http_get or requests.get
    last = ""
    for attempt in range(3):
        try:
            r = get(image["url"], timeout=DOWNLOAD_TIMEOUT_S)
            if r.status_code != 200:
                last = f"HTTP {r.status_code}"
                if r.status_code in (403, 404):  # an expired URL or a deleted object
                    break
            else:
                body = r.content
                etag = image["etag"]
                if "-" not in etag and hashlib.md5(body, usedforsecurity=False).hexdigest() \
                        != etag:
                    raise JobError(f"{image['name']}: the bytes do not match the ETag "
                                   "actorbench listed (the image changed since the launch)")
                target.write_bytes(body)
                return
        except requests.RequestException as exc:
            last = type(exc).__name__
        time.sleep(0.5 * 2 ** attempt)
    raise JobError(f"{image['name']}: download failed ({last})")


def _train(cmd: list[str], total: int, progress: Progress) -> list[list[float]]:
    """Run the trainer; stream its progress; return [step, loss] points."""
    progress({"stage": "training", "progress": 0.0, "step": 0, "total_steps": total,
              "message": "starting the trainer"})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    try:
        return _follow(proc, total, progress)
    finally:  # the pipe is closed, and a trainer left behind (an error here) is stopped
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _follow(proc: subprocess.Popen[str], total: int, progress: Progress) -> list[list[float]]:
    """The trainer's output as progress, until it exits; its [step, loss] points."""
    assert proc.stdout is not None
    loss: list[list[float]] = []
    tail: list[str] = []
    last_sent = 0.0
    sampling = False
    for raw in _lines(proc.stdout):
        line = raw.strip()
        tail = (tail + [line])[-20:]
        if "generating sample images" in line:
            sampling = True
            progress({"stage": "sampling", "progress": min(1.0, (loss[-1][0] if loss else 0)
                                                           / total),
                      "message": "rendering sample images"})
            continue
        step = trainer.parse_step(line)
        if step is None:
            continue
        if step.loss is not None and (not loss or loss[-1][0] != step.step):
            loss.append([step.step, step.loss])
        now = time.monotonic()
        if sampling or now - last_sent >= 1.0 or step.step == step.total:
            sampling, last_sent = False, now
            progress({"stage": "training", "progress": round(step.step / max(1, step.total), 4),
                      "step": step.step, "total_steps": step.total, "eta_s": step.eta_s,
                      "loss": step.loss, "message": f"step {step.step} / {step.total}"})
    code = proc.wait(TRAIN_TIMEOUT_S)
    if code != 0:
        raise JobError(f"the trainer exited with {code}: " + " | ".join(tail[-5:]))
    return loss


def _lines(stream: Any) -> Any:
    """Lines of the trainer's output; tqdm ends its updates with \\r, not \\n."""
    buf = ""
    while True:
        chunk = stream.read(1)
        if not chunk:
            if buf:
                yield buf
            return
        if chunk in "\r\n":
            if buf:
                yield buf
            buf = ""
        else:
            buf += chunk


def _s3_client(spec: dict[str, str]) -> Any:
    import boto3

    return boto3.client("s3", region_name=spec.get("region") or None,
                        endpoint_url=spec.get("endpoint_url") or None)


def _upload(client: Any, bucket: str, key: str, path: Path) -> str:
    data = path.read_bytes()
    md5 = hashlib.md5(data, usedforsecurity=False).digest()
    client.put_object(Bucket=bucket, Key=key, Body=data,
                      ContentMD5=base64.b64encode(md5).decode())
    return f"s3://{bucket}/{key}"


def main() -> None:  # pragma: no cover - runs on a RunPod GPU worker
    import runpod

    def handler(job: dict[str, Any]) -> dict[str, Any]:
        try:
            return handle(job["input"], lambda doc: runpod.serverless.progress_update(job, doc))
        except JobError as exc:
            return {"error": str(exc)}

    runpod.serverless.start({"handler": handler})


if __name__ == "__main__":  # pragma: no cover
    main()
