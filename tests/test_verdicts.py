"""Notebook 08's verdicts and conclusion are computed from the results table, not typed."""
import math

import pandas as pd

from ttlib.experiments import learned_encoder as experiment


def table(**rows) -> pd.DataFrame:
    columns = list(experiment.LOWER_IS_BETTER)
    return pd.DataFrame({name: dict(zip(columns, values)) for name, values in rows.items()}).T


# f0, f0 any octave, oscillator f0, pitched share, loudness, silent share, spectral
PUBLISHED = [800.0, 300.0, 2500.0, 0.40, 14.0, 0.01, 14.0]


def test_verdict_names_what_moved_and_in_which_direction():
    t = table(published=PUBLISHED,
              **{"loudness-skip": [790.0, 310.0, 2500.0, 0.42, 9.0, 0.01, 16.0],
                 "log-mel": [math.nan, math.nan, 2500.0, 0.0, 14.0, 0.01, 14.1]})
    said = experiment.verdict(t, "loudness-skip")
    assert "loudness (dB) better (14.00 → 9.00)" in said and "spectral worse (14.00 → 16.00)" in said
    assert "f0 (cents)" not in said                           # 800 -> 790 is within 10 %
    assert "the pitch is lost" in experiment.verdict(t, "log-mel")
    assert experiment.verdict(t, "published") == "no change beyond 10%"


def test_conclusions_follow_the_numbers():
    t = table(published=PUBLISHED,
              **{"larger-encoder": [2400.0, 9.0, 2500.0, 0.3, 20.0, 0.0, 19.0],
                 "ddsp-baseline": [7.0, 7.0, 0.0, 0.9, 8.0, 0.0, 9.5]})
    text = "\n".join(experiment.conclusions(t))
    assert "the tune, in the wrong register" in text          # 2400 cents off, 9 cents any octave
    assert "loudness error worse (14.0 → 20.0)" in text
    assert "it plays the tune" in text                        # the baseline, 7 cents
    assert "on 7 of 7 transfer measures" in text
    slower = t.copy()
    slower.loc["ddsp-baseline", "transfer spectral"] = 30.0   # the baseline loses one measure ...
    assert "on 6 of 7 transfer measures" in "\n".join(experiment.conclusions(slower))   # ... and the text says so
