"""The sync contract, run against moto in process, moto as a server, and rclone serve s3."""

from __future__ import annotations

import json
import os
import threading

import pytest

from actorbench.sync import ImageStatus, ProgressRecorder, conflict_path
from tests.helpers import md5, partial_files, png, put_remote, remote_bytes, statuses, write_local

A = "0001_european_30_female"


@pytest.mark.tls
def test_pull_fetches_everything_then_nothing(wb):
    for i in range(6):
        put_remote(wb, A, i, png(i))
    assert set(statuses(wb, A).values()) == {"s3_only"}
    rec = ProgressRecorder()
    s = wb.engine.pull([A], progress=rec)[A]
    assert (s.transferred, s.failed, s.total) == (6, 0, 6)
    for i in range(6):
        assert wb.layout.image_path(A, i).read_bytes() == png(i)
    assert sum(e.nbytes for e in rec.kinds("bytes")) == sum(len(png(i)) for i in range(6))
    assert len(rec.kinds("file")) == 6
    again = wb.engine.pull([A])[A]
    assert (again.transferred, again.skipped) == (0, 6)
    assert set(statuses(wb, A).values()) == {"synced"}


def test_same_size_remote_change_is_pulled(wb):
    a = png(1)
    b = a[:40] + bytes([a[40] ^ 0xFF]) + a[41:]
    assert len(a) == len(b) and a != b  # the change aws s3 sync would miss
    put_remote(wb, A, 0, a)
    wb.engine.pull([A])
    put_remote(wb, A, 0, b)
    assert statuses(wb, A) == {0: "remote_modified"}
    s = wb.engine.pull([A])[A]
    assert s.transferred == 1
    assert wb.layout.image_path(A, 0).read_bytes() == b


@pytest.mark.tls
def test_local_edit_survives_pull_then_is_pushed(wb):
    put_remote(wb, A, 0, png(1))
    wb.engine.pull([A])
    write_local(wb, A, 0, png(7, 80))
    assert statuses(wb, A) == {0: "local_modified"}
    s = wb.engine.pull([A])[A]
    assert s.transferred == 0 and wb.layout.image_path(A, 0).read_bytes() == png(7, 80)
    p = wb.engine.push([A])[A]
    assert (p.transferred, p.failed, p.conflicts) == (1, 0, [])
    assert remote_bytes(wb, A, 0) == png(7, 80)
    assert statuses(wb, A) == {0: "synced"}


@pytest.mark.tls
def test_edit_on_both_sides_is_a_conflict_and_nothing_is_lost(wb):
    put_remote(wb, A, 0, png(1))
    wb.engine.pull([A])
    write_local(wb, A, 0, png(2, 70))
    put_remote(wb, A, 0, png(3, 90))
    assert statuses(wb, A) == {0: "conflict"}
    s = wb.engine.pull([A])[A]
    assert s.conflicts == [wb.layout.image_key(A, 0)] and not s.ok
    local = wb.layout.image_path(A, 0)
    assert local.read_bytes() == png(2, 70)
    assert conflict_path(local, "remote").read_bytes() == png(3, 90)
    p = wb.engine.push([A])[A]
    assert p.conflicts and remote_bytes(wb, A, 0) == png(3, 90)  # S3 change not clobbered
    forced = wb.engine.pull([A], prefer="remote")[A]
    assert forced.transferred == 1 and local.read_bytes() == png(3, 90)
    assert conflict_path(local, "local").read_bytes() == png(2, 70)


def test_no_manifest_same_content_is_synced_and_different_is_conflict(wb):
    put_remote(wb, A, 0, png(1))
    put_remote(wb, A, 1, png(2))
    write_local(wb, A, 0, png(1))
    write_local(wb, A, 1, png(5, 99))
    assert statuses(wb, A) == {0: "synced", 1: "conflict"}


def test_push_writes_response_and_registry_keeping_other_fields(wb):
    name = "0003_east_asian_22_female"
    resp = wb.layout.response_json(name)
    resp.parent.mkdir(parents=True, exist_ok=True)
    resp.write_text(json.dumps({"job": "abc", "s3_urls": []}))
    for i in (2, 0, 1):
        write_local(wb, name, i, png(i + 10))
    s = wb.engine.push([name])[name]
    assert s.transferred == 3 and s.ok
    data = json.loads(resp.read_text())
    assert data["job"] == "abc"
    assert [u.rsplit("/", 1)[1] for u in data["s3_urls"]] == [f"{name}_{i}.png" for i in range(3)]
    reg = json.loads(wb.settings.registry_path.read_text())
    entry = next(a for a in reg if a["name"] == name)
    assert entry["custom"] == {"keep": True}
    assert entry["training_data"]["count"] == 3 and entry["training_data"]["synced"] is True
    assert entry["training_data"]["s3_urls"] == data["s3_urls"]
    again = wb.engine.push([name])[name]
    assert again.transferred == 0


