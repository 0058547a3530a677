"""The bulk GET loop: the happy path lands verified temp files; anything else is handed back."""

from __future__ import annotations

import hashlib
import socket
import socketserver
import threading
from pathlib import Path

import pytest

from actorbench.fsutil import TMP_MARK, AtomicBatch
from actorbench.storage.bulk import BulkGetter, Failed, GetJob, Got
from actorbench.storage.sigv4 import Signer
from tests.helpers import md5, partial_files, png, put_remote

BODY = b"\x89PNG" + bytes(range(256)) * 40


class Scripted(socketserver.ThreadingTCPServer):
    """An HTTP/1.1 server on 127.0.0.1 answering each GET by the last path segment's script."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[str] = []
        self.connections = 0
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        server: Scripted = self.server  # type: ignore[assignment]
        server.connections += 1
        while True:
            line = self.rfile.readline()
            if not line:
                return
            path = line.split()[1].decode()
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            script = path.rsplit("/", 1)[-1]
            server.requests.append(script)
            etag = hashlib.md5(BODY).hexdigest()
            head = f"HTTP/1.1 200 OK\r\nETag: \"{etag}\"\r\nContent-Length: {len(BODY)}\r\n"
            if script.startswith("ok"):
                self.wfile.write(f"{head}\r\n".encode() + BODY)
            elif script == "close-after":  # answers, then drops the idle connection
                self.wfile.write(f"{head}Connection: close\r\n\r\n".encode() + BODY)
                return
            elif script == "lie-close":  # keep-alive promised, but the socket dies after
                self.wfile.write(f"{head}\r\n".encode() + BODY)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            elif script == "503":
                msg = b"<Error><Code>SlowDown</Code></Error>"
                self.wfile.write(b"HTTP/1.1 503 Slow Down\r\nContent-Length: "
                                 + str(len(msg)).encode() + b"\r\n\r\n" + msg)
            elif script == "truncate":
                self.wfile.write(f"{head}\r\n".encode() + BODY[:100])
                return
            elif script == "badmd5":
                self.wfile.write(f"{head}\r\n".encode() + BODY[:-1] + b"X")
            elif script == "chunked":
                self.wfile.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                 b"4\r\nabcd\r\n0\r\n\r\n")
            elif script == "garbage":
                self.wfile.write(b"SPDY/9 what\r\n\r\n")
                return
            elif script == "stall":
                threading.Event().wait(3)
                return


@pytest.fixture
def scripted():
    srv = Scripted()
    yield srv
    srv.shutdown()
    srv.server_close()


def dead_port() -> int:
    """A loopback port with nobody behind it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def lean_wb(rclone_server, tmp_path):
    from tests.conftest import one_actor_workbench

    return one_actor_workbench(rclone_server, tmp_path, lean=True)


def getter(srv: Scripted, **kw) -> BulkGetter:
    return BulkGetter("http", srv.host, "/bucket", Signer("k", "s", "us-west-1"), **kw)


COUNTED: dict[str, int] = {}


def fetch(g: BulkGetter, folder: Path, names: list[str], cancel=None) -> dict[str, Got | Failed]:
    folder.mkdir(exist_ok=True)
    COUNTED.clear()

    def on_bytes(job: GetJob, n: int) -> None:
        COUNTED[job.tag] = COUNTED.get(job.tag, 0) + n  # type: ignore[index]

    jobs = [GetJob(f"p/{n}", "", folder / f"{n}.png", n) for n in names]
    out: dict[str, Got | Failed] = {}
    lock = threading.Lock()

    def on_result(r: Got | Failed) -> None:
        with lock:
            assert r.job.tag not in out, "two results for one job"
            out[r.job.tag] = r  # type: ignore[index]

    g.run(jobs, on_result, on_bytes, cancel=cancel)
    return out


def test_each_job_gets_exactly_one_result_and_only_good_bodies_land(scripted, tmp_path):
    names = ["ok1", "503", "truncate", "badmd5", "chunked", "garbage", "ok2", "close-after"]
    out = fetch(getter(scripted, connections=3), tmp_path / "d", names)
    assert set(out) == set(names)
    good = {n for n, r in out.items() if isinstance(r, Got)}
    assert good == {"ok1", "ok2", "close-after"}
    for n in good:
        got = out[n]
        assert isinstance(got, Got) and got.tmp.name.startswith(TMP_MARK)
        assert got.tmp.read_bytes() == BODY and got.md5 == md5(BODY)
        assert not got.job.target.exists()  # the caller renames, never the getter
    for n, r in out.items():  # what was counted is exactly what a failure hands back
        assert COUNTED.get(n, 0) == (len(BODY) if isinstance(r, Got) else r.moved)
    assert out["badmd5"].moved == len(BODY)
    reasons = {n: r.reason for n, r in out.items() if isinstance(r, Failed)}
    assert reasons["503"] == "HTTP 503"
    assert "ETag" in reasons["badmd5"]
    assert "Content-Length" in reasons["chunked"]
    # nothing of a failed job is left behind
    left = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert len(left) == 3 and all(name.startswith(TMP_MARK) for name in left)


def test_a_dead_keep_alive_connection_is_replaced_once(scripted, tmp_path):
    g = getter(scripted, connections=1)
    out = fetch(g, tmp_path / "d", ["lie-close"])
    assert isinstance(out["lie-close"], Got)
    out = fetch(g, tmp_path / "d", ["ok-again"])  # reuses the dead connection first
    assert isinstance(out["ok-again"], Got)
    assert scripted.connections == 2
    g.close()


