"""Exported model speed: the TFLite file and the SavedModel against the Synthesizer they were exported from.

    .venv/bin/python benchmarks/export.py [--model data/generated/models/trumpet] [--seconds 4] [--repeats 20]

Exports the model (`ttlib.models.export`) for `--seconds` into a temporary folder, then times
the same f0 and loudness (a wandering melody) through each path, `--repeats` times after a
warm-up call, and prints the median wall time per call, the real-time factor (audio
seconds per second) and each path's time against the baseline measured in the same run,
`ttlib.transfer.Synthesizer` (its controls and its dry render, in Python and TensorFlow).
Also the largest difference of each path's controls and audio from the Synthesizer's.
Run it with nothing else busy: the figures are wall times on this machine's cores.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

import ttlib

REPO = Path(__file__).resolve().parent.parent


def timed(fn, repeats: int) -> float:
    fn()                                                   # warm-up: traces and allocates
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "data" / "generated" / "models" / "trumpet"))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if not Path(args.model).is_dir():
        raise SystemExit(f"No model at {args.model}: train one (notebook 06 or `python -m ttlib train`).")

    import tensorflow as tf

    from ttlib.models.export import export
    from ttlib.transfer import Synthesizer

    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        exported = export(args.model, Path(folder) / "export", seconds=args.seconds)
        export_s = time.perf_counter() - t0
        n = exported.metadata["n_frames"]
        rng = np.random.default_rng(0)
        f0 = (330 * 2 ** (np.cumsum(rng.normal(0, 0.3, n)) / 12)).astype(np.float32)
        loudness = np.clip(-30 + np.cumsum(rng.normal(0, 2, n)), -80, 0).astype(np.float32)
        synth = Synthesizer(args.model)
        interpreter = tf.lite.Interpreter(model_path=str(exported.tflite))
        lite = interpreter.get_signature_runner("serving_default")
        saved = tf.saved_model.load(str(exported.saved_model)).signatures["serving_default"]
        f0_t, loudness_t = tf.constant(f0), tf.constant(loudness)

        def synthesizer():
            parts = synth.render(f0, loudness, room="dry")
            return parts.harmonic + parts.noise

        seconds = exported.metadata["n_samples"] / ttlib.SAMPLE_RATE
        print(f"model {args.model}: export of {seconds:g} s ({n} frames) took {export_s:.1f} s; "
              f"TFLite file {exported.tflite.stat().st_size / 1e6:.1f} MB")
        base = timed(synthesizer, args.repeats)
        rows = [("Synthesizer (baseline)", base, synthesizer()),
                ("SavedModel", timed(lambda: saved(f0_hz=f0_t, loudness_db=loudness_t), args.repeats),
                 saved(f0_hz=f0_t, loudness_db=loudness_t)["audio"].numpy()),
                ("TFLite interpreter", timed(lambda: lite(f0_hz=f0, loudness_db=loudness), args.repeats),
                 lite(f0_hz=f0, loudness_db=loudness)["audio"])]
        reference = rows[0][2]
        print(f"{'path':24s} {'ms per call':>12s} {'x real time':>12s} {'time / baseline':>16s} {'max |diff|':>11s}")
        for name, t, audio in rows:
            print(f"{name:24s} {1000 * t:12.1f} {seconds / t:12.0f} {t / base:16.2f} "
                  f"{float(np.abs(np.asarray(audio) - reference).max()):11.1e}")


if __name__ == "__main__":
    main()
