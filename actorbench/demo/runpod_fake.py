"""A fake RunPod serverless endpoint on 127.0.0.1 that speaks the documented queue API.

Jobs go IN_QUEUE -> IN_PROGRESS (with progress ``output``) -> COMPLETED with a ``lora_url``.
``input.simulate`` picks another ending: ``fail``, ``timeout``. ``rate_limit_every`` answers 429
to every n-th request. Used by the tests and by the demo app.

As RunPod documents it (runpod/docs ``serverless/endpoints/operation-reference.mdx``,
``job-states.mdx``, ``send-requests.mdx``): ``/cancel`` stops a queued or running job (a job
already COMPLETED, FAILED or TIMED_OUT keeps its status); ``/retry`` only requeues FAILED or
TIMED_OUT jobs, same id, previous output removed; a job whose ``policy.ttl`` has passed is
removed (404), and results are kept 30 minutes after the job ends (then 404).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEMO_RUNPOD_KEY = "demo-runpod-key"


@dataclass
class FakeJob:
    id: str
    input: dict[str, Any]
    created: float
    policy: dict[str, Any]
    webhook: str | None = None
    cancelled: bool = False
    retries: int = 0
    started: float = 0.0
    output: dict[str, Any] | None = None
    #: when the job reached a final state (for the result's expiry)
    ended: float | None = None


@dataclass
class FakeRunPod:
    """Thread-backed server; ``base_url`` is what ``RUNPOD_BASE_URL`` should be."""

    server: ThreadingHTTPServer
    endpoint_id: str
    queue_s: float
    run_s: float
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    requests: int = 0
    rate_limit_every: int = 0
    api_key: str = DEMO_RUNPOD_KEY
    lock: threading.Lock = field(default_factory=threading.Lock)
    #: ``(bucket, key, body)``: where sample images go (None: only their URLs are made up)
    uploader: Callable[[str, str, bytes], None] | None = None
    #: results of /run jobs are kept this long after the job ends (RunPod: 30 minutes)
    result_ttl_s: float = 1800.0

    def expired(self, job: FakeJob) -> bool:
        """A job RunPod no longer knows: past its ``policy.ttl``, or ended long ago."""
        now = time.time()
        ttl_ms = job.policy.get("ttl")
        if isinstance(ttl_ms, (int, float)) and (now - job.created) * 1000 > ttl_ms:
            return True
        return job.ended is not None and now - job.ended > self.result_ttl_s

    def status(self, job: FakeJob) -> dict[str, Any]:
        st = self.status_of(job)
        if st["status"] in FINAL and job.ended is None:
            job.ended = time.time()
        return st

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2"

    @property
    def env(self) -> dict[str, str]:
        return {"RUNPOD_BASE_URL": self.base_url, "RUNPOD_ENDPOINT_ID": self.endpoint_id,
                "RUNPOD_API_KEY": self.api_key}

    def status_of(self, job: FakeJob) -> dict[str, Any]:
        now = time.time()
        base = {"id": job.id, "delayTime": 0, "executionTime": 0}
        if job.cancelled:
            return {**base, "status": "CANCELLED"}
        t = now - job.started
        if t < self.queue_s:
            return {**base, "status": "IN_QUEUE"}
        sim = str(job.input.get("simulate", ""))
        limit_ms = int(job.policy.get("executionTimeout", 600000))
        run = t - self.queue_s
        delay = int(self.queue_s * 1000)
        if sim == "timeout" or run * 1000 > limit_ms:
            if run >= min(self.run_s, limit_ms / 1000):
                return {**base, "status": "TIMED_OUT", "delayTime": delay,
                        "executionTime": int(min(run, limit_ms / 1000) * 1000)}
        steps = int(job.input.get("parameters", {}).get("max_train_steps", 1000))
        if run < self.run_s:
            return {**base, "status": "IN_PROGRESS", "delayTime": delay,
                    "executionTime": int(run * 1000), "output": progress_doc(run / self.run_s,
                                                                              steps, self.run_s)}
        if sim == "fail" and job.retries == 0:
            return {**base, "status": "FAILED", "delayTime": delay,
                    "executionTime": int(self.run_s * 1000), "error": "CUDA out of memory"}
        if job.output is None:
            job.output = self.finish(job, steps)
        return {**base, "status": "COMPLETED", "delayTime": delay,
                "executionTime": int(self.run_s * 1000), "output": job.output}

    def finish(self, job: FakeJob, steps: int) -> dict[str, Any]:
        """The contract's output (docs/runpod-worker.md); with ``uploader``, sample images made
        from the job's first image are really put in S3, so a preview can show them."""
        actor = str(job.input.get("actor", "actor"))
        out_spec = job.input.get("output") or {}
        bucket = str(out_spec.get("bucket") or "story-boards-assets")
        prefix = str(out_spec.get("prefix") or f"loras/{actor}/{job.id}").strip("/")
        samples = []
        every = max(1, steps // 2)
        for step in range(every, steps + 1, every):
            for i, prompt in enumerate(SAMPLE_PROMPTS):
                key = f"{prefix}/samples/{step:06d}_{i:02d}.png"
                if self.uploader is not None:
                    self.uploader(bucket, key, _sample_png(job.input, step, i))
                samples.append({"step": step, "prompt": prompt.replace(
                    "{trigger}", str(job.input.get("trigger_word", ""))),
                    "url": f"s3://{bucket}/{key}"})
        return {"contract": "actorbench.lora/1", "stage": "done",
                "lora_url": f"s3://{bucket}/{prefix}/{actor}.safetensors", "steps": steps,
                "samples": samples,
                "loss": [[k, round(0.2 / (1 + k / 100), 5)]
                         for k in range(0, steps + 1, max(1, steps // 50))],
                "timings": {"download_s": 2.0, "train_s": round(self.run_s * 0.8, 2),
                            "upload_s": 1.0}}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


FINAL = ("COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")
SAMPLE_PROMPTS = ("{trigger}, portrait photo, soft light", "{trigger}, smiling, outdoors")
_STAGE_SPANS = (("downloading", 0.1), ("training", 0.9), ("uploading", 1.01))


def progress_doc(frac: float, steps: int, run_s: float) -> dict[str, Any]:
    """A progress document as the reference worker sends it: stage, step, ETA, loss."""
    stage = next(name for name, end in _STAGE_SPANS if frac < end)
    train = min(1.0, max(0.0, (frac - 0.1) / 0.8))
    step = int(train * steps)
    doc: dict[str, Any] = {"stage": stage, "progress": round(frac, 3), "step": step,
                           "total_steps": steps, "eta_s": round((1 - frac) * run_s, 1),
                           "message": f"step {step}/{steps}" if stage == "training" else stage}
    if stage == "training":
        doc["loss"] = round(0.2 / (1 + step / 100), 5)
        if steps and step % max(1, steps // 2) < max(1, steps // 50):
            doc["stage"] = "sampling"  # checkpoints render their samples
    return doc


def _sample_png(job_input: dict[str, Any], step: int, index: int) -> bytes:
    """A sample "render": the job's first image, tinted by checkpoint, with its step; before
    ``LEARNED_STEPS`` another person's photograph (so the face scores mean something)."""
    import io

    from PIL import Image, ImageDraw, ImageOps

    from .photos import LEARNED_STEPS, stranger_for

    img = None
    images = job_input.get("images") or []
    if images and isinstance(images[0], dict):
        try:
            import requests

            r = requests.get(str(images[0].get("url")), timeout=10)
            if r.ok:
                img = Image.open(io.BytesIO(r.content)).convert("RGB")
        except Exception:  # a stand-in: a plain tile will do
            img = None
    if img is not None and step < LEARNED_STEPS:  # not learned yet: the base model's face
        img = stranger_for(img) or img
    img = ImageOps.pad(img, (512, 512), color=(90, 110, 140)) if img is not None else Image.new(
        "RGB", (512, 512), (90, 110, 140))
    tint = Image.new("RGB", img.size, ((step * 37) % 200, 80 + index * 60, 160))
    img = Image.blend(img, tint, 0.15)
    ImageDraw.Draw(img).text((8, 8), f"step {step}", fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _handler(fake: FakeRunPod) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def _send(self, code: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, method: str) -> None:
            with fake.lock:
                fake.requests += 1
                n = fake.requests
            if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                return self._send(401, {"error": "Unauthorized"})
            if fake.rate_limit_every and n % fake.rate_limit_every == 0:
                return self._send(429, {"error": "Too many requests"})
            parts = self.path.split("?")[0].strip("/").split("/")
            if len(parts) < 3 or parts[0] != "v2" or parts[1] != fake.endpoint_id:
                return self._send(404, {"error": "endpoint not found"})
            op = parts[2]
            length = int(self.headers.get("Content-Length") or 0)
            body: dict[str, Any] = {}
            if length:
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    return self._send(400, {"error": "invalid JSON"})
            if method == "POST" and op == "run":
                if not isinstance(body.get("input"), dict):
                    return self._send(400, {"error": "input is required"})
                job = FakeJob(str(uuid.uuid4()), body["input"], time.time(),
                              body.get("policy") or {}, body.get("webhook"))
                job.started = time.time()
                with fake.lock:
                    fake.jobs[job.id] = job
                return self._send(200, {"id": job.id, "status": "IN_QUEUE"})
            if op == "health":
                return self._send(200, {"jobs": {"inQueue": 0, "inProgress": 0},
                                        "workers": {"idle": 1, "running": 0}})
            if len(parts) != 4 or parts[3] not in fake.jobs or fake.expired(
                    fake.jobs[parts[3]]):
                return self._send(404, {"error": "job not found"})
            job = fake.jobs[parts[3]]
            if method == "GET" and op == "status":
                return self._send(200, fake.status(job))
            if method == "POST" and op == "cancel":
                st = fake.status(job)["status"]
                if st in FINAL:  # cancel stops a job "before completion" only
                    return self._send(200, {"id": job.id, "status": st})
                job.cancelled, job.ended = True, time.time()
                return self._send(200, {"id": job.id, "status": "CANCELLED"})
            if method == "POST" and op == "retry":
                st = fake.status(job)["status"]
                if st not in ("FAILED", "TIMED_OUT"):
                    return self._send(400, {"error": f"job is {st}; only FAILED or TIMED_OUT "
                                                     "jobs can be retried"})
                job.retries += 1
                job.input = {k: v for k, v in job.input.items() if k != "simulate"}
                job.started, job.ended, job.output = time.time(), None, None
                return self._send(200, {"id": job.id, "status": "IN_QUEUE"})
            return self._send(404, {"error": "unknown operation"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


def start_fake_runpod(speed: float = 1.0, queue_s: float = 2.0, run_s: float = 8.0,
                      endpoint_id: str = "demo-endpoint", port: int = 0,
                      uploader: Callable[[str, str, bytes], None] | None = None) -> FakeRunPod:
    """Start on 127.0.0.1; ``speed`` > 1 makes jobs finish faster (tests)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    fake = FakeRunPod(server, endpoint_id, queue_s / speed, run_s / speed, uploader=uploader)
    server.RequestHandlerClass = _handler(fake)
    threading.Thread(target=server.serve_forever, daemon=True, name="fake-runpod").start()
    return fake
