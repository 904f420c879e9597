"""Training DDSP autoencoders: seeds, data order, checkpoints, resuming, logs.

`train(data_dir, out_dir, config="course")` trains ddsp's autoencoder (see
`ttlib.models`) with ddsp's `Trainer` on a dataset built by `ttlib.data`, and
writes a model folder (see `ttlib.checkpoint`). The notebook and
`python -m ttlib train` both call it.

Reproducibility: `seed` fixes the initial weights, the filtered noise and the data
order. The batch of step k depends only on (seed, k): each epoch is a seeded
permutation of the training examples, and each example is cropped at a seeded
offset when the model's examples are shorter than the dataset's. A run stopped
at step k and resumed therefore sees the same batches, and the same noise, as an
uninterrupted one: the loss curve is the same.

Shapes: a batch is a dict of `audio` [batch, n_samples], `f0_hz` [batch, frames]
and `loudness_db` [batch, frames] (frames at the dataset's frame rate).
"""
from __future__ import annotations

import csv
import json
import platform
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import ttlib  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from ttlib import checkpoint as ckpt
from ttlib.models import ModelConfig, get_config

LOSSES_FILE = "losses.csv"
VALIDATION_FILE = "validation.csv"


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


def make_trainer(model, config: str | ModelConfig = "tiny"):
    """ddsp's `Trainer` for `model` with the optimiser settings of `config`."""
    import tensorflow as tf
    from ddsp.training import trainers

    cfg = get_config(config)
    return trainers.Trainer(model, tf.distribute.get_strategy(), learning_rate=cfg.learning_rate,
                            lr_decay_steps=10000, lr_decay_rate=0.98, grad_clip_norm=3.0)


def synthetic_batch(config: str | ModelConfig = "tiny", seed: int = 0) -> dict:
    """A batch of ddsp harmonic tones with their exact f0 and computed loudness.

    Each example is a steady tone at a random pitch between 200 and 800 Hz. Used by
    the set-up check to run a training step without any dataset.

    Returns:
      {"audio": [batch, n_samples], "f0_hz": [batch, n_frames],
       "loudness_db": [batch, n_frames]}, float32 NumPy arrays.
    """
    import ddsp

    from ttlib.synth import harmonic_tone

    cfg = get_config(config)
    rng = np.random.default_rng(seed)
    f0s = rng.uniform(200.0, 800.0, size=cfg.batch_size).astype(np.float32)
    audio = np.stack([harmonic_tone(f, cfg.example_seconds, sample_rate=cfg.sample_rate,
                                    frame_rate=cfg.frame_rate)[:cfg.n_samples] for f in f0s])
    loudness = ddsp.spectral_ops.compute_loudness(audio, sample_rate=cfg.sample_rate,
                                                  frame_rate=cfg.frame_rate, use_tf=False)
    return {
        "audio": audio.astype(np.float32),
        "f0_hz": np.repeat(f0s[:, None], cfg.n_frames, axis=1),
        "loudness_db": np.asarray(loudness, np.float32)[:, :cfg.n_frames],
    }


def train_steps(trainer, batch: dict, n_steps: int = 1) -> list[float]:
    """Run `n_steps` optimiser steps of `trainer` on one `batch`.

    Returns:
      The total loss of each step, a list of `n_steps` floats.
    """
    import tensorflow as tf

    tensors = {k: tf.convert_to_tensor(v) for k, v in batch.items()}
    return [float(trainer.train_step(tensors)["total_loss"]) for _ in range(n_steps)]


