"""The trainer as a process: its own process group (so a stop reaches every child), its
output followed into progress, the loss read as sd-scripts prints it, and the watchdogs."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import trainer
from .config import WorkerConfig
from .errors import JobError, Stopped

Progress = Callable[[dict[str, Any]], None]
#: sd-scripts' sampling log line (library/train_util.py sample_images_common)
SAMPLING_LINE = "generating sample images at step"


@dataclass
class RunState:
    """What a stop must reach: the stop flag and the trainer's process."""

    stop: threading.Event = field(default_factory=threading.Event)
    proc: subprocess.Popen[str] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    why: str = ""

    def request_stop(self, why: str = "stopped") -> None:
        with self.lock:
            if not self.stop.is_set():
                self.why = why
            self.stop.set()
            proc = self.proc
        if proc is not None:
            terminate(proc)

    def check(self) -> None:
        if self.stop.is_set():
            raise Stopped(self.why or "stopped")


def terminate(proc: subprocess.Popen[str], grace_s: float = 3.0) -> None:
    """SIGTERM the trainer's process group now and SIGKILL it ``grace_s`` later if alive."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def _kill() -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    threading.Timer(grace_s, _kill).start()


def train(cmd: list[str], total: int, progress: Progress, state: RunState,
           config: WorkerConfig) -> list[list[float]]:
    """Run the trainer in its own process group; stream its progress; [step, loss] points."""
    state.check()
    progress({"stage": "training", "progress": 0.0, "step": 0, "total_steps": total,
              "message": "starting the trainer"})
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    with state.lock:
        state.check()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, bufsize=1, env=env, start_new_session=True,
                                errors="replace")
        state.proc = proc
    timer = threading.Timer(config.max_train_s, lambda: state.request_stop(
        f"the trainer ran past the worker's limit of {config.max_train_s:.0f} s"))
    timer.daemon = True
    timer.start()
    assert proc.stdout is not None
    try:
        return _follow(proc, total, progress, state, config)
    finally:  # a trainer left behind (an error here) is stopped, its group with it
        timer.cancel()
        if proc.poll() is None:
            terminate(proc, grace_s=0.5)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        proc.stdout.close()


def _follow(proc: subprocess.Popen[str], total: int, progress: Progress, state: RunState,
            config: WorkerConfig) -> list[list[float]]:
    """The trainer's output as progress, until it exits; its [step, loss] points (the last
    line of each step: sd-scripts prints a step first with the previous step's loss)."""
    assert proc.stdout is not None
    loss: list[list[float]] = []
    tail: list[str] = []
    last_sent = 0.0
    sampling = False
    flat_window = max(config.flat_min_steps, int(total * config.flat_fraction))
    for raw in _lines(proc.stdout):
        line = raw.strip()
        tail = (tail + [line])[-20:]
        if SAMPLING_LINE in line:
            sampling = True
            progress({"stage": "sampling", "progress": min(1.0, (loss[-1][0] if loss else 0)
                                                           / total),
                      "message": "rendering sample images"})
            continue
        step = trainer.parse_step(line)
        if step is None:
            continue
        if step.loss is not None:
            if not math.isfinite(step.loss):
                state.request_stop("loss")
                raise JobError(f"the loss became {step.loss} at step {step.step}: training "
                               "diverged; lower the learning rate (stopped, nothing uploaded)")
            if loss and loss[-1][0] == step.step:
                loss[-1][1] = step.loss  # the step's last line wins
            else:
                loss.append([step.step, step.loss])
            flat_since = _flat_since(loss, flat_window)
            if flat_since is not None:
                state.request_stop("flat")
                raise JobError(f"the loss has not moved since step {flat_since} "
                               f"({loss[-1][1]}, {loss[-1][0] - flat_since} steps): the LoRA "
                               "is not learning; check the learning rate and the images "
                               "(stopped, nothing uploaded)")
        now = time.monotonic()
        if sampling or now - last_sent >= 1.0 or step.step == step.total:
            sampling, last_sent = False, now
            progress({"stage": "training", "progress": round(step.step / max(1, step.total), 4),
                      "step": step.step, "total_steps": step.total, "eta_s": step.eta_s,
                      "loss": step.loss if trainer.finite(step.loss) else None,
                      "message": f"step {step.step} / {step.total}"})
    code = proc.wait()
    state.check()
    if code != 0:
        last = [t for t in tail if t][-3:]
        raise JobError(f"the trainer exited with {code}: " + " | ".join(last)[-400:])
    return loss


def _flat_since(loss: list[list[float]], window: int) -> int | None:
    """The step since which the loss has not changed, if that is ``window`` steps or more."""
    if len(loss) < 2 or loss[-1][0] < window:
        return None
    value = loss[-1][1]
    since = int(loss[-1][0])
    for step, v in reversed(loss):
        if v != value:
            break
        since = int(step)
    return since if loss[-1][0] - since >= window else None


def _lines(stream: Any) -> Any:
    """Lines of the trainer's output; tqdm ends its updates with \\r, not \\n."""
    buf = ""
    while True:
        chunk = stream.read(1)
        if not chunk:
            if buf:
                yield buf
            return
        if chunk in "\r\n":
            if buf:
                yield buf
            buf = ""
        else:
            buf += chunk
