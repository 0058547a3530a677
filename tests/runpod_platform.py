"""A loopback stand-in for RunPod's side of a serverless worker, as the ``runpod`` SDK 1.12.0
speaks to it (runpod/serverless/modules/rp_job.py, rp_http.py, rp_scale.py, rp_ping.py):

- ``GET  job-take/{worker}?...&job_in_progress=0|1``: 200 with ``{"id", "input"}``, or 204;
- ``GET  job-stop/{worker}?...`` (derived by the SDK from the job-take URL): a long poll,
  200 ``{"jobsToStop": [ids]}`` when a job is cancelled or timed out, else 204;
- ``POST job-done/{worker}/{id}?...&isStream=false``: a JSON body (sent as form-encoded);
  ``{"status": "IN_PROGRESS", "output": doc}`` for ``progress_update``, else the result
  (``{"output": ...}`` or ``{"error": ...}``);
- ``GET  ping/{worker}``: the heartbeat.

``worker_env()`` is the environment a worker pod gets (the ``RUNPOD_WEBHOOK_*`` variables), so
the SDK runs its production loop (``IS_LOCAL_TEST`` is false) against this server.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

HOLD_S = 0.5  # how long a long poll is held open before a 204


@dataclass
class Platform:
    server: ThreadingHTTPServer
    queue: list[dict[str, Any]] = field(default_factory=list)
    to_stop: list[str] = field(default_factory=list)
    progress: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken: dict[str, float] = field(default_factory=dict)
    lock: threading.Condition = field(default_factory=threading.Condition)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v2"

    def worker_env(self, worker_id: str = "pod-1") -> dict[str, str]:
        return {"RUNPOD_WEBHOOK_GET_JOB": f"{self.base}/job-take/$ID?gpu=CPU",
                "RUNPOD_WEBHOOK_POST_OUTPUT":
                    f"{self.base}/job-done/$RUNPOD_POD_ID/$ID?gpu=CPU",
                "RUNPOD_WEBHOOK_POST_STREAM":
                    f"{self.base}/job-stream/$RUNPOD_POD_ID/$ID?gpu=CPU",
                "RUNPOD_WEBHOOK_PING": f"{self.base}/ping/$RUNPOD_POD_ID?gpu=CPU",
                "RUNPOD_POD_ID": worker_id, "RUNPOD_AI_API_KEY": "test-key",
                "RUNPOD_PING_INTERVAL": "2000",
                "RUNPOD_SKIP_GPU_CHECK": "true", "RUNPOD_SKIP_AUTO_SYSTEM_CHECKS": "true"}

    def submit(self, job_id: str, job_input: dict[str, Any]) -> None:
        with self.lock:
            self.queue.append({"id": job_id, "input": job_input})
            self.lock.notify_all()

    def cancel(self, job_id: str) -> None:
        """What ``POST /cancel/{id}`` (or an execution timeout) does to a running job."""
        with self.lock:
            self.to_stop.append(job_id)
            self.lock.notify_all()

    def wait_for(self, pred: Any, timeout: float) -> bool:
        end = time.monotonic() + timeout
        with self.lock:
            while not pred():
                left = end - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(left)
        return True

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(p: Platform) -> type[BaseHTTPRequestHandler]:
    class H(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, code: int, body: Any = None) -> None:
            data = b"" if body is None else json.dumps(body).encode()
            self.send_response(code)
            if body is not None:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            parts = urlsplit(self.path).path.strip("/").split("/")
            op = parts[1] if len(parts) > 1 else ""
            if op == "ping":
                return self._send(200, {})
            if op not in ("job-take", "job-stop"):
                return self._send(404, {"error": "unknown"})
            end = time.monotonic() + HOLD_S
            with p.lock:
                while True:
                    if op == "job-take" and p.queue:
                        job = p.queue.pop(0)
                        p.taken[job["id"]] = time.monotonic()
                        p.lock.notify_all()
                        return self._send(200, job)
                    if op == "job-stop" and p.to_stop:
                        ids, p.to_stop[:] = list(p.to_stop), []
                        return self._send(200, {"jobsToStop": ids})
                    left = end - time.monotonic()
                    if left <= 0:
                        return self._send(204)
                    p.lock.wait(left)

        def do_POST(self) -> None:
            parts = urlsplit(self.path).path.strip("/").split("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if len(parts) != 4 or parts[1] not in ("job-done", "job-stream"):
                return self._send(404, {"error": "unknown"})
            job_id = parts[3]
            with p.lock:
                if body.get("status") == "IN_PROGRESS":
                    p.progress.setdefault(job_id, []).append(body.get("output"))
                else:
                    p.results[job_id] = body
                p.lock.notify_all()
            return self._send(200, {})

    return H


def start_platform() -> Platform:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    p = Platform(server)
    server.RequestHandlerClass = _handler(p)
    threading.Thread(target=server.serve_forever, daemon=True, name="runpod-platform").start()
    return p
