"""Which "good model" marks a shared document may hold: anyone with write access to the bucket
can edit it, so a mark is believed only when it points at this library's own LoRA of a
completed version of that actor, and is not dated in the future.

A trained LoRA lies under ``<parent of the training prefix>/loras/<actor>/<version id>/`` of
the library's bucket (``training.service.job_contract`` tells the worker so).
"""

from __future__ import annotations

from typing import Any

from ..errors import ActorbenchError
from ..storage.layout import lora_prefix
from ..storage.urls import split_s3_url
from ..training.status import JobStatus
from .merge import in_future


class MarkRules:
    """Usage::

        rules = MarkRules(settings.bucket, settings.prefix)
        rules.own_lora(url, actor_name, version_id)     # True: s3://bucket/.../loras/<a>/<v>/...
        rules.why_not(mark, actor_name, versions)       # None: believed; else the reason
    """

    def __init__(self, bucket: str, training_prefix: str) -> None:
        self.bucket, self.loras = bucket, lora_prefix(training_prefix)

    def own_lora(self, url: object, actor: str, version_id: object,
                 any_actor: bool = False) -> bool:
        """``url`` is ``s3://<bucket>/<loras>/<actor>/<version_id>/...`` (any one actor's
        folder with ``any_actor``)."""
        if not isinstance(url, str) or not isinstance(version_id, str) or not url.startswith(
                "s3://"):
            return False
        try:
            bucket, key = split_s3_url(url)
        except ActorbenchError:
            return False
        parts = key.split("/")
        if bucket != self.bucket or {"", ".", ".."} & set(parts) or not key.startswith(
                self.loras + "/"):
            return False
        rest = key[len(self.loras) + 1:].split("/")
        return len(rest) >= 3 and rest[1] == version_id and (any_actor or rest[0] == actor)

    def why_not(self, mark: dict[str, Any], actor: str,
                versions: list[dict[str, Any]] | None = None,
                any_actor: bool = False) -> str | None:
        """Why ``mark`` is not believed (None: it is). With ``versions`` (the actor's ledger),
        it must also name a completed version whose LoRA URL is the mark's."""
        if in_future(mark.get("marked_at")):
            return f"it is dated in the future ({str(mark.get('marked_at'))[:40]!r})"
        if not self.own_lora(mark.get("lora_url"), actor, mark.get("version_id"), any_actor):
            return f"its LoRA is not under s3://{self.bucket}/{self.loras}/{actor}/<version>/"
        if versions is not None:
            match = [v for v in versions if v.get("id") == mark.get("version_id")]
            if not match or str(match[0].get("status")) != JobStatus.COMPLETED or match[0].get(
                    "lora_url") != mark.get("lora_url"):
                return "it names no completed version of the actor with that LoRA"
        return None
