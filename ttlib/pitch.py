"""Pitch: f0 trackers (YIN, pYIN, CREPE) behind one function, and intervals.

`track(audio, method, frame_rate)` returns a `PitchTrack` whose frames sit at
t = i / frame_rate (frame i centred on sample i * hop), i = 0 .. n_samples // hop,
the same grid as ddsp's loudness with 'center' padding. f0 is in Hz, confidence
in [0, 1], voicing a boolean per frame; all have shape [n_frames].

Methods: "yin" (the reference version of the YIN that notebook 02 derives),
"pyin" (librosa's probabilistic YIN), and "crepe-<capacity>" for CREPE's five
capacities, with Viterbi smoothing.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ttlib import SAMPLE_RATE

CREPE_CAPACITIES = ("tiny", "small", "medium", "large", "full")
METHODS = ("yin", "pyin") + tuple(f"crepe-{c}" for c in CREPE_CAPACITIES)
CREPE_MIN_HZ = 31.70
"""Centre of CREPE's lowest pitch bin (1997.38 cents above 10 Hz)."""
CREPE_MAX_HZ = 2005.50
"""Centre of CREPE's highest pitch bin (20 cents x 359 higher): it can report nothing above.
In practice its confidence collapses already near 1976 Hz (B6), where training data ran out."""


