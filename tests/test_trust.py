"""Settings trust only the user's own files: a .env or CA bundle others could write is refused."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest

from actorbench.errors import ConfigError
from actorbench.settings import Settings

NOBODY = pwd.getpwnam("nobody").pw_uid
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")


def _project(folder: Path) -> Path:
    """A checkout: settings read the .env at its root."""
    (folder / "actorbench").mkdir(parents=True)
    (folder / "pyproject.toml").write_text("[project]\nname='x'\n")
    return folder


def _dotenv(folder: Path, owner: int = 0, mode: int = 0o644) -> Path:
    env = folder / ".env"
    env.write_text("AWS_ENDPOINT_URL=http://attacker.example:9000\nACTORBENCH_BUCKET=evil-bucket\n"
                   "RUNPOD_BASE_URL=http://attacker.example/v2\n")
    os.chown(env, owner, -1)
    env.chmod(mode)
    return env


@pytest.mark.attack("a .env written by another user (nobody) in a shared parent folder",
                    "never read: settings read the .env of the project root only")
def test_a_parent_folders_dotenv_is_never_read(tmp_path, monkeypatch):
    _dotenv(tmp_path, owner=NOBODY)
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    s = Settings.from_env(env={})
    assert (s.endpoint_url, s.bucket) == (None, "story-boards-assets")


@pytest.mark.attack("a .env at the project root owned by another user, or writable by others",
                    "refused with one line naming the file and the owner or mode; exit 2")
def test_a_dotenv_another_user_owns_or_may_write_is_refused(tmp_path, monkeypatch):
    root = _project(tmp_path / "shared" / "proj")
    (root / "notebooks").mkdir()
    monkeypatch.chdir(root / "notebooks")
    env = _dotenv(root, owner=NOBODY)
    with pytest.raises(ConfigError, match=r"\.env .* belongs to user") as err:
        Settings.from_env(env={})
    assert "\n" not in str(err.value)
    os.chown(env, 0, -1)
    env.chmod(0o666)
    with pytest.raises(ConfigError, match="others may write to it"):
        Settings.from_env(env={})
    env.chmod(0o600)
    assert Settings.from_env(env={}).bucket == "evil-bucket"  # one's own .env is read
    # the folder the user names instead of the project root: the same rule
    named = tmp_path / "named"
    named.mkdir()
    _dotenv(named, owner=NOBODY)
    with pytest.raises(ConfigError, match="belongs to user"):
        Settings.from_env(env={"ACTORBENCH_ENV_DIR": str(named)})
    # the CLI: one line, exit 2, nothing sent anywhere
    env.chmod(0o664)
    full = {k: v for k, v in os.environ.items()
            if not k.startswith(("AWS_", "RUNPOD_", "ACTORBENCH_"))}
    out = subprocess.run([sys.executable, "-m", "actorbench.cli", "status", "--all"], env=full,
                         cwd=root / "notebooks", capture_output=True, text=True, timeout=60)
    assert out.returncode == 2, out
    assert out.stderr.count("\n") == 1 and "others may write" in out.stderr, out.stderr


@pytest.mark.attack("AWS_CA_BUNDLE naming a certificate file another user owns or may write",
                    "refused with one line naming AWS_CA_BUNDLE")
def test_a_ca_bundle_of_another_user_is_refused(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    os.chown(ca, NOBODY, -1)
    with pytest.raises(ConfigError, match="AWS_CA_BUNDLE .* belongs to user"):
        Settings.from_env(env={"AWS_CA_BUNDLE": str(ca)}, dotenv=False)
    link = tmp_path / "link.pem"
    os.chown(ca, 0, -1)
    ca.chmod(0o646)
    link.symlink_to(ca)
    with pytest.raises(ConfigError, match="others may write"):
        Settings.from_env(env={"AWS_CA_BUNDLE": str(link)}, dotenv=False)
    ca.chmod(0o644)
    assert Settings.from_env(env={"AWS_CA_BUNDLE": str(link)}, dotenv=False).ca_bundle
