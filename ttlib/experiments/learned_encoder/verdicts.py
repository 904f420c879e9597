"""What the results table says, in words computed from it (notebook 08, sections 4 and 6).

`verdict` compares one row with the published model on each transfer measure; `conclusions`
writes notebook 08's conclusion from whatever runs the table holds, so the text a class
reads always describes the class's own runs (one seed each: a difference below the
thresholds here, or between runs of different seeds, is not a finding).
"""
from __future__ import annotations

import math

import pandas as pd

LOWER_IS_BETTER = {"transfer f0 (cents)": True, "transfer f0 any octave (cents)": True,
                   "transfer oscillator f0 (cents)": True, "transfer pitched share": False,
                   "transfer loudness (dB)": True, "transfer silent share": True, "transfer spectral": True}
"""The transfer measures a verdict reads, and whether lower is better."""

RELATIVE_CHANGE = 0.1   # a measure "moved" if it changed by more than 10 % ...
SHARE_CHANGE = 0.05     # ... and, for shares of frames, by more than 0.05
TUNE_CENTS = 100.0      # f0 within a semitone: the output plays the tune


def _value(table: pd.DataFrame, row: str, column: str) -> float:
    return float(table.loc[row, column]) if row in table.index else math.nan


def moved(before: float, after: float, column: str) -> bool:
    """Whether a measure changed by more than the thresholds (10 %; shares also by 0.05)."""
    if math.isnan(before) or math.isnan(after):
        return math.isnan(before) != math.isnan(after)
    change = abs(after - before)
    return change > RELATIVE_CHANGE * max(abs(before), 1e-6) and change > (SHARE_CHANGE if "share" in column else 1e-3)


def verdict(table: pd.DataFrame, row: str, reference: str = "published") -> str:
    """Each transfer measure of `row` that moved from `reference`'s, better or worse, in one line."""
    said = []
    for column, lower in LOWER_IS_BETTER.items():
        a, b = _value(table, reference, column), _value(table, row, column)
        short = column.replace("transfer ", "")
        if math.isnan(a) != math.isnan(b):
            said.append(f"{short}: {'a pitch appears' if math.isnan(a) else 'the pitch is lost'}")
        elif moved(a, b, column):
            said.append(f"{short} {'better' if (b < a) == lower else 'worse'} ({a:.2f} → {b:.2f})")
    return "; ".join(said) or "no change beyond 10%"


def _effect(table: pd.DataFrame, row: str, column: str, reference: str = "published") -> str:
    a, b = _value(table, reference, column), _value(table, row, column)
    if math.isnan(a) or math.isnan(b):
        return "cannot be compared (no pitch)"
    if not moved(a, b, column):
        return f"about the same ({a:.1f} → {b:.1f})"
    return f"{'better' if (b < a) == LOWER_IS_BETTER[column] else 'worse'} ({a:.1f} → {b:.1f})"


def _pitch(table: pd.DataFrame, row: str) -> str:
    share = _value(table, row, "transfer pitched share")
    f0 = _value(table, row, "transfer f0 (cents)")
    any_octave = _value(table, row, "transfer f0 any octave (cents)")
    if math.isnan(f0):
        return f"CREPE hears no pitch in its output ({share:.0%} of the frames)"
    text = f"CREPE hears a pitch in {share:.0%} of the frames, {f0:.0f} cents from the tune"
    if f0 > TUNE_CENTS >= any_octave:
        text += f" but only {any_octave:.0f} cents once whole octaves are forgiven: the tune, in the wrong register"
    elif f0 <= TUNE_CENTS:
        text += ": it plays the tune"
    return text


def conclusions(table: pd.DataFrame) -> list[str]:
    """Notebook 08's conclusion, one sentence per finding, computed from the table's rows."""
    said = []
    if "published" in table.index:
        said.append(f"**The published model**: {_pitch(table, 'published')}; its oscillator's f0 is "
                    f"{_value(table, 'published', 'transfer oscillator f0 (cents)'):.0f} cents from the tune "
                    f"(median), loudness error {_value(table, 'published', 'transfer loudness (dB)'):.1f} dB.")
    for row, what in (("loudness-skip", "The loudness skip connection"), ("silence-penalty", "The silence penalty"),
                      ("larger-encoder", "A larger encoder"), ("log-mel", "The log-mel loss"),
                      ("all-fixes", "All four fixes together")):
        if row in table.index and "published" in table.index:
            said.append(f"**{what}**: loudness error {_effect(table, row, 'transfer loudness (dB)')}, spectral loss "
                        f"{_effect(table, row, 'transfer spectral')}; {_pitch(table, row)}.")
    learned = [r for r in table.index if r != "ddsp-baseline"]
    if "ddsp-baseline" in table.index and learned:
        wins = [c for c, lower in LOWER_IS_BETTER.items()
                if not math.isnan(_value(table, "ddsp-baseline", c))
                and all(math.isnan(_value(table, r, c))
                        or (_value(table, "ddsp-baseline", c) <= _value(table, r, c)) == lower
                        or _value(table, "ddsp-baseline", c) == _value(table, r, c) for r in learned)]
        said.append(f"**The DDSP baseline** (given f0 and loudness): {_pitch(table, 'ddsp-baseline')}; it is the best "
                    f"or equal best of all {len(table.index)} rows on {len(wins)} of {len(LOWER_IS_BETTER)} transfer "
                    f"measures ({', '.join(c.replace('transfer ', '') for c in wins) or 'none'}).")
    return said
