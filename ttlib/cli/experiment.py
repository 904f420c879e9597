"""`python -m ttlib experiment learned-encoder|table`: notebook 08's experiment, one row, every row, or the table.

`row_command` writes the command line that reruns a row; every run records it in its
run.json, so each row of the table says how to regenerate it.
"""
from __future__ import annotations

import argparse
import json

from ttlib.experiments.learned_encoder.config import FIXES, ROWS, ExperimentConfig, row_config


def add_parser(commands) -> None:
    actions = commands.add_parser("experiment", help="notebook 08's learned-encoder experiment").add_subparsers(
        dest="experiment_command", metavar="ACTION")
    actions.required = True
    p = actions.add_parser("learned-encoder", help="train and measure one row of the table (or --all-rows)")
    p.add_argument("--fix", action="append", default=[], metavar="FIX", choices=[*FIXES, "all"],
                   help="switch on a fix (repeat for several): " + ", ".join(FIXES) + ", or all")
    p.add_argument("--harmonic-only", action="store_true", help="the harmonic oscillator alone (no filtered noise)")
    p.add_argument("--baseline", action="store_true", help="the DDSP baseline: f0 and loudness conditioning")
    p.add_argument("--fine-tune-encoder", action="store_true",
                   help="fine-tune CREPE's convolutions while training on whistling (slow: ~18x a step)")
    p.add_argument("--all-rows", action="store_true", help="run every row of notebook 08's table, in order")
    p.add_argument("--whistle-steps", type=int, default=None, help="steps of stage 1 (default 100; fast 6)")
    p.add_argument("--trumpet-steps", type=int, default=None, help="steps of stage 2 (default 300; fast 6)")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, noise and data order (default 0)")
    p.add_argument("--n-eval", type=int, default=16, help="held-out clips for each measure (default 16)")
    p.add_argument("--fast", action="store_true", help="the quick setting of the tests (small model, 1 s clips)")
    p.add_argument("--root", default=None,
                   help="folder of the runs (default data/generated/experiments/learned-encoder[-fast])")
    p.add_argument("--overwrite", action="store_true", help="replace a finished run of other settings")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run_rows,
                   interrupted="The unfinished run stays in its .partial folder and starts again next time.")
    p = actions.add_parser("table", help="print the results table from the finished runs")
    p.add_argument("--root", default=None, help="folder of the runs")
    p.add_argument("--fast", action="store_true", help="the fast runs' folder")
    p.set_defaults(run=table)


def row_command(cfg: ExperimentConfig, seed: int = 0, fast: bool | None = None) -> str:
    """The command line that reruns the row `cfg` (`fast`: None tells from the configuration)."""
    fast = cfg.fast if fast is None else fast
    default = row_config(fast=fast)
    parts = ["python -m ttlib experiment learned-encoder"]
    if cfg.conditioning == "f0-loudness":
        parts.append("--baseline")
    else:
        if cfg.loudness_skip:
            parts.append("--fix loudness-skip")
        if cfg.silence_weight:
            parts.append("--fix silence-penalty")
        if cfg.encoder_capacity != default.encoder_capacity:
            parts.append("--fix larger-encoder")
        if cfg.loss == "log-mel":
            parts.append("--fix log-mel")
        if not cfg.noise:
            parts.append("--harmonic-only")
        if cfg.encoder_trainable:
            parts.append("--fine-tune-encoder")
        if cfg.whistle_steps != default.whistle_steps:
            parts.append(f"--whistle-steps {cfg.whistle_steps}")
    if cfg.trumpet_steps != default.trumpet_steps:
        parts.append(f"--trumpet-steps {cfg.trumpet_steps}")
    if fast:
        parts.append("--fast")
    if seed:
        parts.append(f"--seed {seed}")
    return " ".join(parts)


def _root(args: argparse.Namespace) -> str:
    from ttlib.experiments.learned_encoder import default_root

    return args.root or str(default_root(args.fast))


def run_rows(args: argparse.Namespace) -> int:
    from ttlib.core.errors import ExperimentError
    from ttlib.experiments.learned_encoder import datasets, row_config_by_name, run

    root = _root(args)
    if args.all_rows:
        if args.fix or args.baseline or args.harmonic_only or args.fine_tune_encoder:
            raise ExperimentError("--all-rows runs the table's rows; give no other row options.")
        configs = [row_config_by_name(name, fast=args.fast, whistle_steps=args.whistle_steps,
                                      trumpet_steps=args.trumpet_steps) for name in ROWS]
    else:
        configs = [row_config(args.fix, harmonic_only=args.harmonic_only, baseline=args.baseline,
                              fine_tune=args.fine_tune_encoder, whistle_steps=args.whistle_steps,
                              trumpet_steps=args.trumpet_steps, fast=args.fast)]
    trumpet_dir, whistle_dir = datasets(args.fast)
    for cfg in configs:
        out = f"{root}/{cfg.name}"
        command = row_command(cfg, args.seed, args.fast)
        print(f"{cfg.name}: {command} -> {out}", flush=True)
        metrics = run(cfg, out, trumpet_dir, whistle_dir, seed=args.seed, n_eval=args.n_eval,
                      overwrite=args.overwrite, progress=not args.quiet, command=command)
        summary = {kind: {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics[kind].items()}
                   for kind in ("transfer", "resynthesis")}
        print(json.dumps({"train_seconds": metrics["train_seconds"], **summary}, indent=1), flush=True)
    return 0


def table(args: argparse.Namespace) -> int:
    import pandas as pd

    from ttlib.core.errors import ExperimentError
    from ttlib.experiments.learned_encoder import results_table

    root = _root(args)
    found = results_table(root)
    if found.empty:
        raise ExperimentError(f"No finished runs under {root}; run `python -m ttlib experiment learned-encoder "
                              f"--all-rows{' --fast' if args.fast else ''}` first.")
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.precision", 2):
        print(found.drop(columns="command"))
    print(f"\nRerun a row with the command in {root}/<row>/run.json, e.g.\n  " + str(found["command"].iloc[0]))
    return 0
