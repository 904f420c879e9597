"""Speed and accuracy of each f0 method and of loudness, on the same minute of audio, in one run.

    .venv/bin/python benchmarks/pitch_features.py [--seconds 60] [--instrument trumpet] [--frame-rate 100]

Renders (or reuses) the built-in performances, takes the first `--seconds` of them,
and for YIN, pYIN, CREPE tiny and CREPE full (and ddsp's loudness) prints the wall
time, the real-time factor (audio seconds per second of computation; above 1 is
faster than real time), the speed relative to YIN measured in the same run, and the
raw pitch accuracy and raw chroma accuracy at 50 cents against the rendered ground
truth (mir_eval). Also times the built-in rendering itself.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ttlib  # noqa: F401  (before TensorFlow)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio to analyse (s)")
    parser.add_argument("--instrument", default="trumpet", choices=["trumpet", "whistle"])
    parser.add_argument("--frame-rate", type=float, default=100.0, help="frames per second of every tracker")
    parser.add_argument("--methods", nargs="+", default=["yin", "pyin", "crepe-tiny", "crepe-full"])
    parser.add_argument("--cache", default=None, help="cache folder (default: a fresh temporary one)")
    args = parser.parse_args()

    from ttlib import pitch
    from ttlib.data import builtin, features

    cache = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="ttlib-bench-"))
    start = time.perf_counter()
    excerpt = builtin.clip(args.instrument, args.seconds, args.frame_rate, cache_dir=cache)
    render_s = time.perf_counter() - start
    audio, truth, times = excerpt.audio, excerpt.f0_hz, excerpt.times_s
    seconds = audio.size / 16000
    print(f"built-in {args.instrument}: rendered and measured in {render_s:.1f} s; analysing {seconds:.0f} s "
          f"at {args.frame_rate:g} frames/s\n")

    fmin, fmax = (100.0, 1400.0) if args.instrument == "trumpet" else (500.0, 3500.0)
    pitch.track(audio[:16000], "crepe-tiny", frame_rate=args.frame_rate)      # load models outside the timing
    pitch.track(audio[:16000], "crepe-full", frame_rate=args.frame_rate)
    features.loudness_db(audio[:16000])
    rows = []
    for method in args.methods:
        t0 = time.perf_counter()
        result = pitch.track(audio, method, frame_rate=args.frame_rate, fmin=fmin, fmax=fmax)
        elapsed = time.perf_counter() - t0
        scores = pitch.pitch_accuracy(times, truth, result.times_s, result.f0_mir_eval_hz)
        rows.append((method, elapsed, scores["raw_pitch_accuracy"], scores["raw_chroma_accuracy"]))
    t0 = time.perf_counter()
    features.loudness_db(audio, frame_rate=250)
    rows.append(("loudness (ddsp, 250 fps)", time.perf_counter() - t0, None, None))

    baseline = next((r[1] for r in rows if r[0] == "yin"), rows[0][1])
    print(f"{'method':26s} {'time (s)':>9s} {'x real time':>12s} {'vs YIN':>8s} {'RPA@50c':>8s} {'RCA@50c':>8s}")
    for name, elapsed, rpa, rca in rows:
        print(f"{name:26s} {elapsed:9.2f} {seconds / elapsed:12.1f} {elapsed / baseline:7.1f}x "
              f"{'' if rpa is None else f'{rpa:8.3f}'} {'' if rca is None else f'{rca:8.3f}'}")


if __name__ == "__main__":
    main()
