"""Runs of the experiment: the datasets, one row trained and measured into its folder, the results table.

Every run writes one folder (see `run`): run.json (configuration, seed, versions,
the command that made it, wall time), losses.csv, the weights (or, for the
baseline, a `ttlib.models` model folder), statistics.json, metrics.json (see
`ttlib.experiments.learned_encoder.measures.evaluate_run`) and example WAVs. Notebook 08
and `python -m ttlib experiment learned-encoder ...` write the same folders, so either
reads the other's runs.
"""
from __future__ import annotations

import csv
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ttlib.audio.io import save_wav
from ttlib.core import paths
from ttlib.core.errors import ExperimentError
from ttlib.core.io import json_safe, read_json, write_json
from ttlib.data.dataset import build_dataset, dataset_fingerprint, read_statistics
from ttlib.data.examples import load_examples
from ttlib.experiments.learned_encoder.config import ROWS, ExperimentConfig
from ttlib.experiments.learned_encoder.encoder import encoder_features
from ttlib.experiments.learned_encoder.measures import METRICS_VERSION, evaluate_run
from ttlib.experiments.learned_encoder.model import build_model
from ttlib.experiments.learned_encoder.runner import Runner
from ttlib.experiments.learned_encoder.testset import transfer_set
from ttlib.experiments.learned_encoder.training import LOSS_COLUMNS, Stage, load_stage, train_stage
from ttlib.models.checkpoint import RUN_FILE, STATISTICS_FILE
from ttlib.models.configs import get_config
from ttlib.models.loop import set_seed
from ttlib.models.training import read_losses, train, versions

if TYPE_CHECKING:
    import pandas as pd

EXAMPLE_SECONDS = 8
"""The experiment's datasets hold 8 s examples without overlap (training crops random 4 s clips)."""


def default_root(fast: bool = False) -> Path:
    """Where the rows' folders go by default: `<generated>/experiments/learned-encoder[-fast]`."""
    return paths.generated_dir() / "experiments" / ("learned-encoder" + ("-fast" if fast else ""))


