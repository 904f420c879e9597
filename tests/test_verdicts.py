"""Notebook 08's verdicts and conclusion are computed from the runs (row x seed), against the seed spread."""
import math

import pandas as pd
import pytest

from ttlib.experiments import learned_encoder as experiment

COLUMNS = list(experiment.LOWER_IS_BETTER)
# f0, f0 any octave, oscillator f0, pitched share, loudness, silent share, spectral
PUBLISHED = [800.0, 300.0, 2500.0, 0.40, 14.0, 0.01, 14.0]


def table(**rows) -> pd.DataFrame:
    """A results table from {row: [values of seed 0, values of seed 1, ...]}."""
    records = [{"row": name, "seed": seed, **dict(zip(COLUMNS, values))}
               for name, seeds in rows.items() for seed, values in enumerate(seeds)]
    return pd.DataFrame.from_records(records).set_index(["row", "seed"])


def jitter(values, *deltas):
    """Seeds of a row: `values` with `deltas` added to every measure."""
    return [[v + d for v in values] for d in deltas]


def test_an_effect_counts_only_outside_the_seed_spread():
    louder = [790.0, 310.0, 2500.0, 0.42, 9.0, 0.01, 16.0]
    t = table(published=jitter(PUBLISHED, 0.0, 0.4, -0.3), **{"loudness-skip": jitter(louder, 0.0, 0.2, -0.2)})
    e = experiment.effect(t, "loudness-skip", "transfer loudness (dB)")
    assert e.distinguishable and e.better and e.seeds == (3, 3)
    assert e.before == pytest.approx(14.033, abs=1e-3) and e.spread == pytest.approx(0.7)
    said = experiment.verdict(t, "loudness-skip")
    assert len(said.split("; ")) == len(experiment.LOWER_IS_BETTER)       # one phrase per measure
    assert "loudness better: 14.0 → 9.0 dB, outside the seed spread (widest range 0.70, 3 seeds)" in said
    assert "spectral worse: 14.0 → 16.0, outside the seed spread" in said
    # 800 -> 790 cents: the ranges [799.7, 800.4] and [789.8, 790.2] do not overlap: a (small) finding
    assert "f0 better: 800 → 790 cents" in said
    # the same difference with seeds that spread more is noise
    noisy = table(published=jitter(PUBLISHED, 0.0, 3.0, -3.0), **{"loudness-skip": jitter(louder, 0.0, 3.0, -3.0)})
    e = experiment.effect(noisy, "loudness-skip", "transfer loudness (dB)")
    assert e.distinguishable is False
    assert e.describe() == ("loudness no effect distinguishable from seed noise (14.0 → 9.0 dB, "
                            "widest range 6.0, 3 seeds)")


def test_one_seed_says_the_spread_is_unknown_and_pitch_changes_are_named():
    t = table(published=[PUBLISHED], **{"log-mel": [[math.nan, math.nan, 2500.0, 0.0, 14.0, 0.01, 13.0]]})
    said = experiment.verdict(t, "log-mel")
    assert "f0 the pitch is lost" in said
    assert "spectral better: 14.0 → 13.0 (one seed: the seed spread is unknown)" in said
    assert experiment.effect(t, "log-mel", "transfer spectral").distinguishable is None


def test_nan_seeds_are_left_out_of_the_means():
    t = table(published=[PUBLISHED, [math.nan] + PUBLISHED[1:], [820.0] + PUBLISHED[1:]])
    values = experiment.verdicts.seed_values(t, "published", "transfer f0 (cents)")
    assert list(values) == [800.0, 820.0]


def test_conclusions_follow_the_numbers():
    t = table(published=jitter(PUBLISHED, -0.005, 0.005),
              **{"larger-encoder": jitter([2400.0, 9.0, 2500.0, 0.3, 20.0, 0.0, 19.0], -0.005, 0.005),
                 "crepe-f0": jitter([30.0, 30.0, 10.0, 0.8, 13.0, 0.0, 12.0], -0.005, 0.005),
                 "ddsp-baseline": jitter([7.0, 7.0, 0.0, 0.9, 8.0, 0.0, 9.5], -0.005, 0.005)})
    text = "\n".join(experiment.conclusions(t))
    assert "2 seeds per row" in text
    assert "the tune, in the wrong register" in text          # 2400 cents off, 9 cents any octave
    assert "loudness error worse: 14.0 → 20.0 dB, outside the seed spread (widest range 0.01, 2 seeds)" in text
    assert "it plays the tune" in text                        # the baseline, 7 cents
    assert "**CREPE's f0 beside z (the hypothesis)**" in text
    assert "against the DDSP baseline**: f0 worse: 7.0 → 30.0 cents, outside the seed spread" in text
    assert "beyond the seed spread on 5 of 7 transfer measures (f0 worse, f0 any octave better, pitched share " \
           "worse, loudness worse, spectral worse)" in text           # silent share: the ranges touch
    assert "on 7 of 7 transfer measures" in text
    slower = t.copy()
    slower.loc[("ddsp-baseline", 0), "transfer spectral"] = 30.0   # the baseline loses one measure ...
    slower.loc[("ddsp-baseline", 1), "transfer spectral"] = 30.0
    assert "on 6 of 7 transfer measures" in "\n".join(experiment.conclusions(slower))   # ... and the text says so


def test_summary_and_formatting():
    t = table(published=jitter(PUBLISHED, 0.0, 1.0), **{"log-mel": [[math.nan] + PUBLISHED[1:]] * 2})
    summary = experiment.summarize(t)
    assert summary.loc["published", ("transfer spectral", "mean")] == pytest.approx(14.5)
    assert summary.loc["published", ("transfer spectral", "min")] == 14.0
    assert summary.loc["log-mel", ("transfer f0 (cents)", "n")] == 0
    assert summary.loc["log-mel", ("seeds", "n")] == 2
    shown = experiment.formatted(summary)
    assert shown.loc["published", "transfer spectral"] == "14.50 [14.00, 15.00]"
    assert shown.loc["log-mel", "transfer f0 (cents)"] == "no pitch"
    assert shown.loc["log-mel", "transfer spectral"] == "14.00" and shown.loc["log-mel", "seeds"] == 2
