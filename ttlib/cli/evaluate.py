"""`python -m ttlib evaluate --model DIR`: spectral loss, f0 and loudness errors of a trained model, held out."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ttlib.models.shipped import model_folder, model_help


def add_parser(commands) -> None:
    p = commands.add_parser("evaluate", help="spectral loss, f0 error (cents), loudness error (dB) on held-out data")
    p.add_argument("--model", required=True, type=model_folder,
                   help=model_help())
    p.add_argument("--data", default=None, help="dataset folder (default: the one the model was trained on)")
    p.add_argument("--split", default="validation", help="validation (default) or train")
    p.add_argument("--max-examples", type=int, default=32, help="examples to use (default 32)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ttlib.core.errors import DatasetError
    from ttlib.core.io import read_json
    from ttlib.data import load_examples
    from ttlib.models import evaluate, load_model
    from ttlib.models.checkpoint import MODEL_FILE

    loaded = load_model(args.model)
    dataset = read_json(Path(args.model) / MODEL_FILE).get("dataset", {})
    data_dir = args.data or dataset.get("path")
    if data_dir is None and dataset.get("source"):
        raise DatasetError(f"{args.model} is a shipped model, without its data: build its training set with "
                           f"`python -m ttlib data build --source {dataset['source']} --out DIR` and give --data DIR.")
    if data_dir is None:
        raise DatasetError(f"{args.model} does not say which data it was trained on (it was imported from ddsp "
                           "with its statistics only): give a dataset with --data DATASET.")
    examples = load_examples(data_dir, args.split)
    metrics = evaluate(loaded, examples, max_examples=args.max_examples, progress=not args.quiet)
    metrics["step"] = loaded.step
    print(json.dumps(metrics, indent=2))
    return 0