# ----------------------------------------------------------------------------- data
@dataclass
class Examples:
    """The examples of one dataset split, in memory.

    Attributes:
      audio: [n, n_samples] float32 at `sample_rate`.
      f0_hz, f0_confidence, loudness_db: [n, n_frames] at `frame_rate`.
      f0_hz_truth: [n, n_frames] exact f0 (0 = silent) for built-in data, else None.
      recording_id: [n] the recording each example comes from.
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray
    recording_id: list
    frame_rate: float
    sample_rate: int
    f0_hz_truth: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.audio.shape[0])

    @property
    def seconds(self) -> float:
        """Length of one example (s)."""
        return self.audio.shape[1] / self.sample_rate

    @property
    def hop(self) -> int:
        """Audio samples per frame."""
        return int(round(self.sample_rate / self.frame_rate))

    def crop(self, index, start_frame: int, seconds: float) -> dict:
        """Features of examples `index` from `start_frame`, `seconds` long (model input dict)."""
        frames = int(round(seconds * self.frame_rate))
        samples = int(round(seconds * self.sample_rate))
        s0 = start_frame * self.hop
        return {"audio": self.audio[index, s0:s0 + samples],
                "f0_hz": self.f0_hz[index, start_frame:start_frame + frames],
                "loudness_db": self.loudness_db[index, start_frame:start_frame + frames]}


def load_examples(data_dir, split: str = "train", max_examples: int | None = None) -> Examples:
    """Read one split of a dataset folder (see `ttlib.data`) into memory.

    Raises:
      ttlib.data.DatasetError: not a dataset folder, or the split is empty.
    """
    import tensorflow as tf

    from ttlib import data

    manifest = data.read_manifest(data_dir)
    if split not in ("train", "validation"):
        raise data.DatasetError(f"split must be 'train' or 'validation', not {split!r}.")
    count = manifest["examples"].get(split, 0)
    if count == 0:
        raise data.DatasetError(f"{data_dir} has no {split} examples: rebuild it with more recordings "
                                "(a recording must be at least one example long).")
    n_samples, n_frames = int(manifest["example_samples"]), int(manifest["example_frames"])
    spec = {"audio": tf.io.FixedLenFeature([n_samples], tf.float32),
            "f0_hz": tf.io.FixedLenFeature([n_frames], tf.float32),
            "f0_confidence": tf.io.FixedLenFeature([n_frames], tf.float32),
            "loudness_db": tf.io.FixedLenFeature([n_frames], tf.float32),
            "recording_id": tf.io.FixedLenFeature([], tf.string, default_value=b""),
            "f0_hz_truth": tf.io.FixedLenFeature([n_frames], tf.float32, default_value=[-1.0] * n_frames)}
    records = tf.data.TFRecordDataset(str(Path(data_dir) / f"{split}.tfrecord"))
    if max_examples is not None:
        records = records.take(max_examples)
    columns = {k: [] for k in spec}
    try:
        for record in records.map(lambda r: tf.io.parse_single_example(r, spec)).as_numpy_iterator():
            for k in spec:
                columns[k].append(record[k])
    except tf.errors.OpError as exc:
        raise data.DatasetError(f"{data_dir}/{split}.tfrecord cannot be read ({type(exc).__name__}); the file is "
                                "damaged or from another format. Rebuild the dataset with --overwrite.") from None
    truth = np.stack(columns["f0_hz_truth"])
    return Examples(
        audio=np.stack(columns["audio"]), f0_hz=np.stack(columns["f0_hz"]),
        f0_confidence=np.stack(columns["f0_confidence"]), loudness_db=np.stack(columns["loudness_db"]),
        recording_id=[r.decode() for r in columns["recording_id"]],
        frame_rate=float(manifest["params"]["frame_rate"]), sample_rate=int(manifest["params"]["sample_rate"]),
        f0_hz_truth=None if (truth < 0).all() else truth)


class BatchSampler:
    """The batch of training step k, from (seed, k) alone.

    Example q = k * batch_size + j of the stream is position q mod n of the
    permutation of epoch q // n (seeded by (seed, epoch)); it is cropped to the
    model's example length at a frame offset seeded by (seed, q).
    """

    def __init__(self, examples: Examples, seconds: float, batch_size: int, seed: int):
        if seconds > examples.seconds + 1e-9:
            raise ValueError(f"The model wants {seconds:g} s examples but the dataset's are {examples.seconds:g} s; "
                             "build the dataset with longer examples or use a configuration with shorter ones.")
        self.examples, self.seconds, self.batch_size, self.seed = examples, seconds, batch_size, seed
        self.max_start = int(round((examples.seconds - seconds) * examples.frame_rate))
        self._perms = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch]).permutation(len(self.examples))}
        return self._perms[epoch]

    def indices(self, step: int) -> list[tuple[int, int]]:
        """(example index, start frame) of each example of step `step` (0-based)."""
        n = len(self.examples)
        out = []
        for q in range(step * self.batch_size, (step + 1) * self.batch_size):
            index = int(self._perm(q // n)[q % n])
            start = int(np.random.default_rng([self.seed, q, 1]).integers(0, self.max_start + 1)) if self.max_start else 0
            out.append((index, start))
        return out

    def batch(self, step: int) -> dict:
        """The batch of step `step` (0-based): float32 arrays, see the module's docstring."""
        parts = [self.examples.crop(i, s, self.seconds) for i, s in self.indices(step)]
        return {k: np.stack([p[k] for p in parts]).astype(np.float32) for k in parts[0]}


