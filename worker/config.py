"""The worker's own settings: its environment, never the job's."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import JobError

MIB = 1 << 20


@dataclass(frozen=True)
class WorkerConfig:
    """The worker's own settings (its environment, never the job's)."""

    bucket: str
    endpoint_url: str | None = None
    region: str = "us-east-1"
    model_store: Path = Path("/runpod-volume/actorbench-models")
    max_image_bytes: int = 50 * MIB
    max_job_bytes: int = 2048 * MIB
    #: the trainer is stopped past this many seconds (RunPod's executionTimeout stops it too)
    max_train_s: float = 6 * 3600
    #: the loss watchdog: a loss unchanged over this share of the run (and at least
    #: ``flat_min_steps``) stops the job
    flat_fraction: float = 0.3
    flat_min_steps: int = 200

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> WorkerConfig:
        e = os.environ if env is None else env
        bucket = e.get("ACTORBENCH_WORKER_BUCKET", "")
        if not bucket:
            raise JobError("the worker has no bucket: set ACTORBENCH_WORKER_BUCKET on the "
                           "endpoint (docs/runpod-worker.md)")
        return cls(bucket=bucket,
                   endpoint_url=e.get("AWS_ENDPOINT_URL_S3") or e.get("AWS_ENDPOINT_URL")
                   or None,
                   region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
                   model_store=Path(e.get("ACTORBENCH_MODEL_STORE",
                                          "/runpod-volume/actorbench-models")),
                   max_train_s=float(e.get("ACTORBENCH_WORKER_MAX_TRAIN_S", 6 * 3600)))
