"""A stand-in for sd-scripts on CPU: same flags, same output, in sd-scripts' order.

What sd-scripts v0.10.1 prints (train_network.py's training loop, library/train_util.py):
- with ``--sample_at_first``, before the first step, the sampling log line and the step-0
  samples;
- a tqdm bar ``steps`` (``desc="steps"``, on stderr as tqdm draws); each step draws it twice:
  ``progress_bar.update(1)`` with the previous step's ``avr_loss`` (none at step 1), then
  ``set_postfix(avr_loss=...)`` with this step's; sampling at a checkpoint happens between the two;
- ``avr_loss`` is the moving average of the step losses (``LossRecorder``);
- sample files ``{output_name}_{step:06d}_{prompt:02d}_{timestamp}.png``; the LoRA
  ``{output_name}.safetensors``.

It checks what the real trainer would: the model files named exist, the dataset has an image
and a caption each. Environment knobs: ``FAKE_TRAINER_FAIL=1`` exits 1 halfway as a CUDA
out-of-memory would; ``FAKE_TRAINER_NAN_AT=N`` makes the loss NaN from step N;
``FAKE_TRAINER_FLAT=1`` keeps it constant; ``FAKE_TRAINER_STEP_S`` sleeps per step;
``FAKE_TRAINER_PIDFILE`` records its pid; ``FAKE_TRAINER_LOSSES`` writes each step's true
average loss (one per line) for a test to compare.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm


def command(params: dict[str, Any], dataset: Path, out: Path, name: str,
            prompts: Path | None, every: int, python: str, **kw: Any) -> list[str]:
    """sd-scripts' real command line (worker/trainer.py), run by this stand-in instead of the
    real script: the handler's ``trainer_cmd``."""
    from worker import trainer

    real = trainer.command(params, dataset, out, name, prompts, every, python, **kw)
    assert real[1].endswith(trainer.SCRIPTS[params["base_model"]])
    return [python, str(Path(__file__).resolve()), *real[2:]]


def main(argv: list[str]) -> int:
    args = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    if os.environ.get("FAKE_TRAINER_PIDFILE"):
        Path(os.environ["FAKE_TRAINER_PIDFILE"]).write_text(str(os.getpid()))
    for flag in ("pretrained_model_name_or_path", "clip_l", "t5xxl", "ae"):
        if flag in args and not Path(args[flag]).is_file():
            print(f"FileNotFoundError: {args[flag]}", flush=True)
            return 1
    if os.environ.get("HF_HUB_OFFLINE") != "1":
        print("the hub would be reached: HF_HUB_OFFLINE is not 1", flush=True)
        return 1
    data, out = Path(args["train_data_dir"]), Path(args["output_dir"])
    images = sorted(data.glob("*/*.png"))
    captions = sorted(data.glob("*/*.txt"))
    assert images and len(images) == len(captions), "dataset without images or captions"
    steps = int(args["max_train_steps"])
    every = int(args.get("sample_every_n_steps", 0) or 0)
    prompts = json.loads(Path(args["sample_prompts"]).read_text()) \
        if "sample_prompts" in args else []
    name = args["output_name"]
    step_s = float(os.environ.get("FAKE_TRAINER_STEP_S", "0.002"))
    nan_at = int(os.environ.get("FAKE_TRAINER_NAN_AT", "0") or 0)
    flat = bool(os.environ.get("FAKE_TRAINER_FLAT"))
    losses_file = os.environ.get("FAKE_TRAINER_LOSSES")
    (out / "sample").mkdir(parents=True, exist_ok=True)
    print(f"found {len(images)} images, {steps} steps", flush=True)

    def sample(step: int) -> None:
        print(f"INFO     generating sample images at step / サンプル画像生成 ステップ: {step}"
              "    train_util.py:6394", file=sys.stderr, flush=True)
        for i, _ in enumerate(prompts):
            png = out / "sample" / f"{name}_{step:06d}_{i:02d}_20261122143100_42.png"
            png.write_bytes(_tiny_png(step + i))

    if "--sample_at_first" in argv and prompts:
        sample(0)
    bar = tqdm(range(steps), smoothing=0, desc="steps", file=sys.stderr, mininterval=0,
               ascii=False)
    recorded: list[float] = []
    averages: list[float] = []
    for step in range(1, steps + 1):
        if os.environ.get("FAKE_TRAINER_FAIL") and step > steps // 2:
            print("\ntorch.cuda.OutOfMemoryError: CUDA out of memory", flush=True)
            return 1
        time.sleep(step_s)
        current = 0.125 if flat else 0.2 / (1 + step / 10) + 0.01 * ((step * 7919) % 5)
        if nan_at and step >= nan_at:
            current = float("nan")
        bar.update(1)  # drawn with the previous step's avr_loss
        if every and step % every == 0 and prompts:
            sample(step)
        recorded.append(current)
        avr = sum(recorded) / len(recorded)
        averages.append(avr)
        bar.set_postfix(avr_loss=avr)  # drawn again with this step's
    bar.close()
    if losses_file:
        Path(losses_file).write_text("".join(f"{bar.format_num(a)}\n" for a in averages))
    print("saving checkpoint", flush=True)
    # a safetensors file whose metadata carries what sd-scripts writes from these flags
    # (train_network.py ss_* keys; library/sai_model_spec.py modelspec.* keys)
    meta = {"ss_output_name": name, "ss_training_comment": args.get("training_comment", ""),
            "modelspec.title": args.get("metadata_title", ""),
            "modelspec.description": args.get("metadata_description", ""),
            "modelspec.trigger_phrase": args.get("metadata_trigger_phrase", "")}
    header = json.dumps({"__metadata__": meta, "lora_unet_x.alpha": {
        "dtype": "F16", "shape": [], "data_offsets": [0, 2]}}).encode()
    header += b" " * (-len(header) % 8)
    (out / f"{name}.safetensors").write_bytes(len(header).to_bytes(8, "little") + header
                                             + b"\x00\x3c")
    return 0


def _tiny_png(seed: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (seed * 40 % 256, 90, 140)).save(buf, format="PNG")
    return buf.getvalue()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
