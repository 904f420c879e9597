"""Timbre transfer speed: end-to-end real-time factor, slider latency, long input, in one run.

    .venv/bin/python benchmarks/transfer.py [--model data/generated/models/trumpet] [--seconds 10] [--long-minutes 10]

Measured on the built-in whistle (the stretch that goes highest), with the feature
cache off so CREPE really runs:
  - end to end: features (YIN range check + CREPE tiny, an octave down when needed,
    loudness), adjustment, decoder and synthesis; real-time factor = audio seconds per
    second of computation (median of 3 runs after one warm-up);
  - the baseline, measured in the same run: ddsp's own Autoencoder built for the same
    length (its Harmonic, FilteredNoise and Reverb) resynthesising the same features;
  - slider latency: a pitch-slider change in `ttlib.course.widgets.TransferSliders` (adjust,
    decode, synthesise, mix, WAV encoding; features cached), and a gain change
    (re-mix only); median and worst of 10 changes;
  - long input: `--long-minutes` of whistling (the built-in takes repeated) through
    the chunked path, with the process's peak memory (max RSS) before and after.
"""
from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np

import ttlib

REPO = Path(__file__).resolve().parent.parent


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "data" / "generated" / "models" / "trumpet"))
    parser.add_argument("--seconds", type=float, default=10.0, help="source length (s)")
    parser.add_argument("--long-minutes", type=float, default=10.0, help="long-input test (min); 0 skips it")
    args = parser.parse_args()

    from ttlib import models, pitch, transfer
    from ttlib.course import widgets
    from ttlib.data import builtin

    if not Path(args.model).is_dir():
        raise SystemExit(f"No model at {args.model}: train one (notebook 06 or `python -m ttlib train`).")
    synth = transfer.Synthesizer(args.model)
    fr, hop = synth.frame_rate, synth.hop
    clip = builtin.clip("whistle", 60.0, frame_rate=fr)
    frames = int(args.seconds * fr)
    high = np.convolve(clip.f0_hz > pitch.CREPE_MAX_HZ, np.ones(frames), mode="valid")
    start = int(np.argmax(high[:max(1, clip.f0_hz.size - frames)]))
    source_audio = clip.audio[start * hop:(start + frames) * hop]
    seconds = source_audio.size / ttlib.SAMPLE_RATE
    print(f"model {args.model} ({synth.config.name}, step {synth.loaded.step}); source: {seconds:.1f} s of built-in "
          f"whistle, {np.mean(clip.f0_hz[start:start + frames] > pitch.CREPE_MAX_HZ):.0%} of it above CREPE's "
          "top bin\n")

    # end to end, features uncached
    def end_to_end():
        t0 = time.perf_counter()
        source = transfer.source_features(source_audio, fr, cache_dir=None, progress=False)
        result = transfer.transfer(source_audio, synth, source=source)
        return time.perf_counter() - t0, result

    end_to_end()
    runs = [end_to_end() for _ in range(3)]
    total = float(np.median([r[0] for r in runs]))
    result = runs[-1][1]
    parts = {k: float(np.median([r[1].seconds[k] for r in runs])) for k in ("adjust", "synthesis")}
    features_s = total - parts["adjust"] - parts["synthesis"]

    # baseline: ddsp's own model call on the same features
    loaded = models.load_model(args.model, seconds=seconds)
    adjusted = result.adjusted
    n = adjusted.f0_hz.size
    batch = {"audio": np.zeros((1, n * hop), np.float32), "f0_hz": adjusted.f0_hz[None, :n],
             "loudness_db": adjusted.loudness_db[None, :n]}
    models.resynthesize(loaded.model, batch)
    t0 = time.perf_counter()
    for _ in range(3):
        models.resynthesize(loaded.model, batch)
    ddsp_s = (time.perf_counter() - t0) / 3

    print(f"{'step':44s} {'seconds':>8s} {'x real time':>12s}")
    for name, value in (("features (YIN check, CREPE tiny, loudness)", features_s), ("adjustment", parts["adjust"]),
                        ("decoder + synthesis (ttlib.transfer)", parts["synthesis"]),
                        ("end to end", total), ("baseline: ddsp Autoencoder call, same input", ddsp_s)):
        print(f"{name:44s} {value:8.3f} {seconds / value:12.1f}")
    print(f"synthesis speed-up over ddsp's own call: {ddsp_s / parts['synthesis']:.1f}x; "
          f"end-to-end real-time factor {seconds / total:.1f} (target: {seconds:g} s in 2 s = {seconds / 2:.0f})\n")

    # slider latency
    source = transfer.source_features(source_audio, fr, progress=False)
    sliders = widgets.TransferSliders(synth, source, draw=False)
    pitch_ms, gain_ms = [], []
    for k in range(10):
        sliders.sliders["pitch_shift"].value = float((k % 5) - 2)
        pitch_ms.append(1000 * sliders.latency_s)
        sliders.sliders["noise_gain"].value = 0.5 + 0.1 * k
        gain_ms.append(1000 * sliders.latency_s)
    print(f"slider latency, pitch (re-synthesise): median {np.median(pitch_ms):.0f} ms, worst {max(pitch_ms):.0f} ms "
          f"(target about 150 ms; {np.median(pitch_ms) / (1000 * total):.2f} of a full end-to-end run)")
    print(f"slider latency, gain (re-mix):         median {np.median(gain_ms):.0f} ms, worst {max(gain_ms):.0f} ms\n")

    if args.long_minutes > 0:
        repeats = int(np.ceil(args.long_minutes * 60 / (clip.audio.size / ttlib.SAMPLE_RATE)))
        long_audio = np.tile(clip.audio, repeats)[:int(args.long_minutes * 60 * ttlib.SAMPLE_RATE)]
        rss0 = _max_rss_mb()
        t0 = time.perf_counter()
        long_source = transfer.source_features(long_audio, fr, cache_dir=None, progress=False)
        t1 = time.perf_counter()
        long_result = transfer.transfer(long_audio, synth, source=long_source)
        t2 = time.perf_counter()
        out = long_result.audio
        border = np.arange(synth.chunk_frames * hop, out.size, synth.chunk_frames * hop)
        jumps = np.abs(np.diff(out))
        print(f"long input: {args.long_minutes:g} min in {t2 - t0:.0f} s "
              f"({long_audio.size / 16000 / (t2 - t0):.1f}x real "
              f"time; features {t1 - t0:.0f} s, synthesis {t2 - t1:.0f} s in {len(border) + 1} chunks); "
              f"peak memory {rss0:.0f} -> {_max_rss_mb():.0f} MB")
        if border.size:
            print(f"  largest sample step at a chunk border {jumps[border - 1].max():.4f}, elsewhere (99.99th pct) "
                  f"{np.percentile(jumps, 99.99):.4f}")


if __name__ == "__main__":
    main()
