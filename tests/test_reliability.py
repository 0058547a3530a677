"""Kills, concurrency, bad input and secrets: actorbench loses nothing and says what went wrong."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from actorbench.actors import Registry
from actorbench.storage.client import make_s3_client
from actorbench.sync.manifest import Manifest
from actorbench.workbench import Workbench
from tests.conftest import settings_for
from tests.figures import FIGURES
from tests.helpers import partial_files, png
from tests.single_backend import backend  # noqa: F401 - one backend here

ROOT = Path(__file__).resolve().parents[1]
SECRET = "s3cr3t-NEVER-PRINT-me"



def noisy(seed: int, side: int = 200) -> bytes:
    import io

    from PIL import Image

    raw = hashlib.shake_256(str(seed).encode()).digest(side * side * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), raw).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@pytest.fixture
def world(rclone_server, tmp_path):
    """A bucket on rclone serve s3 reached through a 30 ms proxy, and a CLI environment."""
    from bench.latency_proxy import ProxyProcess

    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    direct = settings_for(rclone_server, tmp_path / "direct", bucket)
    client = make_s3_client(direct)
    client.create_bucket(Bucket=bucket)
    port = int(rclone_server.endpoint_url.rsplit(":", 1)[1])
    proxy = ProxyProcess(port, 60)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    env.update(rclone_server.env)
    env.update({"AWS_ENDPOINT_URL": proxy.url, "ACTORBENCH_BUCKET": bucket,
                "ACTORBENCH_DATA_DIR": str(tmp_path / "data"), "RUNPOD_API_KEY": SECRET,
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent"})
    yield {"env": env, "client": client, "bucket": bucket, "data": tmp_path / "data",
           "settings": settings_for(rclone_server, tmp_path / "data", bucket)}
    proxy.stop()


def cli(args, env, timeout=120):
    return subprocess.run([sys.executable, "-m", "actorbench.cli", *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def remote_etags(client, bucket, prefix):
    return {o["Key"].rsplit("/", 1)[1]: o["ETag"].strip('"') for p in
            client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for o in p.get("Contents", [])}


def check_json_files(data: Path, names: list[str]) -> None:
    """actors.json parses as a registry; every manifest and response.json is valid JSON."""
    Registry.load(data / "actors.json")
    for n in names:
        for p in (data / "actors" / n / ".sync-manifest.json",
                  data / "actors" / n / "training_data" / "response.json"):
            if p.exists():
                json.loads(p.read_text())


@pytest.mark.slow
def test_kill9_during_pull_and_push(world):
    rng = random.Random(20261122)
    env, client, bucket, data = world["env"], world["client"], world["bucket"], world["data"]
    names = [f"{i:04d}_kill_30_female" for i in range(1, 21)]
    data.mkdir(parents=True)
    (data / "actors.json").write_text(json.dumps(
        [{"id": i + 1, "name": n, "keep": "me"} for i, n in enumerate(names)]))
    files = {i: noisy(i) for i in range(16)}
    md5 = {i: hashlib.md5(b).hexdigest() for i, b in files.items()}
    src = "0000_source_30_female"
    for i, b in files.items():
        client.put_object(Bucket=bucket, Key=f"system_actors/training_data/{src}/{src}_{i}.png",
                          Body=b)
    (data / "actors.json").write_text(json.dumps(
        [{"id": 100, "name": src}] + json.loads((data / "actors.json").read_text())))
    # few workers spread the transfers over the run, so kills land mid-transfer too
    slow = ["--workers", "3"]
    t0 = time.perf_counter()
    assert cli([*slow, "pull", src], env).returncode == 0
    span = time.perf_counter() - t0
    kills = attempts = 0
    while kills < 20 and attempts < 40:  # a run that finished before the kill does not count
        attempts += 1
        folder = data / "actors" / src
        subprocess.run(["rm", "-rf", str(folder)])
        proc = subprocess.Popen([sys.executable, "-m", "actorbench.cli", *slow, "pull", src],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, span))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += proc.returncode == -9
        for idx, p in (Workbench(world["settings"]).layout.local_images(src)).items():
            assert hashlib.md5(p.read_bytes()).hexdigest() == md5[idx], f"partial {p}"
            FIGURES["files verified intact after a kill -9"] += 1
        check_json_files(data, [src])
        r = cli(["pull", src, "--json"], env)
        assert r.returncode == 0, r.stderr
        assert partial_files(folder) == []
        got = {int(p.stem.rsplit("_", 1)[1]): hashlib.md5(p.read_bytes()).hexdigest()
               for p in (folder / "training_data").glob(f"{src}_*.png")}
        assert got == md5
        assert set(Manifest.load(folder / ".sync-manifest.json").entries) == set(md5)
    FIGURES["kill -9 during pull, then converged"] += kills
    assert kills >= 20
    # push: a fresh actor each time, killed mid-push, then re-run
    kills = 0
    names += [f"{i:04d}_kill_31_female" for i in range(21, 41)]
    (data / "actors.json").write_text(json.dumps(
        json.loads((data / "actors.json").read_text())
        + [{"id": i, "name": f"{i:04d}_kill_31_female", "keep": "me"} for i in range(21, 41)]))
    for name in names:
        if kills >= 20:
            break
        tdir = data / "actors" / name / "training_data"
        tdir.mkdir(parents=True)
        for i, b in files.items():
            (tdir / f"{name}_{i}.png").write_bytes(b)
        proc = subprocess.Popen([sys.executable, "-m", "actorbench.cli", *slow, "push", name],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, span))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        kills += proc.returncode == -9
        prefix = f"system_actors/training_data/{name}/"
        for key, etag in remote_etags(client, bucket, prefix).items():
            idx = int(key[:-4].rsplit("_", 1)[1])
            assert etag == md5[idx], f"S3 holds a wrong {key}"
            FIGURES["S3 objects verified intact after a kill -9"] += 1
        check_json_files(data, [name])
        r = cli(["push", name, "--json"], env)
        assert r.returncode == 0, r.stderr
        out = json.loads(r.stdout)
        assert len(out["s3_urls"]) == 16
        assert remote_etags(client, bucket, prefix) == {f"{name}_{i}.png": m
                                                        for i, m in md5.items()}
        resp = json.loads((tdir / "response.json").read_text())
        assert len(resp["s3_urls"]) == 16
        entry = next(a for a in json.loads((data / "actors.json").read_text())
                     if a["name"] == name)
        assert entry["training_data"]["synced"] is True and entry["keep"] == "me"
    FIGURES["kill -9 during push, then converged"] += kills
    assert kills >= 20


def test_two_cli_pulls_at_once_and_push_while_app_pulls(world):
    env, client, bucket, data = world["env"], world["client"], world["bucket"], world["data"]
    name = "0001_conc_30_female"
    data.mkdir(parents=True)
    (data / "actors.json").write_text(json.dumps([{"id": 1, "name": name}]))
    files = {i: noisy(100 + i) for i in range(10)}
    for i, b in files.items():
        client.put_object(Bucket=bucket, Key=f"system_actors/training_data/{name}/{name}_{i}.png",
                          Body=b)
    procs = [subprocess.Popen([sys.executable, "-m", "actorbench.cli", "pull", name, "--json"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert sorted(o["downloaded"] for o in outs) == [0, 10]
    FIGURES["concurrent syncs of one actor, consistent"] += 1
    # the app pulls (in process) while the CLI pushes new images of the same actor
    tdir = data / "actors" / name / "training_data"
    for i in range(10, 14):
        (tdir / f"{name}_{i}.png").write_bytes(noisy(200 + i))
    client.put_object(Bucket=bucket, Key=f"system_actors/training_data/{name}/{name}_20.png",
                      Body=noisy(300))
    wb = Workbench(world["settings"])
    result = {}
    t = threading.Thread(target=lambda: result.update(wb.engine.pull([name])))
    t.start()
    r = cli(["push", name, "--json"], env)
    t.join()
    assert r.returncode == 0 and json.loads(r.stdout)["uploaded"] == 4
    assert result[name].failed == 0
    plan = Workbench(world["settings"]).engine.plan([name])[name]
    assert {c.status.value for c in plan.changes} == {"synced"} and len(plan.changes) == 15
    FIGURES["concurrent syncs of one actor, consistent"] += 1


def test_mark_good_while_push_updates_the_registry(wb):
    """Two writers of actors.json at once: the lock keeps both updates."""
    from actorbench.training.versions import TrainingVersion, VersionStore

    A = "0001_european_30_female"
    store = VersionStore(wb.layout)
    v = TrainingVersion.new("v1", "now", {"base_model": "sdxl"}, [])
    v.status, v.lora_url = "COMPLETED", "s3://x/lora.safetensors"
    wb.layout.versions_path(1).parent.mkdir(parents=True, exist_ok=True)
    store.save(1, [v])
    for i in range(8):
        (wb.layout.training_dir(A)).mkdir(parents=True, exist_ok=True)
        (wb.layout.image_path(A, i)).write_bytes(png(i))
    errors = []

    def push():
        try:
            wb.engine.push([A])
        except Exception as exc:
            errors.append(exc)

    def mark():
        for _ in range(5):
            store.mark_good(Registry.load(wb.settings.registry_path), A, v.id, "t")

    ts = [threading.Thread(target=push), threading.Thread(target=mark)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert not errors
    entry = next(a for a in json.loads(wb.settings.registry_path.read_text()) if a["name"] == A)
    assert entry["validated_lora_model"]["version_id"] == v.id
    assert entry["training_data"]["count"] == 8
    FIGURES["concurrent writers of actors.json, no lost update"] += 1


# -- bad input ------------------------------------------------------------------------------
BAD_REGISTRIES = {
    "truncated": '[{"id": 1, "name": "0001_a_30_female", "training_data": {"s3_ur',
    "not a list": '{"actors": []}',
    "wrong type": '[{"id": 1, "name": "0001_a_30_female", "training_data": {"count": "7"}}]',
    "traversal name": '[{"id": 1, "name": "../../etc"}]',
    "absolute name": '[{"id": 1, "name": "/etc/passwd"}]',
    "binary": "\udcff\udcfe",
    "empty": "",
}


@pytest.mark.parametrize("case", list(BAD_REGISTRIES))
def test_bad_registry_gives_a_clear_message_and_changes_nothing(tmp_path, case):
    data = tmp_path / "data"
    data.mkdir()
    p = data / "actors.json"
    p.write_bytes(BAD_REGISTRIES[case].encode("utf-8", "surrogateescape"))
    before = p.read_bytes()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ACTORBENCH_"))}
    env.update({"AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": SECRET,
                "ACTORBENCH_DATA_DIR": str(data), "AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    for cmd in (["status", "1"], ["pull", "1"], ["push", "1"], ["report"]):
        r = cli(cmd, env)
        assert r.returncode == 2 and "actors.json" in r.stderr and "Traceback" not in r.stderr
        assert SECRET not in r.stderr + r.stdout
        FIGURES["bad inputs refused with a clear message"] += 1
    assert p.read_bytes() == before


@pytest.mark.parametrize("ref", ["../etc/passwd", "/abs", "%2e%2e", "0001_a_30_female/../x", "99"])
def test_unknown_or_traversing_actor_refs(cli_env, ref):
    env, _ = cli_env
    r = cli(["pull", ref], env)
    assert r.returncode == 2 and "Unknown actor" in r.stderr
    FIGURES["bad inputs refused with a clear message"] += 1


@pytest.fixture
def cli_env(moto_server, tmp_path):
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    s = settings_for(moto_server, tmp_path / "data", bucket)
    make_s3_client(s).create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": "us-west-1"})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ACTORBENCH_"))}
    env.update({**moto_server.env, "ACTORBENCH_BUCKET": bucket,
                "ACTORBENCH_DATA_DIR": str(tmp_path / "data")})
    return env, tmp_path / "data"


def test_malformed_response_json_is_left_alone(cli_env):
    env, data = cli_env
    tdir = data / "actors" / "0001_a_30_female" / "training_data"
    tdir.mkdir(parents=True)
    (tdir / "0001_a_30_female_0.png").write_bytes(png(1))
    (tdir / "response.json").write_text('{"s3_urls": [')
    r = cli(["push", "1", "--json"], env)
    out = json.loads(r.stdout)
    assert r.returncode == 1 and out["uploaded"] == 1
    assert "response.json" in out["errors"][0]["error"] and "left unchanged" in \
        out["errors"][0]["error"]
    assert (tdir / "response.json").read_text() == '{"s3_urls": ['
    FIGURES["bad inputs refused with a clear message"] += 1


def test_wrong_credentials_and_missing_bucket(world):
    env = dict(world["env"])
    env["AWS_SECRET_ACCESS_KEY"] = SECRET
    data = world["data"]
    data.mkdir(parents=True)
    (data / "actors.json").write_text('[{"id": 1, "name": "0001_a_30_female"}]')
    r = cli(["status", "1"], env)
    assert r.returncode == 3 and "refused" in r.stderr and SECRET not in r.stderr + r.stdout
    r = cli(["--bucket", "no-such-bucket-here", "pull", "1"], world["env"])
    assert r.returncode != 0 and "does not exist" in r.stderr + r.stdout
    FIGURES["bad inputs refused with a clear message"] += 2


def test_corrupt_nonimage_and_bomb_images(wb, tmp_path):
    from PIL import Image

    from actorbench.thumbs import BadImage, cached_thumbnail, open_image
    from actorbench.ui import App

    A = "0001_european_30_female"
    tdir = wb.layout.training_dir(A)
    tdir.mkdir(parents=True)
    (tdir / f"{A}_0.png").write_bytes(png(0)[:40])  # truncated PNG
    (tdir / f"{A}_1.png").write_bytes(b"GIF89a not really")
    bomb = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(bomb)  # 81 MP, a few KB on disk
    (tdir / f"{A}_2.png").write_bytes(bomb.read_bytes())
    for i in range(3):
        with pytest.raises(BadImage) as err:
            open_image(tdir / f"{A}_{i}.png")
        assert f"{A}_{i}.png" in str(err.value)
        with pytest.raises(BadImage):
            cached_thumbnail(tdir / f"{A}_{i}.png", tmp_path / "thumbs")
        FIGURES["bad inputs refused with a clear message"] += 1
    assert "too large" in str(pytest.raises(BadImage, open_image, tdir / f"{A}_2.png").value)
    app = App(wb)
    app.state.actor = A
    app.wait_idle()  # the page lists S3 off the UI thread
    assert sum("unreadable" in t.value for t in app.training_data.images.shown) == 3
    assert app.training_data.errors.value == ""


def test_no_secret_in_cli_output(cli_env):
    env, data = cli_env
    env = {**env, "RUNPOD_API_KEY": SECRET}
    tdir = data / "actors" / "0001_a_30_female" / "training_data"
    tdir.mkdir(parents=True)
    (tdir / "0001_a_30_female_0.png").write_bytes(png(3))
    secret = env["AWS_SECRET_ACCESS_KEY"]
    outs = [cli(c, env) for c in (["push", "1", "--json"], ["status", "1", "--json"],
                                  ["pull", "1", "--json"], ["report", "--json"],
                                  ["--bucket", "nope-nope", "status", "1"])]
    text = "".join(o.stdout + o.stderr for o in outs)
    assert secret not in text and SECRET not in text and "X-Amz-Signature" not in text
    FIGURES["outputs scanned for secrets"] += len(outs)


def test_servers_listen_on_loopback_only(rclone_server, moto_server):
    from actorbench.demo import start_fake_runpod
    from actorbench.demo.img2img_fake import start_fake_img2img

    rp, img = start_fake_runpod(), start_fake_img2img()
    try:
        ports = {int(rclone_server.endpoint_url.rsplit(":", 1)[1]),
                 int(moto_server.endpoint_url.rsplit(":", 1)[1]),
                 rp.server.server_address[1], img.server.server_address[1]}
        listening = listening_sockets()
        for port in ports:
            assert listening.get(port) == {"127.0.0.1"}, (port, listening.get(port))
            FIGURES["servers checked to listen on 127.0.0.1 only"] += 1
    finally:
        rp.stop()
        img.stop()


def listening_sockets() -> dict[int, set[str]]:
    """Port -> local addresses in LISTEN state, from /proc/net/tcp{,6}."""
    out: dict[int, set[str]] = {}
    for name in ("tcp", "tcp6"):
        path = Path(f"/proc/net/{name}")
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            parts = line.split()
            if parts[3] != "0A":  # LISTEN
                continue
            addr, port = parts[1].split(":")
            if len(addr) == 8:
                ip = ".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                ip = "::1" if addr == "0" * 24 + "01000000" else ("::" if set(addr) == {"0"}
                                                                    else addr)
            out.setdefault(int(port, 16), set()).add(ip)
    return out


def test_webhook_needs_the_per_job_secret(wb):
    from actorbench.demo import start_fake_runpod
    from actorbench.errors import ActorbenchError
    from actorbench.training import RunPodClient, TrainingParams, TrainingService

    A = "0001_european_30_female"
    for i in range(10):
        wb.store.put_bytes(wb.layout.image_key(A, i), noisy(i, 64))
    fake = start_fake_runpod(speed=50)
    try:
        svc = TrainingService(wb, RunPodClient(fake.base_url, fake.endpoint_id, fake.api_key))
        v = svc.launch(svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
        body = {"id": v.job_id, "status": "COMPLETED", "output": {"lora_url": "s3://x/y"}}
        for bad in ("", "guess", v.webhook_secret[:-1]):
            with pytest.raises(ActorbenchError, match="wrong secret"):
                svc.accept_webhook(A, v.id, bad, body)
            FIGURES["bad inputs refused with a clear message"] += 1
        with pytest.raises(ActorbenchError, match="does not describe"):
            svc.accept_webhook(A, v.id, v.webhook_secret, {**body, "id": "other"})
        assert svc.accept_webhook(A, v.id, v.webhook_secret, body).status == "COMPLETED"
        stored = wb.layout.versions_path(1).read_text()
        assert "X-Amz-Signature" not in stored and "Signature=" not in stored
    finally:
        fake.stop()


def test_training_polling_converges_through_faults(wb):
    from urllib.parse import urlsplit

    from actorbench.demo import start_fake_runpod
    from actorbench.training import RunPodClient, TrainingParams, TrainingService
    from tests.faultproxy import FaultProxy

    A = "0001_european_30_female"
    for i in range(10):
        wb.store.put_bytes(wb.layout.image_key(A, i), noisy(i, 64))
    fake = start_fake_runpod(speed=40)
    proxy = FaultProxy(urlsplit(fake.base_url).port, 0.3, seed=7, stall_s=0.5)
    try:
        client = RunPodClient(f"{proxy.url}/v2", fake.endpoint_id, fake.api_key, timeout=0.4,
                              attempts=8, sleep=lambda s: time.sleep(min(s, 0.05)))
        svc = TrainingService(wb, client)
        direct = RunPodClient(fake.base_url, fake.endpoint_id, fake.api_key)
        v = TrainingService(wb, direct).launch(
            svc.prepare(A, TrainingParams.from_preset("sd15", resolution=256)))
        versions = svc.poll_until_done(A, timeout=60, interval=0.02)
        assert versions[0].id == v.id and versions[0].status == "COMPLETED"
        assert proxy.faulted > 0
        FIGURES["RunPod requests faulted while polling"] += proxy.faulted
    finally:
        proxy.stop()
        fake.stop()
