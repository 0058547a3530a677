"""What AWS answers when things go wrong, from a scripted S3 on 127.0.0.1: each run ends in a
correct sync or one clear line naming what to fix; never a traceback, never a hang."""

from __future__ import annotations

import logging
import time

import pytest

from actorbench.actors import Actor, Registry
from actorbench.errors import AccessRefused, EnvironmentProblem
from actorbench.settings import Settings
from actorbench.storage.retry import MAX_ATTEMPTS
from actorbench.workbench import Workbench
from tests.helpers import partial_files, png
from tests.s3script import ScriptedS3

A, B = "0001_european_30_female", "0002_african_45_male"
PREFIX = "system_actors/training_data"
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def s3():
    srv = ScriptedS3(region="eu-west-1")
    for k, name in enumerate((A, B)):
        for i in range(4):
            srv.objects[f"{PREFIX}/{name}/{name}_{i}.png"] = png(k * 10 + i)
    yield srv
    srv.stop()


def workbench(srv: ScriptedS3, tmp_path, kind: str = "lean", region: str = "eu-west-1",
              **env: str) -> Workbench:
    s = Settings.from_env(env={
        "AWS_ENDPOINT_URL": srv.url, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "not-a-secret", "AWS_REGION": region,
        "ACTORBENCH_BUCKET": srv.bucket, "ACTORBENCH_DATA_DIR": str(tmp_path / "data"),
        "ACTORBENCH_S3_CLIENT": kind, **env}, dotenv=False)
    s.data_dir.mkdir(parents=True, exist_ok=True)
    Registry(s.registry_path, [Actor(1, A), Actor(2, B)]).save()
    return Workbench(s)


def key(name: str, i: int) -> str:
    return f"{PREFIX}/{name}/{name}_{i}.png"


def landed(wb: Workbench, srv: ScriptedS3, name: str) -> bool:
    files = wb.layout.local_images(name)
    return len(files) == 4 and all(p.read_bytes() == srv.objects[key(name, i)]
                                   for i, p in files.items())


def one_line(text: str) -> bool:
    return bool(text) and "\n" not in text and "Traceback" not in text


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.parametrize("answer", ["301", "400"])
@pytest.mark.attack("a bucket in another region than AWS_REGION (301 / 400 with "
                    "x-amz-bucket-region)", "region learned, sync completes, told once")
def test_wrong_region_is_learned_used_and_told_once(s3, tmp_path, kind, answer, caplog):
    s3.wrong_region = answer
    wb = workbench(s3, tmp_path, kind, region="us-west-1")
    caplog.set_level(logging.WARNING)
    out = wb.engine.pull([A, B])
    assert all(s.ok for s in out.values()) and landed(wb, s3, A) and landed(wb, s3, B)
    again = wb.engine.pull([A, B])  # the region is remembered: nothing signed wrong again
    assert all(s.ok and s.transferred == 0 for s in again.values())
    object_gets = [s for s in s3.seen if s.method == "GET" and s.key]
    assert object_gets and {s.region for s in object_gets} == {"eu-west-1"}
    told = [r for r in caplog.records if "AWS_REGION=eu-west-1" in r.getMessage()]
    assert len(told) == 1, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("503 SlowDown with Retry-After", "waits as asked, then syncs")
def test_slowdown_with_retry_after_is_honoured(s3, tmp_path, kind):
    s3.retry_after = "1"
    for i in (0, 1):
        s3.slowdown[key(A, i)] = 1  # one 503, then the object
    wb = workbench(s3, tmp_path, kind)
    t0 = time.monotonic()
    out = wb.engine.pull([A])[A]
    assert out.ok and out.transferred == 4 and landed(wb, s3, A)
    assert time.monotonic() - t0 >= 1.0  # jitter alone would have waited at most 0.1 s
    assert s3.gets(key(A, 0)) == s3.gets(key(A, 1)) == 2


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("503 SlowDown on every request for one object",
                    f"at most {MAX_ATTEMPTS} requests for it, then one line")
def test_retries_per_object_never_exceed_the_cap(s3, tmp_path, kind):
    s3.retry_after = "0"
    s3.slowdown[key(A, 2)] = -1  # always
    wb = workbench(s3, tmp_path, kind)
    out = wb.engine.pull([A])[A]
    assert out.transferred == 3 and out.failed == 1
    assert s3.gets(key(A, 2)) == MAX_ATTEMPTS  # the cap, spent and not exceeded
    assert max(s3.per_key().values()) <= MAX_ATTEMPTS
    [error] = [e["error"] for e in out.to_json()["errors"]]
    assert one_line(error) and "SlowDown" in error


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.parametrize("code,names", [("RequestTimeTooSkewed", "clock"),
                                        ("ExpiredToken", "AWS_SESSION_TOKEN")])
