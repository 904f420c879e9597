"""Pitch: f0 trackers and intervals.

f0 tracks are in Hz, shape [n_frames]; confidences are in [0, 1], shape [n_frames].
"""
from __future__ import annotations

import numpy as np

from ttlib import SAMPLE_RATE

CREPE_CAPACITIES = ("tiny", "small", "medium", "large", "full")


def cents(f_hz, ref_hz):
    """Interval from `ref_hz` to `f_hz` in cents (1200 per octave); same shape as the inputs."""
    return 1200.0 * np.log2(np.asarray(f_hz, dtype=float) / np.asarray(ref_hz, dtype=float))


def crepe_f0_hz(audio, capacity: str = "tiny", sample_rate: int = SAMPLE_RATE,
                step_ms: float = 10.0, viterbi: bool = True):
    """CREPE's f0 track of mono `audio` (shape [n_samples]).

    Args:
      audio: mono samples at `sample_rate` Hz (crepe resamples to 16 kHz itself).
      capacity: one of `CREPE_CAPACITIES`.
      step_ms: hop between frames (ms).
      viterbi: smooth the track with crepe's Viterbi decoding.

    Returns:
      (f0_hz, confidence), each shape [n_frames] with one frame per `step_ms`.
    """
    import crepe

    if capacity not in CREPE_CAPACITIES:
        raise ValueError(f"Unknown CREPE capacity {capacity!r}; choose one of {', '.join(CREPE_CAPACITIES)}.")
    _, f0_hz, confidence, _ = crepe.predict(np.asarray(audio, np.float32), sample_rate,
                                            model_capacity=capacity, viterbi=viterbi,
                                            step_size=step_ms, verbose=0)
    return f0_hz, confidence
