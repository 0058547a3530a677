"""Changes made while a sync runs, and repeated conflicts: nothing local is ever lost."""

from __future__ import annotations

import os

from actorbench.sync import ProgressEvent
from tests.helpers import png, put_remote, statuses, write_local
from tests.single_backend import backend  # noqa: F401 - one backend here

A = "0001_european_30_female"


def test_a_local_edit_made_during_a_pull_is_kept(wb):  # type: ignore[no-untyped-def]
    put_remote(wb, A, 0, png(1))
    wb.engine.pull([A])
    put_remote(wb, A, 0, png(2, 80))  # S3 moves on: the next pull downloads it
    target = wb.layout.image_path(A, 0)
    edited = png(3, 90)

    def edit_while_downloading(ev: ProgressEvent) -> None:
        if ev.kind == "bytes" and target.read_bytes() != edited:
            target.write_bytes(edited)  # the user saves a retouch mid-download
            os.utime(target, ns=(1, 1))

    s = wb.engine.pull([A], progress=edit_while_downloading)[A]
    assert target.read_bytes() == edited  # the edit survived
    kept = target.with_name(f"{A}_0.conflict-remote.png")
    assert kept.read_bytes() == png(2, 80)  # and S3's version is beside it
    assert s.conflicts == [wb.layout.image_key(A, 0)] and s.transferred == 0
    assert statuses(wb, A)[0] == "conflict"  # the next sync still sees both sides


def test_prefer_remote_twice_keeps_both_local_versions(wb):  # type: ignore[no-untyped-def]
    put_remote(wb, A, 0, png(1))
    wb.engine.pull([A])
    write_local(wb, A, 0, png(10, 70))
    wb.engine.pull([A], prefer="remote")
    put_remote(wb, A, 0, png(4))
    wb.engine.pull([A])
    write_local(wb, A, 0, png(11, 72))
    wb.engine.pull([A], prefer="remote")
    folder = wb.layout.training_dir(A)
    assert (folder / f"{A}_0.conflict-local.png").read_bytes() == png(10, 70)
    assert (folder / f"{A}_0.conflict-local-2.png").read_bytes() == png(11, 72)
    assert wb.layout.image_path(A, 0).read_bytes() == png(4)
    plan = wb.engine.plan([A])[A]
    assert plan.unrecognised == []  # kept-aside copies are ours, not unknown files
