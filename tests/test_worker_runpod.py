"""The reference worker run by the real ``runpod`` SDK (1.12.0, the version worker/ pins) in
its production job loop, against a loopback stand-in of RunPod's side (tests/runpod_platform.py):
a cancel stops the trainer's process within seconds and nothing is uploaded, the worker takes
the next job, and a failure reaches the platform as one line."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from actorbench.storage.client import make_s3_client
from tests.conftest import settings_for
from tests.helpers import png
from tests.runpod_platform import Platform, start_platform
from tests.test_worker import make_store
from worker.contract import CONTRACT, OUTPUT, PROGRESS

# the SDK runs in the worker's process only (importing it here would read RUNPOD_* at import)
pytestmark = pytest.mark.skipif(importlib.util.find_spec("runpod") is None,
                                reason="the runpod SDK is in the test extra")
ENTRY = Path(__file__).with_name("runpod_worker_entry.py")
A = "0007_actor"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


class World:
    def __init__(self, platform: Platform, client: Any, bucket: str, tmp: Path,
                 proc: subprocess.Popen[bytes]) -> None:
        self.platform, self.client, self.bucket, self.tmp, self.proc = (
            platform, client, bucket, tmp, proc)

    def job(self, steps: int) -> dict[str, Any]:
        images = []
        for i in range(3):
            key = f"system_actors/training_data/{A}/{A}_{i}.png"
            body = png(i, 64)
            self.client.put_object(Bucket=self.bucket, Key=key, Body=body)
            images.append({"url": self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=600),
                "etag": hashlib.md5(body).hexdigest(), "name": f"{A}_{i}.png"})
        return {"contract": CONTRACT, "actor": A, "version": "v1", "trigger_word": "ohwx man",
                "images": images,
                "parameters": {"base_model": "sdxl", "resolution": 512,
                               "max_train_steps": steps},
                "output": {"bucket": self.bucket,
                           "prefix": f"system_actors/loras/{A}/{uuid.uuid4().hex[:12]}"},
                "samples": {"every_steps": max(1, steps // 2)}}

    def training_started(self, job_id: str) -> bool:
        return any(d.get("stage") == "training" and (d.get("step") or 0) >= 1
                   for d in self.platform.progress.get(job_id, []))

    def uploaded(self) -> list[str]:
        return [o["Key"] for o in self.client.list_objects_v2(
            Bucket=self.bucket, Prefix="system_actors/loras/").get("Contents", [])]


@pytest.fixture
def world(moto_server, tmp_path) -> Iterator[World]:  # type: ignore[no-untyped-def]
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    settings = settings_for(moto_server, tmp_path / "data", bucket)
    client = make_s3_client(settings)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": settings.region})
    platform = start_platform()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")},
           **platform.worker_env(), **moto_server.env, "AWS_REGION": settings.region,
           "ACTORBENCH_WORKER_BUCKET": bucket,
           "ACTORBENCH_MODEL_STORE": str(make_store(tmp_path / "models")),
           "FAKE_TRAINER_STEP_S": "0.05", "FAKE_TRAINER_PIDFILE": str(tmp_path / "pid"),
           "TMPDIR": str(tmp_path)}
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen([sys.executable, str(ENTRY)], env=env, cwd=tmp_path,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield World(platform, client, bucket, tmp_path, proc)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)  # the SDK's graceful shutdown
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        platform.stop()


def _log(w: World) -> str:
    return (w.tmp / "worker.log").read_text(errors="replace")[-3000:]


@pytest.mark.timeout(120)
def test_a_cancel_stops_the_trainer_within_seconds_and_uploads_nothing(world: World) -> None:
    w = world
    w.platform.submit("job-long", w.job(10_000))  # 10,000 steps of 0.05 s: over 8 minutes
    assert w.platform.wait_for(lambda: w.training_started("job-long"), 60), _log(w)
    pid = int((w.tmp / "pid").read_text())
    assert _alive(pid)
    time.sleep(2)  # second 2 of the training
    w.platform.cancel("job-long")
    t0 = time.monotonic()
    while _alive(pid) and time.monotonic() - t0 < 5:
        time.sleep(0.05)
    assert not _alive(pid), "the trainer still runs 5 s after the stop\n" + _log(w)
    time.sleep(1.5)
    assert w.uploaded() == []
    assert "job-long" not in w.platform.results  # no result, no LoRA: the job was stopped
    steps = [d.get("step") or 0 for d in w.platform.progress["job-long"]]
    assert max(steps) < 200  # it trained about 2 s, not the whole run
    for doc in w.platform.progress["job-long"]:
        jsonschema.validate(doc, PROGRESS)

    # the same worker takes the next job and completes it, through the SDK
    w.platform.submit("job-next", w.job(20))
    assert w.platform.wait_for(lambda: "job-next" in w.platform.results, 60), _log(w)
    result = w.platform.results["job-next"]
    assert "error" not in result, result
    jsonschema.validate(result["output"], OUTPUT)
    assert [s["step"] for s in result["output"]["samples"]][:1] == [0]  # the baseline
    assert len(w.uploaded()) == 1 + len(result["output"]["samples"])


@pytest.mark.timeout(120)
def test_a_missing_bucket_at_upload_is_one_line(world: World) -> None:
    w = world
    w.platform.submit("job-1", w.job(60))  # 3 s of training
    assert w.platform.wait_for(lambda: w.training_started("job-1"), 60), _log(w)
    for key in [o["Key"] for o in w.client.list_objects_v2(Bucket=w.bucket)["Contents"]]:
        w.client.delete_object(Bucket=w.bucket, Key=key)
    w.client.delete_bucket(Bucket=w.bucket)  # gone while it trains
    assert w.platform.wait_for(lambda: "job-1" in w.platform.results, 60), _log(w)
    result = w.platform.results["job-1"]
    assert result == {"error": f"upload failed: the bucket {w.bucket} does not exist "
                               "(NoSuchBucket); create it or fix ACTORBENCH_WORKER_BUCKET on "
                               "the endpoint"}, json.dumps(result)[:500]
