"""Editing audio: finding its silences, trimming them, normalising its level.

Arrays are mono float32, shape [n_samples]. Used by notebook 05 (recordings of your
own are trimmed before they become examples) and by every player.
"""
from __future__ import annotations

import numpy as np

from ttlib.core.errors import AudioError
from ttlib.core.units import SAMPLE_RATE


def split_on_silence(audio, sample_rate: int = SAMPLE_RATE, top_db: float = 40.0,
                     min_silence_s: float = 0.3, min_sound_s: float = 0.25) -> list[tuple[int, int]]:
    """Stretches of sound in `audio` (shape [n_samples]) between silences.

    A silence is at least `min_silence_s` seconds more than `top_db` dB below the
    loudest frame; stretches shorter than `min_sound_s` are dropped.

    Returns:
      [(start_sample, end_sample), ...], in order.
    """
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    if not np.any(audio):
        return []
    intervals = librosa.effects.split(audio, top_db=top_db, frame_length=1024, hop_length=256)
    merged: list[list[int]] = []
    for start, end in intervals:
        if merged and start - merged[-1][1] < min_silence_s * sample_rate:
            merged[-1][1] = int(end)
        else:
            merged.append([int(start), int(end)])
    return [(s, e) for s, e in merged if e - s >= min_sound_s * sample_rate]


def trim_silence(audio, sample_rate: int = SAMPLE_RATE, top_db: float = 40.0) -> np.ndarray:
    """`audio` without its silent beginning and end (shape [n_kept])."""
    spans = split_on_silence(audio, sample_rate, top_db, min_silence_s=0.0, min_sound_s=0.0)
    return np.asarray(audio[spans[0][0]:spans[-1][1]] if spans else audio[:0], dtype=np.float32)


def normalize(audio, peak: float = 0.9) -> np.ndarray:
    """Scale `audio` so its largest magnitude is `peak`; silence stays silence.

    Args:
      audio: samples, shape [n_samples] (any float or int dtype).
      peak: target peak amplitude (0 to 1).

    Returns:
      float32 array, shape [n_samples].

    Raises:
      AudioError: `audio` holds NaN or infinite samples.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(audio)):
        raise AudioError("The audio holds NaN or infinite samples; it cannot be played. "
                         "Check the step that produced it (a diverged model gives NaNs).")
    largest = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if largest == 0.0 else audio * (peak / largest)