@pytest.mark.tls
def test_push_never_overwrites_a_remote_change(wb):
    write_local(wb, A, 0, png(1))
    wb.engine.push([A])
    write_local(wb, A, 0, png(2, 70))
    put_remote(wb, A, 0, png(3, 75))  # a teammate's change
    s = wb.engine.push([A])[A]
    assert s.conflicts and remote_bytes(wb, A, 0) == png(3, 75)


def test_push_refuses_when_object_appears_between_plan_and_put(wb):
    """A local-only image whose key someone else creates just before our PUT is a conflict."""
    write_local(wb, A, 0, png(1))
    plan_then_race = wb.engine.plan([A])[A]
    assert plan_then_race.changes[0].status is ImageStatus.LOCAL_ONLY
    from actorbench.errors import PreconditionFailed
    from actorbench.sync.transfer import upload

    put_remote(wb, A, 0, png(9, 80))
    with pytest.raises(PreconditionFailed):
        upload(wb.store, wb.layout.image_key(A, 0), wb.layout.image_path(A, 0), md5(png(1)),
               None, lambda n: None)
    assert remote_bytes(wb, A, 0) == png(9, 80)


def test_selective_pull_and_push(wb):
    for i in range(10):
        put_remote(wb, A, i, png(i))
    s = wb.engine.pull([A], only={0, 1, 2, 7})[A]
    assert s.transferred == 4 and s.total == 4
    assert sorted(wb.layout.local_images(A)) == [0, 1, 2, 7]
    write_local(wb, A, 20, png(20))
    write_local(wb, A, 21, png(21))
    p = wb.engine.push([A], only={21})[A]
    assert p.transferred == 1
    assert statuses(wb, A)[20] == "local_only" and statuses(wb, A)[21] == "synced"


def test_many_actors_in_one_batch(wb):
    names = [a.name for a in wb.registry]
    for k, n in enumerate(names):
        for i in range(4):
            put_remote(wb, n, i, png(k * 10 + i))
    out = wb.engine.pull(names)
    assert {n: s.transferred for n, s in out.items()} == {n: 4 for n in names}


def test_missing_and_deleted_statuses(wb):
    for i in range(3):
        put_remote(wb, A, i, png(i))
    wb.engine.pull([A])
    resp = wb.layout.response_json(A)
    resp.write_text(json.dumps({"s3_urls": [
        f"https://{wb.settings.bucket}.s3.us-west-1.amazonaws.com/{wb.layout.image_key(A, 5)}"]}))
    wb.layout.image_path(A, 0).unlink()
    wb.store.delete(wb.layout.image_key(A, 1))
    assert statuses(wb, A) == {0: "deleted_local", 1: "deleted_remote", 2: "synced",
                               5: "missing"}
    s = wb.engine.pull([A])[A]
    assert s.transferred == 1 and wb.layout.image_path(A, 0).exists()  # restored from S3
    assert wb.layout.image_path(A, 1).exists()  # a remote delete never deletes locally


def test_clean_deletes_only_verified_copies(wb):
    for i in range(3):
        put_remote(wb, A, i, png(i))
    wb.engine.pull([A])
    write_local(wb, A, 1, png(50, 90))  # modified: not safe to delete
    write_local(wb, A, 9, png(9))  # local only
    dry = wb.engine.clean([A], dry_run=True)[A]
    assert dry["deleted"] == 2 and wb.layout.image_path(A, 0).exists()
    res = wb.engine.clean([A])[A]
    assert res["deleted"] == 2 and res["kept"] == 2
    assert sorted(wb.layout.local_images(A)) == [1, 9]
    assert statuses(wb, A) == {0: "s3_only", 1: "local_modified", 2: "s3_only", 9: "local_only"}


def test_two_concurrent_pulls_end_consistent(wb):
    for i in range(8):
        put_remote(wb, A, i, png(i, 96))
    results = []
    threads = [threading.Thread(target=lambda: results.append(wb.engine.pull([A])[A]))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.transferred for r in results) == [0, 8]
    assert all(r.failed == 0 for r in results)
    for i in range(8):
        assert wb.layout.image_path(A, i).read_bytes() == png(i, 96)
    assert partial_files(wb.settings.data_dir) == []


@pytest.mark.tls
def test_cancel_leaves_no_partial_file(wb):
    for i in range(12):
        put_remote(wb, A, i, png(i, 200))
    cancel = threading.Event()
    seen = []

    def progress(ev):
        seen.append(ev)
        if ev.kind == "bytes":
            cancel.set()

    s = wb.engine.pull([A], progress=progress, cancel=cancel)[A]
    assert s.cancelled
    assert partial_files(wb.settings.data_dir) == []
    for p in wb.layout.local_images(A).values():  # whatever landed is whole
        idx = int(p.stem.rsplit("_", 1)[1])
        assert p.read_bytes() == png(idx, 200)
    assert wb.engine.pull([A])[A].failed == 0
    assert len(wb.layout.local_images(A)) == 12


