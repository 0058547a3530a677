"""Team mode against real S3 servers: conditional writes, the probe, who launched, the CLI."""

from __future__ import annotations

import json
import uuid

import pytest

from actorbench.cli import main
from actorbench.demo import start_fake_runpod
from actorbench.errors import AlreadyTraining, PreconditionFailed, TeamUnsupported
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from actorbench.training import JobStatus, TrainingParams, TrainingService, TrainingVersion
from actorbench.workbench import Workbench, lean_store
from tests.conftest import settings_for
from tests.team_setup import ACTORS, atomic_moto_puts, team_bucket, team_env, team_settings

A = ACTORS[0]
__all__ = ["atomic_moto_puts"]  # the fixture, used by name


@pytest.mark.parametrize("kind", ["memory", "boto3", "lean"])
def test_conditional_put_and_get_bytes(kind, moto_server, tmp_path):
    if kind == "memory":
        from actorbench.storage.memory import MemoryStore

        store = MemoryStore("mem")
    else:
        bucket = f"cas-{uuid.uuid4().hex[:10]}"
        s = settings_for(moto_server, tmp_path, bucket)
        client = make_s3_client(s)
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
            "LocationConstraint": s.region})
        store = lean_store(s) if kind == "lean" else Workbench(s, client=client).store
    key = "state/doc.json"
    assert store.get_bytes(key) is None
    first = store.put_bytes_if(key, b'{"n": 1}', if_none_match=True)
    with pytest.raises(PreconditionFailed):
        store.put_bytes_if(key, b'{"n": 2}', if_none_match=True)
    assert store.get_bytes(key) == (b'{"n": 1}', first)
    second = store.put_bytes_if(key, b'{"n": 3}', if_match=first)
    with pytest.raises(PreconditionFailed):  # the ETag read before is stale now
        store.put_bytes_if(key, b'{"n": 4}', if_match=first)
    assert store.get_bytes(key) == (b'{"n": 3}', second)


def test_team_mode_refuses_a_server_that_ignores_conditions(rclone_server, tmp_path,
                                                            monkeypatch, capsys):
    bucket = "placeholder"  # the rclone fixture's bucket
    env = team_env(rclone_server, tmp_path / "ws", bucket, "alice")
    wb = Workbench(team_settings(rclone_server, tmp_path / "ws", bucket, "alice"))
    with pytest.raises(TeamUnsupported) as err:
        TrainingService(wb)
    msg = str(err.value)
    assert rclone_server.endpoint_url in msg and "ACTORBENCH_TEAM" in msg
    assert "If-None-Match" in msg and "If-Match" in msg
    assert not list(wb.store.list(wb.settings.team_prefix + "/"))  # the probe cleaned up
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SystemExit) as code:
        main(["versions", A])
    assert code.value.code == 3 and "ACTORBENCH_TEAM" in capsys.readouterr().err


