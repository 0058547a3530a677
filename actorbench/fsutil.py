"""Atomic writes and inter-process locks: nothing partial ever sits at a final path."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import json
import os
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .errors import LockTimeout, UnsafePathError, is_disk_full  # noqa: F401 (moved to errors)
from .units import format_size  # noqa: F401 (moved to units)

TMP_MARK = ".abtmp-"


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def syncfs(folder: Path) -> None:
    """Flush every dirty page of ``folder``'s filesystem: one call for a whole batch of files.

    Far cheaper than an fsync per file (~10 ms for 256 small files against ~90 ms, ext4).
    Where ``syncfs(2)`` is missing, falls back to ``os.sync()``. A write-back error it reports
    (EIO, ENOSPC: Linux >= 5.8) is raised, never ignored: the files of the batch are not safe.
    """
    fn = _libc_syncfs()
    if fn is None:
        os.sync()
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        if fn(fd) != 0:
            import ctypes

            err = ctypes.get_errno()
            if err in (errno.ENOSYS, errno.EINVAL):  # not supported here: the whole machine
                os.sync()
            else:
                raise OSError(err, os.strerror(err), str(folder))
    finally:
        os.close(fd)


_SYNCFS: list[object] = []


def _libc_syncfs() -> Callable[[int], int] | None:
    if not _SYNCFS:
        fn = None
        with contextlib.suppress(OSError, AttributeError):
            import ctypes
            import ctypes.util

            libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
            fn = libc.syncfs
            fn.argtypes = [ctypes.c_int]
            fn.restype = ctypes.c_int
        _SYNCFS.append(fn)
    return _SYNCFS[0]  # type: ignore[return-value]


class AtomicBatch:
    """Many atomic file writes made durable together: one ``syncfs`` instead of an fsync each.

    Usage::

        batch = AtomicBatch()
        batch.add_json(path_a, {...}); batch.add_json(path_b, {...})
        batch.commit()  # temp files, syncfs, renames, syncfs
    """

    def __init__(self) -> None:
        self.items: list[tuple[Path, bytes]] = []
        self.dirs: set[Path] = set()

    def add_json(self, path: Path, obj: Any) -> None:
        self.items.append((path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode()))

    def add_dir(self, folder: Path) -> None:
        """Also make ``folder``'s entries durable at commit (files renamed into it)."""
        self.dirs.add(folder)

    def commit(self) -> None:
        temps: list[tuple[Path, Path]] = []
        try:
            for path, data in self.items:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = temp_path_for(path)
                temps.append((tmp, path))
                tmp.write_bytes(data)
            roots = _one_per_filesystem([p.parent for _, p in temps] + list(self.dirs))
            for root in roots:  # the new contents, before any rename
                syncfs(root)
            while temps:
                tmp, path = temps.pop()
                os.replace(tmp, path)
        finally:
            for tmp, _ in temps:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        for root in roots:  # the renames (cheaper than an fsync per folder)
            syncfs(root)
        self.items.clear()
        self.dirs.clear()


def _one_per_filesystem(folders: list[Path]) -> list[Path]:
    """One existing folder per filesystem among ``folders`` (what ``syncfs`` needs)."""
    seen: dict[int, Path] = {}
    for folder in folders:
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        seen.setdefault(folder.stat().st_dev, folder)
    return list(seen.values())


_TEMP_NAMES = itertools.count()


def open_temp_for(final: Path) -> tuple[Path, int]:
    """A new temp file in ``final``'s folder (so ``os.replace`` is atomic), open for writing.

    Names are unique within the process; ``O_EXCL`` guards against other processes. The
    mode is 0o666 less the umask, like any file the user writes (``clean_stale_temps`` knows
    the mark).
    """
    for _ in range(100):
        tmp = final.with_name(f"{TMP_MARK}{final.name}.{os.getpid()}-{next(_TEMP_NAMES)}")
        try:
            return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp name beside {final}")


def temp_path_for(final: Path) -> Path:
    """A new, empty temp file beside ``final`` (see ``open_temp_for``)."""
    tmp, fd = open_temp_for(final)
    os.close(fd)
    return tmp


