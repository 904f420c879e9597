"""The experiment's losses: ddsp's multi-scale spectral loss, a multi-scale log-mel loss, the silence penalty.

`make_loss(cfg)` combines them as a row asks; notebook 08 explains each and
`tests/test_experiment.py` checks their values on known signals.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE, n_frames
from ttlib.experiments.learned_encoder.config import ExperimentConfig
from ttlib.models.autoencoder import multiscale_spectral_loss

if TYPE_CHECKING:
    import tensorflow as tf


def mel_loss(fft_sizes: tuple, sample_rate: int = SAMPLE_RATE) -> Callable:
    """Multi-scale log-mel loss: L1 of log mel-band magnitudes at each FFT size.

    Bands per scale: n_fft / 8, between 8 and 128 (a 64-point FFT has 33 bins).
    """
    import ddsp
    import tensorflow as tf

    matrices = {}
    for size in fft_sizes:
        n_mels = int(min(128, max(8, size // 8)))
        matrices[size] = tf.signal.linear_to_mel_weight_matrix(
            n_mels, size // 2 + 1, sample_rate, 20.0, sample_rate / 2.0)

    def loss(target, audio):
        total = 0.0
        for size, matrix in matrices.items():
            t = tf.tensordot(ddsp.spectral_ops.compute_mag(target, size), matrix, 1)
            a = tf.tensordot(ddsp.spectral_ops.compute_mag(audio, size), matrix, 1)
            total += tf.reduce_mean(tf.abs(ddsp.core.safe_log(t) - ddsp.core.safe_log(a)))
        return total

    return loss


def frame_power_db(audio, hop: int, frame_length: int = FRAME_LENGTH) -> tf.Tensor:
    """Mean-square power of frames centred every `hop` samples, in dB ([batch, n_samples // hop]).

    The model's control frames (`ttlib.core.units.n_frames(..., whole=True)`), in TensorFlow
    so that the silence penalty has a gradient.
    """
    import tensorflow as tf

    n = n_frames(int(audio.shape[1]), hop, whole=True)
    padded = tf.pad(audio, [[0, 0], [frame_length // 2, frame_length // 2]])
    windows = tf.signal.frame(padded, frame_length, hop)[:, :n]
    return 10.0 * tf.math.log(tf.reduce_mean(windows ** 2, axis=-1) + 1e-10) / tf.math.log(10.0)


def silence_loss(target, audio, hop: int, range_db: float = 40.0, margin_db: float = 6.0) -> tf.Tensor:
    """The silence penalty: how far (in tens of dB) the output falls below the target where the target plays.

    A frame plays when its power is within `range_db` of the clip's loudest frame; the
    penalty is mean over those frames of max(0, target dB - output dB - `margin_db`) / 10.
    """
    import tensorflow as tf

    t = frame_power_db(target, hop)
    a = frame_power_db(audio, hop)
    playing = tf.cast(t > tf.reduce_max(t, axis=1, keepdims=True) - range_db, tf.float32)
    short = tf.nn.relu(t - a - margin_db) / 10.0
    return tf.reduce_sum(short * playing) / tf.maximum(tf.reduce_sum(playing), 1.0)


def make_loss(cfg: ExperimentConfig) -> Callable:
    """The training loss of `cfg`: f(target, audio) -> {"total", "reconstruction", "silence"}."""
    reconstruction = multiscale_spectral_loss(cfg.fft_sizes) if cfg.loss == "spectral" else mel_loss(cfg.fft_sizes)

    def loss(target, audio):
        rec = reconstruction(target, audio)
        out = {"reconstruction": rec, "silence": 0.0 * rec}
        if cfg.silence_weight > 0:
            out["silence"] = silence_loss(target, audio, cfg.hop)
        out["total"] = rec + cfg.silence_weight * out["silence"]
        return out

    return loss
