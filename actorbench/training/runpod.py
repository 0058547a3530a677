"""A RunPod serverless (queue endpoint) client over requests, with backoff on 429 and 5xx."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import requests

from ..errors import ActorbenchError

STATES = ("IN_QUEUE", "IN_PROGRESS", "COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT")
FINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"}
RETRY_STATUS = {429, 500, 502, 503, 504}


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
                 attempts: int = 5, sleep: Callable[[float], None] = time.sleep) -> None:
        if not endpoint_id:
            raise ActorbenchError("No RunPod endpoint: set RUNPOD_ENDPOINT_ID.")
        if not api_key:
            raise ActorbenchError("No RunPod API key: set RUNPOD_API_KEY.")
        self.base = f"{base_url.rstrip('/')}/{endpoint_id}"
        self._key = api_key
        self.session = session or requests.Session()
        self.timeout, self.attempts, self.sleep = timeout, attempts, sleep

    def __repr__(self) -> str:
        return f"RunPodClient({self.base!r})"

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None,
                 safe_to_retry: bool = True) -> dict[str, Any]:
        url = f"{self.base}/{path}"
        last = ""
        for attempt in range(self.attempts):
            try:
                r = self.session.request(method, url, json=body, timeout=self.timeout,
                                         headers={"Authorization": f"Bearer {self._key}"})
            except requests.ConnectionError as exc:
                last = f"cannot reach RunPod ({type(exc).__name__})"
                if attempt + 1 < self.attempts and (safe_to_retry or _not_sent(exc)):
                    self.sleep(_backoff(attempt))
                    continue
                raise RunPodError(f"RunPod {path.split('/')[0]}: {last}.", retryable=True) \
                    from None
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ContentDecodingError) as exc:
                last = f"answer cut short ({type(exc).__name__})"
                if safe_to_retry and attempt + 1 < self.attempts:
                    self.sleep(_backoff(attempt))
                    continue
                raise RunPodError(f"RunPod {path.split('/')[0]}: {last}.", retryable=True) \
                    from None
            except requests.Timeout:
                last = "timed out"
                if safe_to_retry and attempt + 1 < self.attempts:
                    self.sleep(_backoff(attempt))
                    continue
                raise RunPodError(f"RunPod {path.split('/')[0]}: {last}.", retryable=True) \
                    from None
            if r.status_code in RETRY_STATUS and (safe_to_retry or r.status_code == 429):
                last = f"HTTP {r.status_code}"
                if attempt + 1 < self.attempts:
                    wait = _retry_after(r) or _backoff(attempt)
                    self.sleep(wait)
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
        body: dict[str, Any] = {"input": job_input,
                                "policy": {"executionTimeout": int(execution_timeout_ms)}}
        if webhook:
            body["webhook"] = webhook
        # a /run whose answer was lost may have started a job: never resend it blindly
        data = self._request("POST", "run", body, safe_to_retry=False)
        if "id" not in data:
            raise RunPodError("RunPod run answered without a job id.")
        return data

    def status(self, job_id: str) -> dict[str, Any]:
        data = self._request("GET", f"status/{job_id}")
        if data.get("status") not in STATES:
            raise RunPodError(f"RunPod status answered an unknown state {data.get('status')!r}.")
        return data

    def cancel(self, job_id: str) -> dict[str, Any]:
        return self._request("POST", f"cancel/{job_id}")

    def retry(self, job_id: str) -> dict[str, Any]:
        return self._request("POST", f"retry/{job_id}", safe_to_retry=False)

    def health(self) -> dict[str, Any]:
        return self._request("GET", "health")


def _not_sent(exc: Exception) -> bool:
    """A refused connection never reached the server: resending cannot launch twice."""
    return "refused" in str(exc).lower() or "NewConnectionError" in repr(exc)


def _backoff(attempt: int) -> float:
    return random.uniform(0, min(8.0, 0.25 * 2 ** attempt))


def _retry_after(r: requests.Response) -> float | None:
    try:
        return min(30.0, float(r.headers.get("Retry-After", "")))
    except ValueError:
        return None


def _error_text(r: requests.Response) -> str:
    try:
        data = r.json()
        text = data.get("error") or data.get("message") or str(data)
    except ValueError:
        text = r.text
    return str(text)[:200]