# ----------------------------------------------------------------------------- evaluation loss
def validation_batch(examples: Examples, seconds: float, max_examples: int) -> dict:
    """The first `seconds` of the first `max_examples` examples, as one batch."""
    n = min(len(examples), max_examples)
    parts = [examples.crop(i, 0, seconds) for i in range(n)]
    return {k: np.stack([p[k] for p in parts]).astype(np.float32) for k in parts[0]}


def held_out_loss(model, batch: dict) -> float:
    """The paper's multi-scale spectral loss (`models.EVAL_FFT_SIZES`) of the model's resynthesis of `batch`.

    Measuring does not change the training run (see `evaluation.resynthesize`).
    """
    from ttlib import evaluation

    return evaluation.spectral_loss(batch["audio"], evaluation.resynthesize(model, batch)["resynthesis"])


# ----------------------------------------------------------------------------- training
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
    """Versions of what a run depends on."""
    import ddsp
    import tensorflow as tf

    return {"ttlib": ttlib.__version__, "ddsp": ddsp.__version__, "tensorflow": tf.__version__,
            "numpy": np.__version__, "python": sys.version.split()[0], "platform": platform.platform()}


def dataset_fingerprint(data_dir) -> dict:
    """Where the data came from and the SHA-256 of its files (the run log's data hash)."""
    from ttlib import data

    data_dir = Path(data_dir)
    manifest = data.read_manifest(data_dir)
    return {"path": str(data_dir.resolve()), "source": manifest["params"]["source"],
            "examples": manifest["examples"],
            "train_sha256": ckpt.sha256_file(data_dir / "train.tfrecord"),
            "statistics_sha256": ckpt.sha256_file(data_dir / "statistics.json")}


def read_losses(model_dir) -> tuple[np.ndarray, np.ndarray]:
    """The training loss curve of a model folder: (steps [n], losses [n])."""
    rows = _read_csv(Path(model_dir) / LOSSES_FILE)
    return (np.array([int(r["step"]) for r in rows], int), np.array([float(r["loss"]) for r in rows]))


def read_validation(model_dir) -> tuple[np.ndarray, np.ndarray]:
    """The held-out spectral loss measured during training: (steps [n], losses [n])."""
    rows = _read_csv(Path(model_dir) / VALIDATION_FILE)
    return (np.array([int(r["step"]) for r in rows], int), np.array([float(r["spectral_loss"]) for r in rows]))


