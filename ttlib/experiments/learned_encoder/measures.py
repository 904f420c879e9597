"""The experiment's measures: the DDSP paper's, on trumpet resynthesis and on whistle-to-trumpet transfer.

For each output: the spectral loss against its reference; its f0 tracked again by
CREPE against the f0 it should have (`ttlib.pitch.output_f0_error`), also with whole
octaves forgiven; the f0 the decoder gave its oscillator; the loudness error; the
share of frames where the source plays and the output is silent. Notebook 08, section 4.
"""
from __future__ import annotations

import time

import numpy as np

from ttlib.core.constants import PLAYING_DB, VOICED_CONFIDENCE
from ttlib.core.units import SAMPLE_RATE, cents
from ttlib.data.examples import Examples
from ttlib.data.features import loudness_db as compute_loudness
from ttlib.experiments.learned_encoder.runner import Runner
from ttlib.experiments.learned_encoder.testset import TransferSet
from ttlib.models.evaluation import spectral_loss
from ttlib.pitch.accuracy import F0Error, output_f0_error

METRICS_VERSION = 2
"""Bump when `evaluate_run` measures something new: finished runs are measured again from
their saved weights (not retrained) the next time they are asked for."""


def oscillator_f0_error(oscillator_f0_hz, reference_f0_hz, playing) -> float:
    """Median |cents| between the f0 a model gave its oscillator and the reference, where the source plays.

    All [n, frames]; NaN when nothing plays.
    """
    n = min(oscillator_f0_hz.shape[1], reference_f0_hz.shape[1])
    on = playing[:, :n] & (reference_f0_hz[:, :n] > 0) & (oscillator_f0_hz[:, :n] > 0)
    if not on.any():
        return float("nan")
    return float(np.median(np.abs(cents(oscillator_f0_hz[:, :n][on], reference_f0_hz[:, :n][on]))))


def output_measures(outputs, reference_f0_hz, playing, loudness_reference_db, frame_rate: int,
                    f0_method: str = "crepe-tiny") -> dict:
    """f0 error, loudness error and silent share of some outputs against references.

    Args:
      outputs: [n, n_samples] audio.
      reference_f0_hz: [n, frames] the f0 the output should have (0 = none).
      playing: [n, frames] bool, frames where the source plays.
      loudness_reference_db: [n, frames] the loudness the output should have.

    Returns:
      {"f0_error_cents_median", "f0_error_cents_mean" (on frames where the source plays
       and the output has a pitch), "f0_error_any_octave_cents_median" (the same with
       whole octaves forgiven: does the output follow the tune in some register?),
       "loudness_error_db" (mean absolute, where the source plays), "silent_where_playing"
       (share of playing frames where the output is below `PLAYING_DB`),
       "output_voiced_fraction", "frames_playing"}.
    """
    errors, loud, silent = [], [], 0
    for out, ref, on, ref_ld in zip(outputs, reference_f0_hz, playing, loudness_reference_db):
        errors.append(output_f0_error(out, ref, frame_rate, playing=on, method=f0_method))
        out_ld = compute_loudness(out, SAMPLE_RATE, frame_rate)
        n = min(ref.size, out_ld.size)
        on = on[:n] & (ref[:n] > 0)
        loud.append(np.abs(out_ld[:n] - ref_ld[:n])[on])
        silent += int((on & (out_ld[:n] < PLAYING_DB)).sum())
    f0 = F0Error.pool(errors)
    loud = np.concatenate(loud) if loud else np.zeros(0)
    total = f0.n_playing
    nan = float("nan")
    return {"f0_error_cents_median": f0.median_cents, "f0_error_any_octave_cents_median": f0.median_any_octave_cents,
            "f0_error_cents_mean": f0.mean_cents,
            "loudness_error_db": float(np.mean(loud)) if loud.size else nan,
            "silent_where_playing": silent / total if total else nan,
            "output_voiced_fraction": f0.voiced_fraction, "frames_playing": total}


def evaluate_run(runner: Runner, trumpet_held_out: Examples, tset: TransferSet, f0_method: str = "crepe-tiny") -> dict:
    """Spectral loss, f0 and loudness errors on trumpet resynthesis and on whistle-to-trumpet transfer.

    Resynthesis (held-out trumpet clips from their own audio / features): spectral loss
    against the input; f0 error against the input's f0 (CREPE's, as the baseline was
    given); loudness error against the input's loudness; silent share where the input plays.
    Transfer (held-out whistle clips): spectral loss and loudness error against the trumpet
    rendering of the same score (`TransferSet.target`); f0 error against the whistle's
    exact f0 moved by the set's octave shift; silent share where the whistle plays.
    """
    examples = trumpet_held_out
    count = runner.cfg.n_frames
    n_samples = count * runner.cfg.hop
    audio = examples.audio[:, :n_samples]
    f0, ld, conf = examples.f0_hz[:, :count], examples.loudness_db[:, :count], examples.f0_confidence[:, :count]
    start = time.perf_counter()
    resynth = runner.resynthesize(audio, f0, ld)
    playing = (conf >= VOICED_CONFIDENCE) & (ld > PLAYING_DB)
    resynthesis = {"spectral_loss": spectral_loss(audio, resynth["audio"]),
                   **output_measures(resynth["audio"], f0, playing, ld, runner.cfg.frame_rate, f0_method),
                   "oscillator_f0_error_cents_median": oscillator_f0_error(resynth["f0_hz"], f0, playing),
                   "clips": int(audio.shape[0])}
    moved = tset.f0_hz * 2.0 ** tset.octave_shift
    out = runner.transfer(tset)
    whistle_playing = (tset.f0_hz > 0) & (tset.loudness_db > PLAYING_DB)
    transfer_metrics = {"spectral_loss": spectral_loss(tset.target, out["audio"]),
                        **output_measures(out["audio"], moved, whistle_playing, tset.target_loudness_db,
                                          tset.frame_rate, f0_method),
                        "oscillator_f0_error_cents_median": oscillator_f0_error(out["f0_hz"], moved, whistle_playing),
                        "clips": len(tset), "octave_shift": tset.octave_shift}
    return {"resynthesis": resynthesis, "transfer": transfer_metrics,
            "seconds": round(time.perf_counter() - start, 2),
            "examples": {"resynthesis": resynth, "transfer": out}}
