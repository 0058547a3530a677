"""kohya-ss sd-scripts by command line: the command for a job, and what its output means.

The command follows sd-scripts' documented flags (``train_network.py`` for SD1.5,
``sdxl_train_network.py`` for SDXL, ``flux_train_network.py`` for Flux). Its progress bar
(tqdm: ``steps:  12%|█▏ | 120/1000 [00:30<03:40, 4.00it/s, avr_loss=0.123]``) and its sample
file names (``{output_name}_{steps:06d}_{prompt:02d}_{timestamp}.png``) are parsed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCRIPTS = {"sd15": "train_network.py", "sdxl": "sdxl_train_network.py",
           "flux": "flux_train_network.py"}
#: where the Docker image puts sd-scripts and the base models (worker/Dockerfile)
SD_SCRIPTS = Path("/opt/sd-scripts")
BASE_MODELS = {"sd15": "/models/v1-5-pruned-emaonly.safetensors",
               "sdxl": "/models/sd_xl_base_1.0.safetensors",
               "flux": "/models/flux1-dev.safetensors"}

_STEP = re.compile(r"(\d+)/(\d+) \[(?:(\d+):)?(\d+):(\d+)<(?:(\d+):)?(\d+):(\d+)")
_LOSS = re.compile(r"avr_loss=([0-9.]+(?:e-?\d+)?)")
_SAMPLE = re.compile(r"_(\d{6})_(\d{2})_\d+(?:_\d+)?\.png$")


@dataclass(frozen=True)
class StepLine:
    step: int
    total: int
    eta_s: float
    loss: float | None


def command(params: dict[str, Any], dataset: Path, out: Path, name: str,
            prompts_file: Path | None, every: int, python: str = "python") -> list[str]:
    """The sd-scripts command line for ``params`` (actorbench's ``TrainingParams``)."""
    model = params.get("base_model", "sdxl")
    cmd = [python, str(SD_SCRIPTS / SCRIPTS[model]),
           f"--pretrained_model_name_or_path={BASE_MODELS[model]}",
           f"--train_data_dir={dataset}", f"--output_dir={out}", f"--output_name={name}",
           f"--resolution={params['resolution']}",
           f"--max_train_steps={params['max_train_steps']}",
           f"--train_batch_size={params.get('batch_size', 1)}",
           f"--unet_lr={params.get('unet_lr', 1e-4)}",
           f"--network_dim={params.get('network_rank', 32)}",
           f"--network_alpha={params.get('network_alpha', 16)}",
           f"--lr_scheduler={params.get('lr_scheduler', 'cosine')}",
           f"--optimizer_type={params.get('optimizer', 'AdamW8bit')}",
           f"--noise_offset={params.get('noise_offset', 0.0)}",
           "--network_module=networks.lora" if model != "flux" else
           "--network_module=networks.lora_flux",
           "--caption_extension=.txt", "--save_model_as=safetensors", "--mixed_precision=bf16",
           "--cache_latents", "--gradient_checkpointing", "--seed=42"]
    if params.get("text_encoder_lr"):
        cmd.append(f"--text_encoder_lr={params['text_encoder_lr']}")
    else:
        cmd.append("--network_train_unet_only")
    if prompts_file is not None:
        cmd += [f"--sample_prompts={prompts_file}", f"--sample_every_n_steps={every}",
                "--sample_sampler=euler_a"]
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


def sample_step(path: Path) -> tuple[int, int] | None:
    """``(step, prompt index)`` from a sample image's name, or None."""
    m = _SAMPLE.search(path.name)
    return (int(m.group(1)), int(m.group(2))) if m else None
