"""Failures are one clear line, and nothing is partial: disk space, a full disk, bad JSON,
an unreachable server, missing credentials, and a dashboard that recovers (issue 13)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

import actorbench.fsutil as fsutil
from actorbench.actors import Registry, read_json
from actorbench.cli import main
from actorbench.demo import free_port
from actorbench.errors import ConfigError, RegistryError
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client
from actorbench.units import format_size

NAMES = ["0001_european_30_female", "0002_african_45_male"]
PREFIX = "system_actors/training_data"
DEEP = "[" * 100_000 + "]" * 100_000
REAL_FREE_BYTES = fsutil.free_bytes


@dataclass
class World:
    env: dict[str, str]
    data: Path
    images: dict[Path, bytes]  # every image a complete pull leaves, with its bytes


def make_world(s3, data: Path, count: int, size: int) -> World:
    """A fresh bucket holding ``count`` images of ``size`` bytes for each actor in NAMES."""
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    env = {**s3.env, "ACTORBENCH_BUCKET": bucket, "ACTORBENCH_DATA_DIR": str(data)}
    client = make_s3_client(Settings.from_env(env=env, dotenv=False))
    client.create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": "us-west-1"})
    data.mkdir(parents=True, exist_ok=True)
    (data / "actors.json").write_text(json.dumps(
        [{"id": i + 1, "name": n} for i, n in enumerate(NAMES)]))
    images = {}
    for n in NAMES:
        for i in range(count):
            body = os.urandom(size)
            client.put_object(Bucket=bucket, Key=f"{PREFIX}/{n}/{n}_{i}.png", Body=body)
            images[data / "actors" / n / "training_data" / f"{n}_{i}.png"] = body
    return World(env, data, images)


def run_main(args: list[str], world: World, monkeypatch, capsys) -> tuple[int, str, str]:
    """``actorbench ARGS`` in this process (so one function can be patched): code, out, err."""
    for k, v in world.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(world.data.parent)  # no .env of the checkout
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(args)
        raise SystemExit(0)
    out, err = capsys.readouterr()
    return int(ended.value.code or 0), out, err


def run_cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    full.update({"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                 "AWS_CONFIG_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true", **env})
    return subprocess.run([sys.executable, "-m", "actorbench.cli", *args], env=full, cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(fsutil.TMP_MARK)]


def check_nothing_partial(world: World) -> int:
    """Every image on disk is whole (the bytes S3 has); no temp file anywhere. How many?"""
    assert temp_files(world.data) == []
    landed = [p for p in world.images if p.exists()]
    for p in landed:
        assert p.read_bytes() == world.images[p], f"{p.name} is partial"
    return len(landed)


def check_disk_full_run(code: int, out: str, err: str, world: World) -> None:
    """Exit 3, the JSON summary names what landed and what did not, one line on stderr."""
    assert code == 3, err
    assert err.count("\n") == 1 and err.startswith("error: The disk holding "), err
    assert "is full" in err and "Traceback" not in err
    summaries = json.loads(out)
    landed = check_nothing_partial(world)
    assert sum(s["downloaded"] for s in summaries) == landed
    assert 0 < landed < len(world.images)
    not_landed = {e["key"].rsplit("/", 1)[1] for s in summaries for e in s["errors"]
                  if e["key"].endswith(".png")}
    assert not_landed == {p.name for p in world.images if not p.exists()}
    assert all(s["environment"].startswith("The disk holding") for s in summaries
               if s["failed"])


# -- disk space -------------------------------------------------------------------------------
@pytest.mark.attack('a pull larger than the free disk space',
                    'refused before writing, one line with the numbers and ACTORBENCH_MIN_FREE')
def test_pull_refuses_with_the_numbers_when_space_is_short(moto_server, tmp_path, monkeypatch,
                                                          capsys):
    world = make_world(moto_server, tmp_path / "data", 4, 5000)
    need = sum(len(b) for b in world.images.values())
    monkeypatch.setenv("ACTORBENCH_MIN_FREE", "1GB")
    monkeypatch.setattr(fsutil, "free_bytes", lambda folder: need + 300_000_000)
    code, out, err = run_main(["pull", "--all", "--json"], world, monkeypatch, capsys)
    assert code == 3 and out == ""
    assert err == (f"error: Not enough disk space in {world.data}: the pull needs "
                   f"{format_size(need)} and would leave 300 MB, below the 1 GB margin "
                   "(ACTORBENCH_MIN_FREE). Free space or pull fewer actors.\n")
    assert check_nothing_partial(world) == 0  # refused before writing anything

    monkeypatch.setattr(fsutil, "free_bytes", lambda folder: 10_000)
    monkeypatch.setenv("ACTORBENCH_MIN_FREE", "0")
    code, _, err = run_main(["pull", "1"], world, monkeypatch, capsys)
    assert code == 3 and "needs 20 KB and only 10 KB is free, below the 0 B margin" in err

    monkeypatch.setattr(fsutil, "free_bytes", REAL_FREE_BYTES)  # plenty
    code, out, _ = run_main(["pull", "--all", "--json"], world, monkeypatch, capsys)
    assert code == 0 and check_nothing_partial(world) == len(world.images)


def test_min_free_setting():
    assert Settings.from_env(env={}, dotenv=False).min_free == 200_000_000
    for raw, n in [("500MB", 500_000_000), ("1.5GB", 1_500_000_000), ("2GiB", 2 * 1024**3),
                   ("123", 123), ("0", 0)]:
        assert Settings.from_env(env={"ACTORBENCH_MIN_FREE": raw}, dotenv=False).min_free == n
    with pytest.raises(ConfigError, match="ACTORBENCH_MIN_FREE must be a size like 500MB"):
        Settings.from_env(env={"ACTORBENCH_MIN_FREE": "lots"}, dotenv=False)


@pytest.fixture
def small_disk(tmp_path):
    """A real 2 MB filesystem (tmpfs), where a write really fails with ENOSPC."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)],
                       capture_output=True, text=True)
    if r.returncode != 0:  # test_disk_full_at_the_os_write_layer still runs
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.attack('disk full mid-pull (a real 2 MB tmpfs)',
                    'one line, a JSON summary naming what landed, no temp file, exit 3; '
                    'a later pull completes')
