"""`python -m ttlib train --data DIR --out MODEL_DIR`: train a DDSP autoencoder (stop with Ctrl-C, --resume later)."""
from __future__ import annotations

import argparse

from ttlib.models.shipped import model_folder


def add_parser(commands) -> None:
    p = commands.add_parser("train", help="train a DDSP autoencoder into a model folder")
    p.add_argument("--data", required=True, help="dataset folder (python -m ttlib data build ...)")
    p.add_argument("--out", required=True, help="model folder to write (new, or an existing one with --resume)")
    p.add_argument("--config", default=None, help="paper, course (default) or tiny; see ttlib.models.configs")
    p.add_argument("--steps", type=int, default=None,
                   help="train until this many steps in total (default: the config's)")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights, noise and data order (default 0)")
    p.add_argument("--resume", action="store_true", help="continue the run saved in --out from its last checkpoint")
    p.add_argument("--start-from", default=None, type=model_folder, metavar="MODEL",
                   help="start from this model's weights instead of the seed's (fine-tuning; the same --config): "
                        "a model folder, or a shipped model's name (trumpet, ...)")
    p.add_argument("--checkpoint-every", type=int, default=100, help="steps between checkpoints (default 100)")
    p.add_argument("--stop-after-minutes", type=float, default=None,
                   help="stop and save after this much wall time (resume later with --resume)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--strategy", default="default", choices=("default", "mirrored", "multiworker", "tpu"),
                   help="tf.distribute strategy: one device (default), every GPU here (mirrored), several machines "
                        "from TF_CONFIG (multiworker), a Cloud TPU (tpu); the batch is split across replicas")
    p.add_argument("--split-cpu", type=int, default=None, metavar="N",
                   help="make the CPU N logical devices, to try --strategy mirrored without GPUs")
    p.set_defaults(run=run, interrupted="Stopped before the first step; nothing was saved.")


def run(args: argparse.Namespace) -> int:
    """0 when training finished, 130 when it was stopped and saved (resume with --resume)."""
    from ttlib.models import train
    from ttlib.models.distribute import split_cpu

    if args.split_cpu:
        split_cpu(args.split_cpu)
    config = None if (args.resume and args.config is None) else (args.config or "course")
    result = train(args.data, args.out, config=config, steps=args.steps, seed=args.seed, resume=args.resume,
                   checkpoint_every=args.checkpoint_every, progress=not args.quiet,
                   stop_after_seconds=args.stop_after_minutes * 60 if args.stop_after_minutes else None,
                   strategy=args.strategy, start_from=args.start_from)
    last = f", last loss {result.losses[-1][1]:.3f}" if result.losses else ""
    held = f", held-out spectral loss {result.validation[-1][1]:.3f}" if result.validation else ""
    print(f"{args.out}: step {result.step} ({len(result.losses)} this run in {result.seconds:.0f} s, "
          f"{result.audio_seconds_per_second:.1f} audio-s/s{last}{held}).")
    return 130 if result.interrupted else 0
