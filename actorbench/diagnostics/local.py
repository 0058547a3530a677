"""The doctor's checks of this machine: settings and where each came from, credentials, the
disk, the registry; and ``run_doctor``, every check in order (the S3 ones from ``s3``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ActorbenchError, ConfigError
from ..fsutil import free_bytes
from ..settings import Settings
from ..units import format_size
from .checks import (
    CONFIG,
    ENVIRONMENT,
    FAIL,
    OK,
    OPTIONS,
    ROW_NAMES,
    SETTING_VARS,
    SHOWN,
    WARN,
    Check,
    Origin,
)
from .s3 import S3Checks, probe_client
from .team import team_check


def setting_origins(env: Mapping[str, str] | None = None, dotenv: Path | None | bool = True,
                    options: Iterable[str] = ()) -> dict[str, Origin]:
    """Where each setting comes from, resolved the way ``Settings.from_env`` resolves it
    (the environment over .env, the first non-empty variable of each field); ``options``
    names the fields a CLI option overrode."""
    import os

    from ..settings import find_dotenv  # the same .env from_env would find

    env = os.environ if env is None else env
    from_file: dict[str, str] = {}
    if dotenv is True:
        dotenv = find_dotenv(Path.cwd())
    if isinstance(dotenv, Path) and dotenv.is_file():
        from dotenv import dotenv_values

        from_file = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    merged = {**from_file, **env}
    overridden = set(options)
    out: dict[str, Origin] = {}
    for fld, names in SETTING_VARS.items():
        if fld in overridden and fld in OPTIONS:
            out[fld] = Origin(OPTIONS[fld], "option")
            continue
        out[fld] = Origin(names[0], "default")
        for name in names:
            if merged.get(name):
                out[fld] = Origin(name, "environment" if name in env else ".env")
                break
    return out


def exit_code(checks: Iterable[Check]) -> int:
    """0 when nothing failed; 2 when a setting is wrong (fixing it may fix the rest); else 3."""
    failed = [c for c in checks if c.failed]
    if not failed:
        return 0
    return 2 if any(c.kind == CONFIG for c in failed) else 3


def format_table(checks: list[Check]) -> str:
    """Aligned plain text: check, status, detail; a ``fix:`` line under each problem."""
    width = max((len(c.name) for c in checks), default=5)
    lines = [f"{'CHECK':<{width}}  STATUS  DETAIL"]
    for c in checks:
        lines.append(f"{c.name:<{width}}  {c.status.upper():<6}  {c.detail}")
        if c.fix and c.status != OK:
            lines.append(f"{'':<{width}}  {'':<6}  fix: {c.fix}")
    failed = sum(c.failed for c in checks)
    warned = sum(c.status == WARN for c in checks)
    lines.append(f"{failed} failed, {warned} warnings, {len(checks) - failed - warned} ok")
    return "\n".join(lines)


# -- the checks that need no network ------------------------------------------------------
def settings_checks(s: Settings, origins: Mapping[str, Origin]) -> list[Check]:
    """One ok row per setting in use, saying where its value came from."""
    rows = []
    for fld in SHOWN:
        value: Any = getattr(s, fld)
        if fld == "endpoint_url" and value is None:
            value = "not set: AWS S3"
        elif fld == "s3_client" and value == "auto":
            value = f"auto: {store_kind(s)}"
        elif fld == "min_free":
            value = format_size(value)
        o = origins[fld]
        by_var = o.source in ("environment", ".env")
        name = o.var if by_var else ROW_NAMES.get(fld, SETTING_VARS[fld][0])
        rows.append(Check(name, OK, f"{value} ({f'from {o.source}' if by_var else o})"))
    return rows


def store_kind(s: Settings) -> str:
    """The backend sync uses (as ``Workbench.store`` decides it)."""
    from ..storage.net import store_kind as decided

    return decided(s)


def credentials_check(s: Settings, origins: Mapping[str, Origin]) -> tuple[Check, bool]:
    """Which credentials sign requests, never the secret; True if there are any."""
    key_o, secret_o = origins["access_key"], origins["secret_key"]
    if s.access_key or s.secret_key:
        if not (s.access_key and s.secret_key):
            have, lack = (key_o, "AWS_SECRET_ACCESS_KEY") if s.access_key else \
                (secret_o, "AWS_ACCESS_KEY_ID")
            return Check("credentials", FAIL, f"{have} is set but {lack} is not",
                         f"Set {lack} too (in the environment or .env).", ENVIRONMENT), False
        detail = (f"static keys: {key_o.var} …{s.access_key[-4:]} ({key_o.source}), "
                  f"{secret_o.var} ({secret_o.source})")
        if s.session_token:
            detail += ", AWS_SESSION_TOKEN"
        if s.profile:
            detail += f"; AWS_PROFILE={s.profile} is ignored while static keys are set"
        return Check("credentials", OK, detail), True
    return _boto_credentials(s, origins["profile"])


def _boto_credentials(s: Settings, profile_o: Origin) -> tuple[Check, bool]:
    """Ask botocore which source of its chain (or of the profile) gives credentials."""
    try:
        import boto3

        session = boto3.session.Session(profile_name=s.profile) if s.profile else \
            boto3.session.Session()
        creds = session.get_credentials()
        key = creds.access_key if creds is not None else None
    except Exception as exc:  # ProfileNotFound, an expired SSO token, ...
        where = f"AWS_PROFILE={s.profile} ({profile_o})" if s.profile else "boto3's chain"
        return Check("credentials", FAIL, f"{where}: {type(exc).__name__}: {exc}",
                     _NO_CREDENTIALS_FIX, ENVIRONMENT), False
    if creds is None or not key:
        where = f"AWS_PROFILE={s.profile} ({profile_o}) gives" if s.profile else \
            "no static keys, no AWS_PROFILE, and boto3's chain found"
        return Check("credentials", FAIL, f"{where} no credentials", _NO_CREDENTIALS_FIX,
                     ENVIRONMENT), False
    where = f"AWS_PROFILE={s.profile} ({profile_o})" if s.profile else "boto3's chain"
    return Check("credentials", OK, f"{where}: {creds.method}, key …{key[-4:]}"), True


_NO_CREDENTIALS_FIX = ("Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in "
                       "the environment or in .env at the project root.")


def disk_check(s: Settings) -> Check:
    """Free space where pulls write, against the space a pull must leave free."""
    folder = Path(s.data_dir).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    note = "" if folder == Path(s.data_dir).absolute() else " (data folder not created yet)"
    try:
        free = free_bytes(folder)
    except OSError as exc:
        return Check("disk", FAIL, f"cannot read free space of {folder}: {exc.strerror}",
                     "Point ACTORBENCH_DATA_DIR at a folder this user can read.", ENVIRONMENT)
    detail = f"{format_size(free)} free on {folder}{note}"
    if free < s.min_free:
        return Check("disk", FAIL, f"{detail}; pulls leave {format_size(s.min_free)} free",
                     "Free some space there, point ACTORBENCH_DATA_DIR at a bigger disk, or "
                     "lower ACTORBENCH_MIN_FREE.", ENVIRONMENT)
    return Check("disk", OK, f"{detail}; pulls leave {format_size(s.min_free)} free")


def registry_check(path: Path) -> tuple[Check, set[str] | None]:
    """Does actors.json load; the names it knows (None when it is missing or broken)."""
    from ..actors.registry import Registry

    if not path.exists():
        return Check("actors.json", WARN, f"{path} does not exist",
                     "Run `actorbench discover` to build it from the actor folders in S3.",
                     CONFIG), None
    try:
        reg = Registry.load(path)
    except ActorbenchError as exc:
        return Check("actors.json", FAIL, str(exc),
                     "Fix the file where the message says, or move it away and run "
                     "`actorbench discover`.", CONFIG), None
    return Check("actors.json", OK, f"{len(reg)} actors in {path}"), {a.name for a in reg}


# -- composition ----------------------------------------------------------------------------
def run_doctor(s: Settings, origins: Mapping[str, Origin] | None = None, write: bool = False,
               client: Any | None = None, now: Callable[[], float] = time.time
               ) -> list[Check]:
    """Every check, in order; S3 checks stop at the first one that makes the rest moot."""
    origins = origins if origins is not None else setting_origins()
    checks = settings_checks(s, origins)
    cred, have_creds = credentials_check(s, origins)
    checks.append(cred)
    reg_check, known = registry_check(s.registry_path)
    try:
        client = client or probe_client(s, signed=have_creds)
    except Exception as exc:  # a malformed endpoint URL and the like
        checks.append(Check("endpoint", FAIL, f"cannot build an S3 client: {exc}",
                            "Check AWS_ENDPOINT_URL and AWS_REGION.", CONFIG))
    else:
        checks += S3Checks(client, s, origins, now).run(write, known)
    checks += [disk_check(s), reg_check, team_check(s, write, reachable=not any(
        c.failed for c in checks))]
    return checks


def run_from_env(overrides: Mapping[str, Any], write: bool = False) -> list[Check]:
    """What the CLI runs: settings from env + .env + options; a bad setting is one row."""
    given = {k: v for k, v in overrides.items() if v is not None}
    workers = given.pop("workers", None)
    if workers is not None:
        given.update(workers=min(workers, 256), connections=min(workers, 512))
    try:
        s = Settings.from_env().with_overrides(**given)
    except ConfigError as exc:
        return [Check("settings", FAIL, str(exc),
                      "Fix that variable in the environment or .env (or the option).", CONFIG)]
    return run_doctor(s, setting_origins(options=given), write=write)
