"""The experiment's two training stages, through the course's one training loop (`ttlib.models.loop`).

A `Stage` is a dataset split at the control frame rate with its CREPE features
(cached on disk while the convolutions are frozen); `train_stage` trains the chosen
variables of the model on it: stage 1 the encoder's dense layer and the decoder on
whistling, stage 2 the decoder alone on trumpet. Batches come from
`ttlib.data.BatchSampler`, so the same seed gives the same losses. Notebook 08, section 2.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ttlib.data.examples import BatchSampler, Examples, load_examples
from ttlib.experiments.learned_encoder.config import ExperimentConfig
from ttlib.experiments.learned_encoder.encoder import cached_encoder_features, encoder_features
from ttlib.experiments.learned_encoder.losses import make_loss
from ttlib.models.loop import run_loop

LOSS_COLUMNS = ["stage", "step", "loss", "reconstruction", "silence", "elapsed_s"]
"""The columns of a run's losses.csv."""
GRADIENT_CLIP = 3.0
"""Global-norm gradient clipping, as ddsp's trainer does."""


@dataclass
class Stage:
    """One stage's data: examples at the control frame rate and their CREPE features (or None)."""

    examples: Examples
    features: np.ndarray | None


def load_stage(dataset_dir: str | os.PathLike, cfg: ExperimentConfig, split: str = "train",
               max_examples: int | None = None, progress: bool = False) -> Stage:
    """A dataset split ready for the learned-encoder model (features cached when the convolutions are frozen)."""
    examples = load_examples(dataset_dir, split, max_examples).at_frame_rate(cfg.frame_rate)
    feats = None
    if cfg.conditioning == "learned" and not cfg.encoder_trainable:
        if max_examples is None:
            feats = cached_encoder_features(examples, dataset_dir, split, cfg.encoder_capacity, cfg.frame_rate,
                                            progress=progress)
        else:
            feats = encoder_features(examples.audio, cfg.encoder_capacity, cfg.frame_rate)
    return Stage(examples, feats)


def stage_batch(stage: Stage, sampler: BatchSampler, step: int, cfg: ExperimentConfig) -> dict:
    """The batch of step `step`: audio, loudness, features (or audio for a trainable encoder), f0 (`f0_input`)."""
    indices = sampler.indices(step)
    parts = [stage.examples.crop(i, s, cfg.example_seconds) for i, s in indices]
    batch = {"audio": np.stack([p["audio"] for p in parts]).astype(np.float32),
             "loudness_db": np.stack([p["loudness_db"] for p in parts]).astype(np.float32)}
    if cfg.f0_input:
        batch["f0_hz"] = np.stack([p["f0_hz"] for p in parts]).astype(np.float32)
    if stage.features is not None:
        batch["features"] = np.stack([stage.features[i, s:s + cfg.n_frames] for i, s in indices]).astype(np.float32)
    return batch


def train_stage(model, cfg: ExperimentConfig, stage: Stage, steps: int, seed: int, variables_fn: Callable[[], list],
                log_rows: list, stage_name: str, progress: bool = True) -> float:
    """Train `variables_fn()` of `model` for `steps` steps on `stage`; returns the wall time (s).

    Appends (stage, step, total, reconstruction, silence, elapsed_s) to `log_rows`.

    Raises:
      TrainingDivergedError: the loss stopped being finite.
      KeyboardInterrupt: Ctrl-C (after the current step): the run is not finished.
    """
    import tensorflow as tf

    sampler = BatchSampler(stage.examples, cfg.example_seconds, cfg.batch_size, seed)
    loss_fn = make_loss(cfg)
    optimizer = tf.keras.optimizers.Adam(cfg.learning_rate)
    model(stage_batch(stage, sampler, 0, cfg))              # build
    variables = variables_fn()

    @tf.function
    def step_fn(batch):
        with tf.GradientTape() as tape:
            out = model(batch, training=True)
            losses = loss_fn(batch["audio"], out["audio"])
        grads = tape.gradient(losses["total"], variables)
        grads, _ = tf.clip_by_global_norm(grads, GRADIENT_CLIP)
        optimizer.apply_gradients(zip(grads, variables))
        return losses

    def batch_fn(step: int) -> dict:
        return {k: tf.convert_to_tensor(v) for k, v in stage_batch(stage, sampler, step, cfg).items()}

    def log(step: int, losses: dict, elapsed: float) -> None:
        log_rows.append((stage_name, step, losses["total"], losses["reconstruction"], losses["silence"],
                         round(elapsed, 2)))

    result = run_loop(step_fn, batch_fn, 0, steps, loss_key="total", log=log, desc=f"{cfg.name}: {stage_name}",
                      progress=progress)
    if result.interrupted:
        raise KeyboardInterrupt
    return result.seconds