def test_stale_temp_files_are_cleaned_at_start(wb):
    put_remote(wb, A, 0, png(0))
    folder = wb.layout.training_dir(A)
    folder.mkdir(parents=True)
    stale = folder / f".abtmp-{A}_0.png.xyz"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    manifest_tmp = wb.layout.actor_dir(A) / ".abtmp-.sync-manifest.json.123-4"  # killed mid-batch
    manifest_tmp.write_text("{")
    wb.engine.pull([A])
    assert not stale.exists() and not manifest_tmp.exists()
    assert partial_files(wb.layout.actor_dir(A)) == []


def test_selective_push_does_not_claim_synced(wb):
    write_local(wb, A, 0, png(0))
    write_local(wb, A, 1, png(1))
    s = wb.engine.push([A], only={0})[A]
    assert s.transferred == 1 and [u.rsplit("_", 1)[1] for u in s.s3_urls] == ["0.png"]
    entry = wb.reload_registry().get(A).training_data
    assert entry["synced"] is False and entry["count"] == 1
    s = wb.engine.push([A])[A]
    assert wb.reload_registry().get(A).training_data["synced"] is True
    assert len(s.s3_urls) == 2


@pytest.mark.tls
def test_backend_uses_the_store_it_claims(wb, request):
    from actorbench.storage.lean import LeanS3Store
    from actorbench.storage.memory import MemoryStore

    name = request.node.callspec.params["backend"]
    assert isinstance(wb.store, LeanS3Store) == name.endswith("-lean")
    assert isinstance(wb.store, MemoryStore) == (name == "memory")


def test_library_listing_in_ranges_matches_per_actor_listing(wb):
    """Past LIST_CONCURRENT_UP_TO actors the library prefix is listed in ranges cut at actor
    boundaries; no object may fall between two ranges, including actors outside the registry
    whose names sort right at a boundary."""
    from dataclasses import replace

    from actorbench.actors import Actor, Registry
    from actorbench.sync.listing import ranges

    wb.engine.config = replace(wb.engine.config, actors_per_page=4)
    names = [f"{i:04d}_lib_30_female" for i in range(1, 71)]
    Registry(wb.settings.registry_path, [Actor(i + 1, n) for i, n in enumerate(names)]).save()
    wb.reload_registry()
    keys = {n: {wb.layout.image_key(n, j) for j in range(k % 3)} for k, n in enumerate(names)}
    for ks in keys.values():
        for k in ks:
            wb.store.put_bytes(k, b"x")
    for stray in ("0005_lib_30_female-x", "0005_lib_30_femald", "0000_first", "9999_last"):
        wb.store.put_bytes(f"{wb.layout.prefix}/{stray}/{stray}_0.png", b"y")
    listed = wb.engine.list_remote(names)
    assert {n: sorted(o.key for o in v) for n, v in listed.items()} == {
        n: sorted(ks) for n, ks in keys.items()}  # each object once, none missed
    assert len(ranges(names, 4)) == 18


@pytest.mark.tls
def test_tls_and_proxy_settings_reach_every_request(wb, request, connect_proxy):
    """Over TLS the private CA is trusted through AWS_CA_BUNDLE alone, on the bulk path too;
    with HTTPS_PROXY every request goes through the proxy: the endpoint's name resolves
    nowhere else. Without it, nothing does."""
    import socket

    from actorbench.storage.bulk import Got

    name = request.node.callspec.params["backend"]
    before = connect_proxy.tunnels
    for i in range(3):
        put_remote(wb, A, i, png(i))
    bulk = wb.store.bulk_getter()
    results = []
    if bulk is not None:  # the lean store: every GET must land on the bulk path itself
        real = bulk.start

        def spy(jobs, on_result, *args, **kw):
            return real(jobs, lambda r: (results.append(r), on_result(r)), *args, **kw)

        bulk.start = spy
    assert wb.engine.pull([A])[A].transferred == 3
    assert bulk is None or [type(r) for r in results] == [Got] * 3
    write_local(wb, A, 5, png(5))
    assert wb.engine.push([A])[A].transferred == 1
    if name.startswith("rclone-tls"):
        assert wb.settings.ca_bundle and wb.settings.endpoint_url.startswith("https://")
    if "proxy" in name:
        host = wb.settings.endpoint_url.split("//")[1].rsplit(":", 1)[0]
        with pytest.raises(OSError):
            socket.getaddrinfo(host, 443)  # no way there but the proxy
        assert connect_proxy.tunnels > before and connect_proxy.refused == 0
    else:
        assert connect_proxy.tunnels == before  # no proxy set: nothing went through it
