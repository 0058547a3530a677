"""The job contract between actorbench and a LoRA-training worker, as JSON Schemas.

actorbench sends ``INPUT`` as RunPod's ``input``; the worker streams ``PROGRESS`` documents
(``runpod.serverless.progress_update``, shown by ``/status`` as ``output`` while IN_PROGRESS)
and returns ``OUTPUT``. docs/runpod-worker.md explains each field; ``tests/test_worker.py``
validates what the reference worker really returns against these schemas.
"""

from __future__ import annotations

from typing import Any

CONTRACT = "actorbench.lora/1"
#: the stages a job goes through, in order; progress documents name one
STAGES = ("queued", "downloading", "training", "sampling", "uploading", "done")

_HEX_ETAG = r"^[0-9a-f]{32}(-[0-9]+)?$"
_S3_URL = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+"

INPUT: dict[str, Any] = {
    "type": "object",
    "required": ["contract", "actor", "trigger_word", "images", "parameters", "output"],
    "properties": {
        "contract": {"const": CONTRACT},
        "actor": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$"},
        "version": {"type": "string"},
        "trigger_word": {"type": "string", "minLength": 2, "maxLength": 64},
        "images": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["url", "etag", "name"],
            "properties": {"url": {"type": "string", "pattern": "^https?://"},
                           "etag": {"type": "string", "pattern": _HEX_ETAG},
                           "name": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]+\.png$"}}}},
        "parameters": {"type": "object", "required": ["base_model", "resolution",
                                                      "max_train_steps"],
                       "properties": {"base_model": {"enum": ["sd15", "sdxl", "flux"]},
                                      "resolution": {"type": "integer"},
                                      "max_train_steps": {"type": "integer", "minimum": 1}}},
        "output": {"type": "object", "required": ["bucket", "prefix"],
                   "properties": {"bucket": {"type": "string"}, "prefix": {"type": "string"},
                                  "region": {"type": "string"},
                                  "endpoint_url": {"type": "string"}}},
        "samples": {"type": "object", "properties": {
            "prompts": {"type": "array", "items": {"type": "string"}},
            "every_steps": {"type": "integer", "minimum": 1}}},
    },
}

PROGRESS: dict[str, Any] = {
    "type": "object", "required": ["stage", "progress"],
    "properties": {"stage": {"enum": list(STAGES)},
                   "progress": {"type": "number", "minimum": 0, "maximum": 1},
                   "step": {"type": "integer"}, "total_steps": {"type": "integer"},
                   "eta_s": {"type": ["number", "null"]}, "loss": {"type": ["number", "null"]},
                   "message": {"type": "string"}},
}

OUTPUT: dict[str, Any] = {
    "type": "object",
    "required": ["contract", "stage", "lora_url", "samples", "loss", "timings", "steps"],
    "properties": {
        "contract": {"const": CONTRACT},
        "stage": {"const": "done"},
        "lora_url": {"type": "string", "pattern": _S3_URL},
        "steps": {"type": "integer"},
        "samples": {"type": "array", "items": {
            "type": "object", "required": ["step", "prompt", "url"],
            "properties": {"step": {"type": "integer"}, "prompt": {"type": "string"},
                           "url": {"type": "string", "pattern": _S3_URL}}}},
        "loss": {"type": "array", "items": {"type": "array", "prefixItems": [
            {"type": "integer"}, {"type": "number"}], "minItems": 2, "maxItems": 2}},
        "timings": {"type": "object", "required": ["download_s", "train_s", "upload_s"],
                    "additionalProperties": {"type": "number", "minimum": 0}},
    },
}
