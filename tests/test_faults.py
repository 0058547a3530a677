"""Sync through a proxy that fails a share of requests: converges, never corrupts."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest

from actorbench.actors import Actor, Registry
from actorbench.storage.client import make_s3_client
from actorbench.workbench import Workbench
from tests.conftest import settings_for
from tests.faultproxy import FaultProxy
from tests.figures import FIGURES
from tests.helpers import md5, partial_files, png

NAMES = ["0001_european_30_female", "0002_african_45_male"]


def check_no_corruption(wb: Workbench, direct: Workbench) -> int:
    """Every file at a final path is whole: equal to some version S3 has or had."""
    assert partial_files(wb.settings.data_dir) == []
    verified = 0
    for n in NAMES:
        for idx, path in wb.layout.local_images(n).items():
            data = path.read_bytes()
            body, info = direct.store.open_get(direct.layout.image_key(n, idx))
            remote = body.read()
            body.close()
            assert data == remote or md5(data) in ALLOWED[n, idx], f"{path} is corrupt"
            verified += 1
    return verified


ALLOWED: dict[tuple[str, int], set[str]] = {}


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_pull_and_push_converge_under_faults(rclone_server, tmp_path, rate):
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    direct_settings = settings_for(rclone_server, tmp_path / "direct", bucket)
    client = make_s3_client(direct_settings)
    client.create_bucket(Bucket=bucket)
    direct = Workbench(direct_settings, client=client)
    for k, n in enumerate(NAMES):
        for i in range(8):
            data = png(k * 10 + i, 128)
            direct.store.put_bytes(direct.layout.image_key(n, i), data)
            ALLOWED[n, i] = {md5(data)}
    port = urlsplit(rclone_server.endpoint_url).port
    proxy = FaultProxy(port, rate, seed=int(rate * 100), stall_s=1.0)
    try:
        settings = settings_for(rclone_server, tmp_path / "data", bucket,
                                AWS_ENDPOINT_URL=proxy.url)
        settings.data_dir.mkdir(parents=True)
        Registry(settings.registry_path, [Actor(i + 1, n) for i, n in enumerate(NAMES)]).save()
        wb = Workbench(settings)
        for _attempt in range(8):
            try:
                out = wb.engine.pull(NAMES)
            except Exception as exc:  # a failed listing: nothing applied, try again
                print("pull run failed:", exc)
                out = None
            FIGURES["files verified intact after a faulty run"] += check_no_corruption(wb, direct)
            if out and all(s.ok for s in out.values()) and all(
                    len(wb.layout.local_images(n)) == 8 for n in NAMES):
                break
        else:
            pytest.fail(f"pull did not converge at {rate:.0%} faults")
        # push: new local images and edits, through the same faulty path
        for k, n in enumerate(NAMES):
            for i in (8, 9):
                (wb.layout.image_path(n, i)).write_bytes(png(50 + k * 10 + i, 100))
        for _attempt in range(8):
            try:
                out = wb.engine.push(NAMES)
            except Exception:
                out = None
            if out and all(s.ok for s in out.values()):
                break
        else:
            pytest.fail(f"push did not converge at {rate:.0%} faults")
        for k, n in enumerate(NAMES):
            for i in (8, 9):
                body, _ = direct.store.open_get(direct.layout.image_key(n, i))
                assert body.read() == png(50 + k * 10 + i, 100)
        plans = Workbench(direct_settings.with_overrides(data_dir=settings.data_dir),
                          client=client).engine.plan(NAMES)
        assert all(set(c.status.value for c in p.changes) == {"synced"} for p in plans.values())
        assert proxy.faulted > 0
        FIGURES["S3 requests through the fault proxy"] += proxy.requests
        FIGURES["S3 requests faulted (500/503/reset/truncated/stalled)"] += proxy.faulted
    finally:
        proxy.stop()
