"""Actor locks: one sync or generation per actor at a time, across processes, with no lock
file (a flock on the actor's folder), and a ``.lock`` file where folders cannot be flocked."""

from __future__ import annotations

import errno
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actorbench.errors import LockTimeout
from actorbench.fsutil import dir_lock
from tests.conftest import one_actor_workbench
from tests.helpers import png

HOLD = """
import sys, time
from pathlib import Path
from actorbench.fsutil import dir_lock
with dir_lock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holder(folder: Path, seconds: float) -> subprocess.Popen[str]:
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(folder), str(seconds)],
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "held"
    return p


def test_a_folder_held_by_another_process_times_out_naming_it(tmp_path):
    folder = tmp_path / "actors" / "0001_a_30_female"
    with _holder(folder, 30) as p:  # (leaving waits for it and closes its pipe)
        try:
            with pytest.raises(LockTimeout) as busy, dir_lock(folder, timeout=0.3,
                                                             what="actor X"):
                pass
            assert "actor X is busy" in str(busy.value)
        finally:
            p.kill()
    with dir_lock(folder, timeout=1):  # released when its holder dies
        pass
    assert os.listdir(folder) == []  # no lock file was left behind


def test_a_sync_waits_for_the_process_that_holds_the_actor(rclone_server, tmp_path):
    wb, a = one_actor_workbench(rclone_server, tmp_path)
    wb.layout.image_path(a, 0).parent.mkdir(parents=True)
    wb.layout.image_path(a, 0).write_bytes(png(1))
    with _holder(wb.layout.actor_dir(a), 1.0):
        t0 = time.monotonic()
        out = wb.engine.push([a])[a]
    assert out.ok and out.transferred == 1 and time.monotonic() - t0 >= 0.8


def test_a_first_pull_leaves_only_the_images_and_the_manifest(rclone_server, tmp_path):
    wb, a = one_actor_workbench(rclone_server, tmp_path)
    for i in range(3):
        wb.store.put_bytes(wb.layout.image_key(a, i), png(i))
    assert wb.engine.pull([a])[a].transferred == 3
    actor_dir = wb.layout.actor_dir(a)
    assert sorted(p.name for p in actor_dir.iterdir()) == [".sync-manifest.json",
                                                           "training_data"]
    # what was pulled counts as synced without hashing it again (the manifest knows it)
    assert wb.engine.plan([a])[a].counts()["synced"] == 3


def test_where_folders_cannot_be_flocked_a_lock_file_is_used(tmp_path, monkeypatch):
    real = fcntl.flock
    folder = tmp_path / "nfs-like"

    def flock(fd: int, op: int) -> None:
        if os.path.isdir(f"/proc/self/fd/{fd}") and op & fcntl.LOCK_EX:
            raise OSError(errno.ENOLCK, "No locks available")
        real(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    with dir_lock(folder, timeout=0.2):
        assert (folder / ".lock").exists()
        with pytest.raises(LockTimeout), dir_lock(folder, timeout=0.2):
            pass


def test_actor_folders_are_spread_over_the_disk_where_the_filesystem_can(tmp_path):
    from actorbench.fsutil import spread_subfolders

    folder = tmp_path / "actors"
    folder.mkdir()
    marked = spread_subfolders(folder)
    attrs = subprocess.run(["lsattr", "-d", str(folder)], capture_output=True, text=True)
    if attrs.returncode != 0:  # lsattr itself cannot read flags here (tmpfs and the like)
        assert marked is False
        return
    assert marked is ("T" in attrs.stdout.split()[0])
    assert spread_subfolders(tmp_path / "missing") is False
