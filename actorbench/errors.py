"""Errors that carry a message meant for the person using actorbench."""

from __future__ import annotations


class ActorbenchError(Exception):
    """Base class: ``str(err)`` is a complete, user-facing sentence."""


class ConfigError(ActorbenchError):
    """Settings are missing or invalid."""


class CredentialsError(ConfigError):
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


class LockTimeout(ActorbenchError):
    """Another process holds the lock for too long."""


class Cancelled(ActorbenchError):
    """The user cancelled the operation."""

    def __init__(self) -> None:
        super().__init__("Cancelled by the user.")
