"""The benchmark stage: an rclone S3 server, latency proxies, peers' environments, data."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from actorbench.demo import LocalS3
from actorbench.settings import Settings
from actorbench.storage.client import make_s3_client

BIN = Path(sys.executable).parent
PREFIX = "system_actors/training_data"


def noise_png(seed: int, side: int) -> bytes:
    """An incompressible PNG (random pixels): its size is about side*side*3 bytes."""
    rnd = hashlib.shake_256(f"{seed}".encode()).digest(side * side * 3)
    buf = io.BytesIO()
    Image.frombytes("RGB", (side, side), rnd).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


@dataclass
class Target:
    """One way to reach the S3 server (direct, or through a latency proxy)."""

    s3: LocalS3
    endpoint: str
    bucket: str
    rtt_ms: float

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "RCLONE_", "ACTORBENCH_"))}
        env.update({"AWS_ACCESS_KEY_ID": self.s3.access_key,
                    "AWS_SECRET_ACCESS_KEY": self.s3.secret_key, "AWS_REGION": "us-west-1",
                    "AWS_DEFAULT_REGION": "us-west-1", "AWS_ENDPOINT_URL": self.endpoint,
                    "ACTORBENCH_BUCKET": self.bucket, "RCLONE_CONFIG": "/dev/null",
                    "RCLONE_CONFIG_BENCH_TYPE": "s3", "RCLONE_CONFIG_BENCH_PROVIDER": "Rclone",
                    "RCLONE_CONFIG_BENCH_ENDPOINT": self.endpoint,
                    "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": self.s3.access_key,
                    "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": self.s3.secret_key,
                    "RCLONE_CONFIG_BENCH_REGION": "us-west-1",
                    "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
                    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                    "AWS_CONFIG_FILE": "/nonexistent"})
        return env

    def settings(self, data_dir: Path, workers: int = 16) -> Settings:
        env = self.env()
        env["ACTORBENCH_DATA_DIR"] = str(data_dir)
        env["ACTORBENCH_WORKERS"] = str(workers)
        return Settings.from_env(env=env, dotenv=False)

    def client(self, workers: int = 16):  # type: ignore[no-untyped-def]
        return make_s3_client(self.settings(Path("/tmp"), workers))


def seed(target: Target, objects: dict[str, bytes], workers: int = 16) -> None:
    client = target.client(workers)
    try:
        client.create_bucket(Bucket=target.bucket)
    except Exception:  # exists already
        pass
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda kv: client.put_object(Bucket=target.bucket, Key=kv[0],
                                                   Body=kv[1]), objects.items()))


def delete_prefix(target: Target, prefix: str) -> None:
    client = target.client()
    keys = [o["Key"] for p in client.get_paginator("list_objects_v2").paginate(
        Bucket=target.bucket, Prefix=prefix) for o in p.get("Contents", [])]
    # one DELETE per key: rclone serve s3 stalls on DeleteObjects here
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda k: client.delete_object(Bucket=target.bucket, Key=k), keys))


def write_registry(data_dir: Path, names: list[str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "actors.json").write_text(json.dumps(
        [{"id": i + 1, "name": n} for i, n in enumerate(names)]))


def run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {r.stderr[-800:]}")
    return dt


def peak_rss_mb(cmd: list[str], env: dict[str, str]) -> float:
    """Peak RSS of a whole command (GNU time's maximum resident set size)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], env=env, capture_output=True,
                       text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr[-800:])
    return int(r.stderr.strip().splitlines()[-1]) / 1024


def _busy_idle() -> tuple[int, int]:
    f = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(f), f[3] + f[4]  # total, idle + iowait (clock ticks, all CPUs)


def quiet(idle: float, window: float, max_s: float) -> float:
    """Wait until the CPUs were ``idle`` (a fraction) over ``window`` seconds, or ``max_s``
    passed. Returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_s:
        total0, idle0 = _busy_idle()
        time.sleep(window)
        total1, idle1 = _busy_idle()
        if total1 > total0 and (idle1 - idle0) / (total1 - total0) >= idle:
            break
    return time.perf_counter() - t0


def settle(idle: float = 0.9, max_s: float = 90.0) -> float:
    """Flush what earlier stages wrote and wait until the CPUs are ``idle`` (a fraction) for a
    second: the library stage leaves gigabytes of dirty pages, and their writeback would be
    measured as the next stage's time. Returns the seconds waited."""
    t0 = time.perf_counter()
    os.sync()
    quiet(idle, 1.0, max_s)
    return time.perf_counter() - t0
