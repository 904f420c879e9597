"""Training DDSP models with ddsp's `Trainer`: seeds, trainers, steps.

Shapes: a batch is a dict of `audio` [batch, n_samples], `f0_hz` [batch, n_frames]
and `loudness_db` [batch, n_frames] (see `ttlib.models`).
"""
from __future__ import annotations

import random

import numpy as np

import ttlib  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from ttlib.models import ModelConfig, get_config


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
