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
import errno
import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import models, trainer
from .contract import CONTRACTS, INPUT, SAFE_NAME

Progress = Callable[[dict[str, Any]], None]
DOWNLOAD_TIMEOUT_S = 60
MIB = 1 << 20
#: the multipart part sizes tried for an ``-N`` ETag (boto3 and the aws CLI: 8 MiB; rclone and
#: S3's minimum: 5 MiB)
PART_SIZES_MIB = (5, 8, 16, 32, 64, 100, 128)
#: sd-scripts' sampling log line (library/train_util.py sample_images_common)
SAMPLING_LINE = "generating sample images at step"
DEFAULT_PROMPTS = ("{trigger}, portrait photo, looking at the camera, soft light",
                   "{trigger}, full body photo, standing in a park",
                   "{trigger}, close-up, smiling, studio background")


class JobError(Exception):
    """A job that cannot succeed; the message is what the user sees in actorbench."""


class Stopped(Exception):
    """The job was stopped (a cancel or a time limit); nothing more is done or uploaded."""


@dataclass(frozen=True)
class WorkerConfig:
    """The worker's own settings (its environment, never the job's)."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    model_store: Path = Path("/runpod-volume/actorbench-models")
    max_image_bytes: int = 50 * MIB
    max_job_bytes: int = 2048 * MIB
    #: the trainer is stopped past this many seconds (RunPod's executionTimeout stops it too)
    max_train_s: float = 6 * 3600
    #: the loss watchdog: a loss unchanged over this share of the run (and at least
    #: ``flat_min_steps``) stops the job
    flat_fraction: float = 0.3
    flat_min_steps: int = 200

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WorkerConfig:
        e = os.environ if env is None else env
        bucket = e.get("ACTORBENCH_WORKER_BUCKET", "")
        if not bucket:
            raise JobError("the worker has no bucket: set ACTORBENCH_WORKER_BUCKET on the "
                           "endpoint (docs/runpod-worker.md)")
        return cls(bucket=bucket,
                   endpoint_url=e.get("AWS_ENDPOINT_URL_S3") or e.get("AWS_ENDPOINT_URL")
                   or None,
                   region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
                   model_store=Path(e.get("ACTORBENCH_MODEL_STORE",
                                          "/runpod-volume/actorbench-models")),
                   max_train_s=float(e.get("ACTORBENCH_WORKER_MAX_TRAIN_S", 6 * 3600)))


@dataclass
class RunState:
    """What a stop must reach: the stop flag and the trainer's process."""

    stop: threading.Event = field(default_factory=threading.Event)
    proc: subprocess.Popen[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    why: str = ""

    def request_stop(self, why: str = "stopped") -> None:
        with self.lock:
            if not self.stop.is_set():
                self.why = why
            self.stop.set()
            proc = self.proc
        if proc is not None:
            terminate(proc)

    def check(self) -> None:
        if self.stop.is_set():
            raise Stopped(self.why or "stopped")


def terminate(proc: subprocess.Popen[str], grace_s: float = 3.0) -> None:
    """SIGTERM the trainer's process group now and SIGKILL it ``grace_s`` later if alive."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def _kill() -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    threading.Timer(grace_s, _kill).start()


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
    prefix = _output_prefix(job, config)
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
            _download(image, concept / image["name"], config, budget)
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
        loss = _train(cmd, params["max_train_steps"], progress, state, config)
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


def _output_prefix(job: dict[str, Any], config: WorkerConfig) -> str:
    """The job's own ``[parents/]loras/<actor>/<version id>`` prefix in the worker's bucket."""
    out = job["output"]
    if out["bucket"] != config.bucket:
        raise JobError(f"output/bucket: {out['bucket'][:64]!r} is not this worker's bucket "
                       f"({config.bucket}); the worker uploads only there")
    ep = out.get("endpoint_url")
    if ep and (config.endpoint_url or "").rstrip("/") != ep.rstrip("/"):
        raise JobError("output/endpoint_url: not this worker's S3 endpoint; the worker "
                       "uploads only there")
    prefix = out["prefix"].strip("/")
    parts = prefix.split("/")
    ok = (len(parts) >= 3 and parts[-3] == "loras" and parts[-2] == job["actor"]
          and re.match(SAFE_NAME, parts[-1]) is not None and parts[-1] not in (".", "..")
          and all(re.match(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$", p) for p in parts[:-3]))
    if not ok:
        raise JobError(f"output/prefix: {prefix[:80]!r} is not loras/{job['actor']}/<version> "
                       "(under a parent folder); the worker uploads only there")
    return prefix


def _folder_safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _-]", "", text).strip() or "subject"


def check_image_url(url: str, config: WorkerConfig) -> None:
    """A presigned GET of an object in the worker's bucket on its S3 endpoint, or JobError."""
    u = urlsplit(url)
    q = parse_qs(u.query)
    signed = ("X-Amz-Signature" in q and "X-Amz-Credential" in q) or (
        "Signature" in q and "AWSAccessKeyId" in q)
    b = config.bucket
    if config.endpoint_url:
        e = urlsplit(config.endpoint_url)
        here = (u.scheme, u.netloc) == (e.scheme, e.netloc) and (
            u.path.startswith(f"/{b}/") or u.netloc.startswith(f"{b}."))
    else:
        hosts = {f"{b}.s3.{config.region}.amazonaws.com", f"{b}.s3.amazonaws.com"}
        here = u.scheme == "https" and (
            u.netloc in hosts or (u.netloc in (f"s3.{config.region}.amazonaws.com",
                                               "s3.amazonaws.com")
                                  and u.path.startswith(f"/{b}/")))
    if not here or not signed or u.username or u.password or u.fragment:
        raise JobError("images/url: not a presigned URL of this worker's bucket on its S3 "
                       "endpoint; the worker fetches nothing else")


def _download(image: dict[str, Any], target: Path, config: WorkerConfig,
              budget: list[int]) -> None:
    """GET a presigned URL into ``target``, streamed under the size caps; its bytes must be
    the ETag actorbench listed."""
    import requests

    check_image_url(image["url"], config)
    last = ""
    for attempt in range(3):
        try:
            with requests.get(image["url"], timeout=DOWNLOAD_TIMEOUT_S, stream=True,
                              allow_redirects=False) as r:
                if r.status_code != 200:
                    last = f"HTTP {r.status_code}"
                    if r.status_code in (403, 404):  # an expired URL or a deleted object
                        break
                    raise requests.ConnectionError(last)
                _save(r, image, target, config, budget)
                return
        except requests.RequestException as exc:
            last = last if last.startswith("HTTP") else type(exc).__name__
        time.sleep(0.5 * 2 ** attempt)
    raise JobError(f"{image['name']}: download failed ({last})")


def _save(r: Any, image: dict[str, Any], target: Path, config: WorkerConfig,
          budget: list[int]) -> None:
    cap = min(config.max_image_bytes, budget[0])
    declared = r.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise JobError(f"{image['name']}: {int(declared)} bytes is over the worker's cap of "
                       f"{cap} bytes")
    md5 = hashlib.md5(usedforsecurity=False)
    parts: list[bytes] = []  # MD5s of 1 MiB blocks, for a multipart ETag
    size = 0
    with target.open("wb") as f:
        block = hashlib.md5(usedforsecurity=False)
        in_block = 0
        for chunk in r.iter_content(64 * 1024):
            size += len(chunk)
            if size > cap:
                raise JobError(f"{image['name']}: over the worker's cap of {cap} bytes")
            f.write(chunk)
            md5.update(chunk)
            view = memoryview(chunk)
            while view:
                take = min(len(view), MIB - in_block)
                block.update(view[:take])
                in_block += take
                view = view[take:]
                if in_block == MIB:
                    parts.append(block.digest())
                    block, in_block = hashlib.md5(usedforsecurity=False), 0
        if in_block:
            parts.append(block.digest())
    budget[0] -= size
    etag = image["etag"]
    if image.get("size") is not None and image["size"] != size:
        raise JobError(f"{image['name']}: {size} bytes, actorbench listed {image['size']}")
    if "-" not in etag:
        ok = md5.hexdigest() == etag
    else:
        ok = _multipart_matches(target, etag, size)
    if not ok:
        raise JobError(f"{image['name']}: the bytes do not match the ETag actorbench listed "
                       "(the image changed since the launch)")


def _multipart_matches(path: Path, etag: str, size: int) -> bool:
    """Whether a multipart ``md5-of-md5s-N`` ETag is these bytes, for a usual part size."""
    digest, _, count = etag.partition("-")
    n = int(count)
    for mib in PART_SIZES_MIB:
        part = mib * MIB
        if math.ceil(size / part) != n:
            continue
        h = hashlib.md5(usedforsecurity=False)
        with path.open("rb") as f:
            while chunk := f.read(part):
                h.update(hashlib.md5(chunk, usedforsecurity=False).digest())
        if h.hexdigest() == digest:
            return True
    return False


def _train(cmd: list[str], total: int, progress: Progress, state: RunState,
           config: WorkerConfig) -> list[list[float]]:
    """Run the trainer in its own process group; stream its progress; [step, loss] points."""
    state.check()
    progress({"stage": "training", "progress": 0.0, "step": 0, "total_steps": total,
              "message": "starting the trainer"})
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    with state.lock:
        state.check()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, env=env, start_new_session=True,
                                errors="replace")
        state.proc = proc
    timer = threading.Timer(config.max_train_s, lambda: state.request_stop(
        f"the trainer ran past the worker's limit of {config.max_train_s:.0f} s"))
    timer.daemon = True
    timer.start()
    assert proc.stdout is not None
    try:
        return _follow(proc, total, progress, state, config)
    finally:  # a trainer left behind (an error here) is stopped, its group with it
        timer.cancel()
        if proc.poll() is None:
            terminate(proc, grace_s=0.5)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        proc.stdout.close()


