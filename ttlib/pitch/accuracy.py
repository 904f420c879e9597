"""How right an f0 is: mir_eval's melody measures, and an output's f0 against what it should be.

- `pitch_accuracy`: raw pitch and chroma accuracy, voicing recall and false alarm
  (mir_eval, the MIREX measures) of a tracker against a reference (notebooks 02-03);
- `output_f0_error`: a synthesised output's f0, tracked again by CREPE, against the
  f0 it was meant to have, in cents: the one measure of "does it play the right
  note" used by evaluation (notebook 06), transfer's check (notebook 07, `python -m
  ttlib transfer --check`) and the learned-encoder experiment (notebook 08);
- `busiest_window`: where a stretch of frames holds the most of some condition (notebook 03
  measures CREPE on the minute of whistle that goes most often above its ceiling).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ttlib.core.units import SAMPLE_RATE, cents, fold_octaves
from ttlib.pitch.tracking import PitchTrack, track


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


@dataclass
class F0Error:
    """An output's f0 (tracked again) against the f0 it should have.

    Attributes:
      cents: [k] signed interval output - reference (cents) on the compared frames.
      compared: [n] bool: frames where the reference plays and the output has a pitch.
      n_playing: frames where the reference plays.
      tracked: the output's `PitchTrack` (None for a pool of several outputs).
    """

    cents: np.ndarray
    compared: np.ndarray
    n_playing: int
    tracked: PitchTrack | None = None

    @classmethod
    def pool(cls, errors: list) -> F0Error:
        """The errors of several outputs as one: their frames together (for medians over a test set)."""
        if not errors:
            return cls(np.zeros(0), np.zeros(0, bool), 0)
        return cls(np.concatenate([e.cents for e in errors]), np.concatenate([e.compared for e in errors]),
                   sum(e.n_playing for e in errors))

    @property
    def n_compared(self) -> int:
        return int(self.compared.sum())

    @property
    def median_cents(self) -> float:
        """Median |error| (cents); NaN when the output has no pitch where the reference plays."""
        return float(np.median(np.abs(self.cents))) if self.cents.size else float("nan")

    @property
    def mean_cents(self) -> float:
        """Mean |error| (cents); NaN when nothing was compared."""
        return float(np.mean(np.abs(self.cents))) if self.cents.size else float("nan")

    @property
    def median_any_octave_cents(self) -> float:
        """Median |error| with whole octaves forgiven: does the output play the tune in some register?"""
        return float(np.median(fold_octaves(self.cents))) if self.cents.size else float("nan")

    @property
    def voiced_fraction(self) -> float:
        """Share of the playing frames where the output has a pitch; NaN when nothing plays."""
        return self.n_compared / self.n_playing if self.n_playing else float("nan")


def output_f0_error(output, reference_f0_hz, frame_rate: float, playing=None, method: str = "crepe-tiny",
                    sample_rate: int = SAMPLE_RATE, octaves_down: int = 0) -> F0Error:
    """Track `output` again and compare its f0 with `reference_f0_hz`, frame by frame.

    Args:
      output: audio, shape [n_samples].
      reference_f0_hz: the f0 the output should have, shape [n_frames] at `frame_rate` on the
        course's analysis grid; 0 where nothing should play.
      frame_rate: frames per second of the reference; the output is tracked at the same rate.
      playing: [n_frames] bool, frames to judge (default: where the reference is above 0);
        frames with a reference of 0 are never judged.
      method: the tracker for the output (`ttlib.pitch.METHODS`).
      octaves_down: let CREPE analyse the output this many octaves down (outputs above 2 kHz).

    Returns:
      An `F0Error`.
    """
    reference = np.asarray(reference_f0_hz, np.float64).reshape(-1)
    tracked = track(output, method, sample_rate=sample_rate, frame_rate=frame_rate,
                    crepe_octaves_down=int(octaves_down))
    n = min(tracked.f0_hz.size, reference.size)
    on = (reference[:n] > 0) if playing is None else (np.asarray(playing, bool)[:n] & (reference[:n] > 0))
    compared = on & tracked.voiced[:n] & (tracked.f0_hz[:n] > 0)
    return F0Error(cents(tracked.f0_hz[:n][compared], reference[:n][compared]), compared, int(on.sum()), tracked)


def busiest_window(mask, n: int) -> int:
    """First frame of the `n` consecutive frames holding the most True values of `mask`.

    Notebook 03 uses it to pick the stretch of the built-in whistle whose exact f0 is
    most often above CREPE's top bin. Ties go to the earliest stretch; a mask of at
    most `n` frames gives 0.
    """
    mask = np.asarray(mask, bool).reshape(-1)
    if mask.size <= n:
        return 0
    counts = np.cumsum(np.r_[0, mask.astype(int)])
    return int(np.argmax(counts[n:] - counts[:-n]))
