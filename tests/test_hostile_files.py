"""Hostile files: odd names, symlinks, fifos and broken PNGs are reported, never synced.

Run against real S3 server processes (rclone serve s3 through boto3, moto through the lean
client): what must hold is what S3 ends up holding.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import uuid
import zlib

import pytest

from actorbench.storage.client import make_s3_client
from tests.conftest import settings_for
from tests.helpers import png, put_remote, remote_bytes, statuses, write_local

A = "0001_european_30_female"
ARABIC_3 = "\u0663"  # ARABIC-INDIC DIGIT THREE: int() reads it as 3


@pytest.fixture(params=["rclone-server", "moto-server-lean"])
def backend(request):
    """Both server processes, one through boto3 and one through the lean client."""
    yield request.getfixturevalue(
        "rclone_server" if request.param.startswith("rclone") else "moto_server")


def huge_png(side: int = 30000) -> bytes:
    """A well-formed PNG whose header declares side x side pixels, in under 100 bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, format="JPEG")
    return buf.getvalue()


def remote_objects(wb) -> dict[str, str]:
    """Every key under the actor's prefix, with its ETag."""
    prefix = wb.layout.actor_prefix(A)
    return {o.key[len(prefix):]: o.etag for o in wb.store.list(prefix)}


def put_raw(wb, name: str, data: bytes) -> None:
    wb.store.put_bytes(wb.layout.actor_prefix(A) + name, data)


def unrecognised(wb) -> dict[tuple[str, str], str]:
    plan = wb.engine.plan([A])[A]
    return {(u.where, u.name): u.reason for u in plan.unrecognised}


@pytest.mark.attack('a local image named with a leading zero or non-ASCII digits '
                    '({actor}_07.png, {actor}_٣.png)',
                    "not an image: listed as unrecognised, never pushed over S3's image")
def test_noncanonical_local_names_are_not_images(wb):
    """`_07.png` is not image 7 and `_<arabic 3>.png` is not image 3: push leaves S3 alone."""
    put_remote(wb, A, 7, png(7))
    wb.engine.pull([A])
    write_local(wb, A, 0, png(0))  # the one real new image
    tdir = wb.layout.training_dir(A)
    (tdir / f"{A}_07.png").write_bytes(png(70, 80))
    (tdir / f"{A}_{ARABIC_3}.png").write_bytes(png(33, 80))
    (tdir / "notes.txt").write_text("hello")
    (tdir / "request.json").write_text("{}")  # known files are not reported
    before = remote_objects(wb)

    assert statuses(wb, A) == {0: "local_only", 7: "synced"}
    odd = unrecognised(wb)
    assert set(odd) == {("local", f"{A}_07.png"), ("local", f"{A}_{ARABIC_3}.png"),
                        ("local", "notes.txt")}
    assert "canonical" in odd[("local", f"{A}_07.png")] and f"{A}_7.png" in \
        odd[("local", f"{A}_07.png")]
    s = wb.engine.push([A])[A]
    assert s.transferred == 1 and s.ok
    assert {u["name"] for u in s.unrecognised} == {n for _, n in odd}
    after = remote_objects(wb)
    assert after == {**before, f"{A}_0.png": after[f"{A}_0.png"]}  # only #0 was added
    assert remote_bytes(wb, A, 7) == png(7)
    assert (tdir / f"{A}_07.png").read_bytes() == png(70, 80)  # never deleted either
    assert wb.engine.push([A])[A].transferred == 0


@pytest.mark.attack("S3 keys with leading zeros or non-ASCII digits under an actor's prefix",
                    'listed as unrecognised, never pulled; a second pull is a no-op')
