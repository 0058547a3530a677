"""A training job's state: RunPod's six, the three actorbench records on its own, and the
worker's stages (queued -> ... -> done) with their words."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class JobStatus(StrEnum):
    """The ``status`` of a ``TrainingVersion``; the value is what the record file stores.

    A ``StrEnum``: ``JobStatus.COMPLETED == "COMPLETED"`` and ``json.dumps`` writes the bare
    string, so records written before this enum existed read back and save unchanged.
    """

    # RunPod's serverless job states (``GET /status/{id}``)
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"
    # actorbench's own: the record exists before ``/run`` answers, ``/run`` refused it, or
    # RunPod no longer knows the job (or its id in the record is not one RunPod makes)
    LAUNCHING = "LAUNCHING"
    LAUNCH_FAILED = "LAUNCH_FAILED"
    LOST = "LOST"

    @classmethod
    def parse(cls, value: object) -> JobStatus | None:
        """The member whose value is ``value``; None for anything else (an edited record)."""
        return cls._value2member_map_.get(value) if isinstance(value, str) else None  # type: ignore[return-value]


#: what RunPod may answer, in its order
STATES = (JobStatus.IN_QUEUE, JobStatus.IN_PROGRESS, JobStatus.COMPLETED, JobStatus.FAILED,
          JobStatus.CANCELLED, JobStatus.TIMED_OUT)
#: RunPod is done with the job
FINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED,
                   JobStatus.TIMED_OUT})
#: a job that may still change: polled, and one at a time per actor
ACTIVE = frozenset({JobStatus.LAUNCHING, JobStatus.IN_QUEUE, JobStatus.IN_PROGRESS})
#: a job RunPod has accepted and not finished: it can be cancelled, and has progress to show
RUNNING = frozenset({JobStatus.IN_QUEUE, JobStatus.IN_PROGRESS})
#: what ``POST /retry`` accepts
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.TIMED_OUT})


class Stage(StrEnum):
    """Where a job is, as the worker's progress documents name it (``worker/contract.py``
    keeps its own copy, the image cannot import actorbench: a test checks both are equal)."""

    QUEUED = "queued"
    DOWNLOADING = "downloading"
    TRAINING = "training"
    SAMPLING = "sampling"
    UPLOADING = "uploading"
    DONE = "done"

    @property
    def label(self) -> str:
        """The stepper's word: ``"Queued"``."""
        return self.value.capitalize()


#: the stages in order (a progress document names one)
STAGES = tuple(Stage)


def stage_of(v: Any) -> str:
    """A ``Stage`` from a ``TrainingVersion``'s status and progress; a job that ended otherwise
    gives its status in lower case (``"failed"``, ``"cancelled"``, ``"lost"``)."""
    status = str(v.status)
    if status == JobStatus.COMPLETED:
        return Stage.DONE
    if status in (JobStatus.IN_QUEUE, JobStatus.LAUNCHING):
        return Stage.QUEUED
    if status == JobStatus.IN_PROGRESS:
        stage = (v.progress or {}).get("stage")
        return Stage(stage) if isinstance(stage, str) and stage in STAGES else Stage.TRAINING
    return status.lower()
