"""The one training loop of the course: steps, logs, checkpoints, Ctrl-C, resuming.

Every model of the course trains through `run_loop`: the DDSP autoencoder
(`ttlib.models.training.train`, notebook 06) and the learned-encoder experiment's
two stages (`ttlib.experiments.learned_encoder.training`, notebook 08). The loop
knows nothing about models; it is given

  - `step_fn(batch) -> {name: loss}`: one optimiser step (the caller's model, loss,
    optimiser and which variables train);
  - `batch_fn(step) -> batch`: the batch of step k (from the seed and k alone, so a
    resumed run sees the batches an uninterrupted one would);
  - optional `log`, `validate` and `save` callbacks, called after each step, every
    `validate_every` steps and every `checkpoint_every` steps (and at the last step).

Ctrl-C (a notebook's stop button) finishes the current step, saves, and returns with
`interrupted=True`; a second Ctrl-C stops at once. A NaN or infinite loss stops
training with `TrainingDivergedError`, keeping the last checkpoint.
"""
from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ttlib.core.errors import TrainingDivergedError


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow, and make TensorFlow's ops deterministic.

    The same seed on the same machine then gives the same initial weights, the
    same data order and the same loss curve.
    """
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)
    try:
        tf.config.experimental.enable_op_determinism()
    except (AttributeError, RuntimeError):  # pragma: no cover - older TF or already running
        pass


@dataclass
class LoopResult:
    """What a call of `run_loop` did.

    Attributes:
      step: the last completed step (steps are numbered from 1).
      saved_step: the last step saved by `save` (the starting step if none was).
      losses: [(step, {name: loss})] of the steps run in this call.
      seconds: wall time of this call (s).
      interrupted: stopped early (Ctrl-C, or `stop_after_seconds`).
    """

    step: int
    saved_step: int
    losses: list = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False


def run_loop(step_fn: Callable[[dict], dict], batch_fn: Callable[[int], dict], start_step: int, end_step: int, *,
             loss_key: str = "total_loss", log: Callable[[int, dict, float], None] | None = None,
             validate: Callable[[int], None] | None = None, validate_every: int | None = None,
             save: Callable[[int], None] | None = None, checkpoint_every: int | None = None,
             applied_steps: Callable[[], int] | None = None, stop_after_seconds: float | None = None,
             desc: str = "training", progress: bool = True) -> LoopResult:
    """Train from step `start_step` to `end_step` (steps done so far -> steps wanted in all).

    Args:
      step_fn: runs one optimiser step on a batch; returns scalar losses by name
        (tensors or floats), among them `loss_key`.
      batch_fn: the batch of a step, from its 0-based index.
      log: called after every step with (step, {name: float}, seconds since this call started).
      validate: called with the step every `validate_every` steps, at the last step, and
        before the first step of a run that starts at 0.
      save: called with the step every `checkpoint_every` steps, at the last step, and when
        interrupted (a checkpoint).
      applied_steps: how many steps the optimiser has applied; lets a second Ctrl-C that
        arrives after TensorFlow finished a step keep that step.
      stop_after_seconds: stop (as if interrupted, saving) after this much wall time.
      desc: the progress bar's text.

    Returns:
      A `LoopResult`.

    Raises:
      TrainingDivergedError: the loss became NaN or infinite (the last save is kept).
    """
    result = LoopResult(step=start_step, saved_step=start_step)
    step = start_step
    t0 = time.perf_counter()
    stop_requested = []

    def on_interrupt(signum, frame):
        if stop_requested:
            raise KeyboardInterrupt
        stop_requested.append(True)
        print("\nStopping after this step (press again to stop at once) ...", flush=True)

    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGINT, on_interrupt)
    bar = None
    if progress and start_step < end_step:
        from tqdm.auto import tqdm

        bar = tqdm(total=end_step, initial=start_step, desc=desc, unit="step")

    def checkpoint(step_done: int) -> None:
        if save is not None and step_done > result.saved_step:
            save(step_done)
            result.saved_step = step_done

    try:
        if validate is not None and start_step == 0:
            validate(0)
        while step < end_step:
            losses = {k: float(v) for k, v in step_fn(batch_fn(step)).items()}
            loss = losses[loss_key]
            if not np.isfinite(loss):
                kept = (f"The last checkpoint (step {result.saved_step}) is kept; lower the learning rate or check "
                        "the data for silence or NaN, then resume." if save is not None else
                        "Lower the learning rate or check the data for silence or NaN.")
                raise TrainingDivergedError(f"{desc}: the training loss became {loss} at step {step + 1}. {kept}")
            step += 1
            result.step = step
            result.losses.append((step, losses))
            if log is not None:
                log(step, losses, time.perf_counter() - t0)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.3f}")
            if validate is not None and validate_every and (step % validate_every == 0 or step == end_step):
                validate(step)
            if checkpoint_every and (step % checkpoint_every == 0 or step == end_step):
                checkpoint(step)
            if step < end_step and (stop_requested or (stop_after_seconds is not None
                                                       and time.perf_counter() - t0 >= stop_after_seconds)):
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        result.interrupted = True
        applied = applied_steps() if applied_steps is not None else step
        if applied > step:              # stopped at once inside a step that TensorFlow had finished
            step = result.step = applied
            if log is not None:
                log(step, {loss_key: float("nan")}, time.perf_counter() - t0)
        checkpoint(step)
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        if bar is not None:
            bar.close()
        result.seconds = time.perf_counter() - t0
    return result