def test_noncanonical_s3_keys_are_reported_and_never_pulled(wb):
    """S3 keys `_07.png` and `_<arabic 3>.png` are not images 7 and 3: image 3 syncs once,
    and a second pull has nothing to do (no "Modified in S3" forever)."""
    put_remote(wb, A, 3, png(3))
    put_raw(wb, f"{A}_{ARABIC_3}.png", png(30))
    put_raw(wb, f"{A}_07.png", png(70))
    put_raw(wb, "sub/x.png", png(71))
    put_raw(wb, f"base_image/{A}_base.png", png(72))  # the actor's own asset: expected
    before = remote_objects(wb)

    assert statuses(wb, A) == {3: "s3_only"}
    odd = unrecognised(wb)
    assert set(odd) == {("s3", f"{A}_{ARABIC_3}.png"), ("s3", f"{A}_07.png"),
                        ("s3", "sub/x.png")}
    first = wb.engine.pull([A])[A]
    assert (first.transferred, first.failed, first.ok) == (1, 0, True)
    assert wb.layout.image_path(A, 3).read_bytes() == png(3)
    assert sorted(p.name for p in wb.layout.training_dir(A).iterdir()) == [f"{A}_3.png"]
    again = wb.engine.pull([A])[A]
    assert (again.transferred, again.failed) == (0, 0)
    assert statuses(wb, A) == {3: "synced"}
    assert wb.engine.push([A])[A].transferred == 0
    assert remote_objects(wb) == before


@pytest.mark.attack('a symlink to a file outside (/etc/passwd-like), a fifo and a folder '
                    'named like images',
                    'never followed, uploaded, hashed or deleted; reported; link targets '
                    'untouched')
def test_symlinks_fifos_and_folders_are_never_followed(wb, tmp_path):
    """A symlink named like an image (to a file outside, itself a valid PNG) is not uploaded,
    hashed, replaced by a pull, or deleted by clean; nor is its target touched."""
    outside = tmp_path / "outside"
    outside.mkdir()
    secret, other = outside / "secret.png", outside / "other.png"
    secret.write_bytes(png(99))
    other.write_bytes(png(98))
    put_remote(wb, A, 0, png(0))
    put_remote(wb, A, 6, png(6))
    wb.engine.pull([A], only={0})
    tdir = wb.layout.training_dir(A)
    os.symlink(secret, tdir / f"{A}_5.png")
    os.symlink(other, tdir / f"{A}_6.png")  # S3 has #6: a pull must not write through it
    os.symlink(secret, tdir / "elsewhere.png")
    os.mkfifo(tdir / f"{A}_8.png")  # opening it for reading would block for ever
    (tdir / f"{A}_9.png").mkdir()
    before = remote_objects(wb)

    plan = wb.engine.plan([A])[A]
    got = {c.index: (c.status.value, c.problem) for c in plan.changes}
    assert got == {0: ("synced", ""), 5: ("invalid", "symlink, not followed"),
                   6: ("invalid", "symlink, not followed"),
                   8: ("invalid", "not a regular file (fifo)"),
                   9: ("invalid", "not a regular file (folder)")}
    assert unrecognised(wb) == {("local", "elsewhere.png"): "symlink, not followed"}

    p = wb.engine.push([A])[A]
    assert p.transferred == 0 and remote_objects(wb) == before
    pulled = wb.engine.pull([A])[A]
    assert pulled.transferred == 0 and not pulled.ok
    assert pulled.invalid == [{"key": wb.layout.image_key(A, 6),
                               "reason": "symlink, not followed"}]
    assert (tdir / f"{A}_6.png").is_symlink() and other.read_bytes() == png(98)
    cleaned = wb.engine.clean([A])[A]
    assert cleaned["deleted"] == 1  # #0, verified in S3; nothing else
    for name in (f"{A}_5.png", f"{A}_6.png", "elsewhere.png"):
        assert (tdir / name).is_symlink()
    assert (tdir / f"{A}_8.png").exists() and (tdir / f"{A}_9.png").is_dir()
    assert secret.read_bytes() == png(99) and other.read_bytes() == png(98)
    assert remote_objects(wb) == before
    manifest = json.loads(wb.layout.manifest_path(A).read_text())
    assert not {"5", "6", "8", "9"} & set(manifest["images"])  # never recorded synced
    cache = wb.layout.hash_cache_path(A)
    assert not cache.exists() or f"{A}_5.png" not in json.loads(cache.read_text())


@pytest.mark.attack('truncated, zero-byte, JPEG-as-PNG, text-as-PNG and 30000x30000 PNG '
                    'files to push',
                    'invalid status with the reason, not pushed, not recorded synced')