def _read_csv(path) -> list[dict]:
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _keep_rows_up_to(path, step: int, header: list[str]) -> None:
    """Drop rows after `step` (logged after the last checkpoint of an interrupted run)."""
    rows = [r for r in _read_csv(path) if int(r["step"]) <= step]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def train(data_dir, out_dir, config: str | ModelConfig = "course", steps: int | None = None, seed: int = 0,
          resume: bool = False, checkpoint_every: int = 100, validate_every: int | None = None,
          validation_examples: int = 16, progress: bool = True, tensorboard: bool = True,
          stop_after_seconds: float | None = None) -> TrainResult:
    """Train a DDSP autoencoder on a dataset and save it as a model folder.

    Args:
      data_dir: a dataset folder from `ttlib.data.build_dataset`.
      out_dir: the model folder to write (see `ttlib.checkpoint`). It must be new or
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

    Returns:
      A `TrainResult`. Ctrl-C (or the notebook's stop button) saves a checkpoint
      and returns with `interrupted=True` instead of losing the steps.

    Raises:
      ttlib.checkpoint.ModelError: `out_dir` holds another run (without `resume`),
        or its configuration or data differ from this call's.
      ttlib.data.DatasetError: `data_dir` is not a usable dataset.
    """
    import tensorflow as tf

    from ttlib import data, models

    out_dir = Path(out_dir)
    data_dir = Path(data_dir)
    fingerprint = dataset_fingerprint(data_dir)
    statistics = data.read_statistics(data_dir)
    existing = ckpt.latest_checkpoint(out_dir) if out_dir.is_dir() else None
    run_log = {}
    if resume and existing is not None:
        found = ckpt.check_model_folder(out_dir)
        if config is not None and get_config(config) != found.config:
            raise ckpt.ModelError(f"{out_dir} was trained with configuration {found.config.name!r}; resuming must "
                                  f"use the same one (given {get_config(config).name!r} with other settings). "
                                  "Leave --config out to use the saved one, or train into a new folder.")
        if found.info.get("dataset", {}).get("train_sha256") != fingerprint["train_sha256"]:
            raise ckpt.ModelError(f"{out_dir} was trained on {found.info.get('dataset', {}).get('path')} "
                                  f"(another training set than {data_dir}). Resume with the same --data, "
                                  "or train a new model into a new folder.")
        cfg = found.config
        run_log = ckpt.read_json(out_dir / ckpt.RUN_FILE) if (out_dir / ckpt.RUN_FILE).is_file() else {}
        seed = run_log.get("seed", seed)
    elif resume and (out_dir / ckpt.MODEL_FILE).is_file() and not (out_dir / ckpt.CHECKPOINT_DIR).is_dir():
        # a run of ours stopped before its first checkpoint: nothing to continue, start it again
        cfg = get_config(config if config is not None else ckpt.read_json(out_dir / ckpt.MODEL_FILE)["config_name"])
        for name in (LOSSES_FILE, VALIDATION_FILE, ckpt.RUN_FILE):
            (out_dir / name).unlink(missing_ok=True)
        resume = False
    elif existing is not None or (out_dir.is_dir() and any(out_dir.iterdir())):
        what = f"a trained model (step {ckpt.checkpoint_step(existing)})" if existing else "other files"
        raise ckpt.ModelError(f"{out_dir} already holds {what}. Pass resume=True (--resume) to continue "
                              "training it, or choose a new output folder; nothing was overwritten.")
    else:
        cfg = get_config(config if config is not None else "course")
    steps = cfg.train_steps if steps is None else int(steps)
    if steps < 1:
        raise ValueError(f"steps must be at least 1, not {steps}.")
    validate_every = validate_every or checkpoint_every

    examples = load_examples(data_dir, "train")
    sampler = BatchSampler(examples, cfg.example_seconds, cfg.batch_size, seed)
    held_out = None
    if validation_examples > 0 and fingerprint["examples"].get("validation", 0) > 0:
        held_out = validation_batch(load_examples(data_dir, "validation", validation_examples),
                                    cfg.example_seconds, validation_examples)

    set_seed(seed)
    model = models.build_autoencoder(cfg, seed=seed)
    trainer = make_trainer(model, cfg)
    model({k: tf.convert_to_tensor(v) for k, v in sampler.batch(0).items()}, training=False)  # build
    checkpoint = ckpt.checkpoint_object(model, trainer.optimizer, cfg)
    manager = ckpt.checkpoint_manager(checkpoint, out_dir)
    start_step = 0
    if resume and existing is not None:
        try:
            checkpoint.restore(existing).assert_existing_objects_matched()
        except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
            raise ckpt.ModelError(f"Cannot resume from {existing}: {str(exc).splitlines()[0][:300]}. The "
                                  "checkpoint is damaged or from another model; delete it to fall back to the "
                                  "previous one, or train into a new folder.") from None
        start_step = ckpt.checkpoint_step(existing)
        if int(trainer.step.numpy()) != start_step:
            raise ckpt.ModelError(f"{existing} holds optimiser step {int(trainer.step.numpy())}, not {start_step}.")
        for name, header in ((LOSSES_FILE, ["step", "loss", "elapsed_s"]),
                             (VALIDATION_FILE, ["step", "spectral_loss", "elapsed_s"])):
            if (out_dir / name).is_file():
                _keep_rows_up_to(out_dir / name, start_step, header)
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        ckpt.write_model_files(out_dir, cfg, statistics, fingerprint, 0)
        run_log = {"config": json.loads(cfg.to_json()), "config_name": cfg.name, "seed": seed,
                   "data": fingerprint, "versions": versions(), "sessions": [],
                   "parameters": models.count_parameters(model)}

    result = TrainResult(out_dir, start_step)
    if start_step >= steps:
        print(f"{out_dir} is already trained to step {start_step} (asked for {steps}); nothing to do.")
        return result
    previous_seconds = sum(s.get("seconds", 0.0) for s in run_log.get("sessions", []))
    session = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "from_step": start_step, "versions": versions()}
    writer = tf.summary.create_file_writer(str(out_dir / "tensorboard")) if tensorboard else None
    losses_file = out_dir / LOSSES_FILE
    new_losses_file = not losses_file.is_file()
    bar = None
    if progress and start_step < steps:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start_step, desc=f"training {cfg.name}", unit="step")
    step = start_step
    t0 = time.perf_counter()
    # Ctrl-C (the notebook's stop button) finishes the current step, then saves and stops;
    # a second Ctrl-C stops at once.
    stop_requested = []

    def on_interrupt(signum, frame):
        if stop_requested:
            raise KeyboardInterrupt
        stop_requested.append(True)
        print("\nStopping after this step (press again to stop at once) ...", flush=True)

    previous_handler = None
    if threading.current_thread() is threading.main_thread():
        previous_handler = signal.signal(signal.SIGINT, on_interrupt)

    def save(step_done: int) -> None:
        manager.save(checkpoint_number=step_done)
        ckpt.write_model_files(out_dir, cfg, statistics, fingerprint, step_done)

    def validate(step_done: int) -> None:
        value = held_out_loss(model, held_out)
        result.validation.append((step_done, value))
        new = not (out_dir / VALIDATION_FILE).is_file()
        with open(out_dir / VALIDATION_FILE, "a", newline="") as f:
            if new:
                f.write("step,spectral_loss,elapsed_s\n")
            f.write(f"{step_done},{value:.6f},{previous_seconds + time.perf_counter() - t0:.2f}\n")
        if writer is not None:
            with writer.as_default():
                tf.summary.scalar("loss/validation_spectral", value, step=step_done)

    try:
        with open(losses_file, "a", newline="") as log:
            if new_losses_file:
                log.write("step,loss,elapsed_s\n")
            if held_out is not None and start_step == 0:
                validate(0)
            while step < steps:
                batch = sampler.batch(step)
                losses = trainer.train_step({k: tf.convert_to_tensor(v) for k, v in batch.items()})
                loss = float(losses["total_loss"])
                if not np.isfinite(loss):
                    raise FloatingPointError(
                        f"The training loss became {loss} at step {step + 1}. The last checkpoint "
                        f"(step {result.step}) is kept; lower the learning rate or check the data for silence "
                        "or NaN, then resume.")
                step += 1
                result.losses.append((step, loss))
                log.write(f"{step},{loss:.6f},{previous_seconds + time.perf_counter() - t0:.2f}\n")
                log.flush()
                if writer is not None:
                    with writer.as_default():
                        tf.summary.scalar("loss/train", loss, step=step)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{loss:.3f}")
                if held_out is not None and (step % validate_every == 0 or step == steps):
                    validate(step)
                if step % checkpoint_every == 0 or step == steps:
                    save(step)
                    result.step = step
                if stop_requested and step < steps:
                    raise KeyboardInterrupt
                if stop_after_seconds is not None and time.perf_counter() - t0 >= stop_after_seconds and step < steps:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        result.interrupted = True
        applied = int(trainer.step.numpy())
        if applied > step:              # stopped at once inside a step that TensorFlow had finished
            with open(losses_file, "a") as log:
                log.write(f"{applied},nan,{previous_seconds + time.perf_counter() - t0:.2f}\n")
            step = applied
        if step > result.step:
            save(step)
            result.step = step
        print(f"\nTraining stopped at step {step} of {steps}; checkpoint saved in {out_dir}. "
              f"Continue with resume=True (python -m ttlib train ... --out {out_dir} --resume).")
    finally:
        if previous_handler is not None:
            signal.signal(signal.SIGINT, previous_handler)
        if bar is not None:
            bar.close()
        if writer is not None:
            writer.flush()
        result.seconds = time.perf_counter() - t0
        steps_run = result.step - start_step
        result.audio_seconds_per_second = (steps_run * cfg.batch_size * cfg.example_seconds / result.seconds
                                           if result.seconds > 0 else 0.0)
        session.update({"to_step": result.step, "seconds": round(result.seconds, 2),
                        "interrupted": result.interrupted,
                        "audio_seconds_per_second": round(result.audio_seconds_per_second, 2)})
        run_log.setdefault("sessions", []).append(session)
        run_log["step"] = result.step
        run_log["wall_seconds"] = round(previous_seconds + result.seconds, 2)
        steps_logged, losses_logged = read_losses(out_dir)
        final = {"train_loss_last_50": float(np.mean(losses_logged[-50:])) if losses_logged.size else None}
        v_steps, v_losses = read_validation(out_dir)
        if v_losses.size:
            final["validation_spectral_loss"] = float(v_losses[-1])
            final["validation_step"] = int(v_steps[-1])
        run_log["final"] = final
        if out_dir.is_dir():
            ckpt.write_json(out_dir / ckpt.RUN_FILE, run_log)
    return result
