"""Captions (``{actor}_{i}.txt``) sync by the images' rules, on every backend of the contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actorbench.sync import FileKind, ImageStatus, conflict_path
from actorbench.workbench import Workbench
from tests.helpers import png, put_remote, write_local

A = "0001_european_30_female"


def put_caption(wb: Workbench, actor: str, index: int, text: str) -> str:
    return wb.store.put_bytes(wb.layout.caption_key(actor, index), text.encode(),
                              "text/plain; charset=utf-8")


def write_caption(wb: Workbench, actor: str, index: int, text: str) -> Path:
    p = wb.layout.caption_path(actor, index)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(text.encode())
    return p


def remote_caption(wb: Workbench, actor: str, index: int) -> str | None:
    if wb.store.head(wb.layout.caption_key(actor, index)) is None:
        return None
    body, _ = wb.store.open_get(wb.layout.caption_key(actor, index))
    try:
        return bytes(body.read()).decode()
    finally:
        body.close()


def caption_statuses(wb: Workbench, actor: str) -> dict[int, str]:
    plan = wb.engine.plan([actor])[actor]
    assert all(c.kind is FileKind.CAPTION for c in plan.captions)
    return {c.index: c.status.value for c in plan.captions}


def tree(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` but actorbench's own records, with its bytes."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_caption_pulls_and_pushes_beside_its_image(wb):
    put_remote(wb, A, 0, png(0))
    put_caption(wb, A, 0, "zkq, three-quarter view")
    assert caption_statuses(wb, A) == {0: "s3_only"}
    s = wb.engine.pull([A])[A]
    assert (s.transferred, s.failed, s.conflicts) == (2, 0, [])
    assert wb.layout.caption_path(A, 0).read_text() == "zkq, three-quarter view"
    assert caption_statuses(wb, A) == {0: "synced"}
    write_caption(wb, A, 0, "zkq, frontal view")
    assert caption_statuses(wb, A) == {0: "local_modified"}
    p = wb.engine.push([A])[A]
    assert (p.transferred, p.failed, p.conflicts) == (1, 0, [])
    assert remote_caption(wb, A, 0) == "zkq, frontal view"
    head = wb.store.head(wb.layout.caption_key(A, 0))
    assert head is not None and head.size == len("zkq, frontal view")
    assert caption_statuses(wb, A) == {0: "synced"}
    # response.json and actors.json list the images only: a caption is not an image
    urls = json.loads(wb.layout.response_json(A).read_text())["s3_urls"]
    assert [u.rsplit("/", 1)[1] for u in urls] == [f"{A}_0.png"]


@pytest.mark.tls
def test_caption_edited_on_both_sides_is_a_conflict_with_both_kept(wb):
    put_remote(wb, A, 0, png(0))
    put_caption(wb, A, 0, "zkq, photo")
    wb.engine.pull([A])
    write_caption(wb, A, 0, "zkq, mine")
    put_caption(wb, A, 0, "zkq, theirs")
    assert caption_statuses(wb, A) == {0: "conflict"}
    s = wb.engine.pull([A])[A]
    assert s.conflicts == [wb.layout.caption_key(A, 0)] and not s.ok
    local = wb.layout.caption_path(A, 0)
    assert local.read_text() == "zkq, mine"
    assert conflict_path(local, "remote").read_text() == "zkq, theirs"
    assert conflict_path(local, "remote").name == f"{A}_0.conflict-remote.txt"
    p = wb.engine.push([A])[A]
    assert p.conflicts == [wb.layout.caption_key(A, 0)]
    assert remote_caption(wb, A, 0) == "zkq, theirs"  # S3's edit not overwritten
    plan = wb.engine.plan([A])[A]
    assert not plan.unrecognised  # the conflict copy is actorbench's own, not "unrecognised"
    forced = wb.engine.pull([A], prefer="remote")[A]
    assert forced.transferred == 1 and local.read_text() == "zkq, theirs"
    assert conflict_path(local, "local").read_text() == "zkq, mine"


def test_caption_of_a_missing_image_is_reported_not_synced(wb):
    write_local(wb, A, 0, png(0))
    write_caption(wb, A, 0, "zkq, kept")
    write_caption(wb, A, 5, "zkq, for no image")  # image 5 is nowhere
    put_caption(wb, A, 7, "zkq, for no image either")  # nor is image 7
    plan = wb.engine.plan([A])[A]
    assert [c.index for c in plan.captions] == [0]
    reported = {(u.where, u.name): u.reason for u in plan.unrecognised}
    assert set(reported) == {("local", f"{A}_5.txt"), ("s3", f"{A}_7.txt")}
    assert "image 5" in reported[("local", f"{A}_5.txt")]
    assert "not synced" in reported[("s3", f"{A}_7.txt")]
    p = wb.engine.push([A])[A]
    assert p.transferred == 2 and p.ok  # image 0 and its caption
    assert {u["name"] for u in p.unrecognised} == {f"{A}_5.txt", f"{A}_7.txt"}
    assert remote_caption(wb, A, 5) is None
    s = wb.engine.pull([A])[A]
    assert s.transferred == 0
    assert not wb.layout.caption_path(A, 7).exists()
    assert remote_caption(wb, A, 7) == "zkq, for no image either"  # reported, not deleted


def test_a_pull_and_push_of_captions_change_nothing_else(wb):
    for i in range(3):
        put_remote(wb, A, i, png(i))
    wb.engine.pull([A])
    data = wb.layout.data_dir
    before_local = tree(data)
    before_images = {i: wb.store.head(wb.layout.image_key(A, i)) for i in range(3)}
    for i in range(3):
        write_caption(wb, A, i, f"zkq, caption {i}")
    p = wb.engine.push([A])[A]
    assert (p.transferred, p.failed) == (3, 0)
    after_push = tree(data)
    changed = {k for k in set(after_push) | set(before_local)
               if after_push.get(k) != before_local.get(k)}
    # the captions themselves, and the records a push rewrites (response.json's time stamp)
    assert changed == {f"actors/{A}/training_data/{A}_{i}.txt" for i in range(3)} | {
        f"actors/{A}/training_data/response.json", "actors.json"}
    assert {i: wb.store.head(wb.layout.image_key(A, i)) for i in range(3)} == before_images
    # a teammate's edit of one caption: the pull brings that caption and nothing else
    put_caption(wb, A, 1, "zkq, edited in S3")
    snapshot = tree(data)
    s = wb.engine.pull([A])[A]
    assert (s.transferred, s.failed) == (1, 0)
    after_pull = tree(data)
    assert {k for k in after_pull if after_pull[k] != snapshot.get(k)} == {
        f"actors/{A}/training_data/{A}_1.txt"}
    assert all(c.status is ImageStatus.SYNCED for c in wb.engine.plan([A])[A].changes)


def test_unfit_or_oddly_named_captions_are_refused_or_reported(wb):
    write_local(wb, A, 0, png(0))
    write_local(wb, A, 1, png(1))
    wb.layout.caption_path(A, 0).write_bytes(b"zkq, \xff\xfe not text")
    write_caption(wb, A, 1, "z" * 1001)
    (wb.layout.training_dir(A) / f"{A}_01.txt").write_text("zkq")
    plan = wb.engine.plan([A])[A]
    problems = {c.index: c.problem for c in plan.captions}
    assert "not UTF-8" in problems[0] and "too long" in problems[1]
    assert [(u.name, u.reason) for u in plan.unrecognised] == [
        (f"{A}_01.txt", f"not a canonical caption name (image 1's is {A}_1.txt)")]
    p = wb.engine.push([A])[A]
    assert p.transferred == 2  # the two images; both captions refused
    assert {r["key"] for r in p.invalid} == {wb.layout.caption_key(A, i) for i in (0, 1)}
    assert remote_caption(wb, A, 0) is None and remote_caption(wb, A, 1) is None
