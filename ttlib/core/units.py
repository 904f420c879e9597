"""Samples, frames, Hz, MIDI and cents: each computed in this one place.

The course's frame convention (ddsp's and librosa's `center=True`):

- A frame rate `frame_rate` (Hz) at a sample rate `sample_rate` (Hz) has a hop of
  `hop_length(sample_rate, frame_rate)` samples, which must be a whole number.
- Frame i is centred on sample i * hop.
- An *analysis* of n samples (f0, loudness) has `n_frames(n)` = n // hop + 1 frames:
  one every hop from sample 0 up to the last sample.
- A *synthesiser* turns F control frames into F * hop samples: frame i covers
  samples [i * hop, (i + 1) * hop). So n samples take `n_frames(n, whole=True)` =
  n // hop frames of control, and an analysis of a model's F * hop samples has
  F + 1 frames, of which the model uses the first F.

Pitch: MIDI note numbers (A4 = 69 = 440 Hz, 12 per octave) through librosa's
`hz_to_midi` / `midi_to_hz` (the same formula as ddsp's `core.hz_to_midi`, in NumPy);
intervals in cents, 1200 per octave.

Taught in notebooks 01 (sampling, frames, the harmonic series) and 02-03 (cents).
"""
from __future__ import annotations

import numpy as np

from ttlib.core.errors import ConfigError

SAMPLE_RATE = 16000
"""The course's audio sample rate in Hz (CREPE's and ddsp's)."""
FRAME_LENGTH = 1024
"""One analysis window at 16 kHz (64 ms): CREPE's input and the shortest usable audio."""


def hop_length(sample_rate: float, frame_rate: float) -> int:
    """Samples per frame: sample_rate / frame_rate, which must be a whole number.

    Raises:
      ConfigError: the frame rate does not divide the sample rate.
    """
    hop = float(sample_rate) / float(frame_rate)
    if frame_rate <= 0 or abs(hop - round(hop)) > 1e-9 or round(hop) < 1:
        raise ConfigError(f"frame_rate {frame_rate:g} Hz does not divide the sample rate {sample_rate:g} Hz into "
                          "whole samples; choose e.g. 50, 100, 200 or 250 Hz.")
    return int(round(hop))


def n_frames(n_samples: int, hop: int, whole: bool = False) -> int:
    """Frames of n_samples on the course's grid (see the module's docstring).

    Args:
      n_samples: length of the audio (samples).
      hop: samples per frame (`hop_length`).
      whole: False (analysis): frames centred on 0, hop, ... up to the last sample,
        n // hop + 1. True (synthesis): frames whose hop samples lie inside, n // hop.
    """
    return int(n_samples) // int(hop) + (0 if whole else 1)


def frame_times(count: int, frame_rate: float) -> np.ndarray:
    """Centre of each of `count` frames in seconds, i / frame_rate; shape [count]."""
    return np.arange(int(count)) / float(frame_rate)


def hz_to_midi(f_hz) -> np.ndarray:
    """MIDI note numbers of frequencies (Hz), librosa's formula; 0 Hz and below map to 1e-3 Hz.

    Same shape as `f_hz`, float64.
    """
    import librosa

    return np.asarray(librosa.hz_to_midi(np.maximum(np.asarray(f_hz, np.float64), 1e-3)), np.float64)


def midi_to_hz(midi) -> np.ndarray:
    """Frequencies (Hz) of MIDI note numbers (69 = A4 = 440 Hz), librosa's formula; same shape, float64."""
    import librosa

    return np.asarray(librosa.midi_to_hz(np.asarray(midi, np.float64)), np.float64)


def cents(f_hz, ref_hz) -> np.ndarray:
    """Interval from `ref_hz` to `f_hz` in cents (1200 per octave); broadcast shape of the inputs."""
    return 1200.0 * np.log2(np.asarray(f_hz, dtype=float) / np.asarray(ref_hz, dtype=float))


def fold_octaves(cents_) -> np.ndarray:
    """Intervals with whole octaves removed: into [0, 600] cents (the tune, in any octave)."""
    return np.abs((np.asarray(cents_, float) + 600.0) % 1200.0 - 600.0)
