"""A stand-in for sd-scripts on CPU: same flags, same progress bar, same output files.

It reads the dataset the worker wrote (images and captions), prints tqdm-style step lines with
``avr_loss``, renders "sample images" (small PNGs named as sd-scripts names them) every
``--sample_every_n_steps``, and writes ``{output_name}.safetensors``. ``FAKE_TRAINER_FAIL=1``
makes it exit 1 halfway, as a CUDA out-of-memory would.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    args = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    data, out = Path(args["train_data_dir"]), Path(args["output_dir"])
    images = sorted(data.glob("*/*.png"))
    captions = sorted(data.glob("*/*.txt"))
    assert images and len(images) == len(captions), "dataset without images or captions"
    steps = int(args["max_train_steps"])
    every = int(args.get("sample_every_n_steps", 0) or 0)
    prompts = Path(args["sample_prompts"]).read_text().splitlines() if "sample_prompts" in args \
        else []
    name = args["output_name"]
    (out / "sample").mkdir(parents=True, exist_ok=True)
    print(f"found {len(images)} images, {steps} steps", flush=True)
    for step in range(1, steps + 1):
        if os.environ.get("FAKE_TRAINER_FAIL") and step > steps // 2:
            print("torch.cuda.OutOfMemoryError: CUDA out of memory", flush=True)
            return 1
        loss = 0.2 / (1 + step / 10)
        left = steps - step
        sys.stdout.write(f"\rsteps: {100 * step // steps:3d}%|##| {step}/{steps} "
                         f"[00:{step // 60:02d}<00:{left // 60:02d}:{left % 60:02d}, "
                         f"9.99it/s, avr_loss={loss:.4f}]")
        sys.stdout.flush()
        if every and step % every == 0:
            print("\ngenerating sample images at step / サンプル画像生成 ステップ: "
                  f"{step}", flush=True)
            for i, _ in enumerate(prompts):
                png = out / "sample" / f"{name}_{step:06d}_{i:02d}_20261122143100_42.png"
                png.write_bytes(_tiny_png(step + i))
        time.sleep(0.002)
    print("\nsaving checkpoint", flush=True)
    (out / f"{name}.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      "
                                             + bytes(range(256)) * 4)
    return 0


def _tiny_png(seed: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (seed * 40 % 256, 90, 140)).save(buf, format="PNG")
    return buf.getvalue()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
