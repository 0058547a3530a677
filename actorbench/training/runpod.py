"""A RunPod serverless (queue endpoint) client over requests, with backoff on 429 and 5xx.

Retries follow ``storage.retry`` (full jitter, ``Retry-After``, classified by exception type):
a request that may have reached RunPod is resent only when that is safe (not ``/run``)."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import ActorbenchError
from ..storage.retry import RetryPolicy, is_transient, never_sent, retry_after
from .adapter import Adapter
from .status import STAGES, STATES, JobStatus

if TYPE_CHECKING:  # requests is imported by the client that talks to RunPod: the dashboard's
    import requests  # kernel and the CLI start without it (~60 ms), as they rarely need it

RETRY_STATUS = {429, 500, 502, 503, 504}
#: RunPod's job ids: letters, digits and '-' (safe in a URL path, a file and a page)
JOB_ID = re.compile(r"^[A-Za-z0-9-]{1,128}$")
#: a LoRA URL: http(s) or s3, a host, and only the characters RFC 3986 allows
URL_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]{1,2048}$")
URL_SCHEMES = ("https", "http", "s3")
#: the most of a progress message or an error text that is kept
TEXT_MAX = 500


class RunPodError(ActorbenchError):
    """RunPod refused or failed; the message never contains the API key."""

    def __init__(self, message: str, status: int = 0, retryable: bool = False) -> None:
        super().__init__(message)
        self.status, self.retryable = status, retryable


class RunPodClient:
    """``POST /run``, ``GET /status/{id}``, ``POST /cancel/{id}``, ``POST /retry/{id}``.

    Usage::

        client = RunPodClient("https://api.runpod.ai/v2", "abc123", api_key)
        job = client.run({"actor": "..."}, execution_timeout_ms=3_600_000)
        client.status(job["id"])["status"]
    """

    def __init__(self, base_url: str, endpoint_id: str | None, api_key: str | None,
                 session: requests.Session | None = None, timeout: float = 15.0,
                 attempts: int = 5, sleep: Callable[[float], None] = time.sleep,
                 adapter: Adapter | None = None) -> None:
        if not endpoint_id:
            raise ActorbenchError("No RunPod endpoint: set RUNPOD_ENDPOINT_ID.")
        if not api_key:
            raise ActorbenchError("No RunPod API key: set RUNPOD_API_KEY.")
        self.base = f"{base_url.rstrip('/')}/{endpoint_id}"
        self._key = api_key
        if session is None:
            import requests

            session = requests.Session()
        self.session = session
        self.timeout, self.attempts, self.sleep = timeout, attempts, sleep
        self.adapter = adapter or Adapter()  # another worker's field names (adapter.py)
        self.policy = RetryPolicy(attempts, base_s=0.25, cap_s=8.0, max_retry_after_s=30.0)

    def __repr__(self) -> str:
        return f"RunPodClient({self.base!r})"

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 safe_to_retry: bool = True) -> dict[str, Any]:
        import requests

        url = f"{self.base}/{path}"
        last = ""
        for attempt in range(self.attempts):
            try:
                r = self.session.request(method, url, json=body, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self._key}"})
            except requests.ConnectionError as exc:
                last = f"cannot reach RunPod ({type(exc).__name__})"
                if (attempt + 1 < self.attempts and is_transient(exc)
                        and (safe_to_retry or never_sent(exc))):  # never sent: cannot launch twice
                    self.sleep(self.policy.delay(attempt))
                    continue
                raise RunPodError(f"RunPod {path.split('/')[0]}: {last}.", retryable=True) \
                    from None
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                last = f"answer cut short ({type(exc).__name__})"
                if safe_to_retry and attempt + 1 < self.attempts:
                    self.sleep(self.policy.delay(attempt))
                    continue
                raise RunPodError(f"RunPod {path.split('/')[0]}: {last}.", retryable=True) \
                    from None
            except requests.Timeout:
                last = "timed out"
                if safe_to_retry and attempt + 1 < self.attempts:
                    self.sleep(self.policy.delay(attempt))
                    continue
                raise RunPodError(f"RunPod {path.split('/')[0]}: {last}.", retryable=True) \
                    from None
            if r.status_code in RETRY_STATUS and (safe_to_retry or r.status_code == 429):
                last = f"HTTP {r.status_code}"
                if attempt + 1 < self.attempts:
                    self.sleep(self.policy.delay(attempt, retry_after(r.headers.get(
                        "Retry-After"))))
                    continue
            if r.status_code >= 400:
                raise RunPodError(f"RunPod {path.split('/')[0]} answered HTTP {r.status_code}: "
                                  f"{_error_text(r)}", r.status_code,
                                  r.status_code in RETRY_STATUS)
            try:
                data = r.json()
            except ValueError:
                raise RunPodError(f"RunPod {path.split('/')[0]} answered something that is not "
                                  "JSON.", r.status_code) from None
            if not isinstance(data, dict):
                raise RunPodError(f"RunPod {path.split('/')[0]} answered unexpected JSON.")
            return data
        raise RunPodError(f"RunPod {path.split('/')[0]}: gave up after {self.attempts} attempts "
                          f"({last}).", retryable=True)

    def run(self, job_input: dict[str, Any], execution_timeout_ms: int,
            webhook: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"input": self.adapter.to_input(job_input),
                                "policy": {"executionTimeout": int(execution_timeout_ms)}}
        if webhook:
            body["webhook"] = webhook
        # a /run whose answer was lost may have started a job: never resend it blindly
        data = self._request("POST", "run", body, safe_to_retry=False)
        if "id" not in data:
            raise RunPodError("RunPod run answered without a job id.")
        return _check_ack(data, None, "run")

    def status(self, job_id: str) -> dict[str, Any]:
        """The job's state, with only the fields actorbench keeps, each checked."""
        data = self._request("GET", f"status/{check_job_id(job_id)}")
        if isinstance(data.get("output"), dict):
            data = {**data, "output": self.adapter.from_output(data["output"])}
        return check_status(data, job_id)

    def cancel(self, job_id: str) -> dict[str, Any]:
        data = self._request("POST", f"cancel/{check_job_id(job_id)}")
        return _check_ack(data, job_id, "cancel")

    def retry(self, job_id: str) -> dict[str, Any]:
        data = self._request("POST", f"retry/{check_job_id(job_id)}", safe_to_retry=False)
        return _check_ack(data, job_id, "retry")

    def health(self) -> dict[str, Any]:
        return self._request("GET", "health")


