"""`python -m ttlib room measure|estimate`: a room's measures, and a room taken from a recording.

`measure IR.wav`: decay times, DRR and clarity (`ttlib.audio.room.measure_room`, ISO
3382-1) and the decay curve. `estimate REC.wav --model DIR --out IR.wav`: the room a
recording of the model's instrument was played in, fitted with the decoder frozen
(`ttlib.transfer.room_estimate`), and the model's dry output for it (the room removed).
Notebook 10.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from ttlib.models.shipped import model_folder, model_help


def add_parser(commands) -> None:
    p = commands.add_parser("room", help="rooms: measure an impulse response, or estimate one from a recording")
    sub = p.add_subparsers(dest="room_command", metavar="ACTION")
    sub.required = True
    m = sub.add_parser("measure", help="print an impulse response's T20, T30, EDT, DRR and C80")
    m.add_argument("ir", help="impulse response (wav, flac, ogg; any rate, mono or stereo, at most 10 s)")
    m.add_argument("--plot", default=None, metavar="FILE.png", help="also draw its Schroeder decay curve")
    m.add_argument("--json", action="store_true", help="print the measures as JSON")
    m.add_argument("--overwrite", action="store_true", help="replace an existing --plot file")
    m.set_defaults(run=measure)
    e = sub.add_parser("estimate", help="take the room out of a recording of the model's instrument, as an impulse "
                                        "response (and the recording without it)")
    e.add_argument("recording", help="a recording of the instrument the model plays, in a room (at least 2 s; "
                                     "10 s or more of phrases with rests is best)")
    e.add_argument("--model", required=True, type=model_folder,
                   help=model_help())
    e.add_argument("--out", required=True, metavar="IR.wav", help="where to write the estimated impulse response")
    e.add_argument("--dry", default=None, metavar="DRY.wav",
                   help="also write the model's dry output for the recording: its notes without the room")
    e.add_argument("--steps", type=int, default=1500, help="fitting steps per round (default 1500)")
    e.add_argument("--rounds", type=int, default=3,
                   help="fits, each on a dry output whose loudness has the previous fit's room taken out (default 3)")
    e.add_argument("--json", action="store_true", help="print the estimate's measures as JSON")
    e.add_argument("--overwrite", action="store_true", help="replace existing output files")
    e.set_defaults(run=estimate)


def measure(args: argparse.Namespace) -> int:
    from ttlib.audio.room import load_impulse_response, measure_room
    from ttlib.core.errors import OutputExistsError
    from ttlib.core.units import SAMPLE_RATE

    plot = Path(args.plot) if args.plot else None
    if plot is not None and plot.exists() and not args.overwrite:
        raise OutputExistsError(f"{plot} exists; pass --overwrite to replace it, or choose another --plot.")
    ir = load_impulse_response(args.ir, SAMPLE_RATE, normalize=False)
    result = measure_room(ir, SAMPLE_RATE)
    if args.json:
        print(_json_measures(result, {}))
    else:
        print(f"{args.ir}: {ir.size / SAMPLE_RATE:.2f} s at {SAMPLE_RATE} Hz")
        for line in result.lines():
            print("  " + line)
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ttlib.course.plots import room_decay

        fig, ax = plt.subplots(figsize=(8, 4))
        room_decay(ir, SAMPLE_RATE, ax=ax, label=Path(args.ir).name)
        plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(plot, dpi=100, bbox_inches="tight")
        plt.close(fig)
        print(f"wrote {plot}")
    return 0


def _json_measures(result, extra: dict) -> str:
    import json

    return json.dumps({k: (None if v != v or v in (float("inf"), float("-inf")) else round(v, 4))
                       for k, v in result.as_dict().items()} | {"notes": result.notes} | extra)


def estimate(args: argparse.Namespace) -> int:
    from ttlib.audio.io import load, save_wav
    from ttlib.audio.room import measure_room
    from ttlib.core.errors import ConfigError, OutputExistsError
    from ttlib.core.units import SAMPLE_RATE
    from ttlib.transfer.room_estimate import ROUGH_DIVERGENCE, estimate_room
    from ttlib.transfer.synthesizer import Synthesizer

    outputs = [Path(p) for p in (args.out, args.dry) if p]
    same = [path.resolve() for path in outputs]
    if Path(args.recording).resolve() in same:
        raise ConfigError(f"{args.recording} is the recording; --out and --dry need other names (it is never "
                          "overwritten, not even with --overwrite).")
    if len(set(same)) < len(same):
        raise ConfigError(f"--out and --dry are both {args.out}; the room and the dry recording need two files.")
    for path in outputs:
        if path.exists() and not args.overwrite:
            raise OutputExistsError(f"{path} exists; pass --overwrite to replace it, or choose another name.")
    if args.steps < 1 or args.rounds < 1:
        raise ConfigError(f"--steps and --rounds must be at least 1 (got {args.steps} and {args.rounds}).")
    recording = load(args.recording, SAMPLE_RATE)
    synth = Synthesizer(args.model)
    result = estimate_room(recording, synth, steps=args.steps, rounds=args.rounds, progress=not args.json,
                           name=f"estimate:{args.recording}")
    measures = measure_room(result.room.ir, SAMPLE_RATE)
    save_wav(args.out, result.room.ir, SAMPLE_RATE, overwrite=args.overwrite)
    if args.dry:
        save_wav(args.dry, result.dry, SAMPLE_RATE, overwrite=args.overwrite)
    summary = {"playing": round(result.playing, 3), "seconds": round(result.seconds, 1), "rounds": args.rounds,
               "divergence": round(result.divergence, 3) if result.divergence == result.divergence else None}
    if args.json:
        print(_json_measures(measures, summary))
    else:
        print(f"{args.recording}: a room fitted in {args.rounds} rounds of {args.steps} steps "
              f"({result.seconds:.0f} s; the model played {100 * result.playing:.0f}% of the frames)")
        for line in measures.lines():
            print("  " + line)
        print(f"  the fit leaves a divergence of {result.divergence:.2f} between the recording and the model's dry "
              "output in this room (0: exact; README, Rooms)")
        if result.divergence > ROUGH_DIVERGENCE:
            print(f"  above {ROUGH_DIVERGENCE:g}: the model's dry output is far from this recording and the room was "
                  "bent to make up for it; read its T30 and DRR as rough")
        for path in outputs:
            print(f"wrote {path}")
    return 0
