"""`python -m ttlib room measure IR.wav`: a room's decay times, DRR and clarity, and its decay curve.

The measures are `ttlib.audio.room.measure_room`'s (ISO 3382-1, notebook 10).
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands) -> None:
    p = commands.add_parser("room", help="rooms: measure an impulse response (T20, T30, EDT, DRR, C80)")
    sub = p.add_subparsers(dest="room_command", metavar="ACTION")
    sub.required = True
    m = sub.add_parser("measure", help="print an impulse response's T20, T30, EDT, DRR and C80")
    m.add_argument("ir", help="impulse response (wav, flac, ogg; any rate, mono or stereo, at most 10 s)")
    m.add_argument("--plot", default=None, metavar="FILE.png", help="also draw its Schroeder decay curve")
    m.add_argument("--json", action="store_true", help="print the measures as JSON")
    m.add_argument("--overwrite", action="store_true", help="replace an existing --plot file")
    m.set_defaults(run=measure)


def measure(args: argparse.Namespace) -> int:
    import json

    from ttlib.audio.room import load_impulse_response, measure_room
    from ttlib.core.errors import OutputExistsError
    from ttlib.core.units import SAMPLE_RATE

    plot = Path(args.plot) if args.plot else None
    if plot is not None and plot.exists() and not args.overwrite:
        raise OutputExistsError(f"{plot} exists; pass --overwrite to replace it, or choose another --plot.")
    ir = load_impulse_response(args.ir, SAMPLE_RATE, normalize=False)
    result = measure_room(ir, SAMPLE_RATE)
    if args.json:
        print(json.dumps({k: (None if v != v or v in (float("inf"), float("-inf")) else round(v, 4))
                          for k, v in result.as_dict().items()} | {"notes": result.notes}))
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
