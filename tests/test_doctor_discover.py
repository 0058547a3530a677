"""`actorbench doctor` and `actorbench discover` against real S3 servers on loopback."""

from __future__ import annotations

import json
import socket
import time
import uuid
from pathlib import Path

import pytest

from actorbench.actors import Registry
from actorbench.diagnostics import FAIL, OK, exit_code, format_table, run_doctor, setting_origins
from actorbench.storage.client import make_s3_client
from actorbench.storage.urls import format_s3_url
from actorbench.sync.discover import discover
from actorbench.workbench import Workbench
from tests.conftest import settings_for
from tests.helpers import png
from tests.test_settings_cli import cli

NAMES = ["0001_european_30_female", "0002_african_45_male", "0007_east_asian_22_female"]
UNSAFE = ["bad name", ".hidden"]


def _env(s3, data_dir: Path, bucket: str, **extra: str) -> dict[str, str]:
    return {**s3.env, "ACTORBENCH_DATA_DIR": str(data_dir), "ACTORBENCH_BUCKET": bucket,
            **extra}


def _world(s3, tmp_path: Path, region: str = "us-west-1", names=NAMES, unsafe=UNSAFE,
           registry: list[dict] | None = None, **extra: str):
    """A bucket holding a few actor folders (and unsafe ones); actors.json if given."""
    bucket = f"ab-{uuid.uuid4().hex[:12]}"
    env = _env(s3, tmp_path / "data", bucket, **extra)
    s = settings_for(s3, tmp_path / "data", bucket, **extra)
    client = make_s3_client(s.with_overrides(region=region))
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    for k, n in enumerate(names):
        for i in range(k + 1):
            client.put_object(Bucket=bucket, Key=f"{s.prefix}/{n}/{n}_{i}.png", Body=png(i))
        client.put_object(Bucket=bucket, Key=f"{s.prefix}/{n}/base_image/{n}_base.png",
                          Body=png(50))
    for n in unsafe:
        client.put_object(Bucket=bucket, Key=f"{s.prefix}/{n}/x.png", Body=png(1))
    if registry is not None:
        s.data_dir.mkdir(parents=True, exist_ok=True)
        s.registry_path.write_text(json.dumps(registry))
    return s, env, client


def _rows(checks):
    return {c.name: c for c in checks}


def _keys(client, bucket):
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


# -- doctor -----------------------------------------------------------------------------------
def test_doctor_working_setup_is_all_ok_and_write_leaves_nothing(rclone_server, tmp_path):
    reg = [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)]
    s, env, client = _world(rclone_server, tmp_path, unsafe=[], registry=reg)
    before = _keys(client, s.bucket)
    checks = run_doctor(s, setting_origins(env=env, dotenv=False), write=True)
    assert [c for c in checks if c.status != OK] == [], format_table(checks)
    rows = _rows(checks)
    assert {"credentials", "endpoint", "bucket", "region", "clock", "list", "get", "put",
            "disk", "actors", "actors.json"} <= set(rows)
    assert rows["ACTORBENCH_BUCKET"].detail == f"{s.bucket} (from environment)"
    assert rows["ACTORBENCH_PREFIX"].detail == f"{s.prefix} (default)"
    assert "3 actor folders in S3" in rows["actors"].detail
    assert rows["credentials"].detail.startswith("static keys: AWS_ACCESS_KEY_ID …demo")
    assert s.secret_key not in format_table(checks) + json.dumps([c.to_json() for c in checks])
    assert exit_code(checks) == 0
    assert _keys(client, s.bucket) == before  # the scratch object is gone


@pytest.mark.parametrize(("server", "status"), [("moto_server", OK), ("rclone_server", FAIL)])
def test_doctor_team_row_probes_stale_writes_only_with_write(server, status, request, tmp_path):
    s3 = request.getfixturevalue(server)
    s, env, client = _world(s3, tmp_path, unsafe=[], ACTORBENCH_TEAM="1")
    before = _keys(client, s.bucket)
    origins = setting_origins(env=env, dotenv=False)
    told = _rows(run_doctor(s, origins))["team"]
    assert told.status == OK and "--write" in told.detail and s.team_prefix in told.detail
    probed = _rows(run_doctor(s, origins, write=True))["team"]
    assert probed.status == status, probed
    if status == FAIL:  # rclone accepts a PUT over a newer object: named, with the fix
        assert "If-None-Match" in probed.detail and "ACTORBENCH_TEAM" in probed.fix
        assert "\n" not in probed.detail
    assert _keys(client, s.bucket) == before  # the probe's scratch object is gone
    off = run_doctor(s.with_overrides(team=False), origins)
    assert _rows(off)["team"].detail.startswith("off")


