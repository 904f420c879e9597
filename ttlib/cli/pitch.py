"""`python -m ttlib pitch FILE --out F0.csv`: the f0 of an audio file, frame by frame."""
from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(commands) -> None:
    p = commands.add_parser("pitch", help="track the f0 of an audio file into a CSV (time_s,f0_hz,confidence,voiced)")
    p.add_argument("input", help="audio file (wav, flac, ogg, mp3)")
    p.add_argument("--method", default="crepe-tiny", help="yin, pyin or crepe-{tiny,small,medium,large,full}")
    p.add_argument("--out", required=True, help="CSV to write")
    p.add_argument("--frame-rate", type=float, default=100.0, help="frames per second (default 100)")
    p.add_argument("--fmin", type=float, default=60.0, help="lowest f0 for YIN/pYIN (Hz)")
    p.add_argument("--fmax", type=float, default=2000.0, help="highest f0 for YIN/pYIN (Hz)")
    p.add_argument("--octaves-down", type=int, default=0, help="CREPE: analyse this many octaves lower (whistles: 1)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from ttlib.audio import load
    from ttlib.core.errors import OutputExistsError
    from ttlib.pitch import CREPE_MAX_HZ, track

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise OutputExistsError(f"{out} exists; pass --overwrite to replace it, or choose another --out.")
    samples = load(args.input)
    result = track(samples, args.method, frame_rate=args.frame_rate, fmin=args.fmin, fmax=args.fmax,
                   crepe_octaves_down=args.octaves_down)
    out.parent.mkdir(parents=True, exist_ok=True)
    table = np.stack([result.times_s, result.f0_hz, result.confidence, result.voiced.astype(float)], axis=1)
    np.savetxt(out, table, delimiter=",", fmt=["%.4f", "%.3f", "%.4f", "%d"],
               header="time_s,f0_hz,confidence,voiced", comments="")
    voiced = result.voiced
    median = f"{np.median(result.f0_hz[voiced]):.1f} Hz" if voiced.any() else "no voiced frame"
    print(f"{args.input}: {result.f0_hz.size} frames by {args.method} at {args.frame_rate:g} per second, "
          f"{100 * voiced.mean():.0f}% voiced, median f0 {median}; wrote {out}")
    if args.method.startswith("crepe") and args.octaves_down == 0 and voiced.any() and \
            np.percentile(result.f0_hz[voiced], 95) > 0.9 * CREPE_MAX_HZ:
        print("note: the f0 reaches CREPE's ceiling (about 2 kHz); for whistling add --octaves-down 1.")
    return 0
