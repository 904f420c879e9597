"""Room estimation accuracy: rooms fitted to a trumpet recording against the rooms it was played in.

    .venv/bin/python benchmarks/room_estimate.py [--model data/generated/models/trumpet] [--seconds 20] [--rounds 3]

The recording: `--seconds` of the built-in trumpet (seed 7, not a seed the model trained
on) rendered dry (FluidSynth's reverb off), convolved with each room: two image-source
rooms of pyroomacoustics (Sabine's 0.6 s in 9 x 7 x 3.5 m, 1.0 s in 20 x 15 x 8 m) and the
measured Sports Centre (OpenAIR, installed by `make setup`). For each, the room is
estimated by `ttlib.transfer.room_estimate.estimate_room` with the model's dry output and,
as the baseline measured in the same run, by `fit_room` given the true dry trumpet (what
the fit reaches when the dry sound is exact). Between the two, `fit_room` given the model's
dry output for the dry trumpet's own f0 and loudness (no room in the features: what is left
is the model's own difference from the trumpet), as it is and moved in time onto the dry
trumpet (by the peak of their band-power envelopes' cross-correlation). Which part of the
model's difference spoils the fit, each given in place of the dry trumpet: the dry trumpet
with its amplitude envelope held to the model's control rate (each frame's rms, linearly
interpolated, as the model's harmonic synthesizer upsamples: what an exact decoder could
do), the dry trumpet with the model's envelope, and the model's output with the dry
trumpet's envelope (envelopes: power smoothed over 2.5 ms). Printed per room and round:
T30, EDT and DRR of the estimate against the room's own (issue 15's target: T30 within 15 %,
DRR within 2 dB), the divergence the fit leaves (`RoomEstimate.divergence`), and the median
time the estimate's dry output takes to fall 20 dB after a note ends.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import ttlib

REPO = Path(__file__).resolve().parent.parent
ROOMS = {"medium (0.6 s)": (0.6, [9.0, 7.0, 3.5]), "hall (1.0 s)": (1.0, [20.0, 15.0, 8.0])}


def dry_output_of_the_dry(dry, synth) -> tuple[np.ndarray, float]:
    """The model's dry output for the dry trumpet's own f0 and loudness, and how far (ms, a whole number of
    `STFT_HOP`s; negative: ahead) its band-power envelope lags the dry trumpet's (their cross-correlation's peak)."""
    from ttlib.transfer.room_estimate import STFT_HOP, band_power, dry_output

    out = dry_output(dry, synth)[0][:dry.size]
    envelopes = [np.log(band_power(a, 16).sum(axis=1) + 1e-12) for a in (out, dry)]
    n = min(e.size for e in envelopes)
    envelopes = [e[:n] - e[:n].mean() for e in envelopes]
    shifts = np.arange(-40, 41)
    lag = int(shifts[np.argmax([np.mean(np.roll(envelopes[0], -k) * envelopes[1]) for k in shifts])])
    out = np.pad(out, (0, max(0, dry.size - out.size)))
    return out, lag * STFT_HOP * 1000 / ttlib.SAMPLE_RATE


def envelope(audio) -> np.ndarray:
    """Power smoothed over 2.5 ms (a Hann window of 5 ms): [n_samples]."""
    half = int(0.0025 * ttlib.SAMPLE_RATE)
    kernel = np.hanning(2 * half + 1)
    power = np.convolve(np.asarray(audio, np.float64) ** 2, kernel / kernel.sum(), mode="same")
    return power + 1e-10 * power.mean()


def with_envelope(audio, like) -> np.ndarray:
    """`audio` with the envelope of `like` (both scaled to the same median level where they play)."""
    ea, el = envelope(audio), envelope(like)
    el *= np.median(ea[ea > 1e-4 * ea.max()]) / np.median(el[el > 1e-4 * el.max()])
    return (audio * np.sqrt(np.clip(el / ea, 1e-4, 1e4))).astype(np.float32)


def at_frame_rate(audio, frame_rate: float) -> np.ndarray:
    """`audio` with its amplitude envelope held to `frame_rate`: each frame's rms (over the hop around the
    frame), linearly interpolated between frames."""
    hop = int(round(ttlib.SAMPLE_RATE / frame_rate))
    audio = np.asarray(audio, np.float64)
    count = audio.size // hop + 1
    frames = np.sqrt([np.mean(audio[max(0, i * hop - hop // 2):i * hop + hop // 2] ** 2) for i in range(count)])
    held = np.interp(np.arange(audio.size), np.arange(count) * hop, frames)
    return (audio * np.clip(held / np.sqrt(envelope(audio)), 0.0, 1e3)).astype(np.float32)


def onset_deficit(dry, synth, onsets, offsets_ms) -> list:
    """(offset, dB) pairs: how far the model's dry output for `dry`'s own f0 and loudness lies below `dry` that
    long after its note onsets (s), in band power summed over bands (the output scaled to the same median)."""
    from ttlib.transfer.room_estimate import STFT_HOP, band_power

    out = dry_output_of_the_dry(dry, synth)[0]
    p_dry, p_out = (band_power(a, 16).sum(axis=1) for a in (dry, out))
    p_out *= np.median(p_dry) / np.median(p_out)
    floor = 1e-9 * p_dry.max()
    rows = []
    for ms in offsets_ms:
        k = [int(round((t + ms / 1000) * ttlib.SAMPLE_RATE / STFT_HOP)) for t in onsets]
        rows.append((ms, float(np.median(10 * np.log10((p_out[k] + floor) / (p_dry[k] + floor))))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "data" / "generated" / "models" / "trumpet"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1500)
    args = parser.parse_args()

    from scipy.signal import oaconvolve

    from ttlib.audio.room import fall_times, load_impulse_response, measure_room, measured_room, shoebox
    from ttlib.data import builtin
    from ttlib.transfer import Synthesizer
    from ttlib.transfer.room_estimate import estimate_room, fit_room

    sr = ttlib.SAMPLE_RATE
    synth = Synthesizer(args.model)
    take = builtin.recordings(builtin.build("trumpet", minutes=max(1.0, args.seconds / 40), seed=7, effects=False,
                                            progress=False))[0]
    dry = take.audio[:int(args.seconds * sr)]
    notes = take.performance.notes
    ends = [n[3] for i, n in enumerate(notes[:-1]) if notes[i + 1][2] - n[3] >= 0.3 and n[3] < dry.size / sr - 0.5]
    onsets = [n[2] for n in notes if 0.1 < n[2] < dry.size / sr - 0.2]
    print(f"the model's dry output for the dry trumpet's f0 and loudness against the dry trumpet at its {len(onsets)} "
          "note onsets (dB, band power, medians): " + ", ".join(
              f"{ms:+d} ms {db:+.1f}" for ms, db in onset_deficit(dry * 0.3, synth, onsets, (-20, 0, 10, 20, 40, 80))))
    rooms = {name: shoebox(*spec)[0] for name, spec in ROOMS.items()}
    rooms["Sports Centre (measured)"] = load_impulse_response(measured_room("sports-centre"), sr, normalize=False)
    print(f"model {args.model}; {dry.size / sr:.0f} s of the dry built-in trumpet, {len(ends)} note ends before a "
          f"rest; dry trumpet falls 20 dB in {1000 * np.median(fall_times(dry, ends, sr)):.0f} ms")
    print(f"{'room':26s} {'estimate':22s} {'T30 (s)':>14s} {'EDT (s)':>14s} {'DRR (dB)':>14s} {'diverg.':>8s} "
          f"{'fall (ms)':>10s}")
    for name, h in rooms.items():
        recording = oaconvolve(dry, h)[:dry.size].astype(np.float32)
        scale = 0.5 / np.abs(recording).max()
        recording *= scale
        true = measure_room(h, sr)
        t0 = time.perf_counter()
        oracle, lag = dry_output_of_the_dry(dry * scale, synth)
        shift = int(round(lag * sr / 1000))                  # samples; the end wraps round (silence into silence)
        given = (("true dry (baseline)", dry * scale),
                 (f"dry at {synth.frame_rate:g} frames/s", at_frame_rate(dry * scale, synth.frame_rate)),
                 ("model, dry f0+loud", oracle), (f"  moved {-lag:+.1f} ms", np.roll(oracle, -shift)),
                 ("dry, model's envelope", with_envelope(dry * scale, oracle)),
                 ("model, dry's envelope", with_envelope(oracle, dry * scale)))
        fits = [(label, fit_room(audio, recording, args.steps), None) for label, audio in given]
        estimate = estimate_room(recording, synth, args.steps, rounds=args.rounds)
        fits += [(f"model, round {i + 1}", fit, fit.dry) for i, fit in enumerate(estimate.rounds)]
        print(f"{name:26s} {'the room itself':22s} {true.t30:14.2f} {true.edt:14.2f} {true.drr:+14.1f} {'':8s} "
              f"{1000 * np.median(fall_times(recording, ends, sr)):10.0f}")
        for label, fit, out in fits:
            m = measure_room(fit.room.ir, sr)
            fall = f"{1000 * np.median(fall_times(out, ends, sr)):10.0f}" if out is not None else f"{'':10s}"
            print(f"{'':26s} {label:22s} {m.t30:7.2f} ({100 * (m.t30 / true.t30 - 1):+4.0f}%) "
                  f"{m.edt:7.2f} ({100 * (m.edt / true.edt - 1):+4.0f}%) {m.drr:+7.1f} ({m.drr - true.drr:+5.1f}) "
                  f"{fit.divergence:8.2f} {fall}")
        print(f"{'':26s} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
