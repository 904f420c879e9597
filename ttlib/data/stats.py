"""The pitch and loudness distributions of a set of frames: a dataset's `statistics.json`.

`statistics` summarises frames (f0, confidence, loudness) as means, spreads and 101
quantiles; `training_ranges` reads back what transfer's automatic adjustment needs.
Notebook 05 plots them; notebook 07 maps a whistle onto them.
"""
from __future__ import annotations

import numpy as np

from ttlib.core.constants import PLAYING_DB, VOICED_CONFIDENCE
from ttlib.core.errors import TransferError
from ttlib.core.units import hz_to_midi

QUANTILE_LEVELS = np.linspace(0, 100, 101)
"""The percentiles kept for pitch and loudness: 0, 1, ..., 100."""


def statistics(f0_hz, f0_confidence, loudness_db, frame_rate: float,
               threshold: float = VOICED_CONFIDENCE) -> dict:
    """Pitch and loudness distributions of a set of frames (each shape [n_frames]).

    Pitch is in MIDI note numbers (69 = A4 = 440 Hz) over voiced frames (confidence
    >= threshold and loudness above `PLAYING_DB`); loudness is in dB, over voiced frames
    (what transfer's automatic adjustment fits) and over all frames.
    """
    f0_hz, f0_confidence, loudness_db = (np.asarray(x, dtype=float) for x in (f0_hz, f0_confidence, loudness_db))
    voiced = (f0_confidence >= threshold) & (f0_hz > 0) & (loudness_db > PLAYING_DB)
    levels = QUANTILE_LEVELS
    out = {"n_frames": int(f0_hz.size), "seconds": round(f0_hz.size / frame_rate, 2),
           "voiced_fraction": float(voiced.mean()) if f0_hz.size else 0.0,
           "confidence_threshold": threshold, "quantile_levels_percent": levels.tolist()}
    if voiced.any():
        midi = hz_to_midi(f0_hz[voiced])
        out["pitch_midi"] = {"mean": float(midi.mean()), "std": float(midi.std()), "min": float(midi.min()),
                             "max": float(midi.max()), "quantiles": np.percentile(midi, levels).tolist()}
        loud = loudness_db[voiced]
        out["loudness_db_voiced"] = {"mean": float(loud.mean()), "std": float(loud.std()),
                                     "quantiles": np.percentile(loud, levels).tolist()}
    if f0_hz.size:
        out["loudness_db"] = {"mean": float(loudness_db.mean()), "std": float(loudness_db.std()),
                              "quantiles": np.percentile(loudness_db, levels).tolist()}
    return out


def training_ranges(statistics: dict) -> dict:
    """The training data's pitch (MIDI) and voiced loudness (dB) quantiles, as arrays of 101 levels.

    Args:
      statistics: a dataset's or a model's `statistics.json` (its "train" part is used).

    Raises:
      TransferError: the statistics lack the quantiles (not written by `ttlib.data`).
    """
    train = statistics.get("train", statistics)
    try:
        return {"pitch_midi": np.asarray(train["pitch_midi"]["quantiles"], float),
                "loudness_db": np.asarray(train["loudness_db_voiced"]["quantiles"], float)}
    except (KeyError, TypeError):
        raise TransferError("The model's statistics.json lacks the training data's pitch and loudness quantiles "
                            "(train.pitch_midi / train.loudness_db_voiced); it was not written by ttlib.data. "
                            "Retrain the model on a dataset built with `python -m ttlib data build`.") from None
