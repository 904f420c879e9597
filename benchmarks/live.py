"""Live engine speed: compute per hop against the hop's duration, and against baselines measured in the same run.

    .venv/bin/python benchmarks/live.py [--model data/generated/models/trumpet] [--seconds 60]

Streams `--seconds` of the built-in whistle through `ttlib.live.Stream` one hop at a time
(320 samples for a `course` model: what a sound card's callback would hand it) and
times every call. Targets (issue 14): median <= 5 ms, 99th percentile <= 15 ms, no hop
over its own duration (20 ms). Printed beside:
  - the real-time factor (audio seconds per second of computation);
  - baseline 1, the same sound made offline at once (`ttlib.live.offline.render`): the
    engine's cost per audio second against the offline path's;
  - baseline 2, the naive per-frame path: CREPE through Keras' `model.predict` on one
    frame (what a first attempt calls every hop), against the engine's compiled call.
Run it with nothing else busy: the figures are wall times on this machine's cores.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import ttlib

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "data" / "generated" / "models" / "trumpet"))
    parser.add_argument("--seconds", type=float, default=60.0, help="input length (s)")
    args = parser.parse_args()

    from ttlib import live
    from ttlib.data import builtin
    from ttlib.live import analysis

    if not Path(args.model).is_dir():
        raise SystemExit(f"No model at {args.model}: train one (notebook 06 or `python -m ttlib train`).")
    stream = live.Stream(args.model, trace=True)
    hop, sr = stream.hop, ttlib.SAMPLE_RATE
    audio = builtin.clip("whistle", args.seconds, frame_rate=stream.frame_rate).audio[:int(args.seconds * sr)]
    print(f"model {args.model} ({stream.config.name}, {stream.frame_rate:g} frames/s, hop {hop} samples = "
          f"{1000 * hop / sr:.0f} ms); input: {audio.size / sr:.0f} s of built-in whistle; "
          f"latency {stream.latency_samples} samples = {1000 * stream.latency_samples / sr:.1f} ms\n")

    stream.process(audio[:sr])                            # warm-up: compiles the functions
    stream.reset()
    stream.frames = []
    times = np.empty(audio.size // hop)
    for i in range(times.size):
        t0 = time.perf_counter()
        stream.process(audio[i * hop:(i + 1) * hop])
        times[i] = time.perf_counter() - t0
    ms = 1000 * times
    budget = 1000 * hop / sr
    print(f"engine, per hop:  median {np.median(ms):.2f} ms   99th percentile {np.percentile(ms, 99):.2f} ms   "
          f"worst {ms.max():.2f} ms   hops over {budget:.0f} ms: {int(np.sum(ms > budget))} of {ms.size}")
    from ttlib.core.constants import PLAYING_DB

    sounding = np.array([f["loudness_db"] > PLAYING_DB for f in stream.frames[-ms.size:]])
    print(f"CREPE ran on the {sounding.mean():.0%} of hops above {PLAYING_DB:g} dB: median there "
          f"{np.median(ms[sounding]):.2f} ms, 99th percentile {np.percentile(ms[sounding], 99):.2f} ms; "
          f"on quiet hops {np.median(ms[~sounding]) if (~sounding).any() else float('nan'):.2f} ms")
    engine_rtf = audio.size / sr / times.sum()
    print(f"real-time factor: {engine_rtf:.1f}x (audio seconds per second of computation); "
          f"load at real time {100 / engine_rtf:.0f}%")

    t0 = time.perf_counter()
    live.render(audio, args.model)
    offline = time.perf_counter() - t0
    print(f"\nbaseline 1, the same sound offline at once: {audio.size / sr / offline:.1f}x real time "
          f"(engine / offline cost per audio second: {times.sum() / offline:.2f})")

    import crepe.core

    model = crepe.core.build_and_load_model("tiny")
    frame = analysis.crepe_window(audio[sr:sr + 1024], 0)[None]
    model.predict(frame, verbose=0)
    naive, compiled = [], []
    for _ in range(50):
        t0 = time.perf_counter()
        model.predict(frame, verbose=0)
        naive.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        analysis.crepe_activation(frame)
        compiled.append(time.perf_counter() - t0)
    print(f"baseline 2, CREPE tiny on one frame: model.predict {1000 * np.median(naive):.1f} ms, "
          f"the engine's compiled call {1000 * np.median(compiled):.2f} ms "
          f"({np.median(naive) / np.median(compiled):.0f}x faster)")


if __name__ == "__main__":
    main()
