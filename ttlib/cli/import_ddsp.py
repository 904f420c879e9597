"""`python -m ttlib import-ddsp DIR --out MODEL_DIR`: a model trained by ddsp's own trainer, as a course model folder.

DIR is what `ddsp_run --save_dir` (or ddsp's train_autoencoder Colab) wrote: operative_config-N.gin and
ckpt-STEP.*, with the Colab's dataset_statistics.pkl (read as data only) or a dataset given with --data.
The result plays in transfer, the sliders of notebook 07, `evaluate`, `export` and `live` like a model
trained here (`ttlib.models.ddsp_import`).
"""
from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    p = commands.add_parser("import-ddsp", help="a model trained with ddsp's own trainer, as a course model folder")
    p.add_argument("ddsp_dir", metavar="DIR", help="the folder ddsp_run saved into (operative_config-N.gin, ckpt-STEP)")
    p.add_argument("--out", required=True, help="the course model folder to write")
    p.add_argument("--data", default=None,
                   help="the model's training data as a course dataset (`python -m ttlib data build`), for its "
                        "statistics; default: DIR/dataset_statistics.pkl")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ttlib.models.ddsp_import import import_ddsp

    result = import_ddsp(args.ddsp_dir, args.out, data=args.data, overwrite=args.overwrite)
    c = result.config
    worst = max(result.differences.values())
    print(f"{args.ddsp_dir} (step {result.step}): GRU {c.rnn_channels}, MLPs {c.mlp_layers}x{c.mlp_channels}, "
          f"{c.n_harmonics} harmonics, {c.n_noise_bands} noise bands, "
          f"{'a ' + format(c.reverb_seconds, 'g') + ' s reverb' if c.reverb_seconds else 'no reverb'}, "
          f"{c.frame_rate} frames/s")
    print(f"plays as ddsp's own model: largest difference {worst:.2g} (controls, harmonic audio, reverb)")
    print(f"statistics from {result.statistics_source}")
    print(f"wrote {result.folder}; try `python -m ttlib transfer WHISTLE.wav --model {result.folder} --out OUT.wav`")
    return 0