def write_temp(path: Path, data: bytes, durable: bool = True) -> Path:
    """``data`` in a temp file beside ``path``, fsynced unless not ``durable``; the caller
    renames or links it."""
    tmp = temp_path_for(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return tmp


def atomic_write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """``path`` holds ``data`` whole or not at all (a rename). ``durable=False`` skips the
    fsyncs, for what can always be made again (a cache): a crash may then leave the file
    empty or cut short, never half of another write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path, data, durable)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if durable:
        fsync_dir(path.parent)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, ensure_ascii=False) + "\n").encode())


def open_regular(path: Path) -> BinaryIO:
    """``path`` open for reading, only if it is a regular file itself.

    A symlink is never followed (``O_NOFOLLOW``: a link to /etc/passwd named like an image
    must not be uploaded or hashed), and a fifo or device never blocks (``O_NONBLOCK``, which
    changes nothing for a regular file). Raises ``UnsafePathError`` for anything else.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(f"{path.name}: symlink, not followed.") from None
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{path.name}: not a regular file.")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def clean_stale_temps(folder: Path, older_than_s: float = 0.0, of: str = "") -> int:
    """Remove temp files left by a killed process (only those of the file named ``of``, if
    given); returns how many were removed. Call it holding the lock of what they belong to."""
    removed = 0
    if not folder.is_dir():
        return 0
    now = time.time()
    mark = f"{TMP_MARK}{of}." if of else TMP_MARK
    for p in folder.iterdir():
        if p.name.startswith(mark):
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
    try:
        _flock_wait(fd, timeout, what or str(lock_path))
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextlib.contextmanager
def dir_lock(folder: Path, timeout: float = 120.0, what: str = "") -> Iterator[None]:
    """An exclusive ``flock`` on the folder itself: no lock file is created (a file per
    actor was one more inode per actor on every first pull). Where a folder cannot be
    flocked (NFS emulates flock with POSIX locks, which need a file open for writing), a
    ``.lock`` file inside it is used instead, as before."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                _flock_wait(fd, timeout, what or str(folder))
            elif exc.errno in (errno.EBADF, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                with file_lock(folder / ".lock", timeout, what):
                    yield
                return
            else:
                raise
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _flock_wait(fd: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            if time.monotonic() >= deadline:
                raise LockTimeout(
                    f"{what} is busy: another actorbench process has held its lock for over "
                    f"{timeout:.0f} s."
                ) from None
            time.sleep(0.05)


#: ``FS_IOC_GETFLAGS`` / ``FS_IOC_SETFLAGS`` and ``FS_TOPDIR_FL`` (linux/fs.h; ``chattr +T``)
_GETFLAGS, _SETFLAGS, _TOPDIR_FL = 0x80086601, 0x40086602, 0x00020000


def spread_subfolders(folder: Path) -> bool:
    """Mark ``folder`` as a top of directory hierarchies (``chattr +T``): ext2/3/4's Orlov
    allocator then spreads its subfolders over block groups instead of packing them into
    the parent's group. For ``actors/`` (one independent tree per actor) this keeps a pull
    that creates thousands of files from queueing in one group: right after a clean-up, an
    ext4 without a journal scans past every inode deleted in the last minute on each file
    it creates (``recently_deleted``), which made a 287-actor re-pull spend seconds in the
    kernel. Best effort: False where the filesystem has no such flag (nothing changes).
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        buf = fcntl.ioctl(fd, _GETFLAGS, bytes(8))
        flags = int.from_bytes(buf[:4], sys.byteorder)
        if not flags & _TOPDIR_FL:
            fcntl.ioctl(fd, _SETFLAGS, (flags | _TOPDIR_FL).to_bytes(8, sys.byteorder))
        return True
    except OSError:  # tmpfs, NFS, another owner: the default placement
        return False
    finally:
        os.close(fd)


def free_bytes(folder: Path) -> int:
    """Bytes an ordinary user may still write on ``folder``'s filesystem."""
    return shutil.disk_usage(folder).free


def copy_atomic(src: Path, dst: Path) -> None:
    """Copy ``src`` to ``dst`` through a temp file: a full disk leaves no half copy at ``dst``."""
    tmp = temp_path_for(dst)
    try:
        shutil.copy2(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
