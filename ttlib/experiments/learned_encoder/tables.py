"""The results table of notebook 08: one line per run (row and seed), and its summary over seeds.

`results_table` reads every finished run under a root (`<root>/<row>/seed-<n>/metrics.json`);
`summarize` gives each row's mean, minimum and maximum over its seeds and how many
seeds it has; `formatted` writes the summary as "mean [min, max]" for display. The
verdicts (`ttlib.experiments.learned_encoder.verdicts`) read the per-run table.
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ttlib.experiments.learned_encoder.config import ROWS
from ttlib.experiments.learned_encoder.runs import load_row
from ttlib.experiments.learned_encoder.seeds import SEED_PREFIX, finished_seeds

TABLE_COLUMNS = {
    "transfer spectral": ("transfer", "spectral_loss"),
    "transfer f0 (cents)": ("transfer", "f0_error_cents_median"),
    "transfer f0 any octave (cents)": ("transfer", "f0_error_any_octave_cents_median"),
    "transfer pitched share": ("transfer", "output_voiced_fraction"),
    "transfer oscillator f0 (cents)": ("transfer", "oscillator_f0_error_cents_median"),
    "transfer loudness (dB)": ("transfer", "loudness_error_db"),
    "transfer silent share": ("transfer", "silent_where_playing"),
    "resynth spectral": ("resynthesis", "spectral_loss"),
    "resynth f0 (cents)": ("resynthesis", "f0_error_cents_median"),
    "resynth f0 any octave (cents)": ("resynthesis", "f0_error_any_octave_cents_median"),
    "resynth pitched share": ("resynthesis", "output_voiced_fraction"),
    "resynth loudness (dB)": ("resynthesis", "loudness_error_db"),
    "resynth silent share": ("resynthesis", "silent_where_playing"),
}
"""The results table's measure columns: {column: (part of metrics.json, measure)}."""


def row_names(root: str | os.PathLike, rows: tuple | list | None = None) -> list[str]:
    """The rows with finished runs under `root`: `rows` in that order, or (None) `ROWS` first, then any others."""
    root = Path(root)
    if rows is not None:
        return [r for r in rows if finished_seeds(root, r)]
    found = sorted(p.name for p in root.iterdir() if p.is_dir() and finished_seeds(root, p.name)) \
        if root.is_dir() else []
    return [r for r in ROWS if r in found] + [r for r in found if r not in ROWS]


def results_table(root: str | os.PathLike, rows: tuple | list | None = None,
                  seeds: tuple | list | None = None) -> pd.DataFrame:
    """One line per finished run, indexed by (row, seed), read from the runs' metrics.json.

    Measures are floats (NaN where there was nothing to measure, e.g. the f0 of an output
    without pitch), then "train (min)" and the "command" that regenerates the run.

    Args:
      rows: the rows to read, in this order (None: every row found, `ROWS` first).
      seeds: only these seeds (None: all).
    """
    records = []
    for name in row_names(root, rows):
        for seed, folder in finished_seeds(root, name).items():
            if seeds is not None and seed not in seeds:
                continue
            _, log, m = load_row(folder)
            record = {"row": name, "seed": seed}
            for column, (part, measure) in TABLE_COLUMNS.items():
                value = m[part].get(measure)
                record[column] = math.nan if value is None else float(value)
            record.update({"train (min)": m["train_seconds"] / 60.0, "command": log["command"]})
            records.append(record)
    if not records:
        return pd.DataFrame(columns=["row", "seed", *TABLE_COLUMNS, "train (min)", "command"]).set_index(
            ["row", "seed"])
    return pd.DataFrame.from_records(records).set_index(["row", "seed"])


def measure_columns(table: pd.DataFrame) -> list[str]:
    """The measure columns of a results table (those of `TABLE_COLUMNS` it has, and "train (min)")."""
    return [c for c in (*TABLE_COLUMNS, "train (min)") if c in table.columns]


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Each row's mean, min and max over its seeds, per measure; columns (measure, "mean"|"min"|"max"|"n").

    "n" counts the seeds with a value (an output without pitch has no f0 error); the
    column ("seeds", "n") counts the row's runs. NaN where no seed has a value.
    """
    columns = measure_columns(table)
    rows = list(dict.fromkeys(table.index.get_level_values("row")))
    data = {}
    for column in columns:
        groups = table[column].astype(float).groupby(level="row", sort=False)
        data[column, "mean"] = groups.mean()
        data[column, "min"] = groups.min()
        data[column, "max"] = groups.max()
        data[column, "n"] = groups.count()
    data["seeds", "n"] = table.groupby(level="row", sort=False).size()
    out = pd.DataFrame(data).reindex(rows)
    out.columns = pd.MultiIndex.from_tuples(out.columns)
    return out


def formatted(summary: pd.DataFrame, digits: int = 2, columns: list | None = None) -> pd.DataFrame:
    """The summary as text, "mean [min, max]" (one seed: the value; no value: "no pitch"), and the seeds."""
    columns = columns or [c for c in dict.fromkeys(summary.columns.get_level_values(0)) if c != "seeds"]
    out = {}
    for column in columns:
        cells = []
        for row in summary.index:
            mean, low, high, n = (summary.loc[row, (column, k)] for k in ("mean", "min", "max", "n"))
            if not n or np.isnan(mean):
                cells.append("no pitch")
            elif n == 1 or low == high:
                cells.append(f"{mean:.{digits}f}")
            else:
                cells.append(f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]")
        out[column] = cells
    out["seeds"] = [int(v) for v in summary["seeds", "n"]]
    return pd.DataFrame(out, index=summary.index)


def row_means(table: pd.DataFrame) -> dict:
    """{row: {measure: mean over seeds or None}}: what notebook 08 records for the tests."""
    summary = summarize(table)
    return {row: {c: (None if np.isnan(summary.loc[row, (c, "mean")]) else float(summary.loc[row, (c, "mean")]))
                  for c in measure_columns(table)} for row in summary.index}


__all__ = ["SEED_PREFIX", "TABLE_COLUMNS", "formatted", "measure_columns", "results_table", "row_means", "row_names",
           "summarize"]