def test_disk_full_on_a_real_small_filesystem(moto_server, small_disk, monkeypatch, capsys):
    world = make_world(moto_server, small_disk / "data", 10, 150_000)  # 3 MB on 2 MB
    # as if another program filled the disk between the check and the writes
    monkeypatch.setattr(fsutil, "free_bytes", lambda folder: 10**12)
    code, out, err = run_main(["pull", "--all", "--json"], world, monkeypatch, capsys)
    check_disk_full_run(code, out, err, world)

    code, out, err = run_main(["pull", "--all"], world, monkeypatch, capsys)  # human form
    assert code == 3 and err.count("\n") == 1 and "not written: No space left on device" in out
    check_nothing_partial(world)

    subprocess.run(["mount", "-o", "remount,size=16m", str(small_disk)], check=True)
    monkeypatch.setattr(fsutil, "free_bytes", REAL_FREE_BYTES)  # the real check, 16 MB free
    monkeypatch.setenv("ACTORBENCH_MIN_FREE", "1MB")
    code, out, err = run_main(["pull", "--all", "--json"], world, monkeypatch, capsys)
    assert code == 0, err
    assert check_nothing_partial(world) == len(world.images)


class FullDisk:
    """The OS write calls under ``root`` fail with ENOSPC once ``budget`` bytes are written
    (the write that crosses it is cut short, as a real one is). Buffered file writes are
    counted when they are made durable (``os.fsync``), as a filesystem that allocates late
    reports it."""

    def __init__(self, root: Path, budget: int, monkeypatch) -> None:
        self.root, self.left, self.monkeypatch = str(root), budget, monkeypatch
        self.lock = threading.Lock()
        self.real_write, self.real_fsync = os.write, os.fsync
        self.real_write_bytes = Path.write_bytes
        monkeypatch.setattr(os, "write", self.write)
        monkeypatch.setattr(os, "fsync", self.fsync)
        monkeypatch.setattr(Path, "write_bytes", self.write_bytes_method())

    def free(self) -> None:
        """Space again: the real calls."""
        self.monkeypatch.setattr(os, "write", self.real_write)
        self.monkeypatch.setattr(os, "fsync", self.real_fsync)
        self.monkeypatch.setattr(Path, "write_bytes", self.real_write_bytes)

    def _ours(self, fd: int) -> bool:
        try:
            return os.readlink(f"/proc/self/fd/{fd}").startswith(self.root)
        except OSError:
            return False

    @staticmethod
    def _full() -> OSError:
        return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write(self, fd: int, data) -> int:
        if not self._ours(fd):
            return self.real_write(fd, data)
        with self.lock:  # the bulk path writes from several file threads at once
            if self.left <= 0:
                raise self._full()
            n = self.real_write(fd, bytes(data[:self.left]))
            self.left -= n
            return n

    def fsync(self, fd: int) -> None:
        if self._ours(fd):
            size = os.fstat(fd).st_size
            if size > self.left:
                self.left = 0
                raise self._full()
            self.left -= size
        self.real_fsync(fd)

    def write_bytes_method(self):
        disk = self

        def write_bytes(path: Path, data) -> int:
            if str(path).startswith(disk.root):
                if disk.left < len(data):
                    disk.left = 0
                    raise disk._full()
                disk.left -= len(data)
            return disk.real_write_bytes(path, data)

        return write_bytes


