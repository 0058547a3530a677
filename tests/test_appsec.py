"""The Host and Origin rules the dashboard enforces, and the app's secret, without a server."""

from __future__ import annotations

import pytest

from actorbench.cli.app import app_secret
from actorbench.errors import ConfigError
from actorbench.server.security import allowed_hosts, host_allowed, is_loopback_bind, origin_allowed

HOSTS = allowed_hosts("team.example")


@pytest.mark.parametrize("host,ok", [
    ("127.0.0.1:8866", True), ("localhost:8866", True), ("[::1]:8866", True),
    ("127.0.0.2", True), ("team.example", True), ("TEAM.example:443", True),
    ("evil.example.com:8866", False), ("127.0.0.1.evil.example.com", False),
    ("localhost.evil", False), ("", False), ("a b", False), ("127.0.0.1:8866\r\nX: y", False),
    ("user@127.0.0.1", False), ("0.0.0.0:8866", False),
])
def test_host_rule(host: str, ok: bool) -> None:
    assert host_allowed(host, HOSTS) is ok


@pytest.mark.parametrize("origin,host,ok", [
    ("http://127.0.0.1:8866", "127.0.0.1:8866", True),
    ("http://localhost:8866", "localhost:8866", True),
    ("https://team.example", "team.example", True),
    ("http://127.0.0.1:8866", "localhost:8866", False),  # another site as far as a browser knows
    ("http://127.0.0.1:9999", "127.0.0.1:8866", False),
    ("http://evil.example.com:8866", "evil.example.com:8866", False),
    ("null", "127.0.0.1:8866", False), ("file://", "127.0.0.1:8866", False),
    ("http://127.0.0.1:notaport", "127.0.0.1:8866", False),
])
def test_origin_rule(origin: str, host: str, ok: bool) -> None:
    assert origin_allowed(origin, host, HOSTS) is ok


def test_secret_rules() -> None:
    assert is_loopback_bind("127.0.0.1") and is_loopback_bind("::1")
    assert not is_loopback_bind("0.0.0.0") and not is_loopback_bind("192.0.2.1")
    with pytest.raises(ConfigError, match="ACTORBENCH_APP_TOKEN"):
        app_secret("0.0.0.0", {})
    with pytest.raises(ConfigError, match="too short"):
        app_secret("0.0.0.0", {"ACTORBENCH_APP_TOKEN": "abc"})
    with pytest.raises(ConfigError, match="hash"):
        app_secret("127.0.0.1", {"ACTORBENCH_APP_PASSWORD_HASH": "hunter2"})
    from jupyter_server.auth import passwd

    good = passwd("right horse battery")
    token, pw = app_secret("0.0.0.0", {"ACTORBENCH_APP_PASSWORD_HASH": good})
    assert (token, pw) == ("", good)


@pytest.mark.attack("a 1-character token on loopback, a malformed password hash (argon2:$x, "
                    "sha1:zz)", "refused before serving, one line naming the setting")
def test_a_short_token_or_a_malformed_hash_is_refused_on_loopback_too() -> None:
    for env in ({"ACTORBENCH_APP_TOKEN": "a"}, {"ACTORBENCH_APP_TOKEN": "x" * 23},
                {"ACTORBENCH_APP_PASSWORD_HASH": "argon2:$x"},
                {"ACTORBENCH_APP_PASSWORD_HASH": "sha1:zz:yy"}):
        with pytest.raises(ConfigError, match="ACTORBENCH_APP_") as err:
            app_secret("127.0.0.1", env)
        assert "\n" not in str(err.value)
    assert app_secret("127.0.0.1", {"ACTORBENCH_APP_TOKEN": "x" * 24})[0] == "x" * 24
