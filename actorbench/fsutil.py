"""Atomic writes and inter-process locks: nothing partial ever sits at a final path."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .errors import LockTimeout

TMP_MARK = ".abtmp-"


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def temp_path_for(final: Path) -> Path:
    """A unique temp name in the same folder, so ``os.replace`` is atomic."""
    fd, name = tempfile.mkstemp(prefix=f"{TMP_MARK}{final.name}.", dir=final.parent)
    os.close(fd)
    return Path(name)


def write_temp(path: Path, data: bytes) -> Path:
    """``data`` fsynced in a temp file beside ``path``; the caller renames or links it."""
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    fsync_dir(path.parent)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())


def clean_stale_temps(folder: Path, older_than_s: float = 0.0) -> int:
    """Remove temp files left by a killed process; returns how many were removed."""
    removed = 0
    if not folder.is_dir():
        return 0
    now = time.time()
    for p in folder.iterdir():
        if p.name.startswith(TMP_MARK):
            try:
                if now - p.stat().st_mtime >= older_than_s:
                    p.unlink()
                    removed += 1
            except FileNotFoundError:
                pass
    return removed


@contextlib.contextmanager
def file_lock(lock_path: Path, timeout: float = 120.0, what: str = "") -> Iterator[None]:
    """An exclusive ``flock`` on ``lock_path``; released even if the process dies."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise LockTimeout(
                        f"{what or lock_path} is busy: another actorbench process has held "
                        f"its lock for over {timeout:.0f} s."
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