def test_a_stalled_server_times_out_and_is_handed_back(scripted, tmp_path):
    out = fetch(getter(scripted, connections=2, read_timeout=0.5), tmp_path / "d",
                ["stall", "ok1"])
    assert isinstance(out["stall"], Failed) and "Timeout" in out["stall"].reason
    assert isinstance(out["ok1"], Got)
    assert [p for p in (tmp_path / "d").iterdir() if "stall" in p.name] == []


def test_cancel_before_start_fetches_nothing(scripted, tmp_path):
    cancel = threading.Event()
    cancel.set()
    out = fetch(getter(scripted), tmp_path / "d", ["ok1", "ok2"], cancel=cancel)
    assert all(isinstance(r, Failed) and r.cancelled for r in out.values())
    assert scripted.requests == [] and list((tmp_path / "d").iterdir()) == []


def test_nothing_listening_fails_every_job_cleanly(tmp_path):
    g = BulkGetter("http", f"127.0.0.1:{dead_port()}", "/b", Signer("k", "s", "us-west-1"))
    out = fetch(g, tmp_path / "d", ["ok1", "ok2"])
    assert all(isinstance(r, Failed) for r in out.values())


def test_engine_falls_back_to_the_ordinary_path_when_bulk_fails(lean_wb, monkeypatch):
    """Every bulk GET fails (nothing listens): the ordinary path still lands every file, and
    the byte counter nets out to exactly the bytes pulled."""
    from actorbench.sync import ProgressRecorder

    wb, a = lean_wb
    for i in range(5):
        put_remote(wb, a, i, png(i, 90))
    broken = BulkGetter("http", f"127.0.0.1:{dead_port()}", wb.store.base_path, wb.store.signer)
    monkeypatch.setattr(wb.store, "bulk_getter", lambda: broken)
    rec = ProgressRecorder()
    s = wb.engine.pull([a], progress=rec)[a]
    assert (s.transferred, s.failed) == (5, 0)
    for i in range(5):
        assert wb.layout.image_path(a, i).read_bytes() == png(i, 90)
    assert sum(e.nbytes for e in rec.kinds("bytes")) == sum(len(png(i, 90)) for i in range(5))
    assert partial_files(wb.settings.data_dir) == []


def test_lean_pull_uses_the_bulk_path(lean_wb, monkeypatch):
    wb, a = lean_wb
    for i in range(4):
        put_remote(wb, a, i, png(i))
    seen: list[str] = []
    real = wb.store.bulk_getter()
    orig = real.start

    def spy(jobs, *args, **kw):
        jobs = list(jobs)
        seen.extend(j.key for j in jobs)
        return orig(jobs, *args, **kw)

    monkeypatch.setattr(real, "start", spy)
    assert wb.engine.pull([a])[a].transferred == 4
    assert sorted(seen) == sorted(wb.layout.image_key(a, i) for i in range(4))


def test_atomic_batch_writes_all_then_leaves_no_temp(tmp_path):
    batch = AtomicBatch()
    (tmp_path / "a.json").write_text('{"old": true}')
    batch.add_json(tmp_path / "a.json", {"new": 1})
    batch.add_json(tmp_path / "sub" / "b.json", [1, 2])
    batch.commit()
    assert (tmp_path / "a.json").read_text().strip() == '{\n  "new": 1\n}'
    assert (tmp_path / "sub" / "b.json").exists()
    assert partial_files(tmp_path) == []


def test_atomic_batch_failure_keeps_the_old_files(tmp_path, monkeypatch):
    import actorbench.fsutil as fsutil

    (tmp_path / "a.json").write_text("old")
    batch = AtomicBatch()
    batch.add_json(tmp_path / "a.json", {"new": 1})
    monkeypatch.setattr(fsutil, "syncfs", lambda root: (_ for _ in ()).throw(OSError("disk")))
    with pytest.raises(OSError):
        batch.commit()
    assert (tmp_path / "a.json").read_text() == "old"
    assert partial_files(tmp_path) == []


def test_syncfs_falls_back_to_sync_without_libc(tmp_path, monkeypatch):
    import actorbench.fsutil as fsutil

    calls = []
    monkeypatch.setattr(fsutil, "_SYNCFS", [None])
    monkeypatch.setattr(fsutil.os, "sync", lambda: calls.append(1))
    fsutil.syncfs(tmp_path)
    assert calls == [1]


def test_a_crashing_bulk_getter_hands_every_unreported_job_back(lean_wb, monkeypatch):
    """If the loop itself dies (a bug, not a bad response), no job is lost or counted twice:
    the ones it reported stay done, the rest run on the ordinary path."""
    from concurrent.futures import Future

    wb, a = lean_wb
    for i in range(6):
        put_remote(wb, a, i, png(i, 70))

    class Crashing:
        def warm(self, n: int) -> None:
            pass

        def start(self, jobs, on_result, on_bytes=None, cancel=None):
            jobs = list(jobs)
            for job in jobs[:2]:  # two fail the ordinary way, then the loop dies
                on_result(Failed(job, "HTTP 503", 0))
            fut: Future[None] = Future()
            fut.set_exception(RuntimeError("loop died"))
            return fut

    monkeypatch.setattr(wb.store, "bulk_getter", lambda: Crashing())
    s = wb.engine.pull([a])[a]
    assert (s.transferred, s.failed, s.total) == (6, 0, 6)
    for i in range(6):
        assert wb.layout.image_path(a, i).read_bytes() == png(i, 70)
