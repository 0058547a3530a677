"""A fake RunPod serverless endpoint on 127.0.0.1 that speaks the documented queue API.

Jobs go IN_QUEUE -> IN_PROGRESS (with progress ``output``) -> COMPLETED with a ``lora_url``.
``input.simulate`` picks another ending: ``fail``, ``timeout``. ``rate_limit_every`` answers 429
to every n-th request. Used by the tests and by the demo app.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
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
        if run < self.run_s:
            frac = run / self.run_s
            steps = int(job.input.get("parameters", {}).get("max_train_steps", 1000))
            return {**base, "status": "IN_PROGRESS", "delayTime": delay,
                    "executionTime": int(run * 1000),
                    "output": {"progress": round(frac, 3), "step": int(frac * steps),
                               "total_steps": steps, "message": f"step {int(frac*steps)}/{steps}"}}
        if sim == "fail" and job.retries == 0:
            return {**base, "status": "FAILED", "delayTime": delay,
                    "executionTime": int(self.run_s * 1000), "error": "CUDA out of memory"}
        actor = job.input.get("actor", "actor")
        return {**base, "status": "COMPLETED", "delayTime": delay,
                "executionTime": int(self.run_s * 1000),
                "output": {"lora_url": f"s3://story-boards-assets/loras/{actor}/{job.id}"
                                       ".safetensors", "steps": job.input.get("parameters", {})
                           .get("max_train_steps")}}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


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
            if len(parts) != 4 or parts[3] not in fake.jobs:
                return self._send(404, {"error": "job not found"})
            job = fake.jobs[parts[3]]
            if method == "GET" and op == "status":
                return self._send(200, fake.status_of(job))
            if method == "POST" and op == "cancel":
                job.cancelled = True
                return self._send(200, {"id": job.id, "status": "CANCELLED"})
            if method == "POST" and op == "retry":
                st = fake.status_of(job)["status"]
                if st not in ("FAILED", "TIMED_OUT"):
                    return self._send(400, {"error": f"job is {st}; only FAILED or TIMED_OUT "
                                                     "jobs can be retried"})
                job.retries += 1
                job.input = {k: v for k, v in job.input.items() if k != "simulate"}
                job.started = time.time()
                return self._send(200, {"id": job.id, "status": "IN_QUEUE"})
            return self._send(404, {"error": "unknown operation"})

        def do_GET(self) -> None:
            self._route("GET")

        def do_POST(self) -> None:
            self._route("POST")

    return Handler


def start_fake_runpod(speed: float = 1.0, queue_s: float = 2.0, run_s: float = 8.0,
                      endpoint_id: str = "demo-endpoint", port: int = 0) -> FakeRunPod:
    """Start on 127.0.0.1; ``speed`` > 1 makes jobs finish faster (tests)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    fake = FakeRunPod(server, endpoint_id, queue_s / speed, run_s / speed)
    server.RequestHandlerClass = _handler(fake)
    threading.Thread(target=server.serve_forever, daemon=True, name="fake-runpod").start()
    return fake
