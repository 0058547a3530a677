"""`actorbench captions` as a user runs it (a process, against moto's server), and
`wb.captions()` in a notebook."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from actorbench.actors import default_trigger
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from tests.helpers import png

A = "0001_european_30_female"


def cli(args, env, cwd, check=0):
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    full.update({**env, "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                 "AWS_CONFIG_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true",
                 "ACTORBENCH_USER": "alice"})
    r = subprocess.run([sys.executable, "-m", "actorbench.cli", *args], env=full, cwd=cwd,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == check, r.stderr + r.stdout
    return r


@pytest.fixture
def world(moto_server, tmp_path):
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    env = {**moto_server.env, "ACTORBENCH_BUCKET": bucket}
    client = make_s3_client(Settings.from_env(env=env, dotenv=False))
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint":
                                                                   "us-west-1"})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text(json.dumps([{"id": 1, "name": A}]))
    for i in range(3):
        client.put_object(Bucket=bucket, Key=f"system_actors/training_data/{A}/{A}_{i}.png",
                          Body=png(i))
    return env, tmp_path, client, bucket


def test_captions_command_drafts_set_undo_and_sync(world):
    env, cwd, client, bucket = world
    trigger = default_trigger(A)
    shown = json.loads(cli(["captions", "1", "--json"], env, cwd).stdout)
    assert shown["trigger_word"] == trigger
    assert [(r["index"], r["caption"], r["draft"]) for r in shown["images"]] == [
        (i, None, f"{trigger}, photo") for i in range(3)]
    cli(["pull", "1"], env, cwd)
    out = cli(["captions", "1", "--set", "1", f"{trigger}, smiling, outdoors"], env, cwd).stdout
    assert "edit: 1 caption change" in out and "person alice@" in out
    drafted = json.loads(cli(["captions", A, "--draft", "--json"], env, cwd).stdout)
    assert drafted["message"] == "apply draft: 2 captions change, 1 left alone"
    assert [e.get("skipped", "") for e in drafted["preview"]][1].startswith("written by a person")
    folder = cwd / "data" / "actors" / A / "training_data"
    assert (folder / f"{A}_1.txt").read_text() == f"{trigger}, smiling, outdoors"
    assert (folder / f"{A}_0.txt").read_text() == f"{trigger}, photo"
    undone = json.loads(cli(["captions", A, "--undo", "--json"], env, cwd).stdout)
    assert undone["undo"]["restored"] == [0, 2] and not (folder / f"{A}_0.txt").exists()
    pushed = json.loads(cli(["push", "1", "--json"], env, cwd).stdout)
    assert pushed["uploaded"] == 1
    body = client.get_object(Bucket=bucket, Key=f"system_actors/training_data/{A}/{A}_1.txt")
    assert body["Body"].read().decode() == f"{trigger}, smiling, outdoors"
    st = json.loads(cli(["status", "1", "--json"], env, cwd).stdout)
    assert st["images"][1]["caption"]["status"] == "synced" and "caption" not in st["images"][0]
    assert "captions: synced 1" in cli(["status", "1"], env, cwd).stdout


def test_captions_command_refuses_bad_input_in_one_line(world):
    env, cwd, _, _ = world
    r = cli(["captions", "1", "--set", "9", "x"], env, cwd, check=2)
    assert r.stderr.startswith("error: ") and "no image 9" in r.stderr
    r = cli(["captions", "1", "--set", "x", "y"], env, cwd, check=2)
    assert "image index" in r.stderr and r.stderr.count("\n") == 1
    r = cli(["captions", "1", "--trigger", "a, b"], env, cwd, check=2)
    assert "without commas" in r.stderr
    stray = cwd / "data" / "actors" / A / "training_data" / f"{A}_9.txt"
    stray.parent.mkdir(parents=True)
    stray.write_text("for no image")
    shown = json.loads(cli(["captions", "1", "--json"], env, cwd).stdout)
    assert [u["name"] for u in shown["unrecognised"]] == [f"{A}_9.txt"]
    assert "image 9" in cli(["captions", "1"], env, cwd).stdout
    r = cli(["captions", "1", "--undo"], env, cwd, check=2)
    assert "no bulk edit to undo" in r.stderr
    cli(["captions", "1", "--trigger", "ohwx anna"], env, cwd)
    reg = json.loads((cwd / "data" / "actors.json").read_text())
    assert reg[0]["trigger_word"] == "ohwx anna"
    r = cli(["captions", "1", "--set", "0", "x" * 1001], env, cwd, check=2)
    assert "too long" in r.stderr and "nothing was written" in r.stderr


def test_train_plan_lists_the_captions_the_job_will_carry(world):
    env, cwd, _, _ = world
    trigger = default_trigger(A)
    cli(["pull", "1"], env, cwd)
    cli(["captions", "1", "--set", "2", "smiling"], env, cwd)
    r = cli(["train", "1", "--dry-run", "--json"], env, cwd, check=1)  # 3 images: too few
    row = json.loads(r.stdout)["plan"][0]
    assert row["trigger_word"] == trigger
    assert row["captions"] == [
        {"index": 0, "caption": f"{trigger}, photo", "source": "draft (no caption)"},
        {"index": 1, "caption": f"{trigger}, photo", "source": "draft (no caption)"},
        {"index": 2, "caption": f"{trigger}, smiling", "source": "person"}]
    assert any("trigger word" in w and "image 2" in w for w in row["warnings"])
