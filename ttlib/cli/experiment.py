"""`python -m ttlib experiment learned-encoder|table|reference`: notebook 08's experiment from the command line.

`learned-encoder` trains and measures one row or every row, with one seed or several
(`--seeds N`); `table` prints the table over seeds with its verdicts; `reference` checks
the shipped reference run or exports a new one. Every run records the command that
reruns it (`ttlib.experiments.learned_encoder.row_command`) in its run.json.
"""
from __future__ import annotations

import argparse
import json

from ttlib.experiments.learned_encoder.config import FIXES, ROWS
from ttlib.experiments.learned_encoder.seeds import TRUMPET_SOURCE

SOURCE_HELP = (f"the trumpet data: {TRUMPET_SOURCE} (default: the built-in trumpet without true dynamics, as the "
               "reference was made), builtin:trumpet:dynamics (with them), urmp:PATH (a URMP copy) or "
               "folder:PATH (your recordings)")


def add_parser(commands) -> None:
    actions = commands.add_parser("experiment", help="notebook 08's learned-encoder experiment").add_subparsers(
        dest="experiment_command", metavar="ACTION")
    actions.required = True
    p = actions.add_parser("learned-encoder", help="train and measure one row of the table (or --all-rows)")
    p.add_argument("--fix", action="append", default=[], metavar="FIX", choices=[*FIXES, "all"],
                   help="switch on a fix (repeat for several): " + ", ".join(FIXES) + ", or all")
    p.add_argument("--crepe-f0", action="store_true",
                   help="the hypothesis: give the decoder CREPE's f0 beside z (the oscillator plays it)")
    p.add_argument("--harmonic-only", action="store_true", help="the harmonic oscillator alone (no filtered noise)")
    p.add_argument("--baseline", action="store_true", help="the DDSP baseline: f0 and loudness conditioning")
    p.add_argument("--fine-tune-encoder", action="store_true",
                   help="fine-tune CREPE's convolutions while training on whistling (slow: ~18x a step)")
    p.add_argument("--all-rows", action="store_true", help="run every row of notebook 08's table, in order")
    p.add_argument("--whistle-steps", type=int, default=None, help="steps of stage 1 (default 100; fast 6)")
    p.add_argument("--trumpet-steps", type=int, default=None, help="steps of stage 2 (default 300; fast 6)")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int, default=None, help="one seed of weights, noise and data order (default 0)")
    seeds.add_argument("--seeds", type=int, default=None, metavar="N", help="run seeds 0..N-1 of each row")
    p.add_argument("--n-eval", type=int, default=16, help="held-out clips for each measure (default 16)")
    p.add_argument("--fast", action="store_true", help="the quick setting of the tests (small model, 1 s clips)")
    p.add_argument("--trumpet-source", default=TRUMPET_SOURCE, metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--root", default=None,
                   help="folder of the runs (default data/generated/experiments/learned-encoder[-fast])")
    p.add_argument("--overwrite", action="store_true", help="replace a finished run of other settings")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=run_rows,
                   interrupted="Finished runs are kept; the unfinished one stays in its .partial folder and starts "
                               "again next time.")
    p = actions.add_parser("table", help="print the results table (mean [min, max] over seeds) and its verdicts")
    p.add_argument("--root", default=None, help="folder of the runs")
    p.add_argument("--fast", action="store_true", help="the fast runs' folder")
    p.add_argument("--trumpet-source", default=TRUMPET_SOURCE, metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--reference", action="store_true", help="the reference run shipped in data/reference")
    p.add_argument("--per-seed", action="store_true", help="one line per run instead of the summary")
    p.set_defaults(run=table)
    p = actions.add_parser("reference", help="check the shipped reference run, or export a new one (maintainers)")
    p.add_argument("--runs", default=None, help="export: the finished default runs (--all-rows --seeds 3)")
    p.add_argument("--fast-runs", default=None, help="export: the finished fast runs (--all-rows --fast --n-eval 2)")
    p.add_argument("--out", default=None, help="export into this folder (default data/reference/learned-encoder)")
    p.add_argument("--this-cpu", action="store_true",
                   help="record --fast-runs (this code's) as the fast check of this kind of CPU, beside the reference")
    p.set_defaults(run=reference)


def _root(args: argparse.Namespace) -> str:
    from ttlib.experiments.learned_encoder import experiment_root
    from ttlib.experiments.learned_encoder.seeds import canonical_source

    args.trumpet_source = canonical_source(args.trumpet_source)
    return args.root or str(experiment_root(args.fast, args.trumpet_source))


def run_rows(args: argparse.Namespace) -> int:
    from ttlib.core.errors import ExperimentError
    from ttlib.data.sources import parse_source
    from ttlib.experiments.learned_encoder import datasets, row_config, row_config_by_name, run_seeds
    from ttlib.experiments.learned_encoder.seeds import canonical_source

    args.trumpet_source = canonical_source(args.trumpet_source)
    parse_source(args.trumpet_source)                    # a clear error before anything is built
    if args.all_rows:
        if args.fix or args.baseline or args.harmonic_only or args.fine_tune_encoder or args.crepe_f0:
            raise ExperimentError("--all-rows runs the table's rows; give no other row options.")
        configs = [row_config_by_name(name, fast=args.fast, whistle_steps=args.whistle_steps,
                                      trumpet_steps=args.trumpet_steps) for name in ROWS]
    else:
        configs = [row_config(args.fix, harmonic_only=args.harmonic_only, baseline=args.baseline,
                              fine_tune=args.fine_tune_encoder, crepe_f0=args.crepe_f0,
                              whistle_steps=args.whistle_steps, trumpet_steps=args.trumpet_steps, fast=args.fast)]
    if args.seeds is not None and args.seeds < 1:
        raise ExperimentError("--seeds N needs N >= 1.")
    seeds = range(args.seeds) if args.seeds is not None else [args.seed or 0]
    trumpet_dir, whistle_dir = datasets(args.fast, trumpet_source=args.trumpet_source)

    def report(cfg, seed, folder, command):
        print(f"{cfg.name}, seed {seed}: {command} -> {folder}", flush=True)

    done = run_seeds(configs, _root(args), trumpet_dir, whistle_dir, seeds=seeds, n_eval=args.n_eval,
                     overwrite=args.overwrite, progress=not args.quiet, trumpet_source=args.trumpet_source,
                     report=report)
    for (name, seed), metrics in done.items():
        summary = {kind: {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics[kind].items()}
                   for kind in ("transfer", "resynthesis")}
        print(json.dumps({"row": name, "seed": seed, "train_seconds": metrics["train_seconds"], **summary}),
              flush=True)
    if len(done) > 1:
        print(f"\nThe table over seeds: python -m ttlib experiment table{' --fast' if args.fast else ''}"
              + (f" --root {args.root}" if args.root else ""))
    return 0


def table(args: argparse.Namespace) -> int:
    import pandas as pd

    from ttlib.core.errors import ExperimentError
    from ttlib.experiments.learned_encoder import (
        formatted,
        migrate_legacy,
        reference_info,
        reference_root,
        results_table,
        summarize,
        verdict,
    )

    root = str(reference_root()) if args.reference else _root(args)
    if not args.reference:
        migrate_legacy(root)
    found = results_table(root)
    if found.empty and args.reference:
        raise ExperimentError(f"This copy of the course has no reference run in {root}; "
                              "`python -m ttlib experiment reference` says how one is made.")
    if found.empty:
        raise ExperimentError(f"No finished runs under {root}; run `python -m ttlib experiment learned-encoder "
                              f"--all-rows --seeds 3{' --fast' if args.fast else ''}` first.")
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 2):
        if args.per_seed:
            print(found.drop(columns="command"))
        else:
            print(formatted(summarize(found)).T)
    rows = list(dict.fromkeys(found.index.get_level_values("row")))
    if "published" in rows:
        print("\nAgainst the published row (an effect counts when the ranges over seeds do not overlap):")
        for row in rows:
            if row not in ("published", "published-harmonic"):
                print(f"  {row}: {verdict(found, row)}")
    print(f"\nRerun a run with the command in {root}/<row>/seed-<n>/run.json, e.g.\n  " + str(found["command"].iloc[0]))
    if args.reference and reference_info() is None:
        print(f"\nnote: the reference is being made: {len(found)} of its runs are here, without its reference.json "
              "(written by `python -m ttlib experiment reference --runs ... --fast-runs ...` once every run is in).")
    return 0