@dataclass
class PitchTrack:
    """An f0 track on a regular frame grid.

    Attributes:
      f0_hz: f0 in Hz, shape [n_frames]; unvoiced frames keep the tracker's best guess.
      confidence: in [0, 1], shape [n_frames] (CREPE's peak activation, YIN's 1 - aperiodicity,
        pYIN's voicing probability).
      voiced: boolean, shape [n_frames]: confidence at or above `voicing_threshold`.
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
        return np.arange(self.f0_hz.size) / self.frame_rate

    @property
    def f0_voiced_hz(self) -> np.ndarray:
        """f0 with unvoiced frames set to 0 Hz (mir_eval's convention), shape [n_frames]."""
        return np.where(self.voiced, self.f0_hz, 0.0)

    @property
    def f0_mir_eval_hz(self) -> np.ndarray:
        """f0 with unvoiced frames negated: mir_eval's (MIREX) convention for a pitch guess
        in a frame judged unvoiced, so raw pitch accuracy is independent of voicing."""
        return np.where(self.voiced, self.f0_hz, -np.abs(self.f0_hz))


def cents(f_hz, ref_hz):
    """Interval from `ref_hz` to `f_hz` in cents (1200 per octave); same shape as the inputs."""
    return 1200.0 * np.log2(np.asarray(f_hz, dtype=float) / np.asarray(ref_hz, dtype=float))


def n_frames(n_samples: int, hop: int) -> int:
    """Frames of a centred framing: one every `hop` samples from sample 0 to the last."""
    return int(n_samples) // int(hop) + 1


def _hop(sample_rate: int, frame_rate: float) -> int:
    hop = sample_rate / frame_rate
    if abs(hop - round(hop)) > 1e-9:
        raise ValueError(f"frame_rate {frame_rate} Hz does not divide the sample rate {sample_rate} Hz "
                         f"into whole samples; choose e.g. 50, 100, 200 or 250 Hz.")
    return int(round(hop))


def yin(audio, sample_rate: int = SAMPLE_RATE, frame_rate: float = 100.0, fmin: float = 60.0,
        fmax: float = 2000.0, frame_length: int = 1024, threshold: float = 0.1):
    """YIN (de Cheveigné and Kawahara, 2002), steps 1 to 5, in NumPy.

    1. difference function d(tau) = sum_j (x_j - x_{j+tau})^2 over a window of
       W = frame_length - tau_max samples, from autocorrelations by FFT;
    2. cumulative mean normalised difference d'(tau) = d(tau) tau / sum_{k<=tau} d(k), d'(0) = 1;
    3. absolute threshold: the first local minimum of d' below `threshold` in
       [sr/fmax, sr/fmin]; if none, the global minimum;
    4. parabolic interpolation of d' around that lag.

    Args:
      audio: mono samples, shape [n_samples].
      sample_rate: Hz.
      frame_rate: frames per second; frames are centred at i / frame_rate s.
      fmin, fmax: search range in Hz.
      frame_length: samples per analysis frame (at least sr / fmin + 2).
      threshold: YIN's absolute threshold on d'.

    Returns:
      (f0_hz, aperiodicity), each shape [n_frames]: aperiodicity is d' at the chosen lag
      (0 = perfectly periodic, about 1 = noise).
    """
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = _hop(sample_rate, frame_rate)
    tau_min = max(1, int(np.floor(sample_rate / fmax)))
    tau_max = min(int(np.ceil(sample_rate / fmin)), frame_length - 2)
    if tau_max <= tau_min + 1:
        raise ValueError(f"frame_length {frame_length} is too short for fmin {fmin} Hz at {sample_rate} Hz.")
    padded = np.pad(audio, (frame_length // 2, frame_length // 2))
    count = n_frames(audio.size, hop)
    starts = np.arange(count) * hop
    needed = starts[-1] + frame_length
    if padded.size < needed:
        padded = np.pad(padded, (0, needed - padded.size))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[starts]   # [n, L]

    # 1. Difference function via autocorrelation: d(tau) = e(0) + e(tau) - 2 r(tau),
    #    window j in [0, W), W = L - tau_max.
    window = frame_length - tau_max
    fft_size = 1 << int(np.ceil(np.log2(frame_length + window)))
    spec_full = np.fft.rfft(frames, fft_size)
    spec_head = np.fft.rfft(frames[:, :window], fft_size)
    r = np.fft.irfft(spec_full * np.conj(spec_head), fft_size)[:, :tau_max + 1]   # r(tau) = sum_j x_j x_{j+tau}
    energy = np.cumsum(np.pad(frames ** 2, ((0, 0), (1, 0))), axis=1)
    e_shift = energy[:, window:window + tau_max + 1] - energy[:, :tau_max + 1]      # sum_j x_{j+tau}^2
    d = np.maximum(e_shift[:, :1] + e_shift - 2 * r, 0.0)
    d[:, 0] = 0.0

    # 2. Cumulative mean normalised difference.
    cumulative = np.cumsum(d[:, 1:], axis=1)
    taus = np.arange(1, tau_max + 1)
    d_prime = np.ones_like(d)
    d_prime[:, 1:] = d[:, 1:] * taus / np.maximum(cumulative, 1e-12)

    # 3. Absolute threshold: first local minimum below it, else the global minimum.
    search = d_prime[:, tau_min:tau_max + 1]
    is_min = np.zeros_like(search, dtype=bool)
    is_min[:, 1:-1] = (search[:, 1:-1] <= search[:, :-2]) & (search[:, 1:-1] <= search[:, 2:])
    below = is_min & (search < threshold)
    first = np.argmax(below, axis=1)
    best = np.where(below.any(axis=1), first, np.argmin(search, axis=1))
    tau = best + tau_min

    # 4. Parabolic interpolation around tau.
    rows = np.arange(count)
    left = d_prime[rows, np.clip(tau - 1, 1, tau_max)]
    centre = d_prime[rows, tau]
    right = d_prime[rows, np.clip(tau + 1, 1, tau_max)]
    curvature = left - 2 * centre + right
    shift = np.where(np.abs(curvature) > 1e-12, 0.5 * (left - right) / np.where(curvature == 0, 1, curvature), 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    f0_hz = sample_rate / (tau + shift)
    aperiodicity = np.clip(centre, 0.0, 1.0)
    silent = energy[:, -1] <= 1e-10 * frame_length
    aperiodicity[silent] = 1.0
    return f0_hz.astype(np.float32), aperiodicity.astype(np.float32)


def crepe_f0_hz(audio, capacity: str = "tiny", sample_rate: int = SAMPLE_RATE,
                step_ms: float = 10.0, viterbi: bool = True, octaves_down: int = 0,
                return_activation: bool = False):
    """CREPE's f0 track of mono `audio` (shape [n_samples]), frames centred every `step_ms`.

    Args:
      octaves_down: analyse the audio this many octaves lower and double the answer
        as often. CREPE's bins stop at 1976 Hz; a whistle at 2.5 kHz is read as
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

    if capacity not in CREPE_CAPACITIES:
        raise ValueError(f"Unknown CREPE capacity {capacity!r}; choose one of {', '.join(CREPE_CAPACITIES)}.")
    factor = 2 ** int(octaves_down)
    _, f0_hz, confidence, activation = crepe.predict(
        np.asarray(audio, np.float32), sample_rate / factor, model_capacity=capacity, viterbi=viterbi,
        step_size=step_ms * factor, verbose=0, center=True)
    out = (f0_hz.astype(np.float32) * factor, confidence.astype(np.float32))
    return out + (activation,) if return_activation else out


def crepe_bin_hz(n_bins: int = 360) -> np.ndarray:
    """Centre frequency (Hz) of each of CREPE's pitch bins, shape [n_bins]."""
    return 10.0 * 2.0 ** ((1997.3794084376191 + 20.0 * np.arange(n_bins)) / 1200.0)


def pitch_accuracy(ref_times_s, ref_f0_hz, est_times_s, est_f0_hz, cent_tolerance: float = 50.0) -> dict:
    """mir_eval's melody measures of an estimate against a reference.

    Args:
      ref_times_s, ref_f0_hz: the reference, shape [n]; 0 Hz = unvoiced.
      est_times_s, est_f0_hz: the estimate, shape [m]; 0 Hz = unvoiced, a negative value
        = a pitch guess in a frame judged unvoiced (`PitchTrack.f0_mir_eval_hz`).
      cent_tolerance: how close counts as correct (cents).

    Returns:
      {"raw_pitch_accuracy", "raw_chroma_accuracy", "voicing_recall",
       "voicing_false_alarm", "overall_accuracy"}: shares in [0, 1].
    """
    import mir_eval

    ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(
        np.asarray(ref_times_s, float), np.asarray(ref_f0_hz, float),
        np.asarray(est_times_s, float), np.asarray(est_f0_hz, float))
    return {
        "raw_pitch_accuracy": float(mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c, cent_tolerance)),
        "raw_chroma_accuracy": float(mir_eval.melody.raw_chroma_accuracy(ref_v, ref_c, est_v, est_c, cent_tolerance)),
        "voicing_recall": float(mir_eval.melody.voicing_recall(ref_v, est_v)),
        "voicing_false_alarm": float(mir_eval.melody.voicing_false_alarm(ref_v, est_v)),
        "overall_accuracy": float(mir_eval.melody.overall_accuracy(ref_v, ref_c, est_v, est_c, cent_tolerance)),
    }


DEFAULT_VOICING = {"yin": 0.8, "pyin": 0.5, "crepe": 0.5}
"""Confidence at or above which a frame counts as voiced, by family of tracker."""


def track(audio, method: str = "crepe-tiny", sample_rate: int = SAMPLE_RATE, frame_rate: float = 100.0,
          fmin: float = 60.0, fmax: float = 2000.0, voicing_threshold: float | None = None,
          crepe_step_ms: float | None = None, crepe_octaves_down: int = 0,
          silence_db: float | None = -60.0) -> PitchTrack:
    """f0 of mono `audio` by any method, on the frame grid t = i / frame_rate.

    Args:
      audio: mono samples, shape [n_samples], at `sample_rate` Hz.
      method: one of `METHODS`.
      frame_rate: frames per second of the result (Hz).
      fmin, fmax: search range of YIN and pYIN (Hz); CREPE always covers 32 to 1976 Hz.
      voicing_threshold: confidence for `voiced`; None takes `DEFAULT_VOICING`.
      crepe_step_ms: run CREPE at this hop and interpolate onto the grid (10 ms is
        2.5 times faster than 4 ms); None runs it at the grid's own hop.
      crepe_octaves_down: analyse with CREPE this many octaves lower (see `crepe_f0_hz`):
        1 for whistling, which goes above CREPE's 1976 Hz ceiling.
      silence_db: frames quieter than this (RMS, dB re full scale) are unvoiced whatever
        the tracker says (CREPE normalises every frame, so it hears pitch in a faint
        reverb tail); None keeps the tracker's decision.

    Returns:
      A `PitchTrack` with n_samples // hop + 1 frames, hop = sample_rate / frame_rate.
    """
    if method not in METHODS:
        raise ValueError(f"Unknown pitch method {method!r}; choose one of {', '.join(METHODS)}.")
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = _hop(sample_rate, frame_rate)
    count = n_frames(audio.size, hop)
    family = method.split("-")[0]
    threshold = DEFAULT_VOICING[family] if voicing_threshold is None else voicing_threshold
    if method == "yin":
        frame_length = _frame_length(sample_rate, fmin)
        f0_hz, aperiodicity = yin(audio, sample_rate, frame_rate, fmin, fmax, frame_length)
        confidence = 1.0 - aperiodicity
    elif method == "pyin":
        import librosa

        frame_length = _frame_length(sample_rate, fmin)
        f0_hz, _, probability = librosa.pyin(audio, fmin=fmin, fmax=fmax, sr=sample_rate,
                                             frame_length=frame_length, hop_length=hop, center=True,
                                             fill_na=None)
        f0_hz, confidence = f0_hz[:count], probability[:count]
    else:
        step_ms = 1000.0 / frame_rate if crepe_step_ms is None else crepe_step_ms
        f0_hz, confidence = crepe_f0_hz(audio, method.split("-", 1)[1], sample_rate, step_ms,
                                        octaves_down=crepe_octaves_down)
        if crepe_step_ms is not None:
            f0_hz, confidence = _regrid(f0_hz, confidence, 1000.0 / step_ms, frame_rate, count)
    f0_hz = np.asarray(f0_hz, np.float32)[:count]
    confidence = np.clip(np.nan_to_num(np.asarray(confidence, np.float32)[:count]), 0.0, 1.0)
    voiced = confidence >= threshold
    if silence_db is not None:
        voiced &= frame_level_db(audio, hop)[:count] > silence_db
    return PitchTrack(f0_hz, confidence, voiced, float(frame_rate), method)


def frame_level_db(audio, hop: int, frame_length: int = 1024) -> np.ndarray:
    """RMS level (dB re full scale) of centred frames every `hop` samples, shape [n_samples // hop + 1]."""
    audio = np.asarray(audio, dtype=np.float64)
    padded = np.pad(audio, (frame_length // 2, frame_length // 2 + hop))
    power = np.cumsum(np.r_[0.0, padded ** 2])
    starts = np.arange(n_frames(audio.size, hop)) * hop
    mean_power = (power[starts + frame_length] - power[starts]) / frame_length
    return 10.0 * np.log10(np.maximum(mean_power, 1e-12))


def _frame_length(sample_rate: int, fmin: float) -> int:
    """Smallest power of two holding two periods of fmin (at least 1024)."""
    return max(1024, 1 << int(np.ceil(np.log2(2.0 * sample_rate / fmin + 2))))


def _regrid(f0_hz, confidence, rate_in: float, rate_out: float, count: int):
    """Interpolate a track onto `count` frames at `rate_out` (f0 in log frequency)."""
    t_in = np.arange(f0_hz.size) / rate_in
    t_out = np.arange(count) / rate_out
    log_f0 = np.interp(t_out, t_in, np.log2(np.maximum(f0_hz, 1e-3)))
    return 2.0 ** log_f0, np.interp(t_out, t_in, confidence)
