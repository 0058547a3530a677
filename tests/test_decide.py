"""The sync policy as a table (status x direction x prefer -> action), without S3; and the dry
run, which changes nothing on disk or in S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from actorbench.storage.base import ObjectInfo
from actorbench.sync import Action, ActorPlan, Change, Direction, ImageStatus, Prefer, decide
from actorbench.sync.decide import action_for
from actorbench.sync.plan import LocalFile

S, P = ImageStatus, Direction.PULL
U = Direction.PUSH
L, R = Prefer.LOCAL, Prefer.REMOTE
D, UP, OW, KB, C, SK = (Action.DOWNLOAD, Action.UPLOAD, Action.OVERWRITE, Action.KEEP_BOTH,
                        Action.CONFLICT, Action.SKIP)

#: status: (pull, pull --prefer remote, push, push --prefer local)
POLICY = {
    S.SYNCED: (SK, SK, SK, SK),
    S.S3_ONLY: (D, D, SK, SK),
    S.LOCAL_ONLY: (SK, SK, UP, UP),
    S.LOCAL_MODIFIED: (SK, OW, UP, UP),
    S.REMOTE_MODIFIED: (D, D, SK, SK),
    S.CONFLICT: (KB, OW, C, OW),
    S.MISSING: (SK, SK, SK, SK),
    S.DELETED_LOCAL: (D, D, SK, SK),
    S.DELETED_REMOTE: (SK, SK, SK, UP),
    S.INVALID: (SK, SK, SK, SK),
}


def test_the_policy_table_covers_every_status() -> None:
    assert set(POLICY) == set(ImageStatus)


@pytest.mark.parametrize("status", list(ImageStatus), ids=lambda s: s.value)
def test_policy(status: ImageStatus) -> None:
    want = POLICY[status]
    got = (action_for(status, P, None), action_for(status, P, R),
           action_for(status, U, None), action_for(status, U, L))
    assert got == want
    # the other side's preference changes nothing
    assert action_for(status, P, L) == want[0] and action_for(status, U, R) == want[2]


def test_a_pull_conflict_with_nothing_in_s3_is_skipped() -> None:
    assert action_for(S.CONFLICT, P, None, has_remote=False) is SK


def _change(i: int, status: ImageStatus, **kw) -> Change:  # type: ignore[no-untyped-def]
    local = LocalFile(Path(f"/nowhere/a_{i}.png"), 10, 1) if kw.pop("local", True) else None
    remote = ObjectInfo(f"p/a/a_{i}.png", 20, "e") if kw.pop("remote", True) else None
    return Change("a", i, status, f"p/a/a_{i}.png", local, remote, **kw)


def test_decide_refuses_invalid_uploads_and_describes_itself() -> None:
    plan = ActorPlan("a", [
        _change(0, S.S3_ONLY, local=False), _change(1, S.S3_ONLY, local=False),
        _change(2, S.CONFLICT), _change(3, S.SYNCED),
        _change(4, S.INVALID, remote=False, problem="truncated", compared=S.LOCAL_ONLY),
        _change(5, S.LOCAL_ONLY, remote=False)])
    pull = decide(plan, P)
    assert [t.action for t in pull.items] == [D, D, KB, SK, SK, SK]
    assert pull.describe() == "download 2, keep 1 conflict (both sides)"
    assert pull.refused == ()
    push = decide(plan, U, check=lambda lf: "too big" if lf.path.name == "a_5.png" else "")
    assert [r.key.rsplit("/", 1)[1] for r in push.refused] == ["a_4.png", "a_5.png"]
    assert [r.reason for r in push.refused] == ["truncated", "too big"]
    assert push.describe() == "leave 1 conflict for you to decide, refuse 2 invalid"
    assert decide(plan, U, allow_invalid=True).counts()[UP] == 2
    js = pull.to_json()
    assert js["direction"] == "pull" and len(js["actions"]) == 3 and js["skipped"] == 3


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_dry_runs_change_nothing_on_disk_or_in_s3(rclone_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import one_actor_workbench
    from tests.helpers import png, put_remote, write_local

    wb, a = one_actor_workbench(rclone_server, tmp_path)
    settings, bucket = wb.settings, wb.settings.bucket
    for i in range(3):
        put_remote(wb, a, i, png(i))
    wb.engine.pull([a], only={0, 1})
    write_local(wb, a, 1, png(11))  # a local edit
    write_local(wb, a, 5, png(5))  # a new local image
    (wb.layout.training_dir(a) / f"{a}_6.png").write_bytes(b"\x89PNG truncated")
    before_local = _tree(settings.data_dir)
    before_s3 = {o.key: o.etag for o in wb.store.list(wb.layout.prefix)}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ACTORBENCH_"))}
    env.update(rclone_server.env)
    env.update({"ACTORBENCH_DATA_DIR": str(settings.data_dir), "ACTORBENCH_BUCKET": bucket})
    out = {}
    for cmd in ("pull", "push"):
        r = subprocess.run([sys.executable, "-m", "actorbench.cli", cmd, a, "--dry-run",
                            "--json"], env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        out[cmd] = json.loads(r.stdout)
    assert {x["action"] for x in out["pull"]["actions"]} == {"download"}
    assert [x["index"] for x in out["pull"]["actions"]] == [2]
    assert {(x["index"], x["action"]) for x in out["push"]["actions"]} == {
        (1, "upload"), (5, "upload")}
    assert [r["key"].rsplit("/", 1)[1] for r in out["push"]["refused"]] == [f"{a}_6.png"]
    human = subprocess.run([sys.executable, "-m", "actorbench.cli", "pull", a, "--dry-run"],
                           env=env, capture_output=True, text=True, timeout=60).stdout
    assert human.startswith(f"{a}: would download 1")
    assert _tree(settings.data_dir) == before_local
    assert {o.key: o.etag for o in wb.store.list(wb.layout.prefix)} == before_s3
