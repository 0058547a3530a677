"""A training job's state: RunPod's six, and the three actorbench records on its own."""

from __future__ import annotations

from enum import StrEnum


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
