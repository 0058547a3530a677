"""Where data lives, which bucket and endpoint to use, and credentials: env + .env."""

from __future__ import annotations

import getpass
import os
import re
import socket
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import ConfigError

DEFAULT_BUCKET = "story-boards-assets"
DEFAULT_PREFIX = "system_actors/training_data"
DEFAULT_REGION = "us-west-1"
#: free space a pull must leave in the data folder (ACTORBENCH_MIN_FREE)
DEFAULT_MIN_FREE = 200 * 1000**2
_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3,
          "gb": 1000**3, "t": 1000**4, "tb": 1000**4, "kib": 1024, "mib": 1024**2,
          "gib": 1024**3, "tib": 1024**4}


def project_root(start: Path | None = None) -> Path:
    """The checkout holding actorbench (so notebooks/, run from their own folder, find data/)."""
    start = (start or Path.cwd()).resolve()
    for folder in [start, *start.parents]:
        if (folder / "pyproject.toml").is_file() and (folder / "actorbench").is_dir():
            return folder
    return start


def find_dotenv(start: Path | None = None, env: Mapping[str, str] | None = None) -> Path | None:
    """The one ``.env`` settings read: in the folder ``ACTORBENCH_ENV_DIR`` names, else at the
    project root. Never a parent's: a shared parent folder may hold anyone's ``.env``."""
    env = os.environ if env is None else env
    named = env.get("ACTORBENCH_ENV_DIR")
    candidate = (Path(named) if named else project_root(start)) / ".env"
    return candidate if candidate.is_file() else None



def check_trusted_file(path: Path | str, setting: str) -> None:
    """Refuse a file (or the link to it) that another user owns or others may write.

    Such a file could send credentials elsewhere (a ``.env`` naming an endpoint) or trust an
    attacker's certificate (``AWS_CA_BUNDLE``). Root's files are trusted: root can do anything.
    """
    path = Path(path)
    me = os.geteuid()
    for label, info in (("the link", path.lstat()), ("it", path.stat())):
        if info.st_uid not in (me, 0):
            raise ConfigError(f"{setting} {str(path)!r} is refused: {label} belongs to user "
                              f"{info.st_uid}, not to you (uid {me}); use a file of your own.")
        if info.st_mode & 0o022 and not stat.S_ISLNK(info.st_mode):
            raise ConfigError(f"{setting} {str(path)!r} is refused: others may write to it "
                              f"(mode {stat.S_IMODE(info.st_mode):o}); chmod go-w it.")


def read_dotenv(path: Path) -> dict[str, str]:
    """The values of a ``.env`` of this user's own (``ConfigError`` otherwise)."""
    check_trusted_file(path, ".env")
    from dotenv import dotenv_values  # only when there is a file (start-up time)

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


#: settings that name a file actorbench (or boto3) reads: checked like the .env
FILE_SETTINGS = ("AWS_CA_BUNDLE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE")


@dataclass(frozen=True)
class Who:
    """A person at a workstation: ``ACTORBENCH_USER`` (default the OS user) and the host name."""

    user: str
    machine: str

    def as_dict(self) -> dict[str, str]:
        return {"user": self.user, "machine": self.machine}

    def __str__(self) -> str:
        return f"{self.user}@{self.machine}"


