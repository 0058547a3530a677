"""Errors that carry a message meant for the person using actorbench."""

from __future__ import annotations


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