def test_broken_pngs_are_invalid_and_not_pushed(wb):
    put_remote(wb, A, 6, png(6))
    wb.engine.pull([A])
    write_local(wb, A, 6, png(6)[:50])  # a synced image, truncated locally
    write_local(wb, A, 0, png(0))
    write_local(wb, A, 1, png(1)[:60])
    write_local(wb, A, 2, b"")
    write_local(wb, A, 3, jpeg())
    write_local(wb, A, 4, b"just some text\n")
    write_local(wb, A, 5, huge_png())
    before = remote_objects(wb)

    plan = wb.engine.plan([A])[A]
    got = {c.index: (c.status.value, c.problem) for c in plan.changes}
    assert got[0] == ("local_only", "")
    assert {i: s for i, (s, _) in got.items() if i} == {i: "invalid" for i in range(1, 7)}
    assert "truncated" in got[1][1] and "truncated" in got[6][1]
    assert got[2][1] == "empty file"
    assert got[3][1] == got[4][1] == "not a PNG file"
    assert got[5][1].startswith("too large: 30000x30000")
    assert plan.changes[6].compared.value == "local_modified"

    s = wb.engine.push([A])[A]
    assert s.transferred == 1 and not s.ok
    assert {i["key"]: i["reason"] for i in s.invalid} == {
        wb.layout.image_key(A, i): got[i][1] for i in range(1, 7)}
    assert s.to_json()["invalid"] == s.invalid
    after = remote_objects(wb)
    assert after == {**before, f"{A}_0.png": after[f"{A}_0.png"]}  # only #0 went up
    assert remote_bytes(wb, A, 6) == png(6)
    manifest = json.loads(wb.layout.manifest_path(A).read_text())
    assert set(manifest["images"]) == {"0", "6"}
    assert manifest["images"]["6"]["etag"] == before[f"{A}_6.png"]
    assert wb.reload_registry().get(A).training_data["synced"] is False


def test_image_checks_are_cached_and_only_for_push_candidates(wb, monkeypatch):
    import actorbench.sync.plan as plan_mod

    for i in range(3):
        put_remote(wb, A, i, png(i))
    wb.engine.pull([A])
    write_local(wb, A, 3, png(3))
    write_local(wb, A, 4, png(4)[:40])
    calls = []
    real = plan_mod.image_problem
    monkeypatch.setattr(plan_mod, "image_problem", lambda p: calls.append(p.name) or real(p))
    assert statuses(wb, A) == {0: "synced", 1: "synced", 2: "synced", 3: "local_only",
                               4: "invalid"}
    assert sorted(calls) == [f"{A}_3.png", f"{A}_4.png"]
    statuses(wb, A)
    assert len(calls) == 2  # cached by size and mtime_ns
    write_local(wb, A, 4, png(4))
    assert statuses(wb, A)[4] == "local_only" and len(calls) == 3


