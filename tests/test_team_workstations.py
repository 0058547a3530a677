"""Two workstations (two processes, two data folders) on one bucket of the moto server: 100
rounds each of launches, confirmed second launches, polls, cancels and marks on the same three
actors. Every committed revision of every shared document is checked (a versioned bucket)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

from actorbench.demo import start_fake_runpod
from actorbench.storage.client import make_s3_client
from actorbench.team.merge import mark_key, rank, state_key
from actorbench.training import TrainingService
from actorbench.training.status import ACTIVE
from actorbench.workbench import Workbench
from tests.figures import FIGURES
from tests.team_setup import ACTORS, atomic_moto_puts, team_bucket, team_env, team_settings

ROOT = Path(__file__).resolve().parents[1]
ROUNDS = 100
__all__ = ["atomic_moto_puts"]  # the fixture, used by name


def revisions(client, bucket: str, key: str) -> list[dict]:
    """Every version of the object, oldest first."""
    found = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=key):
        found += [v for v in page.get("Versions", []) if v["Key"] == key]
    found.reverse()  # S3 lists the newest first
    return [json.loads(client.get_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
                       ["Body"].read()) for v in found]


def run_workstations(s3, tmp_path: Path, bucket: str, fake) -> list[dict]:
    go, procs, outs = tmp_path / "go", [], []
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    for n, (user, client) in enumerate((("alice", "lean"), ("bob", "boto3"))):
        out = tmp_path / f"{user}.json"
        env = {**clean, **team_env(s3, tmp_path / user, bucket, user,
                                   ACTORBENCH_S3_CLIENT=client, **fake.env),
               "PYTHONPATH": str(ROOT)}
        procs.append(subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "team_worker.py"), str(out), str(ROUNDS),
             str(n + 1), str(go), *ACTORS], env=env, cwd=ROOT, stderr=subprocess.PIPE))
        outs.append(out)
    deadline = time.monotonic() + 120
    while not all(Path(f"{o}.ready").exists() for o in outs):  # both set up: start together
        assert all(p.poll() is None for p in procs), [p.stderr.read() for p in procs]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=400)
        assert p.returncode == 0, err.decode()[-3000:]
    return [json.loads(o.read_text()) for o in outs]


def test_two_workstations_lose_nothing_and_never_launch_twice(moto_server, tmp_path,
                                                              atomic_moto_puts):
    fake = start_fake_runpod(speed=40.0)
    try:
        bucket = team_bucket(moto_server, tmp_path, versioned=True)
        logs = run_workstations(moto_server, tmp_path, bucket, fake)
        judge = TrainingService(Workbench(team_settings(moto_server, tmp_path / "judge", bucket,
                                                        "judge", **fake.env)))
        for actor in ACTORS:  # let every job end
            judge.poll_until_done(actor, timeout=60, interval=0.05)
        jobs = set(fake.jobs)
    finally:
        fake.stop()
    assert not [e for log in logs for e in log["errors"]]
    launches = [x for log in logs for x in log["launches"]]
    forced = {x["id"] for x in launches if x["forced"]}
    # the run was a real contest: refused launches, compare-and-swap races lost and retried
    assert sum(len(log["refused"]) for log in logs) > 0
    assert sum(log["conflicts"][0] for log in logs) > 0
    assert len(launches) - len(forced) >= 3 and sum(len(log["marks"]) for log in logs) >= 3
    # exactly one RunPod job per launch: none for a refused one, none twice
    assert len(jobs) == len(launches) and {x["job_id"] for x in launches} == jobs
    FIGURES["team: workstation rounds run concurrently"] += ROUNDS * len(logs)
    FIGURES["team: launches (one RunPod job each)"] += len(launches)
    FIGURES["team: second launches refused (another workstation's job running)"] += sum(
        len(log["refused"]) for log in logs)
    FIGURES["team: compare-and-swap races lost, merged again, written"] += sum(
        log["conflicts"][0] for log in logs)
    FIGURES["team: marks as good"] += sum(len(log["marks"]) for log in logs)

    s = judge.wb.settings
    client = make_s3_client(s)
    registry_history = revisions(client, bucket, f"{s.team_prefix}/registry.json")
    for actor_id, actor in enumerate(ACTORS, 1):
        history = revisions(client, bucket, f"{s.team_prefix}/ledgers/{actor_id}.json")
        FIGURES["team: ledger revisions checked (versions kept, states forward)"] += len(history)
        final = {v["id"]: v for v in history[-1]["versions"]}
        assert history[-1] == json.loads(client.get_object(
            Bucket=bucket, Key=f"{s.team_prefix}/ledgers/{actor_id}.json")["Body"].read())
        # every version present, and no other
        assert set(final) == {x["id"] for x in launches if x["actor"] == actor}
        assert all(rank(v["status"]) >= rank("LOST") for v in final.values())  # all ended
        for prev, cur in pairwise(history):
            before = {v["id"]: v for v in prev["versions"]}
            after = {v["id"]: v for v in cur["versions"]}
            assert before.keys() <= after.keys()  # no commit lost a version
            assert all(state_key(after[i]) >= state_key(before[i]) for i in before)  # forward
            if prev.get("good"):
                assert mark_key(cur["good"]) >= mark_key(prev["good"])
            new = after.keys() - before.keys()
            if new - forced:  # an unconfirmed launch was committed only over an idle ledger
                assert len(new) == 1
                assert not [v for v in before.values() if v["status"] in ACTIVE], (actor, new)
        for log in logs:  # what a workstation saw is never ahead of what was kept
            for seen in (x for x in log["seen"] if x["actor"] == actor):
                for vid, (attempt, status) in seen["states"].items():
                    assert state_key(final[vid]) >= state_key(
                        {"attempt": attempt, "status": status})
        # one good version per actor: the mark written last, in the bucket's order (each mark
        # took the next revision inside its compare-and-swap), whatever the clocks said
        marks = [m for log in logs for m in log["marks"] if m["actor"] == actor]
        if not marks:
            continue
        good = history[-1]["good"]
        assert good["revision"] == len(marks)  # every mark counted once, none lost
        winner = next(m for m in marks if (m["version_id"], m["marked_at"], m["user"]) == (
            good["version_id"], good["marked_at"], good["user"]))
        assert [i for i, v in final.items() if v["isGood"]] == [winner["version_id"]]
        shared = registry_history[-1]["validated"][actor]
        assert (shared["version_id"], shared["marked_at"]) == (winner["version_id"],
                                                               winner["marked_at"])
        for user in ("alice", "bob"):  # each workstation's actors.json, refreshed on read
            wb = Workbench(team_settings(moto_server, tmp_path / user, bucket, user))
            assert wb.registry.get(actor).validated_lora_model == shared
    for prev, cur in pairwise(registry_history):
        for name, m in prev["validated"].items():
            assert mark_key(cur["validated"][name]) >= mark_key(m)
