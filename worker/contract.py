"""The job contract between actorbench and a LoRA-training worker, as JSON Schemas.

actorbench sends ``INPUT`` as RunPod's ``input``; the worker streams ``PROGRESS`` documents
(``runpod.serverless.progress_update``, shown by ``/status`` as ``output`` while IN_PROGRESS)
and returns ``OUTPUT``. docs/runpod-worker.md explains each field; ``tests/test_worker.py``
validates what the reference worker really returns against these schemas.

The vocabularies below are actorbench's (``actorbench/training/vocab.py``): the worker's image
does not install actorbench, so they are repeated here and a test keeps them equal.
"""

from __future__ import annotations

from typing import Any

#: /1: every caption is ``"{trigger}, photo"``; /2: images may carry their own caption
CONTRACTS = ("actorbench.lora/1", "actorbench.lora/2")
CONTRACT = CONTRACTS[0]
#: the stages a job goes through, in order; progress documents name one
STAGES = ("queued", "downloading", "training", "sampling", "uploading", "done")
BASE_MODELS = ("sd15", "sdxl", "flux1-dev")
OPTIMIZERS = ("AdamW8bit", "AdamW", "Adafactor")
SCHEDULERS = ("constant", "constant_with_warmup", "cosine", "cosine_with_restarts", "linear")

_HEX_ETAG = r"^[0-9a-f]{32}(-[0-9]+)?$"
_S3_URL = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+"
#: a name that is safe as one path segment (no separators, no leading dot)
SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
#: a trigger word: a short phrase, no comma (the caption's first token is the trigger, kept by
#: --keep_tokens=1), no line break or control character
TRIGGER = r"^[^,\x00-\x1f\x7f]{2,64}$"

PARAMETERS: dict[str, Any] = {
    "type": "object", "required": ["base_model", "resolution", "max_train_steps"],
    "properties": {
        "base_model": {"enum": list(BASE_MODELS)},
        "resolution": {"type": "integer", "minimum": 256, "maximum": 2048, "multipleOf": 64},
        "max_train_steps": {"type": "integer", "minimum": 1, "maximum": 10000},
        "repeats": {"type": "integer", "minimum": 1, "maximum": 5000},
        "epochs": {"type": "integer", "minimum": 1},
        "network_rank": {"type": "integer", "minimum": 1, "maximum": 256},
        "network_alpha": {"type": "integer", "minimum": 1, "maximum": 256},
        "unet_lr": {"type": "number", "exclusiveMinimum": 0, "maximum": 0.01},
        "text_encoder_lr": {"type": "number", "minimum": 0, "maximum": 0.01},
        "batch_size": {"type": "integer", "minimum": 1, "maximum": 16},
        "optimizer": {"enum": list(OPTIMIZERS)},
        "lr_scheduler": {"enum": list(SCHEDULERS)},
        "noise_offset": {"type": "number", "minimum": 0, "maximum": 0.5},
        "flip_aug": {"const": False},
        "trigger_word": {"type": "string"},
        "gpu": {"type": "string"},
    },
}

INPUT: dict[str, Any] = {
    "type": "object",
    "required": ["contract", "actor", "trigger_word", "images", "parameters", "output"],
    "properties": {
        "contract": {"enum": list(CONTRACTS)},
        "actor": {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$"},
        "version": {"type": "string", "pattern": SAFE_NAME},
        "trigger_word": {"type": "string", "pattern": TRIGGER},
        "images": {"type": "array", "minItems": 1, "maxItems": 500, "items": {
            "type": "object", "required": ["url", "etag", "name"],
            "properties": {"url": {"type": "string", "pattern": "^https?://", "maxLength": 8192},
                           "etag": {"type": "string", "pattern": _HEX_ETAG},
                           "name": {"type": "string",
                                    "pattern": r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}\.png$"},
                           "size": {"type": "integer", "minimum": 1},
                           "caption": {"type": "string", "maxLength": 1000}}}},
        "parameters": PARAMETERS,
        "output": {"type": "object", "required": ["bucket", "prefix"],
                   "properties": {"bucket": {"type": "string"},
                                  "prefix": {"type": "string", "maxLength": 512},
                                  "region": {"type": "string"},
                                  "endpoint_url": {"type": "string"}}},
        "samples": {"type": "object", "properties": {
            "prompts": {"type": "array", "maxItems": 8,
                        "items": {"type": "string", "maxLength": 500}},
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
        "contract": {"enum": list(CONTRACTS)},
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