def _follow(proc: subprocess.Popen[str], total: int, progress: Progress, state: RunState,
            config: WorkerConfig) -> list[list[float]]:
    """The trainer's output as progress, until it exits; its [step, loss] points (the last
    line of each step: sd-scripts prints a step first with the previous step's loss)."""
    assert proc.stdout is not None
    loss: list[list[float]] = []
    tail: list[str] = []
    last_sent = 0.0
    sampling = False
    flat_window = max(config.flat_min_steps, int(total * config.flat_fraction))
    for raw in _lines(proc.stdout):
        line = raw.strip()
        tail = (tail + [line])[-20:]
        if SAMPLING_LINE in line:
            sampling = True
            progress({"stage": "sampling", "progress": min(1.0, (loss[-1][0] if loss else 0)
                                                           / total),
                      "message": "rendering sample images"})
            continue
        step = trainer.parse_step(line)
        if step is None:
            continue
        if step.loss is not None:
            if not math.isfinite(step.loss):
                state.request_stop("loss")
                raise JobError(f"the loss became {step.loss} at step {step.step}: training "
                               "diverged; lower the learning rate (stopped, nothing uploaded)")
            if loss and loss[-1][0] == step.step:
                loss[-1][1] = step.loss  # the step's last line wins
            else:
                loss.append([step.step, step.loss])
            flat_since = _flat_since(loss, flat_window)
            if flat_since is not None:
                state.request_stop("flat")
                raise JobError(f"the loss has not moved since step {flat_since} "
                               f"({loss[-1][1]}, {loss[-1][0] - flat_since} steps): the LoRA "
                               "is not learning; check the learning rate and the images "
                               "(stopped, nothing uploaded)")
        now = time.monotonic()
        if sampling or now - last_sent >= 1.0 or step.step == step.total:
            sampling, last_sent = False, now
            progress({"stage": "training", "progress": round(step.step / max(1, step.total), 4),
                      "step": step.step, "total_steps": step.total, "eta_s": step.eta_s,
                      "loss": step.loss if trainer.finite(step.loss) else None,
                      "message": f"step {step.step} / {step.total}"})
    code = proc.wait()
    state.check()
    if code != 0:
        last = [t for t in tail if t][-3:]
        raise JobError(f"the trainer exited with {code}: " + " | ".join(last)[-400:])
    return loss


