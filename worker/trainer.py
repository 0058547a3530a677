"""kohya-ss sd-scripts by command line: the command for a job, and what its output means.

The command follows sd-scripts' documentation at the release worker/Dockerfile pins
(``SD_SCRIPTS_REF``): ``docs/train_network.md`` (SD1.5, and the options every script shares),
``docs/sdxl_train_network.md`` and ``docs/flux_train_network.md``. Every flag is checked
against sd-scripts' own argument parsers at that release by ``tests/test_worker_contract.py``
(the parsers are read into ``tests/fixtures/sdscripts_args.json`` by
``worker/tools/gen_sdscripts_args.py``).

Its progress bar (tqdm: ``steps:  12%|█▏ | 120/1000 [00:30<03:40, 4.00it/s, avr_loss=0.123]``)
and its sample file names (``{output_name}_{steps:06d}_{prompt:02d}_{timestamp}.png``) are
parsed here. sd-scripts prints each step twice: ``progress_bar.update(1)`` redraws the bar
with the previous step's loss, then ``set_postfix(avr_loss=...)`` with this step's
(train_network.py, the training loop); the last line of a step is the one to keep.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: the release of kohya-ss/sd-scripts the flags follow (worker/Dockerfile clones it)
SD_SCRIPTS_REF = "v0.10.1"
SD_SCRIPTS_COMMIT = "ae72efb92babe89ff8e70f057e42db68440e8d61"
SCRIPTS = {"sd15": "train_network.py", "sdxl": "sdxl_train_network.py",
           "flux1-dev": "flux_train_network.py"}
#: where the Docker image puts sd-scripts
SD_SCRIPTS = Path("/opt/sd-scripts")
#: the model files each base model needs, relative to the model store (worker/models.py)
MODEL_FILES: dict[str, dict[str, str]] = {
    "sd15": {"pretrained_model_name_or_path": "sd15/v1-5-pruned-emaonly.safetensors"},
    "sdxl": {"pretrained_model_name_or_path": "sdxl/sd_xl_base_1.0.safetensors"},
    "flux1-dev": {"pretrained_model_name_or_path": "flux1-dev/flux1-dev.safetensors",
                  "clip_l": "flux1-dev/clip_l.safetensors",
                  "t5xxl": "flux1-dev/t5xxl_fp16.safetensors",
                  "ae": "flux1-dev/ae.safetensors"},
}
#: the tokenizers' Hugging Face cache inside the store (--tokenizer_cache_dir), so no job
#: reaches the hub (HF_HUB_OFFLINE=1 in the trainer's environment)
TOKENIZER_DIR = "tokenizers"

_STEP = re.compile(r"(\d+)/(\d+) \[(?:(\d+):)?(\d+):(\d+)<(?:(\d+):)?(\d+):(\d+)")
_LOSS = re.compile(r"avr_loss=([-+]?(?:nan|inf|[0-9.]+(?:e[-+]?\d+)?))", re.IGNORECASE)
_SAMPLE = re.compile(r"_(\d{6})_(\d{2})_\d+(?:_\d+)?\.png$")


@dataclass(frozen=True)
class StepLine:
    step: int
    total: int
    eta_s: float
    loss: float | None


def command(params: dict[str, Any], dataset: Path, out: Path, name: str,
            prompts_file: Path | None, every: int, python: str = "python",
            store: Path = Path("/runpod-volume/actorbench-models"), keep_tokens: int = 0,
            metadata: dict[str, str] | None = None) -> list[str]:
    """The sd-scripts command line for ``params`` (actorbench's ``TrainingParams``)."""
    model = params["base_model"]
    flux = model == "flux1-dev"
    reso = int(params["resolution"])
    lr = params.get("unet_lr", 1e-4)
    cmd = [python, str(SD_SCRIPTS / SCRIPTS[model])]
    cmd += [f"--{flag}={store / rel}" for flag, rel in MODEL_FILES[model].items()]
    cmd += [
        f"--tokenizer_cache_dir={store / TOKENIZER_DIR}",
        f"--train_data_dir={dataset}", f"--output_dir={out}", f"--output_name={name}",
        f"--resolution={reso}",
        # docs/config_README-en.md (enable_bucket, bucket_no_upscale): images keep their aspect
        # ratio in buckets instead of a centre crop, and small images are not upscaled
        "--enable_bucket", "--bucket_no_upscale", "--min_bucket_reso=256",
        f"--max_bucket_reso={min(2048, 2 * reso)}", "--bucket_reso_steps=64",
        f"--max_train_steps={params['max_train_steps']}",
        f"--train_batch_size={params.get('batch_size', 1)}",
        # docs/train_network.md: --learning_rate is the default for both parts; --unet_lr the
        # U-Net's (Flux's DiT)
        f"--learning_rate={lr}", f"--unet_lr={lr}",
        f"--network_dim={params.get('network_rank', 32)}",
        f"--network_alpha={params.get('network_alpha', 16)}",
        "--network_module=" + ("networks.lora_flux" if flux else "networks.lora"),
        f"--optimizer_type={params.get('optimizer', 'AdamW8bit')}",
        f"--lr_scheduler={params.get('lr_scheduler', 'constant')}",
        "--caption_extension=.txt", "--save_model_as=safetensors",
        # docs/train_network.md: bf16 mixed precision on the Ampere+ GPUs RunPod offers
        "--mixed_precision=bf16",
        # docs/train_network.md (--save_precision): the LoRA is stored in half precision, not
        # float32 (half the size; what LoRA managers expect)
        "--save_precision=" + ("bf16" if flux else "fp16"),
        # docs/train_network.md (--sdpa): PyTorch's scaled dot-product attention; one attention
        # backend, no xformers needed
        "--sdpa",
        "--cache_latents", "--gradient_checkpointing", "--seed=42",
        # a few loader processes; the dataset is small and cached
        "--max_data_loader_n_workers=2",
    ]
    if params.get("lr_scheduler") == "cosine_with_restarts":
        # docs/train_network.md (--lr_scheduler_num_cycles): with the default 1 cycle a
        # "restart" never happens
        cmd.append("--lr_scheduler_num_cycles=3")
    if params.get("optimizer") == "Adafactor":
        # docs/flux_train_network.md 6.1: Adafactor with a fixed learning rate
        cmd += ["--optimizer_args", "relative_step=False", "scale_parameter=False",
                "warmup_init=False", "--max_grad_norm=0.0"]
    if float(params.get("noise_offset") or 0) > 0 and not flux:
        cmd.append(f"--noise_offset={params['noise_offset']}")
    te_lr = float(params.get("text_encoder_lr") or 0)
    if te_lr > 0 and model == "sd15":
        cmd.append(f"--text_encoder_lr={te_lr}")
    else:
        # SDXL and Flux LoRAs train the U-Net / DiT only (TRAINING-NOTES): the text encoders'
        # outputs are computed once and cached; docs/sdxl_train_network.md says caching needs
        # --network_train_unet_only
        cmd += ["--network_train_unet_only"]
        if model != "sd15":
            cmd.append("--cache_text_encoder_outputs")
    if flux:
        cmd += [
            # docs/flux_train_network.md 4.1: "specify 1.0 to disable guidance scale. Default
            # is 3.5, so be sure to specify this"
            "--guidance_scale=1.0",
            # docs/flux_train_network.md 6.2 "Recommended Settings"
            "--timestep_sampling=shift", "--discrete_flow_shift=3.1582",
            "--model_prediction_type=raw",
        ]
    if keep_tokens:
        # docs/train_network.md: the first comma-separated token (the trigger) stays first
        cmd.append(f"--keep_tokens={keep_tokens}")
    if prompts_file is not None:
        cmd += [f"--sample_prompts={prompts_file}", f"--sample_every_n_steps={every}",
                # a baseline before the first step, so a preview shows what training changed
                "--sample_at_first"]
        if not flux:
            cmd.append("--sample_sampler=euler_a")
    for key, value in (metadata or {}).items():
        cmd.append(f"--{key}={value}")
    return cmd


def parse_step(line: str) -> StepLine | None:
    """A progress line of sd-scripts' tqdm bar, or None."""
    m = _STEP.search(line)
    if not m or "steps" not in line:
        return None
    h, mi, s = (int(x or 0) for x in m.group(6, 7, 8))
    loss = _LOSS.search(line)
    return StepLine(int(m.group(1)), int(m.group(2)), float(h * 3600 + mi * 60 + s),
                    float(loss.group(1)) if loss else None)


def finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def sample_step(path: Path) -> tuple[int, int] | None:
    """``(step, prompt index)`` from a sample image's name, or None."""
    m = _SAMPLE.search(path.name)
    return (int(m.group(1)), int(m.group(2))) if m else None
