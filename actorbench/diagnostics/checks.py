"""The rows of `actorbench doctor` and the Connection page: a ``Check`` per question, where each
setting came from (``Origin``), and the words a status is spelled with."""

from __future__ import annotations

from dataclasses import dataclass

OK, WARN, FAIL = "ok", "warn", "fail"
STATUSES = (OK, WARN, FAIL)
#: what a failure means for the exit status: the settings (2) or the machine around them (3)
CONFIG, ENVIRONMENT = "config", "environment"

#: Settings field -> the variables ``Settings.from_env`` reads for it, first one wins
SETTING_VARS: dict[str, tuple[str, ...]] = {
    "data_dir": ("ACTORBENCH_DATA_DIR",),
    "bucket": ("ACTORBENCH_BUCKET", "S3_BUCKET"),
    "prefix": ("ACTORBENCH_PREFIX",),
    "region": ("AWS_REGION", "AWS_DEFAULT_REGION"),
    "endpoint_url": ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
    "s3_client": ("ACTORBENCH_S3_CLIENT",),
    "workers": ("ACTORBENCH_WORKERS",),
    "connections": ("ACTORBENCH_CONNECTIONS",),
    "min_free": ("ACTORBENCH_MIN_FREE",),
    "access_key": ("AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"),
    "secret_key": ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_SECRET"),
    "session_token": ("AWS_SESSION_TOKEN",),
    "profile": ("AWS_PROFILE",),
}
#: the settings shown as rows (credentials get a row of their own, without secrets)
SHOWN = ("data_dir", "bucket", "prefix", "region", "endpoint_url", "s3_client", "workers",
         "connections", "min_free")
#: a row's name when the setting is not set by a variable (the variable people know)
ROW_NAMES = {"endpoint_url": "AWS_ENDPOINT_URL"}
#: CLI options that override a setting
OPTIONS = {"data_dir": "--data-dir", "bucket": "--bucket", "prefix": "--prefix",
           "region": "--region", "endpoint_url": "--endpoint-url", "workers": "--workers",
           "connections": "--workers"}


@dataclass(frozen=True)
class Check:
    """One row: what was checked, how it went, what was seen, and how to fix a problem."""

    name: str
    status: str  # ok | warn | fail
    detail: str
    fix: str = ""
    kind: str = ENVIRONMENT  # a failure's exit status: config 2, environment 3

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "fix": self.fix, "kind": self.kind}


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from: a variable in the environment or .env, a CLI
    option, or the default."""

    var: str  # the variable (or option) that set it; the field's first variable for defaults
    source: str  # "environment" | ".env" | "option" | "default"

    def __str__(self) -> str:
        if self.source == "default":
            return "default"
        if self.source == "option":
            return f"option {self.var}"
        return f"{self.var} in {self.source}"
