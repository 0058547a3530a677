"""Errors that carry a message meant for the person using actorbench."""

from __future__ import annotations

import errno


class ActorbenchError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing sentence.

    ``exit_code`` is the CLI's exit status for it: 2, bad input (usage, unknown actor,
    malformed files); ``EnvironmentProblem`` says 3.
    """

    exit_code = 2


class EnvironmentProblem(ActorbenchError):
    """The machine, not the input: a server out of reach, credentials missing or refused, a
    full disk. Exit status 3: the same command can work once that is fixed."""

    exit_code = 3


class ConfigError(ActorbenchError):
    """Settings are missing or invalid."""


class CredentialsError(ConfigError, EnvironmentProblem):
    """No AWS credentials could be found."""

    def __init__(self, detail: str = "") -> None:
        msg = (
            "No AWS credentials found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_ACCESS_KEY and AWS_ACCESS_SECRET), or AWS_PROFILE, in the environment "
            "or in a .env file at the project root."
        )
        super().__init__(f"{msg} {detail}".strip())


class RegistryError(ActorbenchError):
    """A registry or JSON file is malformed; names the file, actor and field."""

    def __init__(self, path: object, problem: str, actor: str | None = None,
                 field: str | None = None) -> None:
        where = f"{path}"
        if actor is not None:
            where += f", actor {actor!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {problem}")
        self.path, self.actor, self.field, self.problem = path, actor, field, problem


class UnknownActorError(ActorbenchError):
    """No actor with that name or id."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"Unknown actor {ref!r}: no actor has that name or id.")
        self.ref = ref


class UnsafePathError(ActorbenchError):
    """A key, URL or name that would escape its place (``..``, absolute, other bucket)."""


class StoreError(ActorbenchError):
    """The object store failed in a way worth telling the user about."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class PreconditionFailed(StoreError):
    """A conditional request failed: the object changed since it was listed."""


class Unreachable(StoreError, EnvironmentProblem):
    """The S3 server cannot be reached, or keeps failing, after retries."""


class AccessRefused(StoreError, EnvironmentProblem):
    """The S3 server refused the credentials (403, unknown key, bad signature)."""


class DiskSpaceError(EnvironmentProblem):
    """Not enough free space for what a command would write."""


class LockTimeout(ActorbenchError):
    """Another process holds the lock for too long."""


class Cancelled(ActorbenchError):
    """The user cancelled the operation."""

    def __init__(self) -> None:
        super().__init__("Cancelled by the user.")


class AlreadyTraining(ActorbenchError):
    """The actor has a job queued or running (maybe launched from another workstation); a
    second one needs a confirmation (``another=True``, ``--yes-another``). Exit status 1."""

    exit_code = 1

    def __init__(self, actor: str, version: str, status: str, user: str | None,
                 machine: str | None, at: str) -> None:
        who = f" by {user or 'someone'}" + (f" on {machine}" if machine else "")
        super().__init__(f"{actor} already has training {version} ({status}), launched{who} at "
                         f"{at}; wait for it or cancel it first, or confirm another launch "
                         "(--yes-another).")
        self.actor, self.version, self.status = actor, version, status
        self.user, self.machine, self.at = user, machine, at


class TeamUnsupported(EnvironmentProblem):
    """Team mode refused: the S3 server does not honour conditional writes."""


class SharedWriteConflict(EnvironmentProblem):
    """A shared record kept changing under us: every compare-and-swap attempt lost."""


def is_disk_full(exc: BaseException) -> bool:
    """An ``OSError`` saying the disk (or the user's quota) is full."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def describe_error(exc: BaseException) -> str:
    """One line for a person: our errors speak for themselves; a full disk says so without the
    temp file's name; anything else gets its type (``KeyError: 'x'`` says more than ``'x'``).

    The page's error box, a sync summary's per-file errors and the CLI all say it this way.
    """
    if isinstance(exc, ActorbenchError):
        return str(exc)
    if is_disk_full(exc):
        return f"not written: {exc.strerror}"  # type: ignore[attr-defined]
    return f"{type(exc).__name__}: {exc}"
