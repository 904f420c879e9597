"""Training throughput and held-out loss of model configurations, side by side, in one run.

    .venv/bin/python benchmarks/training.py [--minutes 10] [--configs paper course:reverb=learned course]
                                            [--target 6.84] [--data DIR]

Each configuration trains from the same seed on the same dataset for the same wall
time (`--minutes`), one after the other so they do not share the CPU. A configuration
is a name of `ttlib.models.CONFIGS`, optionally with changed fields:
`course:reverb=learned` is `course` with ddsp's free reverb (the course's before its
room-only reverb), `course:learning_rate=0.002,batch_size=4` changes two. Printed per
configuration: parameters, batch, seconds per step and throughput (audio seconds
of training examples per second of wall time, tracing of the first step excluded),
its ratio to the first configuration's (the baseline, measured in this run), the
steps reached, the held-out multi-scale spectral loss (the paper's FFT sizes,
the same measure for all) on the same validation examples after that wall time, and
the training time each needed to reach `--target` (default 6.84: the held-out loss
of `course` with the free reverb after its 1500 steps on the built-in trumpet,
measured), read from the held-out loss measured every `--validate-every` steps
(the time those measurements take is left out).

The dataset defaults to the built-in trumpet set of notebook 05
(data/generated/trumpet), built on first use. `--json FILE` also writes the table.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

import ttlib  # noqa: F401  (before TensorFlow)

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="wall time per configuration (min)")
    parser.add_argument("--configs", nargs="+", default=["paper", "course:reverb=learned", "course"],
                        help="NAME or NAME:field=value,...; the first one is the baseline")
    parser.add_argument("--target", type=float, default=6.84, help="held-out loss to reach")
    parser.add_argument("--validate-every", type=int, default=50, help="steps between held-out measures")
    parser.add_argument("--data", default=str(REPO / "data" / "generated" / "trumpet"), help="dataset folder")
    parser.add_argument("--validation-examples", type=int, default=32, help="held-out examples scored")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()

    from ttlib import data, models
    from ttlib.core.io import read_csv
    from ttlib.models.training import LOSSES_FILE

    data_dir = Path(args.data)
    if not (data_dir / "manifest.json").is_file():
        print(f"building the built-in trumpet dataset into {data_dir} (first use, a few minutes)")
        data.build_dataset("builtin:trumpet", data_dir)
    held_out = data.load_examples(data_dir, "validation", args.validation_examples)
    print(f"dataset {data_dir}: {data.read_manifest(data_dir)['examples']}; {len(held_out)} held-out examples scored; "
          f"{args.minutes:g} min of training per configuration\n")

    rows = []
    work = Path(tempfile.mkdtemp(prefix="ttlib-bench-train-"))
    for name in args.configs:
        out = work / name.replace(":", "_").replace("=", "-").replace(",", "_")
        result = models.train(data_dir, out, configuration(name), steps=10 ** 7, seed=args.seed,
                             checkpoint_every=10 ** 7, validate_every=args.validate_every,
                             validation_examples=len(held_out), progress=False, tensorboard=False,
                             stop_after_seconds=args.minutes * 60)
        steps, _ = models.read_losses(out)
        elapsed = np.array([float(r["elapsed_s"]) for r in read_csv(out / LOSSES_FILE)])
        reached = time_to_reach(out, args.target)
        loaded = models.load_model(out)
        cfg = loaded.config
        steady = (elapsed[-1] - elapsed[0]) / max(1, steps.size - 1) if steps.size > 1 else float("nan")
        t0 = time.perf_counter()
        loss = models.held_out_loss(loaded.model, data.validation_batch(held_out, cfg.example_seconds, len(held_out)))
        rows.append({"config": name, "parameters": int(sum(np.prod(v.shape) for v in loaded.model.trainable_variables)),
                     "batch": cfg.batch_size, "seconds_per_step": steady,
                     "audio_seconds_per_second": cfg.batch_size * cfg.example_seconds / steady,
                     "steps": int(result.step), "wall_seconds": round(result.seconds, 1),
                     "held_out_spectral_loss": loss, "scoring_seconds": round(time.perf_counter() - t0, 1),
                     "minutes_to_target": None if reached is None else round(reached / 60, 2)})
        print(f"  {name}: {result.step} steps in {result.seconds:.0f} s, held-out loss {loss:.3f}", flush=True)

    base = rows[0]["audio_seconds_per_second"]
    width = max(len(r["config"]) for r in rows)
    print(f"\n{'config':{width}s} {'params':>10s} {'batch':>5s} {'s/step':>7s} {'audio-s/s':>9s} "
          f"{'vs baseline':>11s} {'steps':>6s} {'held-out loss':>13s} {'min to ' + format(args.target, 'g'):>10s}")
    for r in rows:
        r["throughput_ratio"] = r["audio_seconds_per_second"] / base
        reached = "not yet" if r["minutes_to_target"] is None else f"{r['minutes_to_target']:.1f}"
        print(f"{r['config']:{width}s} {r['parameters']:>10,d} {r['batch']:>5d} {r['seconds_per_step']:>7.2f} "
              f"{r['audio_seconds_per_second']:>9.1f} {r['throughput_ratio']:>10.1f}x {r['steps']:>6d} "
              f"{r['held_out_spectral_loss']:>13.3f} {reached:>10s}")
    print(f"(baseline: {rows[0]['config']}; min to {args.target:g}: training minutes until the held-out loss, "
          f"measured every {args.validate_every} steps, first reached {args.target:g}; 'not yet': not within "
          f"{args.minutes:g} min)")
    if args.json:
        Path(args.json).write_text(json.dumps({"minutes": args.minutes, "data": str(data_dir), "rows": rows}, indent=2))


def configuration(spec: str):
    """A configuration from NAME or NAME:field=value,... (values read as JSON, else as text)."""
    from ttlib import models

    name, _, changes = spec.partition(":")
    cfg = models.get_config(name)
    if not changes:
        return cfg
    fields = {}
    for change in changes.split(","):
        key, _, value = change.partition("=")
        try:
            fields[key] = json.loads(value)
        except json.JSONDecodeError:
            fields[key] = value
    return cfg.replace(name=spec.replace(":", "+"), **fields)


def time_to_reach(out: Path, target: float) -> float | None:
    """Training seconds (without the held-out measures' own time) until the held-out loss first reached `target`."""
    from ttlib.core.io import read_csv
    from ttlib.models.training import LOSSES_FILE, VALIDATION_FILE

    at_step = {int(r["step"]): float(r["elapsed_s"]) for r in read_csv(out / LOSSES_FILE)}
    spent = 0.0                                        # seconds of held-out measuring so far
    for row in read_csv(out / VALIDATION_FILE):
        step, loss, elapsed = int(row["step"]), float(row["spectral_loss"]), float(row["elapsed_s"])
        trained = at_step.get(step, 0.0) - spent
        if loss <= target and step > 0:
            return trained
        spent += elapsed - at_step.get(step, 0.0)
    return None


if __name__ == "__main__":
    main()
