"""ttlib.data.dynamics: brightness against loudness, on tones whose coupling is known."""
import numpy as np
import pytest

from ttlib.core.errors import AudioError
from ttlib.data import dynamics

SR = 16000


def _note(f0, seconds, level_db, tilt_per_db, rng):
    """A harmonic note whose level ramps linearly in dB; harmonic k has amplitude k^-(p), p falling with the
    level at `tilt_per_db` per dB (0: a pure gain, the spectrum's shape fixed)."""
    t = np.arange(int(seconds * SR)) / SR
    level = np.linspace(*level_db, t.size)
    exponent = 2.0 - tilt_per_db * (level - level_db[0])
    harmonics = np.arange(1, int(7000 / f0) + 1)
    tone = sum(k ** -exponent * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi)) for k in harmonics)
    return tone / np.max(np.abs(tone)) * 10 ** (level / 20)


def _performance(tilt_per_db):
    rng = np.random.default_rng(0)
    notes, f0 = [], []
    for midi, (lo, hi) in zip((60, 64, 67, 72, 65, 62), ((-40, -20), (-20, -35), (-38, -18), (-30, -15),
                                                        (-15, -35), (-35, -25))):
        hz = 440.0 * 2 ** ((midi - 69) / 12)
        notes.append(_note(hz, 1.0, (lo, hi), tilt_per_db, rng))
        f0.append(np.full(100, hz))
    audio = np.concatenate(notes).astype(np.float32)
    return audio, np.r_[np.concatenate(f0), 0.0]


def test_a_gain_has_no_slope_and_a_brightening_tone_has_one():
    gain = dynamics.brightness_fit(*_performance(0.0))
    bright = dynamics.brightness_fit(*_performance(0.04))
    assert gain.n_notes == 6 and gain.n_frames > 450
    assert abs(gain.within_note_per_10db) < 0.03 and abs(gain.slope_per_10db) < 0.05
    assert bright.within_note_per_10db > 0.2 and bright.slope_per_10db > 0.2
    assert set(bright.summary()) >= {"slope_per_10db", "within_note_per_10db", "r2", "notes", "frames"}


def test_nothing_to_measure_is_a_clear_error():
    with pytest.raises(AudioError, match="voiced and loud enough"):
        dynamics.brightness_fit(np.zeros(SR, np.float32), np.zeros(101))
