"""`actorbench train` against the RunPod stand-in: the plan first, launches only with --yes,
blockers named, no double launch, and status/cancel/retry/versions/mark-good on the ledger the
dashboard reads."""

from __future__ import annotations

import json
import uuid

import pytest

from actorbench.actors import Actor, Registry
from actorbench.cli import main
from actorbench.demo import start_fake_runpod
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from actorbench.training import JobStatus, TrainingService
from actorbench.workbench import Workbench
from tests.test_training import portrait

A, B, C = "0001_european_30_female", "0002_african_45_male", "0003_east_asian_22_female"


@pytest.fixture
def world(moto_server, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    # a job runs 4 s: long enough that `train cancel` right after the launch meets it running
    # even on a loaded machine (RunPod, and so the stand-in, refuses to cancel a finished job),
    # short enough for the test that waits for one to finish
    fake = start_fake_runpod(queue_s=0.05, run_s=4.0)
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    env = {**moto_server.env, **fake.env, "ACTORBENCH_DATA_DIR": str(tmp_path / "data"),
           "ACTORBENCH_BUCKET": bucket}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env(env=env, dotenv=False)
    client = make_s3_client(settings)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": settings.region})
    (tmp_path / "data").mkdir()
    Registry(settings.registry_path, [Actor(1, A), Actor(2, B), Actor(3, C)]).save()
    for name, count in ((A, 12), (B, 12), (C, 2)):  # C has too few images: a blocker
        for i in range(count):
            client.put_object(Bucket=bucket, Key=f"{settings.prefix}/{name}/{name}_{i}.png",
                              Body=portrait(i + 1 + (20 if name == B else 0), 256))
    yield fake, settings
    fake.stop()


def run(capsys, *args: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def ledger(settings: Settings, ref: str) -> list:  # type: ignore[type-arg]
    wb = Workbench(settings)
    return TrainingService(wb).versions.load(wb.registry.get(ref).id)


def test_dry_run_prints_the_plan_and_launches_nothing(world, capsys):  # type: ignore[no-untyped-def]
    fake, settings = world
    code, out, _ = run(capsys, "train", A, B, C, "--preset", "sd15", "--gpu", "A100",
                       "--dry-run", "--json")
    plan = json.loads(out)["plan"]
    assert code == 0 and [r["actor"] for r in plan] == [A, B, C]
    assert plan[0]["images"] == 12 and plan[0]["repeats"] == 17 and plan[0]["gpu"] == "A100"
    assert plan[0]["steps"] > 0 and plan[0]["cost_usd"] > 0
    assert plan[2]["blockers"] and not plan[0]["blockers"]
    assert fake.jobs == {} and ledger(settings, A) == []
    code, out, err = run(capsys, "train", A, "--preset", "sd15")  # no --yes, no terminal
    assert code == 2 and "add --yes" in err and fake.jobs == {}
    assert f"{A}: 12 images, 17 repeats" in out


def test_yes_launches_one_job_per_actor_and_refuses_blockers_and_doubles(world, capsys):  # type: ignore[no-untyped-def]
    fake, settings = world
    code, out, _ = run(capsys, "train", A, B, C, "--preset", "sd15", "--yes", "--json")
    res = json.loads(out)
    assert code == 1  # C was refused by name
    assert sorted(r["actor"] for r in res["launched"]) == [A, B] and len(fake.jobs) == 2
    assert any(r["actor"] == C and r["blockers"] for r in res["plan"])
    code, out, _ = run(capsys, "train", A, "--preset", "sd15", "--yes")
    assert code == 1 and "already has training v1" in out and len(fake.jobs) == 2
    assert [v.status for v in ledger(settings, A)] == [JobStatus.IN_QUEUE]


def test_status_cancel_retry_versions_and_mark_good(world, capsys):  # type: ignore[no-untyped-def]
    fake, settings = world
    run(capsys, "train", A, "--preset", "sd15", "--yes")
    code, out, _ = run(capsys, "train", "status", A, "--json")
    assert code == 0 and json.loads(out)["versions"][0]["stage"] in ("queued", "training")
    code, out, _ = run(capsys, "train", "cancel", A)
    assert code == 0 and "cancelled" in out
    assert ledger(settings, A)[0].status is JobStatus.CANCELLED
    run(capsys, "train", B, "--preset", "sd15", "--yes")
    svc = TrainingService(Workbench(settings))
    svc.poll_until_done(B, timeout=60, interval=0.05)
    code, out, _ = run(capsys, "train", "status", B)
    assert code == 0 and f"{B} v1: done -> s3://" in out
    code, out, _ = run(capsys, "mark-good", B, "v1")
    assert code == 0 and "v1 is the validated model" in out
    assert Workbench(settings).registry.get(B).validated_lora_model["version_name"] == "v1"
    code, out, _ = run(capsys, "versions", B, "--json")
    assert json.loads(out)["versions"][0]["isGood"] is True
    code, _, err = run(capsys, "train", "retry", B, "v1")
    assert code == 2 and "Only a FAILED or TIMED_OUT version can be retried" in err
