"""Runs of the experiment: the datasets, and one row trained with one seed and measured into its folder.

Every run writes one folder (see `run`): run.json (configuration, seed, data, code and
package versions, machine, the command that made it, wall time), losses.csv, the weights
(or, for the baseline, a `ttlib.models` model folder), statistics.json, metrics.json (see
`ttlib.experiments.learned_encoder.measures.evaluate_run`) and example WAVs. Notebook 08
and `python -m ttlib experiment learned-encoder ...` write the same folders
(`<root>/<row>/seed-<n>`, `ttlib.experiments.learned_encoder.seeds`), so either reads
the other's runs; `ttlib.experiments.learned_encoder.tables` reads them into tables.
"""
from __future__ import annotations

import csv
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from ttlib.audio.io import save_wav
from ttlib.core import paths
from ttlib.core.errors import ExperimentError
from ttlib.core.io import json_safe, read_json, write_json
from ttlib.data.builtin import GENERATOR_VERSION
from ttlib.data.dataset import DATASET_VERSION, build_dataset, dataset_fingerprint, read_manifest, read_statistics
from ttlib.data.examples import load_examples
from ttlib.data.features import FEATURES_VERSION
from ttlib.data.sources import parse_source
from ttlib.experiments.learned_encoder.config import ExperimentConfig
from ttlib.experiments.learned_encoder.encoder import encoder_features
from ttlib.experiments.learned_encoder.measures import METRICS_VERSION, evaluate_run
from ttlib.experiments.learned_encoder.model import build_model
from ttlib.experiments.learned_encoder.provenance import code_version
from ttlib.experiments.learned_encoder.runner import Runner
from ttlib.experiments.learned_encoder.testset import transfer_set
from ttlib.experiments.learned_encoder.training import LOSS_COLUMNS, Stage, load_stage, train_stage
from ttlib.models.checkpoint import RUN_FILE, STATISTICS_FILE
from ttlib.models.configs import get_config
from ttlib.models.loop import set_seed
from ttlib.models.training import read_losses, train, versions

EXAMPLE_SECONDS = 8
"""The experiment's datasets hold 8 s examples without overlap (training crops random 4 s clips)."""


def source_tag(trumpet_source: str = "builtin:trumpet") -> str:
    """A short name for a trumpet source in folder names: "" for the built-in trumpet, else e.g. "urmp-1a2b3c4d"."""
    import hashlib

    kind, arg = parse_source(trumpet_source)
    if kind == "builtin":
        return "" if arg == "trumpet" else arg
    return f"{kind}-{hashlib.sha256(str(Path(arg).resolve()).encode()).hexdigest()[:8]}"


def default_root(fast: bool = False, trumpet_source: str = "builtin:trumpet") -> Path:
    """Where the rows' folders go by default: `<generated>/experiments/learned-encoder[-<source>][-fast]`."""
    tag = source_tag(trumpet_source)
    return paths.generated_dir() / "experiments" / ("learned-encoder" + (f"-{tag}" if tag else "")
                                                    + ("-fast" if fast else ""))


def datasets(fast: bool = False, root: str | os.PathLike | None = None,
             trumpet_source: str = "builtin:trumpet") -> tuple[Path, Path]:
    """The trumpet and whistle datasets of the experiment, built if missing.

    The trumpet: by default the built-in trumpet (12 minutes, the recordings and split of
    notebook 05), or `trumpet_source` ("urmp:PATH", "folder:PATH", as `ttlib.data`'s
    sources: a copy of URMP or a folder of your own trumpet recordings, 10 % held out by
    recording). The whistling: the built-in one (4 minutes, a quarter held out). Both are
    cut into 8 s examples without overlap: training crops random 4 s clips from them, and
    CREPE's features (cached per example) are computed once per second of audio rather than
    four times as with notebook 05's 4 s examples at 1 s hops. Fast: 1.5 minutes of each
    built-in set (a real source is used whole).

    Args:
      root: the folder the datasets go in (default: `ttlib.core.paths.generated_dir()`).
    """
    root = Path(root) if root is not None else paths.generated_dir()
    suffix = "-fast" if fast else ""
    minutes = 1.5 if fast else None
    tag = source_tag(trumpet_source)
    out = []
    for instrument, source, fraction in (("trumpet", trumpet_source, 0.1), ("whistle", "builtin:whistle", 0.25)):
        name = f"{instrument}-experiment{'-' + tag if tag and instrument == 'trumpet' else ''}{suffix}"
        folder = root / name
        if not (folder / "manifest.json").is_file():
            build_dataset(source, folder, minutes=minutes, example_seconds=EXAMPLE_SECONDS,
                          hop_seconds=float(EXAMPLE_SECONDS), validation_fraction=fraction, progress=False)
        out.append(folder)
    return out[0], out[1]


def data_versions(trumpet_dir: str | os.PathLike, whistle_dir: str | os.PathLike) -> dict:
    """What made the datasets: their sources and the versions of the built-in generator, features and builder."""
    return {"trumpet_source": read_manifest(trumpet_dir)["params"]["source"],
            "whistle_source": read_manifest(whistle_dir)["params"]["source"],
            "builtin_generator": GENERATOR_VERSION, "features": FEATURES_VERSION, "dataset": DATASET_VERSION}


def machine() -> dict:
    """The machine a run was made on, and TensorFlow's thread counts (0: its default, every core).

    Another machine or thread count sums in another order: results may differ from the last digits on.
    """
    import tensorflow as tf

    return {"system": platform.system(), "machine": platform.machine(), "processor": platform.processor(),
            "cpus": os.cpu_count(), "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}


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
        can be regenerated; `ttlib.experiments.learned_encoder.seeds.row_command` writes it).

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
        if "config" in previous:          # fields added since with their default values
            previous["config"] = ExperimentConfig.from_dict(previous["config"]).to_dict()
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
    run_log = {**identity, "name": cfg.name, "command": command, "code": code_version(),
               "metrics_version": METRICS_VERSION, "data_versions": data_versions(trumpet_dir, whistle_dir),
               "versions": versions(), "machine": machine(),
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
    model(runner.model_inputs(dummy, np.full((1, cfg.n_frames), -40.0, np.float32) if cfg.loudness_skip else None,
                              np.full((1, cfg.n_frames), 440.0, np.float32) if cfg.f0_input else None))
    try:
        model.load_weights(str(out_dir / "weights" / "model")).assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
        raise ExperimentError(f"The weights in {out_dir / 'weights'} cannot be loaded into the model of its "
                              f"run.json ({str(exc).splitlines()[0][:200]}): they are damaged or from another run. "
                              "Run the row again with --overwrite.") from None
    return runner