def test_team_mode_accepts_moto_and_leaves_nothing(moto_server, tmp_path, atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    wb = Workbench(team_settings(moto_server, tmp_path / "ws", bucket, "alice"))
    assert wb.team is not None and wb.team.fingerprint() == {}
    assert wb.settings.team_prefix == "system_actors/actorbench_state"


@pytest.fixture
def fake():
    f = start_fake_runpod(speed=40.0)
    yield f
    f.stop()


def test_second_workstation_is_told_who_launched(moto_server, tmp_path, fake,
                                                 atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    alice, bob = (TrainingService(Workbench(team_settings(
        moto_server, tmp_path / u, bucket, u, **fake.env))) for u in ("alice", "bob"))
    params = TrainingParams.from_preset("sd15", resolution=256)
    v1 = alice.launch(alice.prepare(A, params))
    with pytest.raises(AlreadyTraining) as err:
        bob.launch(bob.prepare(A, params))
    msg = str(err.value)
    assert f"already has training {v1.name}" in msg and "by alice on " in msg
    assert v1.created_at in msg and "--yes-another" in msg and err.value.exit_code == 1
    assert len(fake.jobs) == 1
    v2 = bob.launch(bob.prepare(A, params), another=True)  # confirmed: a second job
    assert len(fake.jobs) == 2 and v2.name == "v2" and v2.user == "bob"
    seen = alice.versions.load(1)  # alice sees bob's launch
    assert [(v.name, v.user) for v in seen] == [("v1", "alice"), ("v2", "bob")]
    bob.poll_until_done(A, timeout=30, interval=0.02)
    assert {v.status for v in alice.versions.load(1)} == {JobStatus.COMPLETED}
    assert bob.last_params(A) is not None and alice.last_params(A).base_model == "sd15"
    alice.mark_good(A, v1.id)
    bob.mark_good(A, v2.id)  # the later mark wins, on both workstations
    for svc in (alice, bob):
        svc.wb.reload_registry()
        vlm = svc.wb.registry.get(A).validated_lora_model
        assert vlm["version_id"] == v2.id and vlm["user"] == "bob" and vlm["machine"]
        assert [v.isGood for v in svc.versions.load(1)] == [False, True]


def completed(vid: str, name: str, user: str, bucket: str = "story-boards-assets"
              ) -> TrainingVersion:
    v = TrainingVersion.new(name, "2026-11-22T10:00:00+00:00", {"base_model": "sdxl"}, [])
    v.id, v.status, v.job_id = vid, JobStatus.COMPLETED, f"job-{vid}"
    v.user, v.machine = user, "ws1"
    v.lora_url = f"s3://{bucket}/system_actors/loras/{A}/{vid}/{A}.safetensors"  # the library's
    return v


@pytest.mark.parametrize("team", [False, True])
def test_cli_versions_and_mark_good(team, moto_server, tmp_path, monkeypatch, capsys,
                                    atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    env = team_env(moto_server, tmp_path / "ws", bucket, "carol",
                   ACTORBENCH_TEAM="1" if team else "0")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    svc = TrainingService(Workbench(Settings.from_env(env=env, dotenv=False)))
    svc.versions.save(1, [completed("aaa111", "v1", "dave", bucket),
                          completed("bbb222", "v2", "carol", bucket)])
    main(["mark-good", A, "v1"])
    assert "v1 is the validated model (marked by carol@" in capsys.readouterr().out
    main(["versions", A])
    out = capsys.readouterr().out
    assert "by dave@ws1" in out and "by carol@ws1" in out and "✓ good" in out
    assert "good: v1 (aaa111), marked by carol@" in out and ("[team]" in out) == team
    main(["versions", A, "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["team"] is team and [v["user"] for v in data["versions"]] == ["dave", "carol"]
    assert data["validated_lora_model"]["user"] == "carol"
    assert all("webhook_secret" not in v for v in data["versions"])
    with pytest.raises(SystemExit) as code:
        main(["mark-good", A, "v9"])
    assert code.value.code == 2 and "no version" in capsys.readouterr().err
    shared = Workbench(team_settings(moto_server, tmp_path / "other", bucket, "erin"))
    assert (shared.registry.get(A).validated_lora_model is not None) == team


def test_the_dashboard_sees_another_workstation_change_something(moto_server, tmp_path,
                                                                 atomic_moto_puts):
    from actorbench.team.watch import TeamWatch
    from actorbench.ui.pages.training.model import TrainingModel

    bucket = team_bucket(moto_server, tmp_path)
    mine = Workbench(team_settings(moto_server, tmp_path / "mine", bucket, "alice"))
    theirs = TrainingService(Workbench(team_settings(moto_server, tmp_path / "theirs", bucket,
                                                     "bob")))
    model = TrainingModel()
    seen: list[set[str]] = []

    def bump(names: set[str]) -> None:
        seen.append(names)
        model.team_changes += 1

    watch = TeamWatch(mine.team, bump)
    assert watch.check() == set() and watch.check() == set()  # nothing moved: nothing said
    theirs.save_params(A, TrainingParams.from_preset("flux1-dev"))
    theirs.versions.save(1, [completed("ccc333", "v1", "bob")])
    assert watch.check() == {f"params/{A}.json", "ledgers/1.json"} and model.team_changes == 1
    assert watch.check() == set()
    assert TrainingService(mine).last_params(A).base_model == "flux1-dev"  # the cache follows


def test_a_broken_shared_ledger_is_named_and_never_cached(moto_server, tmp_path,
                                                           atomic_moto_puts):
    from actorbench.errors import RegistryError

    bucket = team_bucket(moto_server, tmp_path)
    svc = TrainingService(Workbench(team_settings(moto_server, tmp_path / "ws", bucket, "al")))
    svc.versions.save(1, [completed("aaa111", "v1", "al")])
    cached = svc.versions.path(1).read_text()
    key = f"{svc.wb.settings.team_prefix}/ledgers/1.json"
    svc.wb.store.put_bytes(key, b'{"versions": [{"name": 3}]}', "application/json")
    for attempt in (lambda: svc.versions.load(1), lambda: svc.mark_good(A, "aaa111")):
        with pytest.raises(RegistryError, match=f"s3://{bucket}/{key}.*string id"):
            attempt()
    assert svc.versions.path(1).read_text() == cached


def test_an_actor_discovered_on_one_workstation_appears_on_the_other(
        moto_server, tmp_path, monkeypatch, capsys, atomic_moto_puts):
    from tests.helpers import png

    bucket = team_bucket(moto_server, tmp_path)
    new = "0004_latino_30_male"
    alice = Workbench(team_settings(moto_server, tmp_path / "alice", bucket, "alice"))
    for i in range(3):
        alice.store.put_bytes(alice.layout.image_key(new, i), png(90 + i))
    for k, v in team_env(moto_server, tmp_path / "alice", bucket, "alice").items():
        monkeypatch.setenv(k, v)
    main(["discover"])
    assert new in capsys.readouterr().out
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob"))
    actor = bob.registry.get(new)
    assert actor.id == 4 and actor.image_count == 3 and not actor.synced
    assert actor.training_data["local_path"] == str(bob.layout.training_dir(new))


def test_cli_train_asks_for_yes_another(moto_server, tmp_path, fake, monkeypatch, capsys,
                                        atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    for user in ("alice", "bob"):
        team_env(moto_server, tmp_path / user, bucket, user)
    for k, v in team_env(moto_server, tmp_path / "alice", bucket, "alice", **fake.env).items():
        monkeypatch.setenv(k, v)
    main(["train", A, "--preset", "sd15", "--yes"])
    assert f"launched {A} v1" in capsys.readouterr().out
    monkeypatch.setenv("ACTORBENCH_DATA_DIR", str(tmp_path / "bob"))
    monkeypatch.setenv("ACTORBENCH_USER", "bob")
    with pytest.raises(SystemExit) as code:
        main(["train", A, "--preset", "sd15", "--yes"])
    assert code.value.code == 1 and "launched by alice" in capsys.readouterr().out
    main(["train", A, "--preset", "sd15", "--yes", "--yes-another", "--json"])
    assert json.loads(capsys.readouterr().out)["launched"][0]["user"] == "bob"
    assert len(fake.jobs) == 2


def test_a_paid_job_is_never_forgotten(moto_server, tmp_path, fake, atomic_moto_puts,
                                       monkeypatch):
    """The shared ledger cannot be written after /run: the job id is kept locally, said in the
    error, and shared by the next load; history from before team mode is shared, not dropped."""
    from actorbench.errors import ActorbenchError
    from actorbench.team.ledger import SharedLedger

    bucket = team_bucket(moto_server, tmp_path)
    solo = Workbench(team_settings(moto_server, tmp_path / "ws", bucket, "al",
                                   ACTORBENCH_TEAM="0", **fake.env))
    assert solo.team is None
    before = TrainingService(solo)  # local mode first
    old = before.launch(before.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
    before.poll_until_done(A, timeout=30, interval=0.02)
    svc = TrainingService(Workbench(team_settings(moto_server, tmp_path / "ws", bucket, "al",
                                                  **fake.env)))
    assert [v.id for v in svc.versions.load(1)] == [old.id]  # shared, not dropped
    real_save = SharedLedger.save
    calls = {"n": 0}

    def failing_save(self, actor_id, versions):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:  # the write after /run
            raise PreconditionFailed("the bucket said no")
        return real_save(self, actor_id, versions)

    monkeypatch.setattr(SharedLedger, "save", failing_save)
    with pytest.raises(ActorbenchError, match=r"was launched \(RunPod job .*recorded in"):
        svc.launch(svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)),
                   another=True)
    monkeypatch.setattr(SharedLedger, "save", real_save)
    job_ids = {v.job_id for v in svc.versions.load(1)}
    assert len(job_ids) == 2 and None not in job_ids and set(fake.jobs) == job_ids


def test_a_trigger_word_set_on_one_workstation_reaches_the_other(
        moto_server, tmp_path, monkeypatch, capsys, atomic_moto_puts):
    bucket = team_bucket(moto_server, tmp_path)
    for k, v in team_env(moto_server, tmp_path / "alice", bucket, "alice").items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SystemExit) as ended:
        main(["captions", A, "--trigger", "ohwx anna", "--json"])
        raise SystemExit(0)
    assert ended.value.code == 0
    assert json.loads(capsys.readouterr().out)["trigger_word"] == "ohwx anna"
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob"))
    assert bob.registry.get(A).trigger_word == "ohwx anna"
    got = bob.store.get_bytes(f"{bob.settings.team_prefix}/registry.json")
    assert got is not None
    doc = json.loads(got[0])
    assert doc["triggers"][A]["word"] == "ohwx anna" and doc["triggers"][A]["user"].startswith(
        "alice@")


def test_a_trigger_word_dated_9999_does_not_beat_a_later_real_setting(
        moto_server, tmp_path, monkeypatch, capsys, atomic_moto_puts):
    """Issue 28: a teammate writes a trigger dated 9999 (and a high revision) straight into the
    shared registry; it is not believed, and alice's later setting wins on every workstation."""
    bucket = team_bucket(moto_server, tmp_path)
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob"))
    key = f"{bob.settings.team_prefix}/registry.json"
    got = bob.store.get_bytes(key)
    doc = json.loads(got[0]) if got else {}
    doc["triggers"] = {A: {"word": "pinned", "at": "9999-12-31T23:59:59+00:00",
                           "user": "mallory", "revision": 40}}
    bob.store.put_bytes(key, json.dumps(doc).encode())
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob"))
    assert bob.registry.get(A).trigger_word != "pinned"  # dated ahead: not believed
    for k, v in team_env(moto_server, tmp_path / "alice", bucket, "alice").items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SystemExit) as ended:
        main(["captions", A, "--trigger", "ohwx anna", "--json"])
        raise SystemExit(0)
    assert ended.value.code == 0
    assert json.loads(capsys.readouterr().out)["trigger_word"] == "ohwx anna"
    got = bob.store.get_bytes(key)
    assert got is not None
    rec = json.loads(got[0])["triggers"][A]
    assert (rec["word"], rec["revision"]) == ("ohwx anna", 41)
    bob = Workbench(team_settings(moto_server, tmp_path / "bob", bucket, "bob"))
    assert bob.registry.get(A).trigger_word == "ohwx anna"