@pytest.fixture
def cli_env(moto_server, tmp_path):
    bucket = f"ab-{uuid.uuid4().hex[:10]}"
    settings = settings_for(moto_server, tmp_path / "data", bucket)
    make_s3_client(settings).create_bucket(Bucket=bucket, CreateBucketConfiguration={
        "LocationConstraint": "us-west-1"})
    data = tmp_path / "data"
    data.mkdir()
    (data / "actors.json").write_text(json.dumps([{"id": 1, "name": A}]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ACTORBENCH_"))}
    env.update({**moto_server.env, "ACTORBENCH_BUCKET": bucket,
                "ACTORBENCH_DATA_DIR": str(data)})
    return env, data / "actors" / A / "training_data", settings


def cli(args, env):
    return subprocess.run([sys.executable, "-m", "actorbench.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.attack('`actorbench push` with invalid images',
                    'exit 1 naming each file and reason; --allow-invalid overrides')
def test_cli_reports_refuses_and_allow_invalid_overrides(cli_env, tmp_path):
    env, tdir, settings = cli_env
    tdir.mkdir(parents=True)
    (tdir / f"{A}_0.png").write_bytes(png(0))
    truncated = png(1)[:60]
    (tdir / f"{A}_1.png").write_bytes(truncated)
    (tdir / f"{A}_07.png").write_bytes(png(7))
    (tmp_path / "secret").write_text("TOP SECRET")
    os.symlink(tmp_path / "secret", tdir / f"{A}_5.png")

    r = cli(["status", "1", "--json"], env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    images = {i["index"]: i for i in out["images"]}
    assert images[1]["status"] == "invalid" and "truncated" in images[1]["reason"]
    assert images[5] == {"index": 5, "key": f"{settings.prefix}/{A}/{A}_5.png",
                         "status": "invalid", "reason": "symlink, not followed"}
    assert out["unrecognised"] == [{"where": "local", "name": f"{A}_07.png",
                                    "reason": f"not a canonical image name (image 7 is "
                                              f"{A}_7.png)"}]
    assert out["counts"]["invalid"] == 2
    human = cli(["status", "1"], env).stdout
    assert "symlink, not followed" in human and f"{A}_07.png" in human and "truncated" in human

    r = cli(["push", "1", "--json"], env)
    assert r.returncode == 1, r.stderr
    out = json.loads(r.stdout)
    assert out["uploaded"] == 1 and out["failed"] == 0
    assert [i["key"].rsplit("/", 1)[1] for i in out["invalid"]] == [f"{A}_1.png"]
    assert "truncated" in out["invalid"][0]["reason"]
    human = cli(["push", "1"], env)
    assert human.returncode == 1 and f"not uploaded: {settings.prefix}/{A}/{A}_1.png" in \
        human.stdout

    r = cli(["push", "1", "--allow-invalid", "--json"], env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["uploaded"] == 1
    client = make_s3_client(settings)
    keys = {o["Key"].rsplit("/", 1)[1] for o in client.list_objects_v2(
        Bucket=settings.bucket, Prefix=f"{settings.prefix}/{A}/")["Contents"]}
    assert keys == {f"{A}_0.png", f"{A}_1.png"}  # not the symlink, not _07
    got = client.get_object(Bucket=settings.bucket, Key=f"{settings.prefix}/{A}/{A}_1.png")
    assert got["Body"].read() == truncated
    assert (tmp_path / "secret").read_text() == "TOP SECRET"


def test_training_data_page_shows_invalid_badges_and_unrecognised_files(wb, tmp_path):
    from actorbench.ui import App

    write_local(wb, A, 0, png(0))
    write_local(wb, A, 1, b"")
    tdir = wb.layout.training_dir(A)
    os.symlink(tmp_path, tdir / f"{A}_2.png")
    (tdir / "<b>x<i>.png").write_bytes(b"x")
    put_raw(wb, f"{A}_07.png", png(7))
    app = App(wb)
    try:
        app.state.actor = A
        app.wait_idle()  # the page lists S3 off the UI thread
        td = app.training_data
        tiles = {t.change.index: t.value for t in td.images.shown}
        assert "ab-status-local_only" in tiles[0]
        assert 'ab-status-invalid">Invalid: empty file<' in tiles[1]
        assert 'ab-status-invalid">Invalid: symlink, not followed<' in tiles[2]
        listed = td.unrecognised.value
        assert "&lt;b&gt;x&lt;i&gt;.png" in listed and "<b>x" not in listed
        assert f"{A}_07.png</code> (in S3)" in listed
        td.push_button.click()
        td.worker.wait()
        assert "ab-error" in td.status_line.value
        assert f"Invalid, not uploaded: <code>{wb.layout.image_key(A, 1)}</code>: empty file" \
            in td.result.value
        assert sorted(o.key for o in wb.store.list(wb.layout.actor_prefix(A))) == sorted(
            [wb.layout.image_key(A, 0), wb.layout.actor_prefix(A) + f"{A}_07.png"])
    finally:
        app.close()


@pytest.mark.attack("an actor's training_data folder that is a symlink to a folder outside the "
                    "data folder", "not followed: plan, push and pull refuse it with one line "
                    "naming the folder; nothing outside is read or written")
def test_a_symlinked_training_folder_is_not_followed(wb, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / f"{A}_0.png").write_bytes(png(5))
    tdir = wb.layout.training_dir(A)
    tdir.parent.mkdir(parents=True, exist_ok=True)
    tdir.symlink_to(outside, target_is_directory=True)
    put_remote(wb, A, 1, png(1))
    for attempt in (lambda: wb.engine.plan([A]), lambda: wb.engine.push([A]),
                    lambda: wb.engine.pull([A])):
        with pytest.raises(Exception, match="is a symbolic link") as err:
            attempt()
        assert str(tdir) in str(err.value) and "\n" not in str(err.value)
    assert sorted(p.name for p in outside.iterdir()) == [f"{A}_0.png"]
    assert wb.store.head(wb.layout.image_key(A, 0)) is None
