"""CREPE (Kim et al., 2018): the pitch tracker of notebook 03, through the `crepe` package.

CREPE classifies each 1024-sample window (64 ms at 16 kHz) into 360 pitch bins of 20
cents, from 1997.38 cents above 10 Hz (31.7 Hz) to 2005.5 Hz, and reads f0 from a
weighted average of the bins around the peak; Viterbi smoothing is optional. Its
weights come from the package registry (`ttlib.pitch.crepe_weights`).
"""
from __future__ import annotations

import numpy as np

from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE
from ttlib.pitch.crepe_weights import CAPACITIES

CENTS_OF_FIRST_BIN = 1997.3794084376191
"""Cents above 10 Hz of the centre of CREPE's lowest bin."""
CREPE_MIN_HZ = 31.70
"""Centre of CREPE's lowest pitch bin (1997.38 cents above 10 Hz)."""
CREPE_MAX_HZ = 2005.50
"""Centre of CREPE's highest pitch bin (20 cents x 359 higher): it can report nothing above.
B6 (1976 Hz) is the highest note it can name; on a clean sine its confident answers stop near 2 kHz
(notebook 03 measures where)."""


def crepe_f0_hz(audio, capacity: str = "tiny", sample_rate: int = SAMPLE_RATE,
                step_ms: float = 10.0, viterbi: bool = True, octaves_down: int = 0,
                return_activation: bool = False) -> tuple[np.ndarray, ...]:
    """CREPE's f0 track of mono `audio` (shape [n_samples]), frames centred every `step_ms`.

    Args:
      capacity: one of `CAPACITIES`.
      octaves_down: analyse the audio this many octaves lower and double the answer
        as often. CREPE's top bin is centred at 2005.5 Hz; a whistle at 2.5 kHz is read as
        1.25 kHz one octave down. It is done by telling CREPE the audio's rate is
        sample_rate / 2**octaves_down: CREPE resamples it to 16 kHz, which plays it
        slower and lower, and the frame hop is stretched to match.
      return_activation: also return CREPE's activation, shape [n_frames, 360]
        (bin i is 20 cents wide, centred 1997.38 + 20 i cents above 10 Hz, before
        any octave shift).

    Returns:
      (f0_hz, confidence), each shape [n_samples * 1000 // (step_ms * sample_rate) + 1];
      with `return_activation`, (f0_hz, confidence, activation).
    """
    import crepe

    if capacity not in CAPACITIES:
        raise ConfigError(f"Unknown CREPE capacity {capacity!r}; choose one of {', '.join(CAPACITIES)}.")
    factor = 2 ** int(octaves_down)
    _, f0_hz, confidence, activation = crepe.predict(
        np.asarray(audio, np.float32), sample_rate / factor, model_capacity=capacity, viterbi=viterbi,
        step_size=step_ms * factor, verbose=0, center=True)
    out = (f0_hz.astype(np.float32) * factor, confidence.astype(np.float32))
    return out + (activation,) if return_activation else out


def crepe_bin_hz(n_bins: int = 360) -> np.ndarray:
    """Centre frequency (Hz) of each of CREPE's pitch bins, shape [n_bins]."""
    return 10.0 * 2.0 ** ((CENTS_OF_FIRST_BIN + 20.0 * np.arange(n_bins)) / 1200.0)
