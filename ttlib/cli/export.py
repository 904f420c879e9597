"""`python -m ttlib export MODEL_DIR`: a trained model as a SavedModel and a TFLite file (`ttlib.models.export`).

f0 and loudness in, the controls and the dry audio out, for a fixed length (`--seconds`);
the model's room beside it as a WAV, and `metadata.json`, as ddsp's `ddsp_export` writes
them. Notebook 06 trains the model folder this reads.
"""
from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    p = commands.add_parser("export", help="a trained model as a SavedModel and a TFLite file, for other runtimes")
    p.add_argument("model", help="a trained model folder (notebook 06 or `python -m ttlib train`)")
    p.add_argument("--out", default=None, help="the export folder (default: MODEL/export, as ddsp_export's)")
    p.add_argument("--format", default="both", choices=("saved_model", "tflite", "both"),
                   help="what to write (default both)")
    p.add_argument("--seconds", type=float, default=4.0,
                   help="the exported function's length in seconds, a whole number of frames (default 4, as ddsp's)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export in --out")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ttlib.models.export import FORMATS, export

    formats = FORMATS if args.format == "both" else (args.format,)
    result = export(args.model, args.out, formats=formats, seconds=args.seconds, overwrite=args.overwrite)
    m = result.metadata
    print(f"{args.model} (step {m['step']}): f0_hz and loudness_db [{m['n_frames']}] in "
          f"({m['seconds']:g} s at {m['frame_rate']:g} frames/s), controls and audio [{m['n_samples']}] out")
    for path in (result.saved_model, result.tflite, result.reverb, result.folder / "metadata.json"):
        if path is not None:
            print(f"wrote {path}")
    return 0
