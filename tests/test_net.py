"""Where requests go and when they are retried: addressing, proxies, CA bundles, the policy."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from actorbench.demo import free_port
from actorbench.errors import ConfigError
from actorbench.settings import Settings
from actorbench.storage.net import Proxies, address, lean_gap, store_kind, tls_context
from actorbench.storage.retry import (
    RetryPolicy,
    caller_retries,
    is_transient,
    never_sent,
    retry_after,
)


def settings(**env: str) -> Settings:
    base = {"AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}
    return Settings.from_env(env={**base, **env}, dotenv=False)


@pytest.mark.parametrize("bucket,endpoint,expected", [
    ("my-bucket", None, ("https", "my-bucket.s3.eu-west-1.amazonaws.com", "")),
    ("my.dotted.bucket", None, ("https", "s3.eu-west-1.amazonaws.com", "/my.dotted.bucket")),
    ("Legacy_Bucket", None, ("https", "s3.eu-west-1.amazonaws.com", "/Legacy_Bucket")),
    ("my-bucket", "http://127.0.0.1:9000", ("http", "127.0.0.1:9000", "/my-bucket")),
    ("my-bucket", "https://minio.example:443/s3/", ("https", "minio.example", "/s3/my-bucket")),
])
def test_virtual_hosted_on_aws_path_style_for_dots_and_custom_endpoints(bucket, endpoint,
                                                                         expected):
    a = address(bucket, "eu-west-1", endpoint)
    assert (a.scheme, a.host, a.base_path) == expected


def test_proxies_follow_no_proxy_and_keep_passwords_out_of_repr():
    p = Proxies.from_settings(settings(HTTPS_PROXY="user:pw@proxy.corp:3128",
                                       NO_PROXY="localhost,.internal"))
    assert p.for_url("https://bucket.s3.us-west-1.amazonaws.com") == \
        "http://user:pw@proxy.corp:3128"
    assert p.for_url("https://s3.internal:9000") is None
    assert p.for_url("http://127.0.0.1:9000") is None  # no HTTP_PROXY
    assert "pw" not in repr(p)
    wide = Proxies("http://p:1", "http://p:1", "10.0.0.0/8, s3.corp:9000,*.skip.me")
    assert wide.for_url("http://10.1.2.3:9000") is None
    assert wide.for_url("https://s3.corp:9000") is None
    assert wide.for_url("https://s3.corp:443") == "http://p:1"  # another port: proxied
    assert wide.for_url("https://a.skip.me") is None
    assert Proxies("http://p:1", None, "*").for_url("https://anything") is None
    assert "pw" not in repr(settings(HTTPS_PROXY="http://u:pw@p:1"))


def test_auto_picks_boto3_where_the_lean_store_cannot_follow():
    assert store_kind(settings()) == "lean"
    assert store_kind(settings(HTTPS_PROXY="http://proxy:3128")) == "lean"
    assert "HTTPS_PROXY" in (lean_gap(settings(HTTPS_PROXY="socks5://proxy:1080")) or "")
    assert store_kind(settings(HTTPS_PROXY="socks5://proxy:1080")) == "boto3"
    assert store_kind(settings(AWS_PROFILE="dev")) == "boto3"
    assert store_kind(Settings.from_env(env={}, dotenv=False)) == "boto3"
    assert store_kind(settings(ACTORBENCH_S3_CLIENT="lean",
                               HTTPS_PROXY="socks5://p:1")) == "lean"  # asked for


def test_a_ca_bundle_that_is_not_a_file_is_one_line_naming_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="AWS_CA_BUNDLE"):
        tls_context(str(tmp_path / "missing.pem"))
    assert tls_context(None).verify_mode.name == "CERT_REQUIRED"


def test_retry_after_in_seconds_or_as_a_date():
    assert retry_after("3") == 3.0
    assert retry_after(None) is None and retry_after("soon") is None
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    policy = RetryPolicy(max_retry_after_s=20)
    assert policy.delay(0, 3.0) == 3.0 and policy.delay(0, 3600.0) == 20
    assert all(0 <= policy.delay(a) <= min(3.0, 0.1 * 2 ** a) for a in range(8))
    with caller_retries():
        assert policy.attempts_per_call() == 1
    assert policy.attempts_per_call() == 5


def test_never_sent_is_judged_by_type_not_by_message():
    try:
        requests.get(f"http://127.0.0.1:{free_port()}/", timeout=2)
    except requests.ConnectionError as exc:
        refused = exc
    assert never_sent(refused) and is_transient(refused)
    assert not never_sent(requests.ConnectionError("Connection refused by the peer"))
    assert not never_sent(requests.exceptions.ChunkedEncodingError("refused"))
    assert not is_transient(requests.exceptions.SSLError("certificate verify failed"))


def test_runpod_run_is_resent_only_when_it_never_left():
    """``/run`` is not idempotent: a reset after sending is not retried, a refusal is."""
    from actorbench.training.runpod import RunPodClient, RunPodError

    class Reset(BaseHTTPRequestHandler):
        hits = 0

        def log_message(self, *a):
            pass

        def do_POST(self):
            Reset.hits += 1
            self.connection.close()  # the request arrived; the answer is lost

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Reset)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sleeps: list[float] = []
    try:
        c = RunPodClient(f"http://127.0.0.1:{srv.server_address[1]}/v2", "e", "k",
                         sleep=sleeps.append)
        with pytest.raises(RunPodError):
            c.run({"actor": "a"}, 1000)
        assert Reset.hits == 1 and sleeps == []
    finally:
        srv.shutdown()
        srv.server_close()
    down = RunPodClient(f"http://127.0.0.1:{free_port()}/v2", "e", "k", sleep=sleeps.append,
                        attempts=3)
    with pytest.raises(RunPodError, match="cannot reach RunPod"):
        down.run({"actor": "a"}, 1000)
    assert len(sleeps) == 2  # refused: never sent, so resending cannot start two jobs


def tls_workbench(s3, tmp_path, kind: str, **env: str):
    from actorbench.actors import Actor, Registry
    from actorbench.workbench import Workbench

    full = {**s3.env, "ACTORBENCH_BUCKET": "placeholder", "ACTORBENCH_S3_CLIENT": kind,
            "ACTORBENCH_DATA_DIR": str(tmp_path / "data"), **env}
    s = Settings.from_env(env={k: v for k, v in full.items() if v}, dotenv=False)
    s.data_dir.mkdir(parents=True)
    Registry(s.registry_path, [Actor(1, "0001_a_30_female")]).save()
    return Workbench(s)


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("a server signed by a private CA, AWS_CA_BUNDLE unset",
                    "one line naming AWS_CA_BUNDLE, exit 3, no retries")
def test_an_untrusted_certificate_is_one_line_naming_aws_ca_bundle(rclone_tls_server, tmp_path,
                                                                    kind):
    from actorbench.errors import Unreachable

    wb = tls_workbench(rclone_tls_server, tmp_path, kind, AWS_CA_BUNDLE="")
    with pytest.raises(Unreachable) as err:
        wb.engine.pull(["0001_a_30_female"])
    text = str(err.value)
    assert "AWS_CA_BUNDLE" in text and "\n" not in text and err.value.exit_code == 3


@pytest.mark.parametrize("kind", ["lean", "boto3"])
@pytest.mark.attack("HTTPS_PROXY pointing at nothing", "one line naming HTTPS_PROXY, exit 3")
def test_a_dead_proxy_is_one_line_naming_https_proxy(rclone_tls_server, tmp_path, kind):
    from actorbench.errors import Unreachable

    wb = tls_workbench(rclone_tls_server, tmp_path, kind,
                       HTTPS_PROXY=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(Unreachable) as err:
        wb.engine.pull(["0001_a_30_female"])
    text = str(err.value)
    assert "HTTPS_PROXY" in text and "\n" not in text and err.value.exit_code == 3