def reference(args: argparse.Namespace) -> int:
    from ttlib.core.errors import ExperimentError
    from ttlib.experiments.learned_encoder import (
        check_reference,
        export_reference,
        record_fast_check,
        reference_info,
        reference_root,
    )

    if args.this_cpu:
        if not args.fast_runs or args.runs:
            raise ExperimentError("--this-cpu records fast runs: give --fast-runs ROOT (and no --runs).")
        cpu = record_fast_check(args.fast_runs, args.out)
        print(f"fast check of the CPU kind \"{cpu}\" recorded in {args.out or reference_root()}")
    elif args.runs or args.fast_runs:
        if not (args.runs and args.fast_runs):
            raise ExperimentError("Export needs both --runs (default runs, 3 seeds) and --fast-runs (fast, seed 0).")
        out = export_reference(args.runs, args.fast_runs, args.out)
        print(f"reference written to {out}")
    root = args.out or reference_root()
    problems = check_reference(root)
    how = ("make the runs with `python -m ttlib experiment learned-encoder --all-rows --seeds 3` and "
           "`... --all-rows --fast --n-eval 2`, then export them with --runs and --fast-runs.")
    if reference_info(root) is None:
        print(f"There is no reference run in {root}: {how}")
        return 1
    for line in problems:
        print(f"  {line}")
    print("the reference run matches this code" if not problems else
          f"{len(problems)} problem(s): the reference was not made by this code; {how}")
    return 0 if not problems else 1
