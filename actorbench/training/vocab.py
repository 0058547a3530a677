"""The words actorbench and the LoRA worker share: base models, optimizers, schedulers, stages.

The worker (``worker/contract.py``) cannot import actorbench (its image installs only the
worker), so it holds the same tuples; ``tests/test_worker_contract.py`` asserts they are equal
and that the job built for every preset validates against the worker's schema and its
sd-scripts command.
"""

from __future__ import annotations

#: base models: sd-scripts' SD1.5, SDXL and Flux.1-dev trainers (worker/trainer.py)
BASE_MODELS = ("sd15", "sdxl", "flux1-dev")
#: sd-scripts ``--optimizer_type`` values the worker knows how to configure
OPTIMIZERS = ("AdamW8bit", "AdamW", "Adafactor")
#: sd-scripts ``--lr_scheduler`` values (``library/train_util.py`` get_scheduler_fix)
SCHEDULERS = ("constant", "constant_with_warmup", "cosine", "cosine_with_restarts", "linear")
#: the stages of a job, in order; a progress document names one (docs/runpod-worker.md)
STAGES = ("queued", "downloading", "training", "sampling", "uploading", "done")
#: /1: captions are ``"{trigger}, photo"``; /2: each image may carry its own caption
CONTRACTS = ("actorbench.lora/1", "actorbench.lora/2")