def _flat_since(loss: list[list[float]], window: int) -> int | None:
    """The step since which the loss has not changed, if that is ``window`` steps or more."""
    if len(loss) < 2 or loss[-1][0] < window:
        return None
    value = loss[-1][1]
    since = int(loss[-1][0])
    for step, v in reversed(loss):
        if v != value:
            break
        since = int(step)
    return since if loss[-1][0] - since >= window else None


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


def one_line(exc: BaseException, bucket: str = "") -> str:
    """Any failure as the contract's one line: what failed and what to do."""
    if isinstance(exc, (JobError, models.StoreError)):
        text = str(exc)
    else:
        code, msg = "", str(exc)
        resp = getattr(exc, "response", None)
        if isinstance(resp, dict):
            err = resp.get("Error") or {}
            code, msg = str(err.get("Code") or ""), str(err.get("Message") or msg)
            b = err.get("BucketName") or bucket
            if code == "NoSuchBucket":
                text = (f"upload failed: the bucket {b} does not exist (NoSuchBucket); "
                        "create it or fix ACTORBENCH_WORKER_BUCKET on the endpoint")
            elif code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                text = (f"S3 refused the worker ({code}) on bucket {b}: check the endpoint's "
                        "AWS credentials and their policy")
            else:
                text = f"S3 error {code}: {msg}"
        elif isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            text = "the worker's disk is full: use a larger container disk or fewer images"
        else:
            text = f"the worker failed: {type(exc).__name__}: {msg}"
    line = " ".join(text.split())
    return line if len(line) <= 400 else line[:399] + "…"


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
