"""Hear an f0 track: a harmonic tone that follows it, alone or beside the original.

Notebook 03 plays the built-in whistle, a tone following its exact ground-truth f0,
and tones following YIN's and CREPE's f0, so that a tracker's octave errors and
drop-outs are heard, not only counted. The tone is made by `ttlib.synth.harmonic_synthesis`
(the course's harmonic synthesizer), so frame i of the track sounds at sample i * hop.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ttlib.audio.edit import normalize
from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE, hop_length
from ttlib.synth.harmonic import harmonic_synthesis

if TYPE_CHECKING:
    from IPython.display import Audio


def f0_tone(f0_hz, voiced=None, frame_rate: float = 100.0, n_samples: int | None = None,
            n_harmonics: int = 4, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A harmonic tone following an f0 track, silent where the track is unvoiced.

    Args:
      f0_hz: f0 per frame (Hz), shape [n_frames]; frame i is centred on sample i * hop.
        Frames with f0 <= 0 count as unvoiced (mir_eval's convention).
      voiced: boolean per frame, shape [n_frames]; None: f0 > 0.
      frame_rate: frames per second of the track (Hz).
      n_samples: length of the result; None: (n_frames - 1) * hop + 1.
      n_harmonics: harmonics of the tone (weights 1/k), enough to hear an octave error.
      sample_rate: Hz.

    Returns:
      float32 audio, shape [n_samples], peak 0.9 (silence if no frame is voiced).
    """
    f0 = np.asarray(f0_hz, np.float64).reshape(-1)
    on = f0 > 0 if voiced is None else np.asarray(voiced, bool).reshape(-1) & (f0 > 0)
    if on.shape != f0.shape:
        raise ConfigError(f"voiced has {on.size} frames but f0_hz has {f0.size}.")
    hop = hop_length(sample_rate, frame_rate)
    n_samples = (f0.size - 1) * hop + 1 if n_samples is None else int(n_samples)
    if not on.any():
        return np.zeros(n_samples, np.float32)
    frames = np.arange(f0.size)
    held = np.interp(frames, frames[on], f0[on])          # unvoiced frames hold their neighbours' f0: no glides from 0
    n_frames = -(-n_samples // hop)
    held = np.pad(held, (0, max(0, n_frames - held.size)), mode="edge")[:n_frames]
    amps = np.pad(on.astype(np.float32), (0, max(0, n_frames - on.size)))[:n_frames]
    weights = 1.0 / np.arange(1, n_harmonics + 1)
    audio = harmonic_synthesis(amps[None, :, None], np.tile((weights / weights.sum())[None, None, :], (1, n_frames, 1)),
                               held[None, :, None], n_frames * hop, sample_rate)
    return normalize(np.asarray(audio)[0, :n_samples])


def stereo_player(left, right, sample_rate: int = SAMPLE_RATE) -> Audio:
    """A player with `left` in the left ear and `right` in the right, each normalised.

    Both are mono arrays (shape [n_samples]); the shorter is padded with silence.
    """
    from IPython.display import Audio

    n = max(np.size(left), np.size(right))
    both = np.stack([np.pad(normalize(x), (0, n - np.size(x))) for x in (left, right)])
    return Audio(both, rate=sample_rate, normalize=False)
