"""`python -m ttlib models list|train`: the trained models, and the shipped ones made again (`make models`).

`list` shows the shipped models (`data/models/`, `ttlib.models.shipped`) and the trained
ones under `data/generated/models/`, with their held-out figures. `train` builds each
instrument's built-in set, trains the `course` configuration on it and packs the weights
into `data/models/INSTRUMENT`, printing first how long that took when the shipped ones were
made. Notebooks 06 and 07.
"""
from __future__ import annotations

import argparse
import sys


def add_parser(commands) -> None:
    from ttlib.models.shipped import INSTRUMENTS

    actions = commands.add_parser("models", help="list the trained models; make the shipped ones again").add_subparsers(
        dest="models_command", metavar="ACTION")
    actions.required = True
    p = actions.add_parser("list", help="the shipped and the trained models, with their held-out figures")
    p.set_defaults(run=list_models)
    p = actions.add_parser("train", help="train the shipped models again (make models): data, 800 steps, measures")
    p.add_argument("instruments", nargs="*", default=list(INSTRUMENTS), metavar="INSTRUMENT",
                   help=f"which ({', '.join(INSTRUMENTS)}; default all)")
    p.add_argument("--work", default=None,
                   help="where the data sets and training runs go (default data/generated/shipping; reused)")
    p.add_argument("--out", default=None, help="where the packed models go (default data/models)")
    p.add_argument("--steps", type=int, default=None, help="training steps (default the course configuration's 800)")
    p.set_defaults(run=train, interrupted="The training runs so far are saved: run the same command to continue.")


def _figures(folder) -> str:
    from ttlib.core.io import read_json
    from ttlib.models.checkpoint import RUN_FILE, check_model_folder

    found = check_model_folder(folder)
    run = read_json(folder / RUN_FILE) if (folder / RUN_FILE).is_file() else {}
    held = run.get("held_out") or {}
    final = run.get("final", {})
    if held:
        text = (f"held-out spectral loss {held['spectral_loss']:.2f}, f0 error {held['f0_error_cents_median']:.1f} "
                f"cents (median), loudness error {held['loudness_error_db']:.2f} dB")
    elif "validation_spectral_loss" in final:
        text = f"held-out spectral loss {final['validation_spectral_loss']:.2f} (training's measure)"
    else:
        text = "no held-out figures"
    start = run.get("started_from")
    start = f" from {start['model']}'s step {start['step']}" if start else ""
    return f"{found.config.name} at learning rate {found.config.learning_rate:g}{start}, step {found.step}: {text}"


def list_models(args: argparse.Namespace) -> int:
    from ttlib.core.paths import generated_dir
    from ttlib.models.checkpoint import find_models
    from ttlib.models.shipped import shipped_dir, shipped_models

    for title, found in (("shipped", shipped_models()), ("trained", find_models(generated_dir() / "models"))):
        root = shipped_dir() if title == "shipped" else generated_dir() / "models"
        print(f"{title} ({root}): {'none' if not found else len(found)}")
        for name, folder in found.items():
            print(f"  {name:24s} {_figures(folder)}")
    return 0


def train(args: argparse.Namespace) -> int:
    from ttlib.models.shipped import expected_seconds, make_models

    instruments = list(dict.fromkeys(args.instruments))
    expected = expected_seconds(instruments)
    if expected is None:
        print(f"Training {', '.join(instruments)}: no shipped run log says how long that takes (the training "
              "alone is about 20 minutes per instrument on 2 CPU cores).")
    else:
        print(f"Training {', '.join(instruments)}: about {expected / 60:.0f} minutes, as long as the shipped models "
              "took (their run logs' data, training and measures); more on a slower machine. Ctrl-C stops; the "
              "same command continues.")
    made = make_models(instruments, work_dir=args.work, out_root=args.out, steps=args.steps)
    print(f"Packed {len(made)} model(s): {', '.join(str(p) for p in made.values()) or 'none'}")
    refused = [name for name in instruments if name not in made]
    if refused:
        print(f"Not packed (see above): {', '.join(refused)}.", file=sys.stderr)
    return 1 if refused else 0
