"""A faster equivalent of ddsp's harmonic synthesizer with linear amplitude upsampling.

ddsp's `Harmonic` (amp_resample_method="linear") builds, for every sample and every
harmonic k, an upsampled frequency, a running phase (a cumulative sum), a Nyquist mask
and an upsampled amplitude: five tensors of [batch, n_samples, n_harmonics]. Because
the harmonics of a harmonic sound are exact multiples of f0, the phase of harmonic k is
k times the phase of the fundamental, and because linear interpolation between frames
j and j+1 is (1 - a) x[j] + a x[j+1], the sum over harmonics can be done per frame as
one small matrix product:

    y[j*S + s] = (1 - a_s) * sum_k sin(k phi) A[j, k] + a_s * sum_k sin(k phi) A[j+1, k],
    a_s = s / S,  S = samples per frame,

which needs a single [batch, n_samples, n_harmonics] tensor (the sines). The phase of
the fundamental is accumulated in float64 and wrapped, so long outputs keep their
tuning (ddsp's float32 cumulative sum drifts after ~100k samples), and it can start
from a given phase, so consecutive chunks join without a click.

The output equals ddsp's to float32 rounding (see tests/test_fast_synth.py), except
that harmonics are silenced above Nyquist per frame rather than per sample.

Used by the `course` and `tiny` models (notebook 06), transfer (notebook 07) and the
experiment (notebook 08); ddsp's own synthesizer is taught in notebook 04.
"""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import numpy as np

from ttlib.core.errors import ConfigError

if TYPE_CHECKING:
    import tensorflow as tf