def is_job_id(value: object) -> bool:
    return isinstance(value, str) and bool(JOB_ID.match(value))


def check_job_id(value: object, what: str = "RunPod") -> str:
    """A job id of the form RunPod makes, or ``RunPodError`` (nothing is sent with it)."""
    if isinstance(value, str) and JOB_ID.match(value):
        return value
    raise RunPodError(f"{what}: job id {_brief(value)} is not of the form RunPod uses "
                      "(letters, digits and '-').")


def check_url(value: object, what: str) -> str:
    """An http(s) or s3 URL with a host, or ``RunPodError``: never ``javascript:`` or markup."""
    if isinstance(value, str) and URL_CHARS.match(value):
        try:
            parts = urlsplit(value)
        except ValueError:  # e.g. an unclosed '[' in the host
            parts = None
        if parts is not None and parts.scheme in URL_SCHEMES and parts.hostname:
            return value
    raise RunPodError(f"{what} is not an http(s) or s3 URL: {_brief(value)}.")


def _number(value: object, what: str, top: float = math.inf) -> float:
    if (isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            or not 0 <= value <= top):
        span = "a number from 0 to 1" if top == 1.0 else "a non-negative number"
        raise RunPodError(f"{what} is not {span}: {_brief(value)}.")
    return value


def _text(value: object) -> str:
    return str(value)[:TEXT_MAX]


def _check_ack(data: dict[str, Any], job_id: str | None, op: str) -> dict[str, Any]:
    """What ``/run``, ``/cancel`` and ``/retry`` answer: a job id and maybe a known state."""
    out: dict[str, Any] = {"id": check_job_id(data.get("id", job_id), f"RunPod {op}")}
    if job_id is not None and out["id"] != job_id:
        raise RunPodError(f"RunPod {op} answered about another job.")
    if data.get("status") is not None:
        if data["status"] not in STATES:
            raise RunPodError(f"RunPod {op} answered an unknown state {_brief(data['status'])}.")
        out["status"] = JobStatus(data["status"])
    return out


