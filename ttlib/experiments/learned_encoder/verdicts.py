"""What the results table says, in words computed from its runs (notebook 08, sections 4 to 6).

A row's effect on a measure is the change of its mean over seeds from the reference row's
(the published model). It is **distinguishable from seed noise** when the two rows' ranges
over their seeds do not overlap: every seed of one is better than every seed of the other.
With n seeds on each side, two rows that differ only by seed do that with probability
2 / C(2n, n): 1 in 3 for 2 seeds, 1 in 10 for 3, 1 in 35 for 4 (a permutation test's
smallest p-value), so with 2 seeds a verdict is a hint, with 3 or more a finding. With a
single seed on either side the spread is unknown and the verdict says so.

`effect` computes one comparison, `verdict` states a row's effects on the transfer
measures in one line, and `conclusions` writes notebook 08's conclusion from whatever
runs the table holds, so the text a class reads describes the class's own runs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

LOWER_IS_BETTER = {"transfer f0 (cents)": True, "transfer f0 any octave (cents)": True,
                   "transfer oscillator f0 (cents)": True, "transfer pitched share": False,
                   "transfer loudness (dB)": True, "transfer silent share": True, "transfer spectral": True}
"""The transfer measures a verdict reads, and whether lower is better."""

UNITS = {"transfer f0 (cents)": " cents", "transfer f0 any octave (cents)": " cents",
         "transfer oscillator f0 (cents)": " cents", "transfer loudness (dB)": " dB"}
TUNE_CENTS = 100.0      # f0 within a semitone: the output plays the tune


def seed_values(table: pd.DataFrame, row: str, column: str) -> np.ndarray:
    """The finite values of `column` over the seeds of `row` (empty if the row is missing)."""
    if row not in table.index.get_level_values("row"):
        return np.zeros(0)
    values = table.xs(row, level="row")[column].astype(float).to_numpy()
    return values[np.isfinite(values)]


def seed_count(table: pd.DataFrame, row: str) -> int:
    """How many seeds (runs) `row` has in the table."""
    return int((table.index.get_level_values("row") == row).sum())


@dataclass(frozen=True)
class Effect:
    """The change of one measure from a reference row to another row, against the seed spread.

    Attributes:
      column: the measure.
      before, after: the means over seeds (NaN: no seed has a value).
      spread: the wider of the two rows' ranges over seeds (max - min; NaN with one seed).
      seeds: (seeds of the reference, seeds of the row) with a value.
      distinguishable: the ranges do not overlap (None: a side has fewer than 2 seeds,
        or no value).
      better: the change goes the better way (None: no change or nothing to compare).
    """

    column: str
    before: float
    after: float
    spread: float
    seeds: tuple
    distinguishable: bool | None
    better: bool | None

    @property
    def change(self) -> float:
        return self.after - self.before

    def describe(self, with_name: bool = True) -> str:
        """One phrase, e.g. "loudness better: 25.4 → 17.3 dB, outside the seed spread (widest range 2.3, 3 seeds)"."""
        name = short(self.column)
        unit = UNITS.get(self.column, "")
        lead = f"{name} " if with_name else ""
        if math.isnan(self.before) != math.isnan(self.after):
            return f"{lead}{'a pitch appears' if math.isnan(self.before) else 'the pitch is lost'}".strip()
        if math.isnan(self.before):
            return f"{lead}cannot be compared (no pitch in either)".strip()
        numbers = f"{self.before:.{_digits(self.before)}f} → {self.after:.{_digits(self.after)}f}{unit}"
        if self.distinguishable is None:
            way = "" if self.better is None else ("better" if self.better else "worse")
            return f"{lead}{way + ': ' if way else ''}{numbers} (one seed: the seed spread is unknown)".strip()
        n = min(self.seeds)
        if self.distinguishable:
            return (f"{lead}{'better' if self.better else 'worse'}: {numbers}, outside the seed spread "
                    f"(widest range {self.spread:.{_digits(self.spread)}f}, {n} seeds)").strip()
        return (f"{lead}no effect distinguishable from seed noise ({numbers}, widest range "
                f"{self.spread:.{_digits(self.spread)}f}, {n} seeds)").strip()


def short(column: str) -> str:
    """A measure's name without "transfer" and its unit: "transfer loudness (dB)" -> "loudness"."""
    return column.replace("transfer ", "").replace(" (cents)", "").replace(" (dB)", "")


def _digits(value: float) -> int:
    return 0 if abs(value) >= 100 else 1 if abs(value) >= 1 else 2


def effect(table: pd.DataFrame, row: str, column: str, reference: str = "published") -> Effect:
    """How `row` differs from `reference` on `column`, against the seed spread (see the module's docstring)."""
    a, b = seed_values(table, reference, column), seed_values(table, row, column)
    before = float(a.mean()) if a.size else math.nan
    after = float(b.mean()) if b.size else math.nan
    if a.size < 2 or b.size < 2:
        distinguishable, spread = None, math.nan
    else:
        spread = float(max(np.ptp(a), np.ptp(b)))
        distinguishable = bool(a.max() < b.min() or b.max() < a.min())
    better = None
    if a.size and b.size and after != before:
        better = (after < before) == LOWER_IS_BETTER.get(column, True)
    return Effect(column, before, after, spread, (int(a.size), int(b.size)), distinguishable, better)