@pytest.mark.parametrize(("var", "value", "code"), [
    ("AWS_SECRET_ACCESS_KEY", "not-the-secret", "secret key does not match"),
    ("AWS_ACCESS_KEY_ID", "nobody-knows-me", "does not know the access key"),
])
def test_doctor_bad_credentials_name_the_setting(rclone_server, tmp_path, var, value, code):
    s, env, _ = _world(rclone_server, tmp_path, unsafe=[])
    bad_env = {**env, var: value}
    bad = settings_for(rclone_server, tmp_path / "data", s.bucket, **{var: value})
    checks = run_doctor(bad, setting_origins(env=bad_env, dotenv=False))
    failed = [c for c in checks if c.status == FAIL]
    assert len(failed) == 1 and code in failed[0].detail and var in failed[0].fix
    assert exit_code(checks) == 3
    r = cli(["doctor"], bad_env, tmp_path, check=3)  # the CLI: a table with a fix line
    assert f"fix: Set {var}" in r.stdout and "Traceback" not in r.stderr + r.stdout
    assert value not in r.stdout or var == "AWS_ACCESS_KEY_ID"  # secrets are never printed


def test_doctor_without_credentials_fails_with_exit_3(moto_server, tmp_path):
    s, env, _ = _world(moto_server, tmp_path, unsafe=[])
    env = {k: v for k, v in env.items() if not k.startswith("AWS_ACCESS_KEY_ID")
           and k != "AWS_SECRET_ACCESS_KEY"}
    r = cli(["doctor", "--json"], env, tmp_path, check=3)
    rows = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert rows["credentials"]["status"] == FAIL
    assert "AWS_ACCESS_KEY_ID" in rows["credentials"]["fix"]


def test_dead_endpoint_is_one_fail_row_and_no_hang(tmp_path):
    silent = socket.socket()  # accepts connections (backlog), never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        for url in ("http://127.0.0.1:9", f"http://127.0.0.1:{silent.getsockname()[1]}"):
            env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
                   "AWS_ENDPOINT_URL": url, "ACTORBENCH_DATA_DIR": str(tmp_path / "data")}
            t0 = time.monotonic()
            r = cli(["doctor"], env, tmp_path, check=3)
            assert time.monotonic() - t0 < 15
            fails = [line for line in r.stdout.splitlines() if "  FAIL  " in line]
            assert len(fails) == 1 and fails[0].startswith("endpoint"), r.stdout
            assert "fix: Check AWS_ENDPOINT_URL" in r.stdout and "Traceback" not in r.stderr
    finally:
        silent.close()


def test_wrong_region_names_aws_region_and_the_right_value(moto_server, tmp_path):
    reg = [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)]
    s, env, _ = _world(moto_server, tmp_path, region="eu-central-1", unsafe=[], registry=reg)
    checks = run_doctor(s, setting_origins(env=env, dotenv=False))
    region = _rows(checks)["region"]
    assert region.status == FAIL and "AWS_REGION is us-west-1 (default)" in region.detail
    assert region.fix.startswith("Set AWS_REGION=eu-central-1")
    assert exit_code(checks) == 2  # a setting to change
    good = s.with_overrides(region="eu-central-1")
    assert exit_code(run_doctor(good, setting_origins(env=env, dotenv=False))) == 0


def test_clock_skew_over_5_minutes_warns(moto_server, tmp_path):
    s, env, _ = _world(moto_server, tmp_path, unsafe=[])
    checks = run_doctor(s, setting_origins(env=env, dotenv=False),
                        now=lambda: time.time() + 600)
    clock = _rows(checks)["clock"]
    assert clock.status == "warn" and "ahead" in clock.detail and "timedatectl" in clock.fix


