"""The demo's RunPod stand-in answers as RunPod documents for cancel, retry, TTL and unknown
jobs (runpod/docs serverless/endpoints/operation-reference.mdx, job-states.mdx)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from actorbench.demo.runpod_fake import FakeRunPod, start_fake_runpod


@pytest.fixture
def fake() -> Iterator[FakeRunPod]:
    f = start_fake_runpod(queue_s=0.1, run_s=0.4)
    yield f
    f.stop()


def call(f: FakeRunPod, method: str, op: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{f.base_url}/{f.endpoint_id}/{op}", json=body,
                            headers={"Authorization": f"Bearer {f.api_key}"}, timeout=5)


def wait_status(f: FakeRunPod, job_id: str, want: str) -> None:
    end = time.monotonic() + 5
    while call(f, "GET", f"status/{job_id}").json()["status"] != want:
        assert time.monotonic() < end, want
        time.sleep(0.05)


def test_cancel_retry_ttl_and_unknown_jobs(fake: FakeRunPod) -> None:
    run = lambda inp, **kw: call(fake, "POST", "run", {"input": inp, **kw}).json()["id"]  # noqa: E731
    # a running job is cancelled; a completed one keeps its status and output
    running = run({"parameters": {"max_train_steps": 10}})
    assert call(fake, "POST", f"cancel/{running}").json()["status"] == "CANCELLED"
    assert call(fake, "GET", f"status/{running}").json()["status"] == "CANCELLED"
    done = run({"parameters": {"max_train_steps": 10}})
    wait_status(fake, done, "COMPLETED")
    assert call(fake, "POST", f"cancel/{done}").json()["status"] == "COMPLETED"
    assert call(fake, "GET", f"status/{done}").json()["output"]["lora_url"]
    # retry: only FAILED or TIMED_OUT, same id, back in the queue
    assert call(fake, "POST", f"retry/{done}").status_code == 400
    failed = run({"simulate": "fail", "parameters": {"max_train_steps": 10}})
    wait_status(fake, failed, "FAILED")
    r = call(fake, "POST", f"retry/{failed}").json()
    assert r == {"id": failed, "status": "IN_QUEUE"}
    wait_status(fake, failed, "COMPLETED")
    # a job past its TTL, or one never made, is not found
    short = run({"parameters": {}}, policy={"ttl": 100})
    time.sleep(0.2)
    assert call(fake, "GET", f"status/{short}").status_code == 404
    assert call(fake, "POST", "cancel/no-such-job").status_code == 404
    # results are kept for a while after the end, then gone
    fake.result_ttl_s = 0.1
    time.sleep(0.2)
    assert call(fake, "GET", f"status/{done}").status_code == 404