def check_status(data: dict[str, Any], job_id: str, what: str = "RunPod status"
                 ) -> dict[str, Any]:
    """A status answer (or a webhook body) reduced to the fields actorbench keeps, each
    checked: a known state, this job's id, numbers for times and progress, a URL for the LoRA.
    Anything else is left out, so a record never holds what the server made up."""
    status = data.get("status")
    if status not in STATES:
        raise RunPodError(f"{what} answered an unknown state {_brief(status)}.")
    if data.get("id", job_id) != job_id:
        raise RunPodError(f"{what} answered about another job.")
    status = JobStatus(status)
    out: dict[str, Any] = {"id": job_id, "status": status}
    for key in ("delayTime", "executionTime"):
        if data.get(key) is not None:
            out[key] = _number(data[key], f"{what}: {key}")
    output = data.get("output")
    if status is JobStatus.IN_PROGRESS and isinstance(output, dict):
        progress: dict[str, Any] = {}
        if output.get("progress") is not None:
            progress["progress"] = _number(output["progress"], f"{what}: progress", 1.0)
        for key in ("step", "total_steps"):
            if output.get(key) is not None:
                progress[key] = _number(output[key], f"{what}: {key}")
        if output.get("message") is not None:
            progress["message"] = _text(output["message"])
        for key in ("eta_s", "loss"):
            if output.get(key) is not None:
                progress[key] = _number(output[key], f"{what}: {key}")
        if output.get("stage") is not None:
            if output["stage"] not in STAGES:
                raise RunPodError(f"{what}: unknown stage {_brief(output['stage'])}.")
            progress["stage"] = output["stage"]
        out["output"] = progress
    elif status is JobStatus.COMPLETED and isinstance(output, dict) and output.get("lora_url"):
        out["output"] = check_output(output, what)
    if data.get("error") is not None:
        out["error"] = _text(data["error"])
    return out


#: at most this many samples and loss points are kept from one answer
MAX_SAMPLES, MAX_LOSS_POINTS = 200, 20_000


def check_output(output: dict[str, Any], what: str = "RunPod output") -> dict[str, Any]:
    """A COMPLETED job's output (the contract's ``OUTPUT``) reduced to checked fields: the
    LoRA's URL, samples (step, prompt, URL), the loss curve, timings and steps."""
    out: dict[str, Any] = {"lora_url": check_url(output["lora_url"], f"{what}: lora_url")}
    samples = output.get("samples")
    if isinstance(samples, list):
        out["samples"] = [
            {"step": int(_number(x.get("step", 0), f"{what}: samples[{i}].step")),
             "prompt": _text(x.get("prompt", "")),
             "url": check_url(x.get("url"), f"{what}: samples[{i}].url")}
            for i, x in enumerate(samples[:MAX_SAMPLES]) if isinstance(x, dict)]
    loss = output.get("loss")
    if isinstance(loss, list):
        points = []
        for i, pt in enumerate(loss[:MAX_LOSS_POINTS]):
            if not (isinstance(pt, list | tuple) and len(pt) == 2):
                raise RunPodError(f"{what}: loss[{i}] is not a [step, loss] pair.")
            points.append([int(_number(pt[0], f"{what}: loss[{i}]")),
                           _number(pt[1], f"{what}: loss[{i}]")])
        out["loss"] = points
    timings = output.get("timings")
    if isinstance(timings, dict):
        out["timings"] = {k: _number(v, f"{what}: timings.{k}") for k, v in timings.items()
                          if k in ("download_s", "train_s", "sample_s", "upload_s")}
    if output.get("steps") is not None:
        out["steps"] = int(_number(output["steps"], f"{what}: steps"))
    return out


def _brief(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _error_text(r: requests.Response) -> str:
    try:
        data = r.json()
        text = data.get("error") or data.get("message") or str(data)
    except ValueError:
        text = r.text
    return str(text)[:200]