@pytest.mark.attack('ENOSPC at the OS write layer on both download paths',
                    'one line, a summary, nothing partial; a later pull completes')
@pytest.mark.parametrize("client", ["lean", "boto3"])  # the bulk path, the per-file path
def test_disk_full_at_the_os_write_layer(moto_server, tmp_path, monkeypatch, capsys, client):
    world = make_world(moto_server, tmp_path / "data", 6, 10_000)
    world.env["ACTORBENCH_S3_CLIENT"] = client
    (world.data / "actors").mkdir()
    disk = FullDisk(world.data / "actors", 35_000, monkeypatch)
    code, out, err = run_main(["pull", "--all", "--json"], world, monkeypatch, capsys)
    check_disk_full_run(code, out, err, world)
    assert not any("Traceback" in s for s in (out, err))

    disk.free()
    code, out, err = run_main(["pull", "--all", "--json"], world, monkeypatch, capsys)
    assert code == 0, err
    assert check_nothing_partial(world) == len(world.images)


# -- bad JSON ---------------------------------------------------------------------------------
@pytest.mark.attack('a 100,000-deep actors.json or request.json',
                    'one line naming the file, exit 2')
def test_deep_actors_json_is_a_clear_error_with_exit_2(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text(DEEP)
    r = run_cli(["status", "1"], {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"},
                tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr == (f"error: {tmp_path / 'data' / 'actors.json'}: malformed JSON: lists or "
                        "objects nested too deeply to read\n")
    request = tmp_path / "request.json"  # every record is read the same way
    request.write_text(DEEP)
    with pytest.raises(RegistryError, match="request.json: malformed JSON: .* nested too"):
        read_json(request)


@pytest.mark.parametrize("entries,needle", [
    ([{"id": 7, "name": "0007_a_30_female"}, {"id": "0007", "name": "0008_b_40_male"}],
     "actors '0007_a_30_female' (id 7) and '0008_b_40_male' (id '0007') have the same id"),
    ([{"id": 1, "name": "0001_a_30_female"}, {"id": 2, "name": "0002_b_40_male"},
      {"id": 3, "name": "0001_a_30_female"}],
     "actors #0 and #2 have the same name '0001_a_30_female'"),
])
@pytest.mark.attack('two actors with one id or one name in actors.json',
                    'refused, both actors named')
def test_two_actors_with_one_id_or_name_are_refused_naming_both(tmp_path, entries, needle):
    p = tmp_path / "actors.json"
    p.write_text(json.dumps(entries))
    with pytest.raises(RegistryError) as err:
        Registry.load(p)
    assert str(err.value).startswith(str(p)) and needle in str(err.value)


@pytest.mark.attack("a bad URL in one actor's response.json during pull --all",
                    'a warning naming actor and file; the other actors sync')
def test_bad_response_json_entry_is_a_warning_for_that_actor(moto_server, tmp_path):
    world = make_world(moto_server, tmp_path / "data", 3, 2000)
    a, b = NAMES
    resp = world.data / "actors" / a / "training_data" / "response.json"
    resp.parent.mkdir(parents=True)
    good = f"https://x.s3.us-west-1.amazonaws.com/{PREFIX}/{a}/{a}_1.png"
    resp.write_text(json.dumps({"s3_urls": [good, f"{good[:-6]}_100000.png?X-Amz-Signature=s",
                                            42]}))
    (world.data / "actors" / b / "training_data").mkdir(parents=True)
    (world.data / "actors" / b / ".sync-manifest.json").write_text(DEEP)  # no crash either
    r = run_cli(["pull", "--all", "--json"], world.env, tmp_path)
    assert r.returncode == 0, r.stderr
    out = {s["actor"]: s for s in json.loads(r.stdout)}
    assert out[a]["downloaded"] == 3 and out[b]["downloaded"] == 3
    assert out[a]["warnings"] == [
        f"{resp}, actor {a!r}: s3_urls[1] '{good[:-6]}_100000.png' is not an image of this "
        f"actor ({a}_<0-99999>.png); it was ignored",
        f"{resp}, actor {a!r}: s3_urls[2] (a int, not a URL) is not an image of this actor "
        f"({a}_<0-99999>.png); it was ignored"]
    assert "warnings" not in out[b] and "X-Amz-Signature" not in r.stdout
    assert check_nothing_partial(world) == len(world.images)

    resp.write_text(DEEP)
    st = json.loads(run_cli(["status", "--all", "--json"], world.env, tmp_path).stdout)
    assert st[0]["warnings"] == [f"{resp}, actor {a!r}: malformed JSON: lists or objects "
                                 "nested too deeply to read; its list of images was ignored"]
    assert st[1]["warnings"] == []


# -- the environment: exit 3 ------------------------------------------------------------------
@pytest.mark.attack('an S3 endpoint that is down',
                    'one line, exit 3')
@pytest.mark.parametrize("client", ["lean", "boto3"])
def test_unreachable_server_exits_3(tmp_path, client):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    env = {"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "ACTORBENCH_S3_CLIENT": client,
           "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}  # nobody listens there
    r = run_cli(["pull", "1", "--json"], env, tmp_path)
    assert r.returncode == 3, r.stderr
    assert r.stderr.count("\n") == 1 and "Cannot reach the S3 server" in r.stderr


@pytest.mark.attack('missing or refused credentials',
                    'one line naming the settings, exit 3')
def test_missing_or_refused_credentials_exit_3(tmp_path, rclone_server):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    r = run_cli(["pull", "1"], {}, tmp_path)
    assert r.returncode == 3 and r.stderr.startswith("error: No AWS credentials found")
    env = {**rclone_server.env, "AWS_SECRET_ACCESS_KEY": "wrong-secret"}
    r = run_cli(["pull", "1"], env, tmp_path)
    assert r.returncode == 3 and "was refused" in r.stderr and r.stderr.count("\n") == 1


# -- the dashboard ----------------------------------------------------------------------------
def wait_for(predicate, what: str) -> None:
    deadline = time.monotonic() + 10
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def broken_registry(moto_server, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A one-actor world whose actors.json is too deeply nested to read, watched every 50 ms.
    Returns the world, the file and its good text."""
    import actorbench.ui.app as app_mod

    monkeypatch.setattr(app_mod, "REGISTRY_POLL_S", 0.05)
    world = make_world(moto_server, tmp_path / "data", 1, 100)
    registry = world.data / "actors.json"
    good = registry.read_text()
    registry.write_text(DEEP)
    return world, registry, good


def test_dashboard_built_while_actors_json_was_broken_recovers(moto_server, tmp_path,
                                                              monkeypatch):
    """Voila's preheated kernel runs the page before the visit: a fix made meanwhile shows."""
    from actorbench.ui import App

    world, registry, good = broken_registry(moto_server, tmp_path, monkeypatch)
    page = App.from_settings(Settings.from_env(env=world.env, dotenv=False))
    try:
        assert "nested too deeply" in page.value
        registry.write_text(good)  # fixed before (or while) someone looks
        wait_for(lambda: isinstance(getattr(page, "app", None), App), "the app never started")
        assert page.children == (page.app,) and page.value == ""
        app = page.app
        assert sorted(app.library.model.results) == NAMES

        registry.write_text("{ half edited")  # broken again while the page is open
        wait_for(lambda: "malformed JSON" in app.library.errors.value, "not reported")
        registry.write_text(good)
        wait_for(lambda: app.library.errors.value == "", "the fixed file's error stayed")
    finally:
        page.close()


def test_startup_page_follows_a_fix_made_during_the_failed_start(moto_server, tmp_path,
                                                                monkeypatch):
    """actors.json fixed between the failed read and the start of the watch: the app starts."""
    import actorbench.ui.app as app_mod
    from actorbench.ui import App
    from actorbench.ui.app import StartupPage

    world, registry, good = broken_registry(moto_server, tmp_path, monkeypatch)
    settings = Settings.from_env(env=world.env, dotenv=False)
    real = app_mod._workbench

    def fixed_while_failing(s):  # type: ignore[no-untyped-def]
        try:
            return real(s)
        finally:
            registry.write_text(good)

    monkeypatch.setattr(app_mod, "_workbench", fixed_while_failing)
    page = App.from_settings(settings)
    monkeypatch.setattr(app_mod, "_workbench", real)
    try:
        assert isinstance(page, StartupPage) and "nested too deeply" in page.value
        wait_for(lambda: isinstance(getattr(page, "app", None), App), "the app never started")
    finally:
        page.close()