def datasets(fast: bool = False, root: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """The trumpet and whistle datasets of the experiment, built if missing.

    The built-in trumpet (12 minutes, the recordings and split of notebook 05) and
    built-in whistling (4 minutes, a quarter held out), cut into 8 s examples without
    overlap: training crops random 4 s clips from them, and CREPE's features (cached per
    example) are computed once per second of audio rather than four times as with
    notebook 05's 4 s examples at 1 s hops. Fast: 1.5 minutes of each.

    Args:
      root: the folder the datasets go in (default: `ttlib.core.paths.generated_dir()`).
    """
    root = Path(root) if root is not None else paths.generated_dir()
    suffix = "-fast" if fast else ""
    minutes = 1.5 if fast else None
    out = []
    for instrument, fraction in (("trumpet", 0.1), ("whistle", 0.25)):
        folder = root / f"{instrument}-experiment{suffix}"
        if not (folder / "manifest.json").is_file():
            build_dataset(f"builtin:{instrument}", folder, minutes=minutes, example_seconds=EXAMPLE_SECONDS,
                          hop_seconds=float(EXAMPLE_SECONDS), validation_fraction=fraction, progress=False)
        out.append(folder)
    return out[0], out[1]


def run(cfg: ExperimentConfig, out_dir: str | os.PathLike, trumpet_dir: str | os.PathLike,
        whistle_dir: str | os.PathLike, seed: int = 0, n_eval: int = 16, overwrite: bool = False,
        progress: bool = True, command: str | None = None) -> dict:
    """Train and measure one row; returns its metrics (also in out_dir/metrics.json).

    If `out_dir` already holds a finished run of the same configuration, seed and data,
    its metrics are returned without training (measured again from its weights when an
    older ttlib measured it). The run is made in `out_dir.partial` and moved into place
    when finished: an interrupted run leaves no half-written folder (its `.partial` is
    started again next time).

    Args:
      command: the command line that makes this run (recorded in run.json so the row
        can be regenerated; `ttlib.cli.experiment.row_command` writes it).

    Raises:
      ExperimentError: `out_dir` holds a different run (pass `overwrite=True` to replace it).
    """
    import tensorflow as tf

    cfg.validate()
    out_dir = Path(out_dir)
    fingerprint = {"trumpet": dataset_fingerprint(trumpet_dir)["train_sha256"],
                   "whistle": dataset_fingerprint(whistle_dir)["train_sha256"]}
    identity = {"config": cfg.to_dict(), "seed": seed, "data": fingerprint, "n_eval": n_eval}
    if (out_dir / "metrics.json").is_file():
        previous = read_json(out_dir / "run.json", error=ExperimentError)
        if {k: previous.get(k) for k in identity} == identity:
            return _finished_metrics(out_dir, cfg, trumpet_dir, whistle_dir, n_eval, progress)
        if not overwrite:
            raise ExperimentError(f"{out_dir} holds a run of another configuration, seed or data; pass "
                                  "--overwrite (overwrite=True) to replace it, or choose another --root.")
    elif out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ExperimentError(f"{out_dir} exists and is not a finished run of ours; move it away or pass --overwrite.")
    partial = out_dir.with_name(out_dir.name + ".partial")
    if partial.exists():
        if progress:
            print(f"{partial} is an interrupted run: starting it again.")
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    trumpet_stats = read_statistics(trumpet_dir)
    started = time.perf_counter()
    if cfg.conditioning == "f0-loudness":
        runner, log_rows, stages, parameters = _train_baseline(cfg, trumpet_dir, trumpet_stats, seed, partial, progress)
    else:
        runner, log_rows, stages, parameters = _train_learned(cfg, trumpet_dir, whistle_dir, trumpet_stats, seed,
                                                              partial, progress)
    with open(partial / "losses.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(LOSS_COLUMNS)
        writer.writerows(log_rows)

    measured = _measure(runner, cfg, trumpet_dir, whistle_dir, n_eval, partial)
    metrics = json_safe({"name": cfg.name, **measured, "metrics_version": METRICS_VERSION,
                         "train_seconds": round(sum(stages.values()), 1), "stage_seconds": stages,
                         "parameters": parameters,
                         "final_train_loss": float(np.mean([r[2] for r in log_rows[-20:]])) if log_rows else None})
    run_log = {**identity, "name": cfg.name, "command": command, "versions": versions(),
               "started": time.strftime("%Y-%m-%d %H:%M:%S"), "wall_seconds": round(time.perf_counter() - started, 1),
               "transfer_clips": measured["transfer_clips"], "python": sys.version.split()[0]}
    write_json(partial / "statistics.json", trumpet_stats)     # what transfer maps loudness onto
    write_json(partial / "run.json", run_log)
    write_json(partial / "metrics.json", metrics)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(partial, out_dir)
    tf.keras.backend.clear_session()
    return metrics


def _finished_metrics(out_dir: Path, cfg: ExperimentConfig, trumpet_dir, whistle_dir, n_eval: int,
                      progress: bool) -> dict:
    """The metrics of a finished run, measured again from its weights if an older ttlib measured it."""
    metrics = read_json(out_dir / "metrics.json", error=ExperimentError)
    if metrics.get("metrics_version") != METRICS_VERSION:
        if progress:
            print(f"{out_dir}: measured by an older ttlib; measuring again from its saved weights.")
        measured = _measure(load_runner(out_dir), cfg, trumpet_dir, whistle_dir, n_eval, out_dir)
        metrics = json_safe({**metrics, **measured, "metrics_version": METRICS_VERSION})
        write_json(out_dir / "metrics.json", metrics)
    return metrics


def _train_baseline(cfg: ExperimentConfig, trumpet_dir, trumpet_stats: dict, seed: int, partial: Path,
                    progress: bool) -> tuple:
    """The DDSP baseline: notebook 06's model (sized like the row's decoder, no reverb) on the trumpet."""
    baseline_cfg = get_config("course").replace(
        name="experiment-baseline", batch_size=cfg.batch_size, reverb_seconds=0.0,
        learning_rate=cfg.learning_rate, train_steps=cfg.trumpet_steps, example_seconds=cfg.example_seconds,
        rnn_channels=cfg.rnn_channels, mlp_channels=cfg.mlp_channels, mlp_layers=cfg.mlp_layers,
        n_harmonics=cfg.n_harmonics, n_noise_bands=cfg.n_noise_bands, fft_sizes=tuple(cfg.fft_sizes))
    result = train(trumpet_dir, partial / "model", baseline_cfg, steps=cfg.trumpet_steps, seed=seed,
                   checkpoint_every=cfg.trumpet_steps, validation_examples=0, progress=progress, tensorboard=False)
    steps, losses = read_losses(partial / "model")
    log_rows = [("trumpet", int(s), float(v), float(v), 0.0, None) for s, v in zip(steps, losses)]
    parameters = read_json(partial / "model" / RUN_FILE)["parameters"]
    runner = Runner(cfg, model_dir=partial / "model", statistics=trumpet_stats)
    return runner, log_rows, {"trumpet": round(result.seconds, 2)}, parameters


def _train_learned(cfg: ExperimentConfig, trumpet_dir, whistle_dir, trumpet_stats: dict, seed: int, partial: Path,
                   progress: bool) -> tuple:
    """The learned-encoder model in two stages: everything on whistling, then the decoder on trumpet."""
    model = build_model(cfg, seed=seed)
    log_rows, stages = [], {}
    if cfg.whistle_steps:
        whistle = load_stage(whistle_dir, cfg, progress=progress)
        set_seed(seed)
        stages["whistle"] = round(train_stage(model, cfg, whistle, cfg.whistle_steps, seed,
                                              lambda: model.encoder_variables() + model.decoder_variables(),
                                              log_rows, "whistle", progress), 2)
        del whistle
    trumpet = load_stage(trumpet_dir, cfg, progress=progress)
    if cfg.encoder_trainable:                 # from here on the (fine-tuned) encoder is frozen
        trumpet = Stage(trumpet.examples, encoder_features(trumpet.examples.audio, cfg.encoder_capacity,
                                                           cfg.frame_rate, convolutions=model.convolutions))
    stages["trumpet"] = round(train_stage(model, cfg, trumpet, cfg.trumpet_steps, seed + 1,
                                          model.decoder_variables, log_rows, "trumpet", progress), 2)
    del trumpet
    model.save_weights(str(partial / "weights" / "model"))
    parameters = {"encoder": int(sum(np.prod(v.shape) for v in model.encoder_variables())),
                  "decoder": int(sum(np.prod(v.shape) for v in model.decoder_variables()))}
    return Runner(cfg, model=model, statistics=trumpet_stats), log_rows, stages, parameters


def _measure(runner: Runner, cfg: ExperimentConfig, trumpet_dir, whistle_dir, n_eval: int, folder) -> dict:
    """`evaluate_run` on the held-out data of the experiment; writes the first clips' WAVs into `folder`."""
    held_out = load_examples(trumpet_dir, "validation").at_frame_rate(cfg.frame_rate)
    pick = np.linspace(0, len(held_out) - 1, min(n_eval, len(held_out))).round().astype(int)
    held_out = held_out.select(pick)
    tset = transfer_set(whistle_dir, read_statistics(trumpet_dir), cfg.example_seconds, cfg.frame_rate,
                        max_clips=n_eval)
    measured = evaluate_run(runner, held_out, tset)
    for kind in ("resynthesis", "transfer"):
        for part in ("audio", "harmonic"):
            save_wav(Path(folder) / f"{kind}_{part}_0.wav", measured["examples"][kind][part][0], overwrite=True)
    return {"resynthesis": measured["resynthesis"], "transfer": measured["transfer"],
            "evaluation_seconds": measured["seconds"], "transfer_clips": tset.names}


def load_row(out_dir: str | os.PathLike) -> tuple[ExperimentConfig, dict, dict]:
    """(config, run log, metrics) of a finished run folder."""
    out_dir = Path(out_dir)
    if not (out_dir / "metrics.json").is_file():
        raise ExperimentError(f"{out_dir} is not a finished run (no metrics.json); run it with "
                              "`python -m ttlib experiment learned-encoder ...`.")
    log = read_json(out_dir / "run.json", error=ExperimentError)
    return ExperimentConfig.from_dict(log["config"]), log, read_json(out_dir / "metrics.json", error=ExperimentError)


def load_runner(out_dir: str | os.PathLike) -> Runner:
    """A `Runner` for a finished run folder (learned model rebuilt from its weights, or the baseline's folder).

    Raises:
      ExperimentError: not a finished run, or its weights cannot be loaded.
    """
    import tensorflow as tf

    cfg, log, _ = load_row(out_dir)
    out_dir = Path(out_dir)
    if cfg.conditioning == "f0-loudness":
        return Runner(cfg, model_dir=out_dir / "model", statistics=read_json(out_dir / "model" / STATISTICS_FILE))
    model = build_model(cfg, seed=log["seed"])
    runner = Runner(cfg, model=model, statistics=read_json(out_dir / "statistics.json", error=ExperimentError))
    dummy = np.zeros((1, cfg.n_samples), np.float32)
    model(runner.model_inputs(dummy, np.full((1, cfg.n_frames), -40.0, np.float32) if cfg.loudness_skip else None))
    try:
        model.load_weights(str(out_dir / "weights" / "model")).assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
        raise ExperimentError(f"The weights in {out_dir / 'weights'} cannot be loaded into the model of its "
                              f"run.json ({str(exc).splitlines()[0][:200]}): they are damaged or from another run. "
                              "Run the row again with --overwrite.") from None
    return runner


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


def results_table(root: str | os.PathLike, rows: tuple | list = ROWS) -> pd.DataFrame:
    """The results table (a pandas DataFrame, one row per finished run) read from the runs' metrics.json.

    Measures are floats (NaN where there was nothing to measure, e.g. the f0 of an output
    without pitch), then "train (min)" and the "command" that regenerates the row.
    """
    import pandas as pd

    records = []
    for name in rows:
        folder = Path(root) / name
        if not (folder / "metrics.json").is_file():
            continue
        _, log, m = load_row(folder)
        record = {"row": name}
        for column, (part, measure) in TABLE_COLUMNS.items():
            value = m[part].get(measure)
            record[column] = float("nan") if value is None else float(value)
        record.update({"train (min)": m["train_seconds"] / 60.0, "command": log["command"]})
        records.append(record)
    return pd.DataFrame.from_records(records).set_index("row") if records else pd.DataFrame()