def harmonic_synthesis(amplitudes, harmonic_distribution, f0_hz, n_samples: int, sample_rate: int = 16000,
                       initial_phase=None, return_phase: bool = False,
                       lookahead=None, float32_phase: bool = False) -> tf.Tensor | tuple[tf.Tensor, tf.Tensor]:
    """Sum of harmonics of f0 with linearly interpolated amplitudes.

    Args:
      amplitudes: [batch, n_frames, 1] overall amplitude (after ddsp's scaling).
      harmonic_distribution: [batch, n_frames, n_harmonics], normalised (ddsp's `get_controls`).
      f0_hz: [batch, n_frames, 1] fundamental frequency (Hz).
      n_samples: output length, a whole multiple of n_frames.
      sample_rate: Hz.
      initial_phase: [batch] phase of the fundamental before the first sample (rad), or None (0).
      return_phase: also return the fundamental's phase after the last sample ([batch], rad).
      lookahead: (amplitudes [batch, 1, 1], harmonic_distribution [batch, 1, n_harmonics],
        f0_hz [batch, 1, 1]) of the frame after the last, which the last frame's samples
        interpolate towards; None holds the last frame (as ddsp does). With it, a signal
        made in chunks (each chunk's lookahead = the next chunk's first frame, its
        initial phase = the previous chunk's returned phase) equals the signal made at once.
      float32_phase: accumulate the phase in float32 (each frame's increment wrapped to
        [0, 2 pi) first, then summed over frames and within the frame): for runtimes
        without float64, such as TFLite's built-in ops (`ttlib.models.export`): about
        1e-3 rad from the float64 phase after a minute (0.7 and 1.2 mrad measured on two
        wandering melodies; a float32 sum sample by sample drifts by 0.5 rad).

    Returns:
      audio [batch, n_samples] (and the final phase).
    """
    import tensorflow as tf

    amplitudes = tf.convert_to_tensor(amplitudes, tf.float32)
    distribution = tf.convert_to_tensor(harmonic_distribution, tf.float32)
    f0_hz = tf.convert_to_tensor(f0_hz, tf.float32)
    n_frames, n_harmonics = int(f0_hz.shape[1]), int(distribution.shape[-1])
    if n_samples % n_frames:
        raise ConfigError(f"n_samples ({n_samples}) must be a whole multiple of the frames ({n_frames}).")
    per_frame = n_samples // n_frames
    k = tf.range(1, n_harmonics + 1, dtype=tf.float32)
    harmonic_amps = amplitudes * distribution * tf.cast(f0_hz * k < sample_rate / 2.0, tf.float32)
    if lookahead is None:
        last_amps, last_f0 = harmonic_amps[:, -1:], f0_hz[:, -1:, 0]
    else:
        la_amps, la_dist, la_f0 = (tf.convert_to_tensor(x, tf.float32) for x in lookahead)
        last_amps = la_amps * la_dist * tf.cast(la_f0 * k < sample_rate / 2.0, tf.float32)
        last_f0 = la_f0[:, :, 0]
    next_amps = tf.concat([harmonic_amps[:, 1:], last_amps], axis=1)
    alpha = tf.range(per_frame, dtype=tf.float32) / per_frame                       # [S]
    f0 = f0_hz[:, :, 0]
    f0_next = tf.concat([f0[:, 1:], last_f0], axis=1)
    f0_up = f0[:, :, None] * (1.0 - alpha) + f0_next[:, :, None] * alpha              # [B, F, S]
    if float32_phase:
        two_pi = np.float32(2.0 * np.pi)
        within = tf.cumsum(f0_up * np.float32(2.0 * np.pi / sample_rate), axis=2)     # [B, F, S]
        # each frame's whole increment in closed form (sum of the linear ramp), wrapped, then summed over frames
        # in blocks of 32 (each partial sum stays small, so float32 keeps its precision)
        steps = tf.math.floormod((per_frame * f0 + (per_frame - 1) / 2.0 * (f0_next - f0))
                                 * np.float32(2.0 * np.pi / sample_rate), two_pi)       # [B, F]
        block = 32
        blocks = -(-n_frames // block)
        padded = tf.reshape(tf.pad(steps, [[0, 0], [0, blocks * block - n_frames]]), [-1, blocks, block])
        inside = tf.cumsum(padded, axis=2, exclusive=True)                               # [B, blocks, block]
        totals = tf.math.floormod(tf.reduce_sum(padded, axis=2), two_pi)                 # [B, blocks]
        before = tf.math.floormod(tf.cumsum(totals, axis=1, exclusive=True), two_pi)
        starts = tf.reshape(tf.math.floormod(before[:, :, None] + inside, two_pi), [-1, blocks * block])[:, :n_frames]
        if initial_phase is not None:
            starts += tf.convert_to_tensor(initial_phase, tf.float32)[:, None]
        phase = tf.reshape(tf.math.floormod(starts[:, :, None] + within, two_pi), [-1, n_samples])
    else:
        omega = tf.reshape(tf.cast(f0_up, tf.float64), [-1, n_samples]) * (2.0 * np.pi / sample_rate)
        phase = tf.cumsum(omega, axis=1)
        if initial_phase is not None:
            phase += tf.cast(tf.convert_to_tensor(initial_phase), tf.float64)[:, None]
        phase = tf.math.floormod(phase, 2.0 * np.pi)
    sines = tf.sin(tf.cast(phase, tf.float32)[:, :, None] * k)                          # [B, N, H]
    sines = tf.reshape(sines, [-1, n_frames, per_frame, n_harmonics])
    both = tf.matmul(sines, tf.stack([harmonic_amps, next_amps], axis=-1))              # [B, F, S, 2]
    audio = tf.reshape(both[..., 0] * (1.0 - alpha) + both[..., 1] * alpha, [-1, n_samples])
    if return_phase:
        return audio, phase[:, -1]
    return audio


@functools.cache
def fast_harmonic_class() -> type:
    """`FastHarmonic`: ddsp's `Harmonic` (same controls, same checkpoint) with this synthesis.

    A function, so that ddsp (and TensorFlow) load only when a model is built.
    """
    import ddsp

    class FastHarmonic(ddsp.synths.Harmonic):
        """ddsp's harmonic synthesizer, computed by `harmonic_synthesis` (linear amplitudes only)."""

        def __init__(self, **kwargs):
            kwargs["amp_resample_method"] = "linear"
            super().__init__(**kwargs)

        def get_signal(self, amplitudes, harmonic_distribution, f0_hz):
            return harmonic_synthesis(amplitudes, harmonic_distribution, f0_hz, self.n_samples, self.sample_rate)

    return FastHarmonic
