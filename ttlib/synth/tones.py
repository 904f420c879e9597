"""Test tones: sines and ddsp harmonic tones with known f0.

Every function returns mono float32 audio, shape [n_samples], at `sample_rate` Hz.
Heard in notebooks 00 (the set-up check) and 01-02 (harmonics, YIN on known tones).
"""
from __future__ import annotations

import numpy as np

from ttlib.core.units import SAMPLE_RATE


def tilt_gains(n_harmonics: int, tilt_db_per_octave: float) -> np.ndarray:
    """Linear gains of harmonics 1 ... n_harmonics for a spectral tilt: harmonic k at tilt x log2(k) dB.

    Harmonic 1 keeps 0 dB; -6 dB/octave halves the amplitude at every doubling of k.
    The harmonics explorer (notebook 01) and the synthesizer knobs (notebook 04) shape tones with it.
    """
    k = np.arange(1, n_harmonics + 1)
    return 10.0 ** (tilt_db_per_octave * np.log2(k) / 20.0)


def sine(f0_hz: float = 440.0, seconds: float = 1.0, amplitude: float = 0.5,
         sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A sine at `f0_hz` (Hz) lasting `seconds` (s)."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (amplitude * np.sin(2 * np.pi * f0_hz * t)).astype(np.float32)


def harmonic_tone(f0_hz: float = 440.0, seconds: float = 1.0, amplitude: float = 0.5,
                  n_harmonics: int = 20, rolloff: float = 1.0, frame_rate: int = 250,
                  sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """A steady tone from ddsp's additive `Harmonic` synthesizer.

    Args:
      f0_hz: fundamental frequency (Hz).
      seconds: duration (s).
      amplitude: overall amplitude of the summed harmonics (ddsp's `amps`).
      n_harmonics: number of harmonics (those above Nyquist are removed by ddsp).
      rolloff: harmonic k gets weight k**-rolloff before ddsp normalises the
        distribution (1 = sawtooth-like spectrum, large = nearly a sine).
      frame_rate: rate of the control frames (Hz); ddsp upsamples them.
      sample_rate: audio rate (Hz).
    """
    import ddsp

    n_samples = int(round(seconds * sample_rate))
    n_frames = max(2, int(round(seconds * frame_rate)))
    weights = np.arange(1, n_harmonics + 1, dtype=np.float32) ** -float(rolloff)
    amps = np.full((1, n_frames, 1), amplitude, np.float32)
    dist = np.tile(weights[None, None, :], (1, n_frames, 1))
    f0 = np.full((1, n_frames, 1), f0_hz, np.float32)
    n_padded = -(-n_samples // n_frames) * n_frames        # ddsp upsamples by a whole factor
    synth = ddsp.synths.Harmonic(n_samples=n_padded, sample_rate=sample_rate, scale_fn=None,
                                 normalize_below_nyquist=True)
    audio = synth(amps, dist, f0)
    return np.array(audio[0, :n_samples], dtype=np.float32)     # a writable copy
