"""Pitch tracking: f0 trackers (YIN, pYIN, CREPE) behind one function.

`track(audio, method, frame_rate)` returns a `PitchTrack` on the course's analysis
grid (`ttlib.core.units`): frame i centred on sample i * hop, n_samples // hop + 1
frames, the same grid as ddsp's loudness with 'center' padding. f0 is in Hz,
confidence in [0, 1], voicing a boolean per frame; all have shape [n_frames].

Methods: "yin" (the reference version of the YIN that notebook 02 derives),
"pyin" (librosa's probabilistic YIN, notebook 02), and "crepe-<capacity>" for
CREPE's five capacities with Viterbi smoothing (notebook 03).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ttlib.core.constants import SILENT_RMS_DB, VOICED_CONFIDENCE
from ttlib.core.errors import ConfigError
from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE, frame_times, hop_length, n_frames
from ttlib.pitch.crepe_tracker import CAPACITIES, crepe_f0_hz
from ttlib.pitch.yin_tracker import frame_length_for, yin

METHODS = ("yin", "pyin") + tuple(f"crepe-{c}" for c in CAPACITIES)
DEFAULT_VOICING = {"yin": 0.8, "pyin": VOICED_CONFIDENCE, "crepe": VOICED_CONFIDENCE}
"""Confidence at or above which a frame counts as voiced, by family of tracker."""


@dataclass
class PitchTrack:
    """An f0 track on a regular frame grid.

    Attributes:
      f0_hz: f0 in Hz, shape [n_frames]; unvoiced frames keep the tracker's best guess.
      confidence: in [0, 1], shape [n_frames] (CREPE's peak activation, YIN's 1 - aperiodicity,
        pYIN's voicing probability).
      voiced: boolean, shape [n_frames]: confidence at or above the voicing threshold.
      frame_rate: frames per second (Hz).
      method: the tracker that made it.
    """

    f0_hz: np.ndarray
    confidence: np.ndarray
    voiced: np.ndarray
    frame_rate: float
    method: str

    @property
    def times_s(self) -> np.ndarray:
        """Frame centres in seconds, shape [n_frames]."""
        return frame_times(self.f0_hz.size, self.frame_rate)

    @property
    def f0_voiced_hz(self) -> np.ndarray:
        """f0 with unvoiced frames set to 0 Hz (mir_eval's convention), shape [n_frames]."""
        return np.where(self.voiced, self.f0_hz, 0.0)

    @property
    def f0_mir_eval_hz(self) -> np.ndarray:
        """f0 with unvoiced frames negated: mir_eval's (MIREX) convention for a pitch guess
        in a frame judged unvoiced, so raw pitch accuracy is independent of voicing."""
        return np.where(self.voiced, self.f0_hz, -np.abs(self.f0_hz))


def check_method(method: str) -> str:
    """`method` if it is one of `METHODS`, else a ConfigError listing them."""
    if method not in METHODS:
        raise ConfigError(f"Unknown pitch method {method!r}; choose one of {', '.join(METHODS)}.")
    return method


def track(audio, method: str = "crepe-tiny", sample_rate: int = SAMPLE_RATE, frame_rate: float = 100.0,
          fmin: float = 60.0, fmax: float = 2000.0, voicing_threshold: float | None = None,
          crepe_step_ms: float | None = None, crepe_octaves_down: int = 0,
          silence_db: float | None = SILENT_RMS_DB) -> PitchTrack:
    """f0 of mono `audio` by any method, on the frame grid t = i / frame_rate.

    Args:
      audio: mono samples, shape [n_samples], at `sample_rate` Hz.
      method: one of `METHODS`.
      frame_rate: frames per second of the result (Hz).
      fmin, fmax: search range of YIN and pYIN (Hz); CREPE's bins span 31.7 to 2005.5 Hz.
      voicing_threshold: confidence for `voiced`; None takes `DEFAULT_VOICING`.
      crepe_step_ms: run CREPE at this hop and interpolate onto the grid (10 ms is
        2.5 times faster than 4 ms); None runs it at the grid's own hop.
      crepe_octaves_down: analyse with CREPE this many octaves lower (see `crepe_f0_hz`):
        1 for whistling, which goes above CREPE's ceiling (top bin 2005.5 Hz).
      silence_db: frames quieter than this (RMS, dB re full scale) are unvoiced whatever
        the tracker says (CREPE normalises every frame, so it hears pitch in a faint
        reverb tail); None keeps the tracker's decision.

    Returns:
      A `PitchTrack` with n_samples // hop + 1 frames, hop = sample_rate / frame_rate.
    """
    check_method(method)
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = hop_length(sample_rate, frame_rate)
    count = n_frames(audio.size, hop)
    family = method.split("-")[0]
    threshold = DEFAULT_VOICING[family] if voicing_threshold is None else voicing_threshold
    if method == "yin":
        f0_hz, aperiodicity = yin(audio, sample_rate, frame_rate, fmin, fmax, frame_length_for(sample_rate, fmin))
        confidence = 1.0 - aperiodicity
    elif method == "pyin":
        import librosa

        f0_hz, _, probability = librosa.pyin(audio, fmin=fmin, fmax=fmax, sr=sample_rate,
                                             frame_length=frame_length_for(sample_rate, fmin), hop_length=hop,
                                             center=True, fill_na=None)
        f0_hz, confidence = f0_hz[:count], probability[:count]
    else:
        step_ms = 1000.0 / frame_rate if crepe_step_ms is None else crepe_step_ms
        f0_hz, confidence = crepe_f0_hz(audio, method.split("-", 1)[1], sample_rate, step_ms,
                                        octaves_down=crepe_octaves_down)
        if crepe_step_ms is not None:
            f0_hz, confidence = regrid(f0_hz, confidence, 1000.0 / step_ms, frame_rate, count)
    f0_hz = np.asarray(f0_hz, np.float32)[:count]
    confidence = np.clip(np.nan_to_num(np.asarray(confidence, np.float32)[:count]), 0.0, 1.0)
    voiced = confidence >= threshold
    if silence_db is not None:
        voiced &= frame_level_db(audio, hop)[:count] > silence_db
    return PitchTrack(f0_hz, confidence, voiced, float(frame_rate), method)


def frame_level_db(audio, hop: int, frame_length: int = FRAME_LENGTH) -> np.ndarray:
    """RMS level (dB re full scale) of centred frames every `hop` samples, shape [n_samples // hop + 1]."""
    audio = np.asarray(audio, dtype=np.float64)
    padded = np.pad(audio, (frame_length // 2, frame_length // 2 + hop))
    power = np.cumsum(np.r_[0.0, padded ** 2])
    starts = np.arange(n_frames(audio.size, hop)) * hop
    mean_power = (power[starts + frame_length] - power[starts]) / frame_length
    return 10.0 * np.log10(np.maximum(mean_power, 1e-12))


def regrid(f0_hz, confidence, rate_in: float, rate_out: float, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Interpolate a track onto `count` frames at `rate_out` (f0 in log frequency)."""
    t_in = frame_times(f0_hz.size, rate_in)
    t_out = frame_times(count, rate_out)
    log_f0 = np.interp(t_out, t_in, np.log2(np.maximum(f0_hz, 1e-3)))
    return 2.0 ** log_f0, np.interp(t_out, t_in, confidence)
