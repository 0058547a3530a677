"""Hostile object keys: a key holding control characters is one actor's odd file, not an outage.

S3 can return such keys only URL-encoded (XML 1.0 cannot carry ``\\x1b`` or ``\\x07``); both the
boto3 store and the lean client ask for ``encoding-type=url`` and decode. Run on moto's and
rclone's server processes, each through both clients.
"""

from __future__ import annotations

import pytest

from actorbench.cli import main
from actorbench.sync.discover import discover
from tests.helpers import png, put_remote, statuses

A, B, C = "0001_european_30_female", "0002_african_45_male", "0003_east_asian_22_female"
HOSTILE = (f"{B}_\x1b]52;c;ZWNobyBwd25lZA==\x07.png", f"{B}_2\x1b[2J\r.png", "x\x07y.txt")


@pytest.mark.parametrize("backend", ["moto-server", "moto-server-lean", "rclone-server",
                                     "rclone-server-lean"], indirect=True)
@pytest.mark.attack("object keys holding ESC, BEL and CR (an OSC 52 sequence) in one actor's "
                    "S3 prefix", "listed URL-encoded and decoded: unrecognised for that actor; "
                    "every actor syncs, discover works")
def test_a_key_with_control_characters_leaves_every_actor_syncing(wb, backend, store_kind,
                                                                  monkeypatch, capsys):
    for i, actor in enumerate((A, B, C)):
        put_remote(wb, actor, 1, png(i))
    prefix = wb.layout.actor_prefix(B)
    for name in HOSTILE:
        wb.store.put_bytes(prefix + name, b"not an image")
    assert {o.key[len(prefix):] for o in wb.store.list(prefix)} == {f"{B}_1.png", *HOSTILE}

    plans = wb.engine.plan([A, B, C])
    assert {(u.where, u.name) for u in plans[B].unrecognised} == {("s3", n) for n in HOSTILE}
    assert not plans[A].unrecognised and not plans[C].unrecognised
    done = wb.engine.pull([A, B, C])
    assert all(done[n].ok and done[n].transferred == 1 for n in (A, B, C)), done
    assert {statuses(wb, n)[1] for n in (A, B, C)} == {"synced"}
    assert sorted(p.name for p in wb.layout.training_dir(B).iterdir()) == [f"{B}_1.png"]
    found = discover(wb.store, wb.layout, wb.settings.registry_path, wb.settings.region,
                     dry_run=True)
    assert (found.folders, found.added, found.unsafe) == (3, [], [])
    # the CLI lists them, spelled out: no escape reaches the terminal
    env = {**backend.env, "ACTORBENCH_DATA_DIR": str(wb.settings.data_dir),
           "ACTORBENCH_BUCKET": wb.settings.bucket, "ACTORBENCH_S3_CLIENT": store_kind}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    capsys.readouterr()
    main(["status", "--all"])
    out = capsys.readouterr().out
    assert "\\x1b]52;c;ZWNobyBwd25lZA==\\x07" in out and "\\x1b[2J\\x0d" in out, out
    assert not any(c in out for c in "\x1b\x07\r"), out
