"""Settings from env and .env; the CLI end to end as a real process against a real S3 server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from actorbench.errors import ConfigError, CredentialsError
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from tests.helpers import png

ROOT = Path(__file__).resolve().parents[1]


def test_defaults(monkeypatch):
    s = Settings.from_env(env={}, dotenv=False)
    assert (s.bucket, s.prefix, s.region, s.endpoint_url) == (
        "story-boards-assets", "system_actors/training_data", "us-west-1", None)
    assert s.data_dir == ROOT / "data"
    monkeypatch.chdir(ROOT / "notebooks")  # where Voila and JupyterLab run the notebooks
    assert Settings.from_env(env={}, dotenv=False).data_dir == ROOT / "data"


def test_seed_variable_names_and_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("AWS_ACCESS_KEY=fromdotenv\nAWS_ACCESS_SECRET=s\nAWS_REGION=eu-west-1\n"
                        "AWS_ENDPOINT_URL=http://127.0.0.1:9\n")
    s = Settings.from_env(env={"AWS_REGION": "us-east-2"}, dotenv=env_file)
    assert s.access_key == "fromdotenv" and s.secret_key == "s"
    assert s.region == "us-east-2"  # the environment wins over .env
    assert s.endpoint_url == "http://127.0.0.1:9"
    assert "fromdotenv" not in repr(s) and "'s'" not in repr(s)


def test_bad_settings_are_clear():
    with pytest.raises(ConfigError, match="ACTORBENCH_WORKERS"):
        Settings.from_env(env={"ACTORBENCH_WORKERS": "many"}, dotenv=False)
    with pytest.raises(ConfigError, match="3-63"):
        Settings.from_env(env={"ACTORBENCH_BUCKET": "ab"}, dotenv=False)


def test_missing_credentials_message_names_variables():
    with pytest.raises(CredentialsError) as err:
        make_s3_client(Settings.from_env(env={}, dotenv=False))
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY",
                "AWS_ACCESS_SECRET", ".env"):
        assert var in str(err.value)


def cli(args, env, cwd, check=None):
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    full.update(env)
    full.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
                 "AWS_EC2_METADATA_DISABLED": "true"})
    r = subprocess.run([sys.executable, "-m", "actorbench.cli", *args], env=full, cwd=cwd,
                       capture_output=True, text=True, timeout=120)
    if check is not None:
        assert r.returncode == check, r.stderr + r.stdout
    return r


def test_cli_missing_credentials_is_one_clear_line(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    r = cli(["status", "1"], {}, tmp_path, check=3)  # the environment, not the input
    assert "No AWS credentials found" in r.stderr and "Traceback" not in r.stderr


def test_cli_malformed_registry(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text('[{"id": 1, "name": ')
    r = cli(["status", "1"], {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}, tmp_path,
            check=2)
    assert "actors.json: malformed JSON at line 1" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def cli_world(moto_server, tmp_path):
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    env = {**moto_server.env, "ACTORBENCH_BUCKET": bucket}
    s = Settings.from_env(env=env, dotenv=False)
    client = make_s3_client(s)
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint":
                                                                   "us-west-1"})
    (tmp_path / "data").mkdir()
    names = ["0001_european_30_female", "0002_african_45_male"]
    (tmp_path / "data" / "actors.json").write_text(json.dumps(
        [{"id": i + 1, "name": n} for i, n in enumerate(names)]))
    for n in names:
        for i in range(5):
            client.put_object(Bucket=bucket, Key=f"system_actors/training_data/{n}/{n}_{i}.png",
                              Body=png(i))
    return env, tmp_path, names


def test_cli_status_pull_push_clean_json(cli_world):
    env, cwd, names = cli_world
    st = json.loads(cli(["status", "1", "--json"], env, cwd, check=0).stdout)
    assert st["counts"]["s3_only"] == 5
    out = json.loads(cli(["pull", "1", "--only", "0-2", "--json"], env, cwd, check=0).stdout)
    assert {k: out[k] for k in ("downloaded", "skipped", "failed", "total")} == {
        "downloaded": 3, "skipped": 0, "failed": 0, "total": 3}
    assert out["errors"] == [] and out["conflicts"] == []
    many = json.loads(cli(["pull", "--all", "--workers", "4", "--json"], env, cwd,
                          check=0).stdout)
    assert [m["downloaded"] for m in many] == [2, 5]
    img = cwd / "data" / "actors" / names[0] / "training_data" / f"{names[0]}_7.png"
    img.write_bytes(png(77))
    pushed = json.loads(cli(["push", names[0], "--json"], env, cwd, check=0).stdout)
    assert pushed["uploaded"] == 1 and len(pushed["s3_urls"]) == 6
    cleaned = json.loads(cli(["clean", "2", "--dry-run", "--json"], env, cwd, check=0).stdout)
    assert cleaned["deleted"] == 5 and cleaned["dry_run"]
    assert len(list((cwd / "data/actors" / names[1] / "training_data").glob("*.png"))) == 5


def test_cli_global_options_override_env(cli_world):
    env, cwd, _ = cli_world
    r = cli(["--bucket", "no-such-bucket-xyz", "status", "1"], env, cwd, check=2)
    assert "no-such-bucket-xyz" in r.stderr and "does not exist" in r.stderr
    r = cli(["--data-dir", str(cwd / "elsewhere"), "status", "1"], env, cwd, check=2)
    assert "file not found" in r.stderr


def test_cli_unknown_actor_and_bad_only(cli_world):
    env, cwd, _ = cli_world
    assert "Unknown actor '999'" in cli(["pull", "999"], env, cwd, check=2).stderr
    assert "--only" in cli(["pull", "1", "--only", "a-b"], env, cwd, check=2).stderr


def test_cli_conflict_exits_nonzero(cli_world):
    env, cwd, names = cli_world
    cli(["pull", "1"], env, cwd, check=0)
    (cwd / "data/actors" / names[0] / "training_data" / f"{names[0]}_0.png").write_bytes(png(90))
    s = Settings.from_env(env=env, dotenv=False)
    make_s3_client(s).put_object(Bucket=s.bucket, Key=f"{s.prefix}/{names[0]}/{names[0]}_0.png",
                                 Body=png(91))
    r = cli(["pull", "1", "--json"], env, cwd, check=1)
    assert len(json.loads(r.stdout)["conflicts"]) == 1


def test_cli_server_down_is_clear(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s",
           "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    r = cli(["status", "1"], env, tmp_path, check=3)  # the environment, not the input
    assert "Cannot reach the S3 server" in r.stderr and "Traceback" not in r.stderr


def test_cli_report_writes_csv_and_html(cli_world):
    env, cwd, _ = cli_world
    cli(["pull", "1"], env, cwd, check=0)
    out = json.loads(cli(["report", "--csv", "csv", "--html", "r.html", "--json"], env, cwd,
                         check=0).stdout)
    assert out["totals"]["synced"] == 5 and out["totals"]["s3_only"] == 5
    assert (cwd / "csv" / "actors.csv").exists() and (cwd / "r.html").stat().st_size > 10000


def test_workers_option_caps_every_transfer_path(monkeypatch):
    """`--workers 3` means at most 3 transfers at once: threads and download connections."""
    from actorbench.cli.context import CliContext
    from actorbench.errors import ConfigError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    ctx = CliContext({"workers": 3})
    s = ctx.workbench().settings
    assert (s.workers, s.connections) == (3, 3)
    s = ctx.workbench(7).settings  # the command's option wins over the global one
    assert (s.workers, s.connections) == (7, 7)
    assert CliContext().workbench().settings.connections == 128
    with pytest.raises(ConfigError, match="workers"):
        ctx.workbench(0)
