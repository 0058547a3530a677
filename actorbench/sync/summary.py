"""Per-actor results of a sync, shaped like the seed scripts' JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .decide import Direction


def transferred_verb(direction: Direction | str) -> str:
    """What a sync in ``direction`` did to each file moved: "downloaded" (pull) or "uploaded"
    (push); the word the summary's JSON, the CLI and the page all use (``Direction.verb``)."""
    return Direction(direction).verb


@dataclass
class SyncSummary:
    actor: str
    direction: Direction
    transferred: int = 0
    skipped: int = 0
    failed: int = 0
    total: int = 0
    conflicts: list[str] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)
    invalid: list[dict[str, str]] = field(default_factory=list)  # refused: {"key", "reason"}
    unrecognised: list[dict[str, str]] = field(default_factory=list)  # never synced, reported
    warnings: list[str] = field(default_factory=list)  # the sync went on: {file}: {problem}
    environment: str = ""  # what stopped transfers (disk full, S3 out of reach): exit 3
    s3_urls: list[str] = field(default_factory=list)
    cancelled: bool = False
    bytes: int = 0
    captions: int = 0  # of ``total``, how many are captions (the rest are images)

    def error(self, key: str, message: str) -> None:
        self.failed += 1
        self.errors.append({"key": key, "error": message})

    def refuse(self, key: str, reason: str) -> None:
        """An image this sync would have moved but must not (``ImageStatus.INVALID``)."""
        self.invalid.append({"key": key, "reason": reason})

    @property
    def ok(self) -> bool:
        return (not self.failed and not self.conflicts and not self.cancelled
                and not self.invalid)

    def to_json(self) -> dict[str, Any]:
        verb = transferred_verb(self.direction)
        out: dict[str, Any] = {"actor": self.actor, verb: self.transferred,
                               "skipped": self.skipped, "failed": self.failed,
                               "total": self.total, "conflicts": list(self.conflicts),
                               "errors": list(self.errors)}
        if self.direction == Direction.PUSH:
            out["s3_urls"] = list(self.s3_urls)
        if self.invalid:
            out["invalid"] = list(self.invalid)
        if self.unrecognised:
            out["unrecognised"] = list(self.unrecognised)
        if self.warnings:
            out["warnings"] = list(self.warnings)
        if self.environment:
            out["environment"] = self.environment
        if self.cancelled:
            out["cancelled"] = True
        return out