@pytest.mark.attack("RequestTimeTooSkewed / ExpiredToken", "one line naming what to fix, exit 3")
def test_clock_and_token_refusals_are_one_line_naming_the_fix(s3, tmp_path, kind, code,
                                                               names):
    s3.refuse_all = code
    wb = workbench(s3, tmp_path, kind)
    with pytest.raises(AccessRefused) as err:
        wb.engine.pull([A])
    assert isinstance(err.value, EnvironmentProblem) and err.value.exit_code == 3
    assert one_line(str(err.value)) and names in str(err.value) and code in str(err.value)
    assert [s.method for s in s3.seen if s.method != "HEAD"] == ["GET"]  # refused: no retry
    assert partial_files(wb.settings.data_dir) == []


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("AccessDenied on one actor's prefix only", "the other actor syncs")
def test_access_denied_on_one_prefix_leaves_the_others_syncing(s3, tmp_path, kind):
    s3.deny_prefix = f"{PREFIX}/{B}/"
    wb = workbench(s3, tmp_path, kind)
    out = wb.engine.pull([A, B])
    assert out[A].ok and landed(wb, s3, A)
    assert out[B].failed == 4 and wb.layout.local_images(B) == {}
    messages = {e["error"] for e in out[B].to_json()["errors"]}
    assert all(one_line(m) and "AccessDenied" in m for m in messages)
    assert "AWS_ACCESS_KEY_ID" in out[B].environment
    assert max(s3.per_key()[key(B, i)] for i in range(4)) <= 2  # refused: no retry storm


def test_cli_says_skewed_clock_in_one_line_exit_3(s3, tmp_path, monkeypatch, capsys):
    from actorbench.cli import main

    s3.refuse_all = "RequestTimeTooSkewed"
    wb = workbench(s3, tmp_path)
    for k, v in {"AWS_ENDPOINT_URL": s3.url, "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
                 "AWS_SECRET_ACCESS_KEY": "x", "ACTORBENCH_BUCKET": s3.bucket,
                 "ACTORBENCH_DATA_DIR": str(wb.settings.data_dir)}.items():
        monkeypatch.setenv(k, v)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as ended:
        main(["pull", "1"])
    err = capsys.readouterr().err
    assert ended.value.code == 3 and err.count("\n") == 1 and "clock" in err


def assert_verified_or_one_line(wb: Workbench, srv: ScriptedS3, out, i: int) -> None:  # type: ignore[no-untyped-def]
    """A malformed answer for image ``i``: a parser that accepts it still lands S3's verified
    bytes; one that refuses it says so in one line and writes nothing. The other images
    land, no partial file stays, and the image's GETs stay within the retry cap."""
    path = wb.layout.image_path(A, i)
    if out.ok:
        assert path.read_bytes() == srv.objects[key(A, i)]
    else:
        [error] = [e["error"] for e in out.to_json()["errors"]]
        assert one_line(error) and not path.exists()
    assert out.transferred >= 3 and partial_files(wb.settings.data_dir) == []
    assert srv.gets(key(A, i)) <= MAX_ATTEMPTS


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("a response header with a CR injected", "synced or one line, no hang")
def test_a_header_with_a_cr_inside_ends_cleanly(s3, tmp_path, kind):
    s3.cr_header.add(key(A, 1))
    wb = workbench(s3, tmp_path, kind)
    out = wb.engine.pull([A])[A]
    assert_verified_or_one_line(wb, s3, out, 1)


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("two Content-Length headers that disagree", "one line, nothing written")
def test_two_content_lengths_end_in_one_line(s3, tmp_path, kind):
    s3.two_lengths.add(key(A, 3))
    wb = workbench(s3, tmp_path, kind)
    out = wb.engine.pull([A])[A]
    assert_verified_or_one_line(wb, s3, out, 3)


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("a listing whose ETag holds CR/LF and a header",
                    "never sent back in If-Match; one line")
def test_a_listing_etag_with_crlf_never_reaches_a_header(s3, tmp_path, kind):
    s3.listing_etag[key(A, 0)] = '&quot;0123abcd\r\nX-Evil: 1&quot;'
    wb = workbench(s3, tmp_path, kind)
    out = wb.engine.pull([A])[A]
    assert out.transferred == 3 and out.failed == 1
    [error] = [e["error"] for e in out.to_json()["errors"]]
    assert one_line(error) and "ETag" in error
    assert not any("X-Evil" in s.headers or "x-evil" in s.headers for s in s3.seen)
    assert s3.gets(key(A, 0)) == 0


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("a listing refused (AccessDenied) on one actor's prefix only",
                    "the other actors sync; that actor's summary says why in one line")
def test_a_listing_denied_on_one_prefix_leaves_the_others_syncing(s3, tmp_path, kind):
    s3.deny_list_prefix = f"{PREFIX}/{B}/"
    wb = workbench(s3, tmp_path, kind)
    out = wb.engine.pull([A, B])
    assert list(out) == [A, B]
    assert out[A].ok and landed(wb, s3, A)
    assert not out[B].ok and out[B].failed == 1 and wb.layout.local_images(B) == {}
    (err,) = out[B].to_json()["errors"]
    assert one_line(err["error"]) and "AccessDenied" in err["error"]
    assert err["key"] == f"{PREFIX}/{B}/"
    assert "AWS_ACCESS_KEY_ID" in out[B].environment
    # a push is refused the same way: nothing is uploaded under a prefix it could not list
    wb.layout.image_path(B, 9).parent.mkdir(parents=True, exist_ok=True)
    wb.layout.image_path(B, 9).write_bytes(png(99))
    before = dict(s3.objects)
    pushed = wb.engine.push([A, B])
    assert pushed[A].ok and not pushed[B].ok and s3.objects == before


@pytest.mark.parametrize("kind", ["lean", "boto3"])
def test_a_listing_denied_on_every_actor_is_one_line_for_the_run(s3, tmp_path, kind):
    s3.deny_list_prefix = f"{PREFIX}/"
    wb = workbench(s3, tmp_path, kind)
    with pytest.raises(AccessRefused) as refused:
        wb.engine.pull([A, B])
    assert one_line(str(refused.value)) and "AccessDenied" in str(refused.value)
