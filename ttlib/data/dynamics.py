"""How an instrument's brightness follows its loudness: the measure of true dynamics.

A real trumpet played harder does not only get louder: its spectrum brightens, its upper
harmonics growing faster than its lower ones (Risset, "Computer study of trumpet tones", 1965).
A General MIDI soundfont played with CC11 expression only scales its samples: louder, never
brighter. The built-in instruments play through a low-pass filter that opens with the dynamic
level (`ttlib.data.score`'s `brightness`; `builtin.build(dynamics=False)` leaves it out), and this module
measures the coupling the same way on them and on real recordings:

    b(t) = centroid(t) / f0(t)          the spectral centroid in harmonics
    b = a + s * L + c * log2(f0)        least squares over the playing frames
    b - mean_note(b) = w * (L - mean_note(L))     within each held note (its pitch's semitone)

where L is ddsp's A-weighted loudness in dB. `s`, reported per 10 dB, is the brightness
gained per 10 dB of loudness *at a fixed pitch* (the log2 f0 term holds pitch fixed: the
centroid in harmonics falls with pitch: by 1.0 harmonic per octave on librosa's real trumpet,
measured). `w`, also per 10 dB, compares each note only with itself: a crescendo inside a
note (CC11 on the built-in ones) brightens it or not, whatever velocity layers and pitch do; a gain has
w = 0. Frames count when voiced and within `range_db` of the recording's
95th-percentile loudness (reverb tails and breaths left out).

Shown in notebook 05 (the built-in instruments beside real recordings); compared per
instrument by `benchmarks/dynamics.py`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ttlib.core.errors import AudioError
from ttlib.core.units import SAMPLE_RATE, hop_length, n_frames


@dataclass
class BrightnessFit:
    """The fit of brightness against loudness and pitch over the playing frames of one recording.

    Attributes:
      slope_per_10db: harmonics of centroid gained per 10 dB of loudness at a fixed pitch (s x 10).
      pitch_slope_per_octave: harmonics of centroid per octave of pitch at a fixed loudness (c).
      r2: the share of the brightness variance the fit explains.
      within_note_per_10db: harmonics gained per 10 dB inside a held note (w x 10); NaN without
        notes of at least `min_note_frames` frames.
      n_frames: frames used; n_notes: held notes in the within-note fit.
      loudness_db, brightness, f0_hz: the frames used (for plots).
    """

    slope_per_10db: float
    pitch_slope_per_octave: float
    r2: float
    within_note_per_10db: float
    n_frames: int
    n_notes: int
    loudness_db: np.ndarray
    brightness: np.ndarray
    f0_hz: np.ndarray

    def summary(self) -> dict:
        """The figures, rounded, for a table or results.json."""
        span = np.percentile(self.loudness_db, [5, 95]) if self.n_frames else [np.nan, np.nan]
        return {"slope_per_10db": round(self.slope_per_10db, 3),
                "pitch_slope_per_octave": round(self.pitch_slope_per_octave, 3), "r2": round(self.r2, 3),
                "within_note_per_10db": round(self.within_note_per_10db, 3), "notes": self.n_notes,
                "frames": self.n_frames, "loudness_span_db": round(float(span[1] - span[0]), 1)}


def brightness_fit(audio, f0_hz, sample_rate: int = SAMPLE_RATE, frame_rate: float = 100.0,
                   range_db: float = 30.0, n_fft: int = 2048, min_frames: int = 20,
                   min_note_frames: int = 20) -> BrightnessFit:
    """Fit brightness (centroid in harmonics) against loudness and log pitch.

    Args:
      audio: mono samples at `sample_rate`.
      f0_hz: f0 on the frames t = i / frame_rate (n_samples // hop + 1 of them, or fewer), 0 where
        there is no pitch: the exact f0 of a built-in take or a tracker's voiced f0.
      range_db: frames quieter than the 95th-percentile loudness minus this are left out.
      n_fft: the centroid's window (128 ms at 16 kHz: the harmonics of any note resolved).

    Raises:
      AudioError: fewer than `min_frames` frames are voiced and loud enough (nothing to fit).
    """
    import librosa

    from ttlib.data.features import loudness_db

    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = hop_length(sample_rate, frame_rate)
    count = n_frames(audio.size, hop)
    f0 = np.zeros(count)
    f0_in = np.asarray(f0_hz, dtype=float).reshape(-1)[:count]
    f0[:f0_in.size] = np.nan_to_num(f0_in)
    loudness = loudness_db(audio, sample_rate, frame_rate)[:count]
    centroid = librosa.feature.spectral_centroid(y=audio, sr=sample_rate, n_fft=n_fft, hop_length=hop,
                                                 center=True)[0][:count]
    voiced = f0 > 0
    if voiced.sum() >= min_frames:
        keep = voiced & (loudness >= np.percentile(loudness[voiced], 95) - range_db)
    else:
        keep = voiced
    if keep.sum() < min_frames:
        raise AudioError(f"only {int(keep.sum())} frames are voiced and loud enough to measure brightness "
                         f"(need {min_frames}): give a recording with more sustained notes.")
    level, pitch = loudness[keep].astype(float), f0[keep]
    bright = centroid[keep] / pitch
    design = np.column_stack([np.ones_like(level), level, np.log2(pitch)])
    coef, *_ = np.linalg.lstsq(design, bright, rcond=None)
    residual = bright - design @ coef
    r2 = 1.0 - float(np.var(residual)) / max(float(np.var(bright)), 1e-12)
    within, notes = _within_notes(keep, f0, loudness, centroid, min_note_frames)
    return BrightnessFit(float(10.0 * coef[1]), float(coef[2]), r2, within, int(keep.sum()), notes,
                         level, bright, pitch)


def _within_notes(keep, f0, loudness, centroid, min_frames: int) -> tuple[float, int]:
    """The within-note slope (per 10 dB) and the number of notes: runs of kept frames on one semitone."""
    semitone = np.where(keep, np.round(12 * np.log2(np.maximum(f0, 1e-6) / 440.0)), np.nan)
    edges = np.flatnonzero(np.diff(np.r_[np.nan, semitone, np.nan]) != 0)   # NaN != NaN: every gap splits
    xs, ys, count = [], [], 0
    for lo, hi in zip(edges[:-1], edges[1:]):
        if hi - lo < min_frames or not keep[lo]:
            continue
        level = loudness[lo:hi].astype(float)
        bright = centroid[lo:hi] / f0[lo:hi]
        xs.append(level - level.mean())
        ys.append(bright - bright.mean())
        count += 1
    if not count:
        return float("nan"), 0
    x, y = np.concatenate(xs), np.concatenate(ys)
    return float(10.0 * np.dot(x, y) / max(float(np.dot(x, x)), 1e-12)), count


def tracked_f0(audio, sample_rate: int = SAMPLE_RATE, frame_rate: float = 100.0, fmin: float = 60.0,
               fmax: float = 3000.0) -> np.ndarray:
    """A real recording's f0 for `brightness_fit`: pYIN's voiced frames (librosa), 0 elsewhere."""
    import librosa

    hop = hop_length(sample_rate, frame_rate)
    f0, voiced, _ = librosa.pyin(np.asarray(audio, dtype=np.float32), fmin=fmin, fmax=fmax, sr=sample_rate,
                                 frame_length=2048, hop_length=hop, center=True)
    return np.where(voiced & np.isfinite(f0), f0, 0.0)[:n_frames(len(audio), hop)]
