"""The job's stages are one vocabulary: actorbench's ``Stage`` and the worker's copy agree."""

from __future__ import annotations

from actorbench.training.status import STAGES, JobStatus, Stage, stage_of
from actorbench.training.versions import TrainingVersion
from worker.contract import STAGES as WORKER_STAGES


def test_the_stage_enum_is_the_workers_list_in_its_order():
    assert set(Stage) == set(WORKER_STAGES)
    assert [s.value for s in STAGES] == list(WORKER_STAGES)


def test_every_stage_has_its_word():
    assert [s.label for s in Stage] == ["Queued", "Downloading", "Training", "Sampling",
                                       "Uploading", "Done"]


def _version(status: JobStatus, progress: dict | None = None) -> TrainingVersion:
    return TrainingVersion.from_dict({"id": "v1", "name": "v1", "status": str(status),
                                      "created_at": "", "parameters": {}, "images": [],
                                      "progress": progress})


def test_stage_of_reads_the_status_and_the_progress():
    assert stage_of(_version(JobStatus.LAUNCHING)) is Stage.QUEUED
    assert stage_of(_version(JobStatus.IN_PROGRESS, {"stage": "sampling"})) is Stage.SAMPLING
    assert stage_of(_version(JobStatus.IN_PROGRESS, {"stage": "<b>"})) is Stage.TRAINING
    assert stage_of(_version(JobStatus.COMPLETED)) is Stage.DONE
    assert stage_of(_version(JobStatus.FAILED)) == "failed"
