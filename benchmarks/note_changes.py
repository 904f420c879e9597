"""Where one note becomes the next: how a transfer plays it, with the adjustment's bridge and without it, in one run.

    .venv/bin/python benchmarks/note_changes.py [--model data/models/trumpet] [--seconds 30]

CREPE's confidence dips below `VOICED_CONFIDENCE` for a frame or two where one note
becomes the next. `ttlib.transfer.adjustment` used to silence those frames like any
pitchless frame; it now bridges a gap of up to `BRIDGE_SECONDS` between two playing frames
that stays loud. The baseline, measured in the same run, is the bridge set to 0 s:

  - the built-in whistle (seed 3, no effects) played by the model, dry: at each legato note
    change of its score, the output's lowest level (band power summed over 16 bands, 2.5 ms
    frames) within 30 ms of the change against its median 50 to 100 ms before and after;
  - the dry built-in trumpet (seed 7) played by the model for its own f0 and loudness (as
    `ttlib.transfer.room_estimate.dry_output` does, at 0.3 of full scale): the output against
    the dry trumpet at each note onset, and the same with the score's f0 (the features the
    model was trained on, which have no gaps) as the reference.
About a minute on 2 cores.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ttlib

REPO = Path(__file__).resolve().parent.parent
OFFSETS_MS = (0, 10, 20, 40, 80)


def levels(audio) -> np.ndarray:
    """Band power summed over 16 bands, one value per `STFT_HOP` (2.5 ms)."""
    from ttlib.transfer.room_estimate import band_power

    return band_power(np.asarray(audio, np.float32), 16).sum(axis=1)


def dips(audio, changes) -> np.ndarray:
    """dB: the lowest level within 30 ms of each change (s) against the median 50-100 ms around it."""
    from ttlib.transfer.room_estimate import STFT_HOP

    p = levels(audio)
    floor = 1e-9 * p.max()
    out = []
    for t in changes:
        k = int(round(t * ttlib.SAMPLE_RATE / STFT_HOP))
        around = np.r_[p[k - 40:k - 20], p[k + 20:k + 40]]
        out.append(10 * np.log10((p[k - 12:k + 12].min() + floor) / (np.median(around) + floor)))
    return np.array(out)


def onset_deficit(out, dry, onsets) -> list:
    """dB at each of `OFFSETS_MS` after the onsets (medians): `out` against `dry`, scaled to the same median."""
    from ttlib.transfer.room_estimate import STFT_HOP

    out = np.pad(out, (0, max(0, dry.size - out.size)))[:dry.size]
    p_dry, p_out = levels(dry), levels(out)
    p_out *= np.median(p_dry) / np.median(p_out)
    floor = 1e-9 * p_dry.max()
    rows = []
    for ms in OFFSETS_MS:
        k = [int(round((t + ms / 1000) * ttlib.SAMPLE_RATE / STFT_HOP)) for t in onsets]
        rows.append(float(np.median(10 * np.log10((p_out[k] + floor) / (p_dry[k] + floor)))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "data" / "models" / "trumpet"))
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()

    from ttlib import transfer
    from ttlib.data import builtin
    from ttlib.data.features import loudness_db
    from ttlib.transfer import adjustment
    from ttlib.transfer.room_estimate import dry_output

    sr = ttlib.SAMPLE_RATE
    synth = transfer.Synthesizer(args.model)
    n = int(args.seconds * sr)
    whistle = builtin.recordings(builtin.build("whistle", minutes=max(1.0, args.seconds / 30), seed=3, effects=False,
                                               progress=False))[0]
    notes = whistle.performance.notes
    changes = [b[2] for a, b in zip(notes[:-1], notes[1:]) if b[2] - a[3] < 0.02 and 0.2 < b[2] < n / sr - 0.2]
    source = transfer.source_features(whistle.audio[:n], synth.frame_rate, progress=False)
    trumpet = builtin.recordings(builtin.build("trumpet", minutes=max(1.0, args.seconds / 30), seed=7, effects=False,
                                               progress=False))[0]
    dry = (trumpet.audio[:n] * 0.3).astype(np.float32)
    onsets = [note[2] for note in trumpet.performance.notes if 0.1 < note[2] < dry.size / sr - 0.2]
    print(f"model {args.model}; {args.seconds:.0f} s of the built-in whistle ({len(changes)} legato note changes) and "
          f"of the dry built-in trumpet ({len(onsets)} note onsets)")
    bridge = adjustment.BRIDGE_SECONDS
    for label, seconds in (("no bridge (baseline)", 0.0), (f"bridge {1000 * bridge:.0f} ms", bridge)):
        adjustment.BRIDGE_SECONDS = seconds
        result = transfer.transfer(whistle.audio[:n], synth, transfer.Settings(room="dry"), source=source)
        d = dips(result.audio, changes)
        out = dry_output(dry, synth)[0]
        deficit = onset_deficit(out, dry, onsets)
        print(f"{label:24s} whistle: {result.adjusted.summary['bridged_frames']} frames bridged; dip at a note change "
              f"median {np.median(d):+.1f} dB, {np.mean(d < -20):.0%} of them below -20 dB")
        print(f"{'':24s} trumpet against the dry trumpet after its onsets: "
              + ", ".join(f"{ms} ms {v:+.1f} dB" for ms, v in zip(OFFSETS_MS, deficit)))
    adjustment.BRIDGE_SECONDS = bridge
    truth, voiced = trumpet.ground_truth(synth.frame_rate)
    frames = dry.size // synth.hop
    parts = synth.render(np.where(voiced, truth, 0.0)[:frames], loudness_db(dry, sr, synth.frame_rate)[:frames],
                         room="dry")
    deficit = onset_deficit(parts.harmonic + parts.noise, dry, onsets)
    print(f"{'the score f0 (reference)':24s} trumpet against the dry trumpet after its onsets: "
          + ", ".join(f"{ms} ms {v:+.1f} dB" for ms, v in zip(OFFSETS_MS, deficit)))


if __name__ == "__main__":
    main()