def verdict(table: pd.DataFrame, row: str, reference: str = "published") -> str:
    """`row`'s effect on each transfer measure against `reference`, in one line ("; " between measures)."""
    return "; ".join(effect(table, row, column, reference).describe() for column in LOWER_IS_BETTER)


def findings(table: pd.DataFrame, row: str, reference: str = "published") -> list[Effect]:
    """The transfer measures on which `row` differs from `reference` beyond the seed spread."""
    return [e for e in (effect(table, row, c, reference) for c in LOWER_IS_BETTER) if e.distinguishable]


def _mean(table: pd.DataFrame, row: str, column: str) -> float:
    values = seed_values(table, row, column)
    return float(values.mean()) if values.size else math.nan


def _pitch(table: pd.DataFrame, row: str) -> str:
    share = _mean(table, row, "transfer pitched share")
    f0 = _mean(table, row, "transfer f0 (cents)")
    any_octave = _mean(table, row, "transfer f0 any octave (cents)")
    if math.isnan(f0):
        return f"CREPE hears no pitch in its output ({share:.0%} of the frames)"
    text = f"CREPE hears a pitch in {share:.0%} of the frames, {f0:.0f} cents from the tune"
    if f0 > TUNE_CENTS >= any_octave:
        text += f" but only {any_octave:.0f} cents once whole octaves are forgiven: the tune, in the wrong register"
    elif f0 <= TUNE_CENTS:
        text += ": it plays the tune"
    return text


def _seeds_note(table: pd.DataFrame) -> str:
    counts = sorted({seed_count(table, r) for r in dict.fromkeys(table.index.get_level_values("row"))})
    text = f"{counts[0]} seed{'s' if counts[0] > 1 else ''}" if len(counts) == 1 else \
        f"{counts[0]} to {counts[-1]} seeds"
    return text + " per row (means over seeds; an effect counts when the rows' ranges over seeds do not overlap)"


def conclusions(table: pd.DataFrame) -> list[str]:
    """Notebook 08's conclusion, one sentence per finding, computed from the table's runs (row, seed)."""
    rows = list(dict.fromkeys(table.index.get_level_values("row")))
    if not rows:
        return []
    said = [f"**Runs**: {_seeds_note(table)}."]
    if "published" in rows:
        said.append(f"**The published model**: {_pitch(table, 'published')}; its oscillator's f0 is "
                    f"{_mean(table, 'published', 'transfer oscillator f0 (cents)'):.0f} cents from the tune "
                    f"(median), loudness error {_mean(table, 'published', 'transfer loudness (dB)'):.1f} dB.")
    for row, what in (("loudness-skip", "The loudness skip connection"), ("silence-penalty", "The silence penalty"),
                      ("larger-encoder", "A larger encoder"), ("log-mel", "The log-mel loss"),
                      ("all-fixes", "All four fixes together"), ("crepe-f0", "CREPE's f0 beside z (the hypothesis)")):
        if row in rows and "published" in rows:
            loud = effect(table, row, "transfer loudness (dB)").describe(with_name=False)
            spectral = effect(table, row, "transfer spectral").describe(with_name=False)
            clear = findings(table, row)
            summary = (f"beyond the seed spread on {len(clear)} of {len(LOWER_IS_BETTER)} transfer measures ("
                       + ", ".join(f"{short(e.column)} {'better' if e.better else 'worse'}" for e in clear)
                       + ")") if clear else \
                "no transfer measure moves beyond the seed spread"
            said.append(f"**{what}**: loudness error {loud}; spectral loss {spectral}; {_pitch(table, row)}; "
                        f"{summary}.")
    if "crepe-f0" in rows and "ddsp-baseline" in rows:
        against = findings(table, "crepe-f0", reference="ddsp-baseline")
        said.append("**CREPE's f0 beside z against the DDSP baseline**: " + (
            "; ".join(e.describe() for e in against) if against else
            "no transfer measure differs beyond the seed spread") + ".")
    learned = [r for r in rows if r != "ddsp-baseline"]
    if "ddsp-baseline" in rows and learned:
        base = {c: _mean(table, "ddsp-baseline", c) for c in LOWER_IS_BETTER}
        wins = [c for c, lower in LOWER_IS_BETTER.items() if not math.isnan(base[c])
                and all(math.isnan(_mean(table, r, c)) or (base[c] <= _mean(table, r, c)) == lower
                        or base[c] == _mean(table, r, c) for r in learned)]
        said.append(f"**The DDSP baseline** (given f0 and loudness): {_pitch(table, 'ddsp-baseline')}; its mean is "
                    f"the best or equal best of all {len(rows)} rows on {len(wins)} of {len(LOWER_IS_BETTER)} transfer "
                    f"measures ({', '.join(short(c) for c in wins) or 'none'}).")
    return said
