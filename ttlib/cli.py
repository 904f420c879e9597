"""The command line: `python -m ttlib COMMAND ...`, a thin layer over ttlib's functions.

Commands:
  doctor       check the installation (the same checks as notebook 00)
  course       execute the course's notebooks into an output folder (what `make run` does)
  data build   build a training set (built-in, URMP or a folder of recordings)
  data info    summarise a dataset folder
  pitch        track the f0 of an audio file into a CSV
  train        train a DDSP autoencoder on a dataset into a model folder (stop with Ctrl-C, --resume later)
  evaluate     the DDSP paper's measures of a trained model on held-out data
  transfer     play an audio file (a whistle, a voice) with a trained model, into a WAV
  experiment   the learned-encoder experiment of notebook 08: one row, every row, or the table
"""
from __future__ import annotations

import argparse
import sys

import ttlib


def _doctor(args) -> int:
    from ttlib import doctor

    return doctor.main()


def _course(args) -> int:
    from ttlib import course

    try:
        runs = course.run_course(args.out, fast=args.fast, only=args.only)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = sum(r["seconds"] for r in runs)
    print(f"\nExecuted {len(runs)} notebook(s) in {total:.0f} s into {args.out}/ "
          f"(summary: {args.out}/summary.json).")
    return 0


def _data_build(args) -> int:
    from ttlib import audio, data

    try:
        out = data.build_dataset(args.source, args.out, f0_method=args.f0_method, frame_rate=args.frame_rate,
                                 example_seconds=args.example_seconds, hop_seconds=args.hop_seconds,
                                 validation_fraction=args.validation_fraction, seed=args.seed,
                                 minutes=args.minutes, instrument=args.instrument,
                                 cache_dir=args.cache or "default", overwrite=args.overwrite,
                                 progress=not args.quiet)
    except (data.DatasetError, audio.AudioError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return _data_info(argparse.Namespace(dataset=str(out)))


def _data_info(args) -> int:
    from ttlib import data

    try:
        manifest = data.read_manifest(args.dataset)
        stats = data.read_statistics(args.dataset)
    except data.DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    params = manifest["params"]
    print(f"dataset {args.dataset}: source {params['source']}, f0 {stats.get('f0_method')}, "
          f"{params['example_seconds']} s examples at {params['frame_rate']:g} frames/s "
          f"(built in {manifest.get('build_seconds')} s)")
    for split in ("train", "validation"):
        rec = [r for r in manifest["recordings"] if r["split"] == split]
        seconds = sum(r.get("seconds", 0) for r in rec)
        line = f"  {split:10s} {manifest['examples'].get(split, 0):5d} examples from {len(rec)} recording{'s' if len(rec) != 1 else ''} ({seconds / 60:.1f} min)"
        if "pitch_midi" in stats.get(split, {}):
            p, ld = stats[split]["pitch_midi"], stats[split]["loudness_db_voiced"]["quantiles"]
            line += (f"; pitch MIDI {p['quantiles'][5]:.1f}-{p['quantiles'][95]:.1f} (5-95%), "
                     f"loudness {ld[5]:.0f} to {ld[95]:.0f} dB")
        print(line)
    for r in manifest["recordings"]:
        for note in r.get("notes", []):
            print(f"  note: {r['recording_id']}: {note}")
    for s in manifest.get("skipped", []):
        print(f"  skipped: {s['path']}: {s['reason']}")
    return 0


def _pitch(args) -> int:
    from pathlib import Path

    import numpy as np

    from ttlib import audio, pitch

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        print(f"error: {out} exists; pass --overwrite to replace it, or choose another --out.", file=sys.stderr)
        return 1
    try:
        samples = audio.load(args.input)
        result = pitch.track(samples, args.method, frame_rate=args.frame_rate, fmin=args.fmin, fmax=args.fmax,
                             crepe_octaves_down=args.octaves_down)
    except (audio.AudioError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    table = np.stack([result.times_s, result.f0_hz, result.confidence, result.voiced.astype(float)], axis=1)
    np.savetxt(out, table, delimiter=",", fmt=["%.4f", "%.3f", "%.4f", "%d"],
               header="time_s,f0_hz,confidence,voiced", comments="")
    voiced = result.voiced
    median = f"{np.median(result.f0_hz[voiced]):.1f} Hz" if voiced.any() else "no voiced frame"
    print(f"{args.input}: {result.f0_hz.size} frames by {args.method} at {args.frame_rate:g} per second, "
          f"{100 * voiced.mean():.0f}% voiced, median f0 {median}; wrote {out}")
    if args.method.startswith("crepe") and args.octaves_down == 0 and voiced.any() and \
            np.percentile(result.f0_hz[voiced], 95) > 0.9 * pitch.CREPE_MAX_HZ:
        print("note: the f0 reaches CREPE's ceiling (about 2 kHz); for whistling add --octaves-down 1.")
    return 0


def _train(args) -> int:
    from ttlib import checkpoint, data, train

    try:
        result = train.train(args.data, args.out, config=None if (args.resume and args.config is None)
                             else (args.config or "course"), steps=args.steps, seed=args.seed, resume=args.resume,
                             checkpoint_every=args.checkpoint_every, progress=not args.quiet,
                             stop_after_seconds=args.stop_after_minutes * 60 if args.stop_after_minutes else None)
    except (checkpoint.ModelError, data.DatasetError, ValueError, FloatingPointError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nStopped before the first step; nothing was saved.", file=sys.stderr)
        return 130
    last = f", last loss {result.losses[-1][1]:.3f}" if result.losses else ""
    held = f", held-out spectral loss {result.validation[-1][1]:.3f}" if result.validation else ""
    print(f"{args.out}: step {result.step} ({len(result.losses)} this run in {result.seconds:.0f} s, "
          f"{result.audio_seconds_per_second:.1f} audio-s/s{last}{held}).")
    return 130 if result.interrupted else 0


def _evaluate(args) -> int:
    import json
    from pathlib import Path

    from ttlib import checkpoint, data, evaluation, train

    try:
        loaded = checkpoint.load_model(args.model)
        data_dir = args.data or checkpoint.read_json(Path(args.model) / checkpoint.MODEL_FILE)["dataset"]["path"]
        examples = train.load_examples(data_dir, args.split)
        metrics = evaluation.evaluate(loaded, examples, max_examples=args.max_examples, progress=not args.quiet)
    except (checkpoint.ModelError, data.DatasetError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    metrics["step"] = loaded.step
    print(json.dumps(metrics, indent=2))
    return 0


def _transfer(args) -> int:
    from pathlib import Path

    import numpy as np

    from ttlib import audio, checkpoint, pitch, transfer

    out = Path(args.out)
    for path in (out, out.with_suffix(".json")):
        if path.exists() and not args.overwrite:
            print(f"error: {path} exists; pass --overwrite to replace it, or choose another --out.", file=sys.stderr)
            return 1
    try:
        samples, report = audio.load(args.input, with_report=True, quiet=True)
        settings = transfer.Settings(auto_adjust=not args.no_auto_adjust,
                                     quiet_db=None if args.quiet_db <= 0 else args.quiet_db,
                                     autotune=args.autotune, pitch_shift=args.pitch_shift,
                                     loudness_shift=args.loudness_shift, harmonic_gain=args.harmonic_gain,
                                     noise_gain=args.noise_gain, reverb_gain=args.reverb_gain).check()
        synth = transfer.Synthesizer(args.model)
        octaves = "auto" if args.octaves_down == "auto" else int(args.octaves_down)
        source = transfer.source_features(samples, synth.frame_rate, octaves_down=octaves, progress=not args.no_progress)
        result = transfer.transfer(samples, synth, settings, source=source, progress=not args.no_progress)
    except (audio.AudioError, FileNotFoundError, checkpoint.ModelError, transfer.TransferError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for note in report.notes:
        print(f"note: {args.input}: {note}")
    for warning in result.source.warnings:
        print(f"warning: {warning}")
    extra = {"input": str(args.input), "model": str(args.model), "model_step": synth.loaded.step}
    if args.check:
        tracked = pitch.track(result.audio, "crepe-tiny", frame_rate=synth.frame_rate,
                              crepe_octaves_down=int(np.median(result.adjusted.f0_hz) > transfer.HIGH_PITCH_HZ))
        n = min(tracked.f0_hz.size, result.adjusted.f0_hz.size)
        both = result.adjusted.on[:n] & tracked.voiced[:n] & (tracked.f0_hz[:n] > 0)
        cents = 1200 * np.log2(tracked.f0_hz[:n][both] / result.adjusted.f0_hz[:n][both])
        extra["f0_error_cents_median"] = float(np.median(np.abs(cents))) if cents.size else None
        extra["f0_checked_frames"] = int(both.sum())
    wav, settings_path = transfer.save(result, out, overwrite=args.overwrite, **extra)
    summary = result.adjusted.summary
    seconds = samples.size / transfer.SAMPLE_RATE
    print(f"{args.input}: {seconds:.1f} s, f0 analysed {result.source.octaves_down} octave(s) down; shifted "
          f"{summary['octave_shift']:+d} octave(s) and {settings.pitch_shift:+g} semitones toward the model's "
          f"median MIDI {summary['training_median_pitch_midi']:.1f}; {100 * summary['playing_fraction']:.0f}% playing; "
          f"{seconds / result.seconds['total']:.1f}x real time")
    if args.check:
        error = extra["f0_error_cents_median"]
        print(f"check: the output's f0 (CREPE tiny) is {error:.1f} cents from the adjusted f0 (median over "
              f"{extra['f0_checked_frames']} frames)" if error is not None else "check: no pitched frame to compare")
    print(f"wrote {wav} and {settings_path}")
    return 0


def _experiment_root(args) -> str:
    from ttlib import experiment

    return args.root or (experiment.DEFAULT_ROOT + ("-fast" if args.fast else ""))


def _experiment_run(args) -> int:
    import json

    from ttlib import experiment

    root = _experiment_root(args)
    try:
        if args.all_rows:
            if args.fix or args.baseline or args.harmonic_only or args.fine_tune_encoder:
                raise experiment.ExperimentError("--all-rows runs the table's rows; give no other row options.")
            configs = [experiment.row_config_by_name(name, fast=args.fast, whistle_steps=args.whistle_steps,
                                                     trumpet_steps=args.trumpet_steps) for name in experiment.ROWS]
        else:
            configs = [experiment.row_config(args.fix, harmonic_only=args.harmonic_only, baseline=args.baseline,
                                             fine_tune=args.fine_tune_encoder, whistle_steps=args.whistle_steps,
                                             trumpet_steps=args.trumpet_steps, fast=args.fast)]
        trumpet_dir, whistle_dir = experiment.datasets(args.fast)
        for cfg in configs:
            out = f"{root}/{cfg.name}"
            command = experiment.row_command(cfg, args.seed, args.fast)
            print(f"{cfg.name}: {command} -> {out}", flush=True)
            metrics = experiment.run(cfg, out, trumpet_dir, whistle_dir, seed=args.seed, n_eval=args.n_eval,
                                     overwrite=args.overwrite, progress=not args.quiet, command=command)
            summary = {kind: {k: round(v, 3) if isinstance(v, float) else v for k, v in metrics[kind].items()}
                       for kind in ("transfer", "resynthesis")}
            print(json.dumps({"train_seconds": metrics["train_seconds"], **summary}, indent=1), flush=True)
    except (experiment.ExperimentError, FileNotFoundError, FloatingPointError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nInterrupted: the unfinished run stays in its .partial folder and starts again next time.",
              file=sys.stderr)
        return 130
    return 0


def _experiment_table(args) -> int:
    import pandas as pd

    from ttlib import experiment

    root = _experiment_root(args)
    table = experiment.results_table(root)
    if table.empty:
        print(f"No finished runs under {root}; run `python -m ttlib experiment learned-encoder --all-rows"
              f"{' --fast' if args.fast else ''}`.", file=sys.stderr)
        return 1
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.precision", 2):
        print(table.drop(columns="command"))
    print("\nRerun a row with the command in " + f"{root}/<row>/run.json, e.g.\n  " + table["command"].iloc[0])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ttlib", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"ttlib {ttlib.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = commands.add_parser("doctor", help="check the installation: packages, CREPE, ddsp, training, FluidSynth")
    p.set_defaults(run=_doctor)

    p = commands.add_parser("course", help="execute the notebooks in order and keep the executed copies")
    p.add_argument("--out", default="output", help="output folder (default: output/)")
    p.add_argument("--fast", action="store_true", help="the quick setting the tests use (FAST=True)")
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="only notebooks starting with these, e.g. 00 03")
    p.set_defaults(run=_course)

    data = commands.add_parser("data", help="build and inspect training sets").add_subparsers(
        dest="data_command", metavar="ACTION")
    data.required = True
    p = data.add_parser("build", help="build a training set: features, 4 s examples, split, statistics")
    p.add_argument("--source", required=True,
                   help="builtin[:trumpet|whistle], urmp:PATH (URMP folder or Magenta's TFRecords), folder:PATH")
    p.add_argument("--out", required=True, help="dataset folder to write")
    p.add_argument("--f0-method", default=None,
                   help="yin, pyin or crepe-{tiny,small,medium,large,full} (default crepe-tiny; URMP: its annotation)")
    p.add_argument("--frame-rate", type=float, default=250.0, help="feature frames per second (default 250)")
    p.add_argument("--example-seconds", type=int, default=4, help="length of an example (default 4)")
    p.add_argument("--hop-seconds", type=float, default=1.0, help="hop between examples (default 1)")
    p.add_argument("--validation-fraction", type=float, default=0.1, help="share held out, by recording")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and of the built-in composition")
    p.add_argument("--minutes", type=float, default=None, help="length of the built-in set (default 12 / 4)")
    p.add_argument("--instrument", default="tpt", help="URMP instrument code (default tpt)")
    p.add_argument("--cache", default=None, help="cache folder (default: data/cache or $TTLIB_CACHE)")
    p.add_argument("--overwrite", action="store_true", help="replace a different dataset in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=_data_build)
    p = commands.add_parser("pitch", help="track the f0 of an audio file into a CSV (time_s,f0_hz,confidence,voiced)")
    p.add_argument("input", help="audio file (wav, flac, ogg, mp3)")
    p.add_argument("--method", default="crepe-tiny", help="yin, pyin or crepe-{tiny,small,medium,large,full}")
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--frame-rate", type=float, default=100.0, help="frames per second (default 100)")
    p.add_argument("--fmin", type=float, default=60.0, help="lowest f0 for YIN/pYIN (Hz)")
    p.add_argument("--fmax", type=float, default=2000.0, help="highest f0 for YIN/pYIN (Hz)")
    p.add_argument("--octaves-down", type=int, default=0, help="CREPE: analyse this many octaves lower (whistles: 1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(run=_pitch)

    p = commands.add_parser("train", help="train a DDSP autoencoder into a model folder")
    p.add_argument("--data", required=True, help="dataset folder (python -m ttlib data build ...)")
    p.add_argument("--out", required=True, help="model folder to write (new, or an existing one with --resume)")
    p.add_argument("--config", default=None, help="paper, course (default) or tiny; see ttlib.models")
    p.add_argument("--steps", type=int, default=None, help="train until this many steps in total (default: the config's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, noise and data order (default 0)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out from its last checkpoint")
    p.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (default 100)")
    p.add_argument("--stop-after-minutes", type=float, default=None,
                   help="stop and save after this much wall time (resume later with --resume)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_train)

    p = commands.add_parser("evaluate", help="spectral loss, f0 error (cents), loudness error (dB) on held-out data")
    p.add_argument("--model", required=True, help="model folder")
    p.add_argument("--data", default=None, help="dataset folder (default: the one the model was trained on)")
    p.add_argument("--split", default="validation", help="validation (default) or train")
    p.add_argument("--max-examples", type=int, default=32, help="examples to use (default 32)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_evaluate)

    p = commands.add_parser("transfer", help="play an audio file with a trained model (timbre transfer)")
    p.add_argument("input", help="audio file: any rate, mono or stereo (mixed down), wav/flac/ogg/mp3")
    p.add_argument("--model", required=True, help="model folder (python -m ttlib train ... / notebook 06)")
    p.add_argument("--out", required=True, help="WAV to write; the settings go beside it as .json")
    p.add_argument("--pitch-shift", type=float, default=0.0, help="semitones, after the automatic octave shift")
    p.add_argument("--loudness-shift", type=float, default=0.0, help="dB, after the loudness mapping")
    p.add_argument("--no-auto-adjust", action="store_true",
                   help="no octave shift toward the instrument, no loudness mapping onto its training data")
    p.add_argument("--quiet", dest="quiet_db", type=float, default=30.0,
                   help="silence frames this many dB below the loud passages (and pitchless ones); 0: never")
    p.add_argument("--autotune", type=float, default=0.0, help="0 (off) to 1: pull f0 to the nearest semitone")
    p.add_argument("--harmonic-gain", type=float, default=1.0, help="gain of the harmonic part")
    p.add_argument("--noise-gain", type=float, default=1.0, help="gain of the noise part")
    p.add_argument("--reverb-gain", type=float, default=1.0, help="gain of the learned reverb")
    p.add_argument("--octaves-down", default="auto", choices=["auto", "0", "1", "2"],
                   help="analyse the source's f0 this many octaves down (auto: 1 when it goes above 1.5 kHz)")
    p.add_argument("--check", action="store_true", help="track the output's f0 and report its error in cents")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(run=_transfer)

    exp = commands.add_parser("experiment", help="notebook 08's learned-encoder experiment").add_subparsers(
        dest="experiment_command", metavar="ACTION")
    exp.required = True
    p = exp.add_parser("learned-encoder", help="train and measure one row of the table (or --all-rows)")
    p.add_argument("--fix", action="append", default=[], metavar="FIX",
                   choices=["loudness-skip", "silence-penalty", "larger-encoder", "log-mel", "all"],
                   help="switch on a fix (repeat for several): loudness-skip, silence-penalty, larger-encoder, "
                        "log-mel, or all")
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
    p.set_defaults(run=_experiment_run)
    p = exp.add_parser("table", help="print the results table from the finished runs")
    p.add_argument("--root", default=None, help="folder of the runs")
    p.add_argument("--fast", action="store_true", help="the fast runs' folder")
    p.set_defaults(run=_experiment_table)

    p = data.add_parser("info", help="summarise a dataset folder")
    p.add_argument("dataset")
    p.set_defaults(run=_data_info)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
