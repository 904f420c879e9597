"""`python -m ttlib data build|info`: build a training set, or summarise one."""
from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    actions = commands.add_parser("data", help="build and inspect training sets").add_subparsers(
        dest="data_command", metavar="ACTION")
    actions.required = True
    p = actions.add_parser("build", help="build a training set: features, 4 s examples, split, statistics")
    p.add_argument("--source", required=True,
                   help="builtin[:trumpet|flute|violin|saxophone|whistle][:dry|:dynamics|:gm] (dry: without "
                        "FluidSynth's reverb; dynamics: brighter when louder, the default; gm: expression as a gain), "
                        "urmp:PATH (URMP folder or Magenta's TFRecords), folder:PATH")
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
    p.add_argument("--runner", default=None, choices=("direct", "DirectRunner", "DataflowRunner", "FlinkRunner",
                                                      "SparkRunner", "PrismRunner"),
                   help="compute the features with an Apache Beam pipeline on this runner, one recording per "
                        "element (default: in this process); the files are the same")
    p.add_argument("--pipeline-options", default=None,
                   help="Beam's options, comma-separated as ddsp_prepare_tfrecord takes them, given with an = "
                        "sign: --pipeline-options=\"--project=P,--region=R,--temp_location=gs://B/tmp\" or "
                        "--pipeline-options=\"--direct_num_workers=2,--direct_running_mode=multi_processing\"")
    p.add_argument("--staging", default=None,
                   help="where the Beam workers stage each recording's features (default OUT.staging; "
                        "gs://... on Dataflow)")
    p.add_argument("--room", default=None, metavar="IR.wav|FOLDER",
                   help="play every recording in this room (an impulse response: any rate, mono or stereo, up to "
                        "10 s) before its features: reverberant training data (notebook 10); or a folder of them: "
                        "each recording in one drawn at random (--seed)")
    p.add_argument("--dry-target", action="store_true",
                   help="with --room: keep the audio target dry (features from the recording in the room, the model "
                        "learns to make the dry sound from them: supervised dereverberation)")
    p.set_defaults(run=build, interrupted="The dataset was not written (features computed so far are cached).")
    p = actions.add_parser("info", help="summarise a dataset folder")
    p.add_argument("dataset")
    p.set_defaults(run=info)


def build(args: argparse.Namespace) -> int:
    from ttlib.data import build_dataset

    out = build_dataset(args.source, args.out, f0_method=args.f0_method, frame_rate=args.frame_rate,
                        example_seconds=args.example_seconds, hop_seconds=args.hop_seconds,
                        validation_fraction=args.validation_fraction, seed=args.seed, minutes=args.minutes,
                        instrument=args.instrument, cache_dir=args.cache or "default", overwrite=args.overwrite,
                        progress=not args.quiet, runner=args.runner, pipeline_options=args.pipeline_options,
                        staging=args.staging, room=args.room, dry_target=args.dry_target)
    return info(argparse.Namespace(dataset=str(out)))


def info(args: argparse.Namespace) -> int:
    from ttlib.data import read_manifest, read_statistics

    manifest = read_manifest(args.dataset)
    stats = read_statistics(args.dataset)
    params = manifest["params"]
    print(f"dataset {args.dataset}: source {params['source']}, f0 {stats.get('f0_method')}, "
          f"{params['example_seconds']} s examples at {params['frame_rate']:g} frames/s "
          f"(built in {manifest.get('build_seconds')} s)")
    for split in ("train", "validation"):
        rec = [r for r in manifest["recordings"] if r["split"] == split]
        seconds = sum(r.get("seconds", 0) for r in rec)
        line = (f"  {split:10s} {manifest['examples'].get(split, 0):5d} examples from {len(rec)} "
                f"recording{'s' if len(rec) != 1 else ''} ({seconds / 60:.1f} min)")
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
