"""Why a model's harmonic synthesizer can fall silent: where training starts, per instrument.

    .venv/bin/python benchmarks/harmonic_start.py [INSTRUMENT ...] [--work DIR] [--examples 8] [--seed 0]

For each instrument's built-in set as `make models` builds it (`WORK/data/INSTRUMENT`, default
`data/generated/shipping`; `python -m ttlib models train` or `data build --source builtin:NAME` makes it),
builds the `course` model with the seed's initial weights and measures on `--examples` held-out 4-s
examples: the multi-scale spectral loss of the output with the harmonic signal at gains 1 (the
baseline), 0.3, 0.1 and 0 (noise only), as ratios to the baseline, and the gradient of the loss on the
decoder's output bias of the harmonic amplitude (positive: the first steps turn the harmonics down).
The README's *Shipped models* explains what the figures mean for the saxophone and the flute.
"""
from __future__ import annotations

import argparse
from pathlib import Path

GAINS = (1.0, 0.3, 0.1, 0.0)


def measure(data_dir: Path, examples: int, seed: int) -> dict:
    import tensorflow as tf

    from ttlib.data import load_examples
    from ttlib.data.examples import validation_batch
    from ttlib.models.autoencoder import build_autoencoder

    batch = validation_batch(load_examples(data_dir, "validation"), 4.0, examples)
    features = {k: tf.constant(batch[k]) for k in ("audio", "f0_hz", "loudness_db")}
    tf.random.set_seed(seed)
    model = build_autoencoder("course", seed=seed)
    with tf.GradientTape() as tape:
        outputs, losses = model(features, training=True, return_losses=True)
    gradient = tape.gradient(losses["total_loss"], model.decoder.dense_out.bias).numpy()
    loss = model.loss_objs[0]
    harmonic, noise = outputs["harmonic"]["signal"], outputs["filtered_noise"]["signal"]
    by_gain = {g: float(loss(features["audio"], g * harmonic + noise)) for g in GAINS}
    return {"losses": by_gain, "amplitude_bias_gradient": float(gradient[0])}


def main() -> None:
    import ttlib  # noqa: F401  (before TensorFlow: tf-keras)
    from ttlib.core import paths
    from ttlib.models.shipped import INSTRUMENTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instruments", nargs="*", default=list(INSTRUMENTS))
    parser.add_argument("--work", type=Path, default=paths.generated_dir() / "shipping")
    parser.add_argument("--examples", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"{'instrument':<11}" + "".join(f"{f'loss x{g:g}':>12}" for g in GAINS) + f"{'amp. bias grad.':>17}")
    for name in args.instruments:
        data_dir = args.work / "data" / name
        if not (data_dir / "statistics.json").is_file():
            print(f"{name:<11} no set in {data_dir}: "
                  f"python -m ttlib data build --source builtin:{name} --out {data_dir}")
            continue
        found = measure(data_dir, args.examples, args.seed)
        base = found["losses"][1.0]
        cells = [f"{base:12.2f}"] + [f"{v:7.2f} {v / base:4.2f}" for g, v in found["losses"].items() if g != 1.0]
        print(f"{name:<11}" + "".join(f"{c:>12}" for c in cells) + f"{found['amplitude_bias_gradient']:+17.2f}")


if __name__ == "__main__":
    main()
