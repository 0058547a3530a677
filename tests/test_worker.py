"""The reference worker's handler end to end on CPU: images served by a real S3 server,
presigned URLs, a stand-in trainer with sd-scripts' flags and output (tests/fake_trainer.py),
uploads to S3, and the returned document validated against the documented contract."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from actorbench.storage.client import make_s3_client
from tests import fake_trainer
from tests.conftest import settings_for
from tests.helpers import png
from worker import models, trainer
from worker.contract import CONTRACT, CONTRACTS, INPUT, OUTPUT, PROGRESS, STAGES
from worker.handler import JobError, WorkerConfig, caption_for, handle, one_line

A = "0002_european_35_female"


fake_command = fake_trainer.command  # sd-scripts' real command, run by the stand-in


def make_store(root: Path) -> Path:
    """A model store with (tiny) files where the real ones go, and their manifest."""
    for files in trainer.MODEL_FILES.values():
        for rel in files.values():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(hashlib.sha256(rel.encode()).digest() * 8)
    (root / trainer.TOKENIZER_DIR).mkdir(exist_ok=True)
    models.write_manifest(root)
    return root


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
           "output": {"bucket": bucket, "prefix": f"system_actors/loras/{A}/0123abcd"},
           "samples": {"every_steps": 20}}
    jsonschema.validate(job, INPUT)
    config = WorkerConfig(bucket=bucket, endpoint_url=settings.endpoint_url,
                          region=settings.region, model_store=make_store(tmp_path / "models"))
    return client, bucket, job, config


def keys(client: Any, bucket: str, prefix: str = "system_actors/loras/") -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix)
            .get("Contents", [])]


def test_handler_end_to_end_on_cpu(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    losses = tmp_path / "losses.txt"
    monkeypatch.setenv("FAKE_TRAINER_LOSSES", str(losses))
    updates: list[dict[str, Any]] = []
    out = handle(job, updates.append, config=config, trainer_cmd=fake_command,
                 s3_client=client, workdir=tmp_path / "w")
    jsonschema.validate(out, OUTPUT)
    for u in updates:
        jsonschema.validate(u, PROGRESS)
    stages = [u["stage"] for u in updates]
    runs = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    # stages only move forward; sampling happens inside training, between its steps
    main = [s for s in runs if s != "sampling"]
    assert [s for i, s in enumerate(main) if i == 0 or main[i - 1] != s] == [
        "downloading", "training", "uploading", "done"]
    assert runs.count("sampling") == 3  # the baseline (--sample_at_first), steps 20 and 40
    assert set(stages) <= set(STAGES)
    steps = [u["step"] for u in updates if u["stage"] == "training" and "step" in u]
    assert steps == sorted(steps) and steps[-1] == 40
    # what was uploaded is what the contract names, byte for byte, under the job's prefix
    key = out["lora_url"].removeprefix(f"s3://{bucket}/")
    assert key == f"system_actors/loras/{A}/0123abcd/{A}_v3.safetensors"
    body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert body == (tmp_path / "w" / "out" / f"{A}_v3.safetensors").read_bytes()
    assert [s["step"] for s in out["samples"]] == [0, 0, 0, 20, 20, 20, 40, 40, 40]
    assert all(s["prompt"].startswith("ohwx woman") for s in out["samples"])
    for s in out["samples"]:
        client.head_object(Bucket=bucket, Key=s["url"].removeprefix(f"s3://{bucket}/"))
    # the loss curve is the trainer's: each step's last line (sd-scripts prints the step
    # first with the previous step's loss)
    truth = [float(x) for x in losses.read_text().split()]
    assert out["loss"] == [[i + 1, v] for i, v in enumerate(truth)]
    captions = sorted((tmp_path / "w" / "dataset").glob("10_ohwx woman/*.txt"))
    assert len(captions) == 4 and captions[0].read_text() == "ohwx woman, photo\n"
    # the LoRA says what it is: actor, version, trigger, base model and its hash, dataset
    n = int.from_bytes(body[:8], "little")
    meta = json.loads(body[8:8 + n])["__metadata__"]
    assert meta["modelspec.trigger_phrase"] == "ohwx woman"
    record = json.loads(meta["ss_training_comment"])
    manifest = json.loads((config.model_store / "manifest.json").read_text())["files"]
    assert record["actor"] == A and record["version"] == "v3"
    assert record["version_id"] == "0123abcd" and record["base_model"] == "sdxl"
    assert record["base_model_sha256"] == {
        "sdxl/sd_xl_base_1.0.safetensors":
            manifest["sdxl/sd_xl_base_1.0.safetensors"]["sha256"]}
    assert len(record["dataset_sha256"]) == 64 and record["parameters"] == job["parameters"]


def test_flux_job_trains_with_its_model_files(bucket_world, tmp_path):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    job["parameters"] = {**job["parameters"], "base_model": "flux1-dev",
                         "optimizer": "AdamW8bit", "lr_scheduler": "constant"}
    out = handle(job, config=config, trainer_cmd=fake_command, s3_client=client,
                 workdir=tmp_path / "f")
    assert out["lora_url"].endswith(f"{A}_v3.safetensors")
    # a missing model file fails before any download, naming the file
    (config.model_store / "flux1-dev" / "ae.safetensors").unlink()
    with pytest.raises(JobError, match=r"model store: .*flux1-dev/ae.safetensors is missing"):
        handle(job, config=config, trainer_cmd=fake_command, s3_client=client)
    (config.model_store / "flux1-dev" / "ae.safetensors").write_bytes(b"not the AE")
    with pytest.raises(JobError, match=r"ae.safetensors is 10 bytes, the manifest says"):
        handle(job, config=config, trainer_cmd=fake_command, s3_client=client)


def test_captions_v2_trigger_first_and_keep_tokens(bucket_world, tmp_path):  # type: ignore[no-untyped-def]
    client, _bucket, job, config = bucket_world
    job["contract"] = CONTRACTS[1]
    given = ["a woman with red hair, outdoors", "ohwx woman, smiling", "",
             "studio light, ohwx woman, close-up"]
    for image, caption in zip(job["images"], given, strict=True):
        image["caption"] = caption
    seen: list[list[str]] = []

    def spy(*a: Any, **kw: Any) -> list[str]:
        cmd = fake_command(*a, **kw)
        seen.append(cmd)
        return cmd

    handle(job, config=config, trainer_cmd=spy, s3_client=client, workdir=tmp_path / "c")
    texts = [p.read_text() for p in sorted((tmp_path / "c" / "dataset").glob("*/*.txt"))]
    assert texts == ["ohwx woman, a woman with red hair, outdoors\n", "ohwx woman, smiling\n",
                     "ohwx woman, photo\n", "ohwx woman, studio light, close-up\n"]
    assert "--keep_tokens=1" in seen[0]
    assert caption_for("ohwx woman in a park", "ohwx woman") == "ohwx woman, in a park"


def test_a_changed_image_or_bad_input_is_refused(bucket_world, tmp_path):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world

    def run(j: dict[str, Any]) -> Any:
        return handle(j, config=config, trainer_cmd=fake_command, s3_client=client)

    bad = {**job, "images": [dict(job["images"][0], etag="0" * 32)]}
    with pytest.raises(JobError, match=f"{A}_0.png: the bytes do not match the ETag"):
        run(bad)
    with pytest.raises(JobError, match="actor"):
        run({**job, "actor": "../etc"})
    with pytest.raises(JobError, match="contract"):
        run({**job, "contract": "other/2"})
    with pytest.raises(JobError, match="version"):
        run({**job, "version": "../../x"})
    # an image URL elsewhere than the worker's bucket on its endpoint is never fetched
    for url in ("http://169.254.169.254/latest/meta-data/?X-Amz-Signature=a&X-Amz-Credential=b",
                job["images"][0]["url"].split("?")[0],
                job["images"][0]["url"].replace(f"/{bucket}/", "/other-bucket/")):
        with pytest.raises(JobError, match="images/url: not a presigned URL of this worker"):
            run({**job, "images": [dict(job["images"][0], url=url)]})
    # uploads only to the worker's bucket, under the job's own loras/<actor>/<version>
    for out in ({"bucket": "someone-else", "prefix": f"loras/{A}/v3"},
                {"bucket": bucket, "prefix": "system_actors/training_data"},
                {"bucket": bucket, "prefix": "loras/other_actor/v3"},
                {"bucket": bucket, "prefix": f"loras/{A}/.."},
                {"bucket": bucket, "prefix": f"loras/{A}/v3", "endpoint_url": "http://evil"}):
        with pytest.raises(JobError, match="output/"):
            run({**job, "output": out})
    assert keys(client, bucket) == []


def test_size_caps_and_multipart_etags(bucket_world, tmp_path):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    from dataclasses import replace

    with pytest.raises(JobError, match=f"{A}_0.png: .*over the worker's cap of 100 bytes"):
        handle(job, config=replace(config, max_image_bytes=100), trainer_cmd=fake_command,
               s3_client=client)
    # a multipart object: its md5-of-md5s-N ETag is checked part by part
    big = b"".join(png(i, 96) for i in range(3)) * 4000  # > 5 MiB
    key = f"system_actors/training_data/{A}/{A}_big.png"
    part = 5 * 1024 * 1024
    up = client.create_multipart_upload(Bucket=bucket, Key=key)
    etags = [client.upload_part(Bucket=bucket, Key=key, UploadId=up["UploadId"], PartNumber=n + 1,
                                Body=big[n * part:(n + 1) * part])["ETag"]
             for n in range((len(big) + part - 1) // part)]
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                     MultipartUpload={"Parts": [
                                         {"ETag": e, "PartNumber": i + 1}
                                         for i, e in enumerate(etags)]})
    etag = client.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
    assert etag.endswith(f"-{len(etags)}")
    url = client.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key})
    image = {"url": url, "etag": etag, "name": f"{A}_big.png"}
    from worker.fetch import download as _download

    _download(image, tmp_path / "big.png", config, [config.max_job_bytes])
    assert (tmp_path / "big.png").read_bytes() == big
    wrong = {**image, "etag": "0" * 32 + f"-{len(etags)}"}
    with pytest.raises(JobError, match="do not match the ETag"):
        _download(wrong, tmp_path / "big2.png", config, [config.max_job_bytes])


def test_a_failing_trainer_is_one_clear_error(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    monkeypatch.setenv("FAKE_TRAINER_FAIL", "1")
    with pytest.raises(JobError, match="exited with 1: .*CUDA out of memory"):
        handle(job, config=config, trainer_cmd=fake_command, s3_client=client,
               workdir=tmp_path / "f")
    assert keys(client, bucket) == []


def test_a_nan_loss_stops_the_job_naming_the_step(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    monkeypatch.setenv("FAKE_TRAINER_NAN_AT", "17")
    with pytest.raises(JobError, match=r"the loss became nan at step 17: training diverged"):
        handle(job, config=config, trainer_cmd=fake_command, s3_client=client)
    assert keys(client, bucket) == []


def test_the_time_limit_stops_the_trainer(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    from dataclasses import replace

    from worker.handler import Stopped

    monkeypatch.setenv("FAKE_TRAINER_STEP_S", "0.05")
    monkeypatch.setenv("FAKE_TRAINER_PIDFILE", str(tmp_path / "pid"))
    job["parameters"]["max_train_steps"] = 10_000
    t0 = time.monotonic()
    with pytest.raises(Stopped, match="past the worker's limit of 2 s"):
        handle(job, config=replace(config, max_train_s=2), trainer_cmd=fake_command,
               s3_client=client)
    assert time.monotonic() - t0 < 15
    pid = int((tmp_path / "pid").read_text())
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    assert keys(client, bucket) == []


def test_a_flat_loss_stops_the_job(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    from dataclasses import replace

    monkeypatch.setenv("FAKE_TRAINER_FLAT", "1")
    with pytest.raises(JobError, match=r"the loss has not moved since step 1 .*not learning"):
        handle(job, config=replace(config, flat_min_steps=10), trainer_cmd=fake_command,
               s3_client=client)
    assert keys(client, bucket) == []


def test_failures_are_one_line() -> None:
    from botocore.exceptions import ClientError

    exc = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket "
                                 "does not exist", "BucketName": "ab-gone"}}, "PutObject")
    assert one_line(exc) == ("upload failed: the bucket ab-gone does not exist (NoSuchBucket); "
                             "create it or fix ACTORBENCH_WORKER_BUCKET on the endpoint")
    assert "\n" not in one_line(ValueError("a\nb\n" + "x" * 1000))
    assert len(one_line(ValueError("x" * 1000))) <= 400


def test_trainer_output_parsing() -> None:
    s = trainer.parse_step("steps:  12%|█▏   | 120/1000 [00:30<03:40,  4.00it/s, "
                           "avr_loss=0.123]")
    assert s == trainer.StepLine(120, 1000, 220.0, 0.123)
    nan = trainer.parse_step("steps:  12%|█▏   | 120/1000 [00:30<03:40,  4.00it/s, "
                             "avr_loss=nan]")
    assert nan is not None and nan.loss is not None and nan.loss != nan.loss
    assert trainer.parse_step("epoch 1/10") is None
    assert trainer.sample_step(Path("a_v1_000500_02_20240101123456_42.png")) == (500, 2)
    assert trainer.sample_step(Path("notes.png")) is None


def test_a_stop_before_training_starts_no_trainer(bucket_world, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    client, bucket, job, config = bucket_world
    from worker.handler import RunState, Stopped

    monkeypatch.setenv("FAKE_TRAINER_PIDFILE", str(tmp_path / "pid"))
    state = RunState()
    state.request_stop("stopped by RunPod (a cancel or the execution timeout)")
    with pytest.raises(Stopped, match="stopped by RunPod"):
        handle(job, config=config, trainer_cmd=fake_command, s3_client=client, state=state)
    assert not (tmp_path / "pid").exists() and keys(client, bucket) == []
