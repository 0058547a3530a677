"""The reference worker's handler end to end on CPU: images served by a real S3 server,
presigned URLs, a stand-in trainer with sd-scripts' flags and output, uploads to S3, and the
returned document validated against the documented contract."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from actorbench.storage.client import make_s3_client
from tests.conftest import settings_for
from tests.helpers import png
from worker import trainer
from worker.contract import CONTRACT, INPUT, OUTPUT, PROGRESS, STAGES
from worker.handler import JobError, handle

FAKE = Path(__file__).with_name("fake_trainer.py")
A = "0002_european_35_female"


def fake_command(params: dict[str, Any], dataset: Path, out: Path, name: str,
                 prompts: Path | None, every: int, python: str) -> list[str]:
    """sd-scripts' real command line, run by the stand-in instead of the real script."""
    real = trainer.command(params, dataset, out, name, prompts, every, python)
    assert real[1].endswith("sdxl_train_network.py")
    return [python, str(FAKE), *real[2:]]


@pytest.fixture
def bucket_world(moto_server, tmp_path):  # type: ignore[no-untyped-def]
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    settings = settings_for(moto_server, tmp_path / "data", bucket)
    client = make_s3_client(settings)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": settings.region})
    images = []
    for i in range(4):
        key = f"system_actors/training_data/{A}/{A}_{i}.png"
        body = png(i, 96)
        client.put_object(Bucket=bucket, Key=key, Body=body)
        images.append({"url": client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=600),
            "etag": hashlib.md5(body).hexdigest(), "name": f"{A}_{i}.png"})
    job = {"contract": CONTRACT, "actor": A, "version": "v3", "trigger_word": "ohwx woman",
           "images": images,
           "parameters": {"base_model": "sdxl", "resolution": 1024, "max_train_steps": 40,
                          "repeats": 10, "network_rank": 32, "network_alpha": 16},
           "output": {"bucket": bucket, "prefix": f"loras/{A}/v3"},
           "samples": {"every_steps": 20}}
    jsonschema.validate(job, INPUT)
    return client, bucket, job


def test_handler_end_to_end_on_cpu(bucket_world, tmp_path):  # type: ignore[no-untyped-def]
    client, bucket, job = bucket_world
    updates: list[dict[str, Any]] = []
    out = handle(job, updates.append, trainer_cmd=fake_command, s3_client=client,
                 workdir=tmp_path / "w")
    jsonschema.validate(out, OUTPUT)
    for u in updates:
        jsonschema.validate(u, PROGRESS)
    stages = [u["stage"] for u in updates]
    runs = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    # stages only move forward; sampling happens inside training, between its steps
    main = [s for s in runs if s != "sampling"]
    assert [s for i, s in enumerate(main) if i == 0 or main[i - 1] != s] == [
        "downloading", "training", "uploading", "done"]
    first, last = runs.index("training"), len(runs) - 1 - runs[::-1].index("training")
    assert runs.count("sampling") == 2 and all(
        first < i < last or runs[i - 1] == "training" for i, s in enumerate(runs)
        if s == "sampling")
    assert set(stages) <= set(STAGES)
    steps = [u["step"] for u in updates if u["stage"] == "training" and "step" in u]
    assert steps == sorted(steps) and steps[-1] == 40
    # what was uploaded is what the contract names, byte for byte
    key = out["lora_url"].removeprefix(f"s3://{bucket}/")
    assert key == f"loras/{A}/v3/{A}_v3.safetensors"
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == (tmp_path / "w" / "out" / f"{A}_v3.safetensors").read_bytes()
    assert [s["step"] for s in out["samples"]] == [20, 20, 20, 40, 40, 40]
    assert all(s["prompt"].startswith("ohwx woman") for s in out["samples"])
    for s in out["samples"]:
        client.head_object(Bucket=bucket, Key=s["url"].removeprefix(f"s3://{bucket}/"))
    assert len(out["loss"]) == 40 and out["loss"][0][1] > out["loss"][-1][1]
    captions = sorted((tmp_path / "w" / "dataset").glob("10_ohwx woman/*.txt"))
    assert len(captions) == 4 and captions[0].read_text() == "ohwx woman, photo\n"


def test_a_changed_image_or_bad_input_is_refused(bucket_world, tmp_path):  # type: ignore[no-untyped-def]
    client, bucket, job = bucket_world
    job["images"][1]["etag"] = "0" * 32
    with pytest.raises(JobError, match=f"{A}_1.png: the bytes do not match the ETag"):
        handle(job, trainer_cmd=fake_command, s3_client=client, workdir=tmp_path / "a")
    with pytest.raises(JobError, match="actor"):
        handle({**job, "actor": "../etc"}, trainer_cmd=fake_command, s3_client=client)
    with pytest.raises(JobError, match="contract"):
        handle({**job, "contract": "other/2"}, trainer_cmd=fake_command, s3_client=client)


def test_a_failing_trainer_is_one_clear_error(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, _bucket, job = bucket_world
    monkeypatch.setenv("FAKE_TRAINER_FAIL", "1")
    with pytest.raises(JobError, match="exited with 1: .*CUDA out of memory"):
        handle(job, trainer_cmd=fake_command, s3_client=client, workdir=tmp_path / "f")


def test_trainer_output_parsing() -> None:
    s = trainer.parse_step("steps:  12%|█▏   | 120/1000 [00:30<03:40,  4.00it/s, "
                           "avr_loss=0.123]")
    assert s == trainer.StepLine(120, 1000, 220.0, 0.123)
    assert trainer.parse_step("epoch 1/10") is None
    assert trainer.sample_step(Path("a_v1_000500_02_20240101123456_42.png")) == (500, 2)
    assert trainer.sample_step(Path("notes.png")) is None