def test_setting_origins_env_dotenv_option_default(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("ACTORBENCH_BUCKET=from-file\nAWS_REGION=eu-west-1\nS3_BUCKET=x\n")
    o = setting_origins(env={"AWS_REGION": "us-east-2", "AWS_DEFAULT_REGION": "y"},
                        dotenv=dotenv, options=["prefix"])
    assert str(o["bucket"]) == "ACTORBENCH_BUCKET in .env"
    assert str(o["region"]) == "AWS_REGION in environment"
    assert str(o["prefix"]) == "option --prefix"
    assert str(o["data_dir"]) == "default"


# -- discover ---------------------------------------------------------------------------------
def _wb(s) -> Workbench:
    return Workbench(s)


def test_discover_builds_registry_from_folders(moto_server, tmp_path):
    s, env, _ = _world(moto_server, tmp_path, names=[*NAMES, "zeta-actor", "0002_dupe_40_male"])
    doc = _rows(run_doctor(s, setting_origins(env=env, dotenv=False)))
    assert doc["actors.json"].status == "warn" and "discover" in doc["actors.json"].fix
    assert "2 with unsafe names" in doc["actors"].detail
    wb = _wb(s)
    dry = discover(wb.store, wb.layout, s.registry_path, s.region, dry_run=True)
    assert len(dry.added) == 5 and not dry.written and not s.registry_path.exists()

    r = discover(wb.store, wb.layout, s.registry_path, s.region)
    assert r.written and {u["name"] for u in r.unsafe} == set(UNSAFE)
    reg = Registry.load(s.registry_path)
    ids = {a.name: a.id for a in reg}
    # the name's number when free (2 is taken by 0002_african_45_male, sorted first);
    # else after the highest id
    assert ids == {"0001_european_30_female": 1, "0002_african_45_male": 2,
                   "0007_east_asian_22_female": 7, "0002_dupe_40_male": 8, "zeta-actor": 9}
    a = reg.get("0007_east_asian_22_female")
    assert (a.facets.ethnicity, a.facets.age, a.facets.gender) == ("east_asian", 22, "female")
    assert a.image_count == 3 and not a.synced
    assert a.s3_urls == [format_s3_url(s.bucket, s.region, wb.layout.image_key(a.name, i))
                         for i in range(3)]
    assert reg.get("zeta-actor").facets.ethnicity is None
    assert set(UNSAFE).isdisjoint(ids)
    # the sync engine reads what discover wrote: status sees the images in S3
    plan = Workbench(s).engine.plan([a.name])[a.name]
    assert plan.counts()["s3_only"] == 3

    before = s.registry_path.read_bytes(), s.registry_path.stat().st_mtime_ns
    again = discover(wb.store, wb.layout, s.registry_path, s.region)
    assert again.added == [] and not again.written
    assert (s.registry_path.read_bytes(), s.registry_path.stat().st_mtime_ns) == before
    doc = _rows(run_doctor(s, setting_origins(env=env, dotenv=False)))
    assert doc["actors.json"].status == OK and "0 in S3 only" in doc["actors"].detail


def test_discover_keeps_existing_entries_and_unknown_fields(moto_server, tmp_path):
    existing = [{"id": 7, "name": "0001_european_30_female", "custom": {"keep": [1, 2]},
                 "training_data": {"count": 0, "note": "mine"}},
                {"id": "x-12", "name": "someone_else", "validated_lora_model": {"v": 1}}]
    s, env, _ = _world(moto_server, tmp_path, unsafe=[], registry=existing)
    wb = _wb(s)
    r = discover(wb.store, wb.layout, s.registry_path, s.region, dry_run=True)
    assert [e["name"] for e in r.added] == ["0002_african_45_male", "0007_east_asian_22_female"]
    assert json.loads(s.registry_path.read_text()) == existing  # dry run: nothing written
    r = discover(wb.store, wb.layout, s.registry_path, s.region)
    data = json.loads(s.registry_path.read_text())
    assert data[:2] == existing  # untouched, in place
    # 7 is taken (by another actor): after the highest numeric id
    assert [(e["id"], e["name"]) for e in data[2:]] == [(2, "0002_african_45_male"),
                                                        (8, "0007_east_asian_22_female")]


def test_cli_discover_and_doctor(moto_server, tmp_path):
    s, env, client = _world(moto_server, tmp_path)
    dry = json.loads(cli(["discover", "--dry-run", "--json"], env, tmp_path, check=0).stdout)
    assert dry["dry_run"] and len(dry["added"]) == 3 and not s.registry_path.exists()
    assert {u["name"] for u in dry["unsafe"]} >= {".hidden"}
    r = cli(["discover"], env, tmp_path, check=0)
    assert "added 3" in r.stdout and "skipped .hidden" in r.stdout
    assert "added 0" in cli(["discover"], env, tmp_path, check=0).stdout
    out = json.loads(cli(["doctor", "--write", "--json"], env, tmp_path, check=0).stdout)
    rows = {c["name"]: c for c in out["checks"]}
    assert out["exit_code"] == 0 and rows["put"]["status"] == OK
    assert rows["actors"]["status"] == "warn"  # the unsafe folders are reported
    assert not [k for k in _keys(client, s.bucket) if ".actorbench-doctor" in k]


# -- the dashboard's Connection page ---------------------------------------------------------
def test_connection_page_runs_doctor_off_thread_and_escapes(tmp_path):
    from actorbench.settings import Settings
    from actorbench.ui.pages.connection.view import ConnectionView
    from actorbench.ui.state import AppState

    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "ACTORBENCH_DATA_DIR": str(tmp_path),
           "ACTORBENCH_PREFIX": "<img src=x onerror=alert(1)>"}
    s = Settings.from_env(env=env, dotenv=False)
    view = ConnectionView(AppState(Workbench(s)), setting_origins(env=env, dotenv=False))
    view.check_button.click()
    view.worker.wait(30)
    assert view.model.exit_code == 3 and view.errors.value == ""
    assert "ab-check-fail" in view.table.value and "1 failed" in view.status.value
    assert "<img src=x" not in view.table.value and "&lt;img src=x" in view.table.value
    assert not view.check_button.disabled


def test_app_lists_the_connection_page(tmp_path):
    from actorbench.settings import Settings
    from actorbench.ui import App
    from actorbench.ui.pages.connection.view import ConnectionView

    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "ACTORBENCH_DATA_DIR": str(tmp_path)}
    (tmp_path / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    app = App(Workbench(Settings.from_env(env=env, dotenv=False)))
    try:
        assert "Connection" in app.tabs.titles
        assert isinstance(app.page("Connection"), ConnectionView)
    finally:
        app.close()