@dataclass(frozen=True)
class Settings:
    """Every knob actorbench reads from the environment, resolved once.

    Usage::

        settings = Settings.from_env()
        settings = settings.with_overrides(bucket="other")
    """

    data_dir: Path = Path("data")
    bucket: str = DEFAULT_BUCKET
    prefix: str = DEFAULT_PREFIX
    region: str = DEFAULT_REGION
    endpoint_url: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    ca_bundle: str | None = None  # AWS_CA_BUNDLE: trust only these CAs (else the system's)
    https_proxy: str | None = field(default=None, repr=False)  # may hold a password
    http_proxy: str | None = field(default=None, repr=False)
    no_proxy: str | None = None
    s3_client: str = "auto"  # auto | lean | boto3
    workers: int = 32
    connections: int = 128  # keep-alive connections of a pull's single-thread GET loop
    min_free: int = DEFAULT_MIN_FREE  # bytes a pull must leave free on the data folder's disk
    runpod_endpoint_id: str | None = None
    runpod_api_key: str | None = field(default=None, repr=False)
    runpod_adapter: str | None = None  # ACTORBENCH_RUNPOD_ADAPTER: module:attribute
    runpod_base_url: str = "https://api.runpod.ai/v2"
    img2img_url: str | None = None
    webhook_base_url: str | None = None
    team: bool = False  # ACTORBENCH_TEAM: ledgers, marks, parameters shared in the bucket
    state_prefix: str | None = None  # ACTORBENCH_STATE_PREFIX; None: beside the training data
    user: str | None = None  # ACTORBENCH_USER; None: the OS user

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None,
                 dotenv: Path | None | bool = True) -> Settings:
        """Read settings from ``env`` (default ``os.environ``) over a ``.env`` file."""
        merged: dict[str, str] = {}
        if dotenv is True:
            dotenv = find_dotenv(env=env)
        if isinstance(dotenv, Path) and dotenv.is_file():
            merged.update(read_dotenv(dotenv))
        merged.update(os.environ if env is None else env)
        for name in FILE_SETTINGS:
            if merged.get(name) and Path(merged[name]).exists():
                check_trusted_file(merged[name], name)

        def get(*names: str) -> str | None:
            for name in names:
                value = merged.get(name)
                if value:
                    return value
            return None

        workers = _whole(get("ACTORBENCH_WORKERS") or "32", "ACTORBENCH_WORKERS")
        connections = _whole(get("ACTORBENCH_CONNECTIONS") or "128", "ACTORBENCH_CONNECTIONS")
        s = cls(
            data_dir=Path(get("ACTORBENCH_DATA_DIR") or project_root() / "data"),
            bucket=get("ACTORBENCH_BUCKET", "S3_BUCKET") or DEFAULT_BUCKET,
            prefix=(get("ACTORBENCH_PREFIX") or DEFAULT_PREFIX).strip("/"),
            region=get("AWS_REGION", "AWS_DEFAULT_REGION") or DEFAULT_REGION,
            endpoint_url=get("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
            access_key=get("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
            secret_key=get("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_SECRET"),
            session_token=get("AWS_SESSION_TOKEN"),
            profile=get("AWS_PROFILE"),
            ca_bundle=get("AWS_CA_BUNDLE"),
            https_proxy=get("HTTPS_PROXY", "https_proxy"),
            http_proxy=get("HTTP_PROXY", "http_proxy"),
            no_proxy=get("NO_PROXY", "no_proxy"),
            s3_client=get("ACTORBENCH_S3_CLIENT") or "auto",
            workers=workers,
            connections=connections,
            min_free=parse_size(get("ACTORBENCH_MIN_FREE") or str(DEFAULT_MIN_FREE),
                                "ACTORBENCH_MIN_FREE"),
            runpod_endpoint_id=get("RUNPOD_ENDPOINT_ID"),
            runpod_api_key=get("RUNPOD_API_KEY"),
            runpod_adapter=get("ACTORBENCH_RUNPOD_ADAPTER"),
            runpod_base_url=get("RUNPOD_BASE_URL") or "https://api.runpod.ai/v2",
            img2img_url=get("ACTORBENCH_IMG2IMG_URL"),
            webhook_base_url=get("ACTORBENCH_WEBHOOK_URL"),
            team=_flag(get("ACTORBENCH_TEAM") or "0", "ACTORBENCH_TEAM"),
            state_prefix=(get("ACTORBENCH_STATE_PREFIX") or "").strip("/") or None,
            user=get("ACTORBENCH_USER"),
        )
        s.validate()
        return s

    def with_overrides(self, **changes: object) -> Settings:
        """Return a copy with the given non-None fields replaced (CLI options)."""
        clean = {k: v for k, v in changes.items() if v is not None}
        if "data_dir" in clean:
            clean["data_dir"] = Path(str(clean["data_dir"]))
        s = replace(self, **clean)  # type: ignore[arg-type]
        s.validate()
        return s

    def validate(self) -> None:
        if not (3 <= len(self.bucket) <= 63):
            raise ConfigError(f"Bucket name {self.bucket!r} must be 3-63 characters long.")
        if ".." in self.prefix.split("/"):
            raise ConfigError(f"Key prefix {self.prefix!r} must not contain '..'.")
        if self.s3_client not in ("auto", "lean", "boto3"):
            raise ConfigError(f"ACTORBENCH_S3_CLIENT must be auto, lean or boto3, not "
                              f"{self.s3_client!r}.")
        if not 1 <= self.workers <= 256:
            raise ConfigError(f"workers must be between 1 and 256, not {self.workers}.")
        if not 1 <= self.connections <= 512:
            raise ConfigError(f"connections must be between 1 and 512, not {self.connections}.")
        state = self.team_prefix
        if ".." in state.split("/") or not state or (state + "/").startswith(self.prefix + "/"):
            raise ConfigError(f"ACTORBENCH_STATE_PREFIX {state!r} must be a key prefix outside "
                              f"the training data ({self.prefix!r}), without '..'.")

    @property
    def team_prefix(self) -> str:
        """Where team mode keeps its shared documents: ``system_actors/actorbench_state``."""
        if self.state_prefix:
            return self.state_prefix.strip("/")
        parent = self.prefix.rpartition("/")[0]
        return f"{parent}/actorbench_state" if parent else "actorbench_state"

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "actors.json"

    @property
    def who(self) -> Who:
        """Who acts with these settings: ``user`` over the OS user, and this host's name."""
        user = self.user
        if not user:
            try:
                user = getpass.getuser()
            except (OSError, KeyError):  # no USER variables and no passwd entry (a bare container)
                user = "unknown"
        return Who(str(user), socket.gethostname() or "unknown")


def parse_size(raw: str, name: str) -> int:
    """``"500MB"``, ``"1.5 GB"``, ``"2GiB"`` or a number of bytes -> bytes (KB = 1000)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", raw)
    unit = _UNITS.get(m.group(2).lower()) if m else None
    if m is None or unit is None:
        raise ConfigError(f"{name} must be a size like 500MB, 2GB or a number of bytes, "
                          f"not {raw!r}.")
    return int(float(m.group(1)) * unit)


def _flag(raw: str, name: str) -> bool:
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{name} must be 1 or 0, not {raw!r}.")


def _whole(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}.") from None
