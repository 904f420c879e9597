"""Training the DDSP autoencoder into a model folder: seeds, data order, checkpoints, resuming, logs.

`train(data_dir, out_dir, config="course")` trains ddsp's autoencoder
(`ttlib.models.autoencoder`) with ddsp's `Trainer` on a dataset built by
`ttlib.data`, through the course's one training loop (`ttlib.models.loop`), and
writes a model folder (`ttlib.models.checkpoint`). Notebook 06 and
`python -m ttlib train` both call it.

Reproducibility: `seed` fixes the initial weights, the filtered noise and the data
order. The batch of step k depends only on (seed, k) (`ttlib.data.BatchSampler`),
and the noise generator's state is in the checkpoint, so a run stopped at step k
and resumed sees the same batches and the same noise as an uninterrupted one: the
loss curve is the same.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import ttlib
from ttlib.core.errors import ConfigError, ModelError
from ttlib.core.io import read_csv, read_json, write_json
from ttlib.data.dataset import dataset_fingerprint, read_statistics
from ttlib.data.examples import BatchSampler, load_examples, validation_batch
from ttlib.data.features import loudness_db
from ttlib.models import checkpoint as ckpt
from ttlib.models.autoencoder import build_autoencoder, count_parameters
from ttlib.models.configs import ModelConfig, get_config
from ttlib.models.distribute import is_chief, make_strategy, split_batch_trainer_class
from ttlib.models.evaluation import held_out_loss
from ttlib.models.loop import run_loop, set_seed
from ttlib.synth.tones import harmonic_tone

if TYPE_CHECKING:
    import ddsp.training.trainers

LOSSES_FILE = "losses.csv"
VALIDATION_FILE = "validation.csv"
LOSSES_HEADER = ["step", "loss", "elapsed_s"]
VALIDATION_HEADER = ["step", "spectral_loss", "elapsed_s"]


def make_trainer(model, config: str | ModelConfig = "tiny", strategy=None) -> ddsp.training.trainers.Trainer:
    """ddsp's `Trainer` for `model` with the optimiser settings of `config`.

    strategy: a `tf.distribute` strategy other than the default: the trainer is then
    `ttlib.models.distribute`'s `SplitBatchTrainer` (the global batch split across replicas).
    """
    import tensorflow as tf
    from ddsp.training import trainers

    cfg = get_config(config)
    kind = trainers.Trainer if strategy is None else split_batch_trainer_class()
    return kind(model, strategy or tf.distribute.get_strategy(), learning_rate=cfg.learning_rate,
                lr_decay_steps=10000, lr_decay_rate=0.98, grad_clip_norm=3.0)


def synthetic_batch(config: str | ModelConfig = "tiny", seed: int = 0) -> dict:
    """A batch of ddsp harmonic tones with their exact f0 and computed loudness.

    Each example is a steady tone at a random pitch between 200 and 800 Hz. Used by
    the set-up check to run a training step without any dataset.

    Returns:
      {"audio": [batch, n_samples], "f0_hz": [batch, n_frames],
       "loudness_db": [batch, n_frames]}, float32 NumPy arrays.
    """
    cfg = get_config(config)
    rng = np.random.default_rng(seed)
    f0s = rng.uniform(200.0, 800.0, size=cfg.batch_size).astype(np.float32)
    audio = np.stack([harmonic_tone(f, cfg.example_seconds, sample_rate=cfg.sample_rate,
                                    frame_rate=cfg.frame_rate)[:cfg.n_samples] for f in f0s])
    loudness = np.stack([loudness_db(a, cfg.sample_rate, cfg.frame_rate)[:cfg.n_frames] for a in audio])
    return {"audio": audio.astype(np.float32), "f0_hz": np.repeat(f0s[:, None], cfg.n_frames, axis=1),
            "loudness_db": loudness.astype(np.float32)}


def train_steps(trainer, batch: dict, n_steps: int = 1) -> list[float]:
    """Run `n_steps` optimiser steps of `trainer` on one `batch`.

    Returns:
      The total loss of each step, a list of `n_steps` floats.
    """
    import tensorflow as tf

    tensors = {k: tf.convert_to_tensor(v) for k, v in batch.items()}
    return [float(trainer.train_step(tensors)["total_loss"]) for _ in range(n_steps)]


@dataclass
class TrainResult:
    """What a call of `train` did.

    Attributes:
      model_dir: the model folder.
      step: the last completed step (saved in a checkpoint).
      losses: [(step, training loss)] of the steps run in this call.
      validation: [(step, held-out spectral loss)] measured in this call.
      seconds: wall time of this call (s).
      interrupted: the run was stopped (Ctrl-C, the notebook's stop button) and saved.
      audio_seconds_per_second: training throughput of this call.
    """

    model_dir: Path
    step: int
    losses: list = field(default_factory=list)
    validation: list = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    audio_seconds_per_second: float = 0.0


def versions() -> dict:
    """Versions of what a run depends on (for its run log)."""
    import ddsp
    import tensorflow as tf

    return {"ttlib": ttlib.__version__, "ddsp": ddsp.__version__, "tensorflow": tf.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0], "platform": platform.platform()}


def read_losses(model_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The training loss curve of a model folder: (steps [n], losses [n])."""
    rows = read_csv(Path(model_dir) / LOSSES_FILE)
    return np.array([int(r["step"]) for r in rows], int), np.array([float(r["loss"]) for r in rows])


def read_validation(model_dir: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """The held-out spectral loss measured during training: (steps [n], losses [n])."""
    rows = read_csv(Path(model_dir) / VALIDATION_FILE)
    return np.array([int(r["step"]) for r in rows], int), np.array([float(r["spectral_loss"]) for r in rows])


def _append_row(path: Path, header: list[str], row: list) -> None:
    new = not path.is_file()
    with open(path, "a", newline="") as f:
        if new:
            f.write(",".join(header) + "\n")
        f.write(",".join(row) + "\n")


def _keep_rows_up_to(path: Path, step: int, header: list[str]) -> None:
    """Drop rows after `step` (logged after the last checkpoint of an interrupted run)."""
    if not path.is_file():
        return
    rows = [r for r in read_csv(path) if int(r["step"]) <= step]
    with open(path, "w", newline="") as f:
        f.write(",".join(header) + "\n")
        for r in rows:
            f.write(",".join(r[h] for h in header) + "\n")


def _prepare_folder(out_dir: Path, config, resume: bool, fingerprint: dict, data_dir: Path):
    """(configuration, run log so far, checkpoint to resume from or None) for a call of `train`.

    Refuses a folder that holds anything but the run being resumed.
    """
    existing = ckpt.latest_checkpoint(out_dir) if out_dir.is_dir() else None
    if resume and existing is not None:
        found = ckpt.check_model_folder(out_dir)
        if found.info.get("dataset", {}).get("imported_from_ddsp"):
            source = found.info["dataset"]["imported_from_ddsp"]
            raise ModelError(f"{out_dir} was imported from ddsp's trainer ({source}); the course's trainer does not "
                             "continue it (the optimiser's state stayed with ddsp). "
                             "Train on in ddsp and import again, or train a course model into a new folder.")
        if found.info.get("weights_only"):
            raise ModelError(f"{out_dir} holds the weights of a trained model only (a shipped model, without the "
                             "optimiser's state): it cannot be resumed. Train a new model into a new folder.")
        if config is not None and get_config(config) != found.config:
            raise ModelError(f"{out_dir} was trained with configuration {found.config.name!r}; resuming must "
                             f"use the same one (given {get_config(config).name!r} with other settings). "
                             "Leave --config out to use the saved one, or train into a new folder.")
        if found.info.get("dataset", {}).get("train_sha256") != fingerprint["train_sha256"]:
            raise ModelError(f"{out_dir} was trained on {found.info.get('dataset', {}).get('path')} "
                             f"(another training set than {data_dir}). Resume with the same --data, "
                             "or train a new model into a new folder.")
        run_log = read_json(out_dir / ckpt.RUN_FILE) if (out_dir / ckpt.RUN_FILE).is_file() else {}
        return found.config, run_log, existing
    if resume and (out_dir / ckpt.MODEL_FILE).is_file() and not (out_dir / ckpt.CHECKPOINT_DIR).is_dir():
        # a run of ours stopped before its first checkpoint: nothing to continue, start it again
        cfg = get_config(config if config is not None else read_json(out_dir / ckpt.MODEL_FILE)["config_name"])
        for name in (LOSSES_FILE, VALIDATION_FILE, ckpt.RUN_FILE):
            (out_dir / name).unlink(missing_ok=True)
        return cfg, {}, None
    if existing is not None or (out_dir.is_dir() and any(out_dir.iterdir())):
        what = f"a trained model (step {ckpt.checkpoint_step(existing)})" if existing else "other files"
        raise ModelError(f"{out_dir} already holds {what}. Pass resume=True (--resume) to continue "
                         "training it, or choose a new output folder; nothing was overwritten.")
    return get_config(config if config is not None else "course"), {}, None


def train(data_dir: str | os.PathLike, out_dir: str | os.PathLike, config: str | ModelConfig | None = "course",
          steps: int | None = None, seed: int = 0, resume: bool = False, checkpoint_every: int = 100,
          validate_every: int | None = None, validation_examples: int = 16, progress: bool = True,
          tensorboard: bool = True, stop_after_seconds: float | None = None, strategy: str = "default",
          start_from: str | os.PathLike | None = None) -> TrainResult:
    """Train a DDSP autoencoder on a dataset and save it as a model folder.

    Args:
      data_dir: a dataset folder from `ttlib.data.build_dataset`.
      out_dir: the model folder to write (see `ttlib.models.checkpoint`). It must be new or
        empty unless `resume`.
      config: a configuration name (`ttlib.models.CONFIGS`) or a `ModelConfig`.
        When resuming, None or the same configuration.
      steps: train until this many steps in total (None: the configuration's
        `train_steps`). Resuming continues from the last checkpoint up to `steps`.
      seed: seed of the initial weights, the noise and the data order.
      resume: continue the run saved in `out_dir`.
      checkpoint_every: save a checkpoint every this many steps (and at the end,
        and when interrupted).
      validate_every: measure the held-out spectral loss every this many steps
        (None: at every checkpoint).
      validation_examples: how many validation examples that measure uses.
      progress: show a progress bar.
      tensorboard: write TensorBoard logs to `out_dir/tensorboard`.
      stop_after_seconds: stop (saving a checkpoint) after this much wall time, as
        if interrupted; resume later with `resume=True`.
      strategy: "default" (one device), "mirrored", "multiworker" or "tpu"
        (`ttlib.models.distribute`): the global batch split across the replicas.
      start_from: a model folder whose weights a new run starts from instead of the seed's
        (fine-tuning: a model of the same architecture; the optimiser starts afresh, at step 0).
        Recorded in the run log; ignored when resuming (the run's own checkpoint continues).

    Returns:
      A `TrainResult`. Ctrl-C (or the notebook's stop button) saves a checkpoint
      and returns with `interrupted=True` instead of losing the steps.

    Raises:
      ModelError: `out_dir` holds another run (without `resume`), or its configuration
        or data differ from this call's.
      DatasetError: `data_dir` is not a usable dataset.
      TrainingDivergedError: the loss became NaN or infinite (the last checkpoint is kept).
    """
    import tensorflow as tf

    out_dir, data_dir = Path(out_dir), Path(data_dir)
    distributed = None if strategy == "default" else make_strategy(strategy)   # before any other TensorFlow op
    model_dir, worker_dir = out_dir, None
    if distributed is not None and not is_chief(distributed):
        # another worker of a multi-worker run: it takes part in every step and every save, but writes into a
        # folder of its own, removed at the end; the chief writes the model folder (as TensorFlow's guide says)
        worker_dir = Path(tempfile.mkdtemp(prefix="ttlib-worker-"))
        atexit.register(shutil.rmtree, worker_dir, True)                   # also when this process fails
        out_dir = worker_dir / out_dir.name
        if resume and model_dir.is_dir():
            shutil.copytree(model_dir, out_dir)
    fingerprint = dataset_fingerprint(data_dir)
    statistics = read_statistics(data_dir)
    cfg, run_log, existing = _prepare_folder(out_dir, config, resume, fingerprint, data_dir)
    seed = run_log.get("seed", seed)
    steps = cfg.train_steps if steps is None else int(steps)
    if steps < 1:
        raise ConfigError(f"steps must be at least 1, not {steps}.")

    examples = load_examples(data_dir, "train")
    sampler = BatchSampler(examples, cfg.example_seconds, cfg.batch_size, seed)
    held_out = None
    if validation_examples > 0 and fingerprint["examples"].get("validation", 0) > 0:
        held_out = validation_batch(load_examples(data_dir, "validation", validation_examples),
                                    cfg.example_seconds, validation_examples)


    def scope():
        return distributed.scope() if distributed is not None else contextlib.nullcontext()

    set_seed(seed)
    with scope():
        model = build_autoencoder(cfg, seed=seed)
        trainer = make_trainer(model, cfg, distributed)
        model({k: tf.convert_to_tensor(v) for k, v in sampler.batch(0).items()}, training=False)  # build
    checkpoint = ckpt.checkpoint_object(model, trainer.optimizer, cfg)     # (its string variable: not distributed)
    manager = ckpt.checkpoint_manager(checkpoint, out_dir)
    start_step, restored = 0, None
    if existing is not None:
        try:
            with scope():
                restored = checkpoint.restore(existing).assert_existing_objects_matched()
        except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
            raise ModelError(f"Cannot resume from {existing}: {str(exc).splitlines()[0][:300]}. The "
                             "checkpoint is damaged or from another model; delete it to fall back to the "
                             "previous one, or train into a new folder.") from None
        start_step = ckpt.checkpoint_step(existing)
        if start_from is not None:
            print(f"{out_dir} resumes its own run from step {start_step}; start_from ({start_from}) is used only "
                  "when a run begins, so it is ignored.")
        if int(trainer.step.numpy()) != start_step:
            raise ModelError(f"{existing} holds optimiser step {int(trainer.step.numpy())}, not {start_step}.")
        _keep_rows_up_to(out_dir / LOSSES_FILE, start_step, LOSSES_HEADER)
        _keep_rows_up_to(out_dir / VALIDATION_FILE, start_step, VALIDATION_HEADER)
    else:
        started_from = _restore_weights(model, start_from, scope) if start_from is not None else None
        out_dir.mkdir(parents=True, exist_ok=True)
        ckpt.write_model_files(out_dir, cfg, statistics, fingerprint, 0)
        run_log = {"config": json.loads(cfg.to_json()), "config_name": cfg.name, "seed": seed,
                   "data": fingerprint, "versions": versions(), "sessions": [],
                   "parameters": count_parameters(model)}
        if started_from is not None:
            run_log["started_from"] = started_from

    result = TrainResult(out_dir, start_step)
    if start_step >= steps:
        print(f"{out_dir} is already trained to step {start_step} (asked for {steps}); nothing to do.")
        if restored is not None:
            restored.expect_partial()             # the optimiser's slots, made at a first step that never comes
        return result
    previous_seconds = sum(s.get("seconds", 0.0) for s in run_log.get("sessions", []))
    session = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "from_step": start_step, "versions": versions(),
               "strategy": strategy, "replicas": trainer.strategy.num_replicas_in_sync}
    writer = tf.summary.create_file_writer(str(out_dir / "tensorboard")) if tensorboard else None
    t0 = time.perf_counter()

    def log(step: int, losses: dict, elapsed: float) -> None:
        loss = losses["total_loss"]
        _append_row(out_dir / LOSSES_FILE, LOSSES_HEADER,
                    [str(step), f"{loss:.6f}", f"{previous_seconds + elapsed:.2f}"])
        if writer is not None and np.isfinite(loss):
            with writer.as_default():
                tf.summary.scalar("loss/train", loss, step=step)

    def validate(step: int) -> None:
        value = held_out_loss(model, held_out)
        result.validation.append((step, value))
        _append_row(out_dir / VALIDATION_FILE, VALIDATION_HEADER,
                    [str(step), f"{value:.6f}", f"{previous_seconds + time.perf_counter() - t0:.2f}"])
        if writer is not None:
            with writer.as_default():
                tf.summary.scalar("loss/validation_spectral", value, step=step)

    def save(step: int) -> None:
        manager.save(checkpoint_number=step)
        ckpt.write_model_files(out_dir, cfg, statistics, fingerprint, step)

    loop = None
    try:
        step_fn = (trainer.train_step if distributed is not None else
                   lambda batch: trainer.train_step({k: tf.convert_to_tensor(v) for k, v in batch.items()}))
        loop = run_loop(step_fn,
                        sampler.batch, start_step, steps, log=log,
                        validate=validate if held_out is not None else None,
                        validate_every=validate_every or checkpoint_every, save=save,
                        checkpoint_every=checkpoint_every, applied_steps=lambda: int(trainer.step.numpy()),
                        stop_after_seconds=stop_after_seconds, desc=f"training {cfg.name}", progress=progress)
        result.step, result.interrupted = loop.saved_step, loop.interrupted
        result.losses = [(s, v["total_loss"]) for s, v in loop.losses]
        if loop.interrupted:
            print(f"\nTraining stopped at step {loop.saved_step} of {steps}; checkpoint saved in {out_dir}. "
                  f"Continue with resume=True (python -m ttlib train ... --out {out_dir} --resume).")
    finally:
        if writer is not None:
            writer.flush()
        result.seconds = loop.seconds if loop is not None else time.perf_counter() - t0
        steps_run = result.step - start_step
        result.audio_seconds_per_second = (steps_run * cfg.batch_size * cfg.example_seconds / result.seconds
                                           if result.seconds > 0 else 0.0)
        session.update({"to_step": result.step, "seconds": round(result.seconds, 2),
                        "interrupted": result.interrupted,
                        "audio_seconds_per_second": round(result.audio_seconds_per_second, 2)})
        _finish_run_log(out_dir, run_log, session, result.step, previous_seconds + result.seconds)
        if worker_dir is not None:
            shutil.rmtree(worker_dir, ignore_errors=True)
            result.model_dir = model_dir
    return result


def _restore_weights(model, folder: str | os.PathLike, scope) -> dict:
    """Load the weights of the model folder `folder` into the built `model` (`train`'s `start_from`);
    returns what the run log records of it."""
    import tensorflow as tf

    if not Path(folder).is_dir():
        raise ModelError(f"Cannot start from {folder}: there is no model folder there. Give the folder a trained "
                         "model was saved in, or a shipped model's name (`python -m ttlib models list`).")
    found = ckpt.check_model_folder(folder)
    try:
        with scope():
            tf.train.Checkpoint(model=model).restore(found.checkpoint).expect_partial().assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
        why = str(exc).splitlines()[0][:300].rstrip(".")
        raise ModelError(f"Cannot start from {folder}: {why}. Its model has another architecture "
                         f"({found.config.name!r}); start from a model of this configuration.") from None
    return {"model": Path(folder).name, "config_name": found.config.name, "step": found.step,
            "train_sha256": found.info.get("dataset", {}).get("train_sha256")}


def _finish_run_log(out_dir: Path, run_log: dict, session: dict, step: int, wall_seconds: float) -> None:
    """Add this session and the final figures to the run log (`run.json`)."""
    run_log.setdefault("sessions", []).append(session)
    run_log["step"] = step
    run_log["wall_seconds"] = round(wall_seconds, 2)
    _, losses_logged = read_losses(out_dir)
    final = {"train_loss_last_50": float(np.mean(losses_logged[-50:])) if losses_logged.size else None}
    v_steps, v_losses = read_validation(out_dir)
    if v_losses.size:
        final["validation_spectral_loss"] = float(v_losses[-1])
        final["validation_step"] = int(v_steps[-1])
    run_log["final"] = final
    if out_dir.is_dir():
        write_json(out_dir / ckpt.RUN_FILE, run_log)
