"""Removing a room: does a model trained on reverberant data play dry? (issue 15; notebook 10, section 7)

    .venv/bin/python benchmarks/dereverb.py [--work data/generated/dereverb] [--steps 800] [--minutes 12]

The DDSP paper's dereverberation experiment, on the built-in trumpet: the trumpet rendered dry
(`builtin:trumpet:dry`), every whole recording played in the 1.0 s image-source hall of
benchmarks/room_estimate.py (`data build --room`), so that f0, loudness and the audio target all
hold the hall; the shipped trumpet fine-tuned on it for `--steps` (`train --start-from trumpet`;
its `course` room, a gain and a T60 per octave, learns the hall). Beside it, one thing changed:
the same features with the dry recordings as the audio target (`data build --room --dry-target`,
supervised dereverberation), and the same with each recording played in one of eight other rooms
(`ROOMS`, 0.3 to 2.0 s; `data build --room FOLDER --dry-target`). Then, on 20 s of another
performance (seed 7) played in the same hall:
- the learned room against the hall: T30 and DRR (what training takes of the room);
- how long the model's dry output (its room left out) takes to fall 20 dB after each note end
  before a rest (median; issue 15's target: 50 ms), against the recording's and the dry
  trumpet's own (its soundfont's release), and with the dry trumpet's f0 and loudness as input,
  or with the recording's f0 and the dry trumpet's loudness (which input holds the ringing), and
  for the performance played in a 0.6 s room that no model was trained in;
the baseline, measured in the same run: the shipped trumpet, trained on FluidSynth's light reverb.
About 1.5 hours on 2 cores the first time (each dataset 3 to 10 minutes, each training 12 to 30,
the measures 4); the folders are kept and reused (the trainings resume). The README's *Rooms* gives the figures.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import ttlib

REPO = Path(__file__).resolve().parent.parent
HALL = (1.0, [20.0, 15.0, 8.0])
OTHER = (0.6, [9.0, 7.0, 3.5])
"""A room none of the models was trained in (benchmarks/room_estimate.py's medium room)."""
ROOMS = [(0.3, [5.0, 4.0, 3.0]), (0.4, [8.0, 5.0, 3.0]), (0.5, [7.0, 6.0, 4.0]), (0.8, [12.0, 9.0, 4.0]),
         (1.2, [16.0, 12.0, 6.0]), (1.5, [25.0, 18.0, 10.0]), (1.8, [14.0, 10.0, 5.0]), (2.0, [30.0, 20.0, 12.0])]
"""Rooms (Sabine's T60 in s, size in m) the third model is trained in, each recording in one drawn at random
(`data build --room FOLDER`): neither the hall nor `OTHER`, so both are new to it."""


def measure(model: Path, dry, recording, hall, ends, other) -> dict:
    """The learned room against `hall`, and the dry output's fall after `ends` (s), for `recording`, `dry` and
    `other` (the same performance in a room the model was not trained in)."""
    from ttlib.audio.room import fall_times, measure_room
    from ttlib.transfer import Synthesizer
    from ttlib.transfer.room import model_room
    from ttlib.transfer.room_estimate import dry_output
    from ttlib.transfer.source import source_features

    sr = ttlib.SAMPLE_RATE
    synth = Synthesizer(model)
    learned, true = measure_room(model_room(synth.loaded).ir, sr), measure_room(hall, sr)
    wet_out, dry_out = dry_output(recording, synth)[0], dry_output(dry, synth)[0]
    # the recording's own f0 and gate, with the dry trumpet's loudness: which of the two inputs holds the ringing
    wet, dry_features = (source_features(a, synth.frame_rate, progress=False) for a in (recording, dry))
    n = min(wet.n_frames, dry_features.n_frames)
    correction = np.zeros(wet.n_frames, np.float32)
    correction[:n] = dry_features.loudness_db[:n] - wet.loudness_db[:n]
    mixed_out = dry_output(recording, synth, correction)[0]
    other_out = dry_output(other, synth)[0]
    return {"step": synth.loaded.step, "t30": learned.t30, "t30_true": true.t30,
            "drr": learned.drr, "drr_true": true.drr,
            "fall_ms": 1000 * np.median(fall_times(wet_out, ends, sr)),
            "falls_ms": np.round(1000 * fall_times(wet_out, ends, sr)).astype(int).tolist(),
            "fall_dry_input_ms": 1000 * np.median(fall_times(dry_out, ends, sr)),
            "fall_dry_loudness_ms": 1000 * np.median(fall_times(mixed_out, ends, sr)),
            "fall_other_ms": 1000 * np.median(fall_times(other_out, ends, sr))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", default=str(REPO / "data" / "generated" / "dereverb"))
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--minutes", type=float, default=12.0, help="of the built-in trumpet to train on")
    parser.add_argument("--seconds", type=float, default=20.0, help="of the performance measured on")
    args = parser.parse_args()

    import soundfile
    from scipy.signal import oaconvolve

    from ttlib.audio.room import fall_times, shoebox
    from ttlib.data import build_dataset, builtin
    from ttlib.models import train
    from ttlib.models.shipped import shipped_dir

    sr = ttlib.SAMPLE_RATE
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    hall = shoebox(*HALL)[0]
    soundfile.write(str(work / "hall.wav"), hall, sr, subtype="FLOAT")
    shipped = shipped_dir() / "trumpet"
    (work / "rooms").mkdir(exist_ok=True)
    for t60, size in ROOMS:
        path = work / "rooms" / f"{t60:.1f}s_{'x'.join(f'{x:g}' for x in size)}m.wav"
        if not path.is_file():
            soundfile.write(str(path), shoebox(t60, size)[0], sr, subtype="FLOAT")
    models = {}
    for key, room, dry_target, name in (("hall", "hall.wav", False, ""), ("dry", "hall.wav", True, "_dry_target"),
                                         ("rooms", "rooms", True, "_rooms")):
        data_dir = build_dataset("builtin:trumpet:dry", work / f"data{name}", minutes=args.minutes,
                                 room=work / room, dry_target=dry_target)
        models[key] = model_dir = work / f"model{name}"
        resume = (model_dir / "run.json").is_file()
        train(data_dir, model_dir, steps=args.steps, resume=resume, start_from=None if resume else shipped)

    take = builtin.recordings(builtin.build("trumpet", minutes=max(1.0, args.seconds / 40), seed=7, effects=False,
                                            progress=False))[0]
    dry = take.audio[:int(args.seconds * sr)]
    notes = take.performance.notes
    ends = [n[3] for i, n in enumerate(notes[:-1]) if notes[i + 1][2] - n[3] >= 0.3 and n[3] < dry.size / sr - 0.5]
    recording = oaconvolve(dry, hall)[:dry.size].astype(np.float32)
    scale = 0.5 / np.abs(recording).max()
    recording *= scale
    other = oaconvolve(dry, shoebox(*OTHER)[0])[:dry.size].astype(np.float32)
    other *= 0.5 / np.abs(other).max()
    print(f"{dry.size / sr:.0f} s of the dry built-in trumpet (seed 7) in the {HALL[0]} s hall, {len(ends)} note ends "
          f"before a rest: the dry trumpet falls 20 dB in {1000 * np.median(fall_times(dry, ends, sr)):.0f} ms, the "
          f"recording in {1000 * np.median(fall_times(recording, ends, sr)):.0f} ms (medians; in the {OTHER[0]} s "
          f"room {1000 * np.median(fall_times(other, ends, sr)):.0f} ms)")
    dry = (dry * scale).astype(np.float32)                     # at the recording's level (its loudness is given)
    tuned = measure(models["hall"], dry, recording, hall, ends, other)   # (a folder trained further: its own step)
    supervised = measure(models["dry"], dry, recording, hall, ends, other)
    rooms = measure(models["rooms"], dry, recording, hall, ends, other)
    rows = {"shipped trumpet (baseline)": measure(shipped, dry, recording, hall, ends, other),
            f"trained in the hall (step {tuned['step']})": tuned,
            f"hall features, dry target ({supervised['step']})": supervised,
            f"{len(ROOMS)} rooms, dry target ({rooms['step']})": rooms}
    base = rows["shipped trumpet (baseline)"]["fall_ms"]
    print(f"{'model':34s} {'T30 (s)':>14s} {'DRR (dB)':>14s} {'dry output falls (ms)':>34s} {'dry input':>10s} "
          f"{'dry loudness':>13s} {f'{OTHER[0]} s room':>11s}")
    for label, m in rows.items():
        print(f"{label:34s} {m['t30']:5.2f} / {m['t30_true']:5.2f} {m['drr']:+5.1f} / {m['drr_true']:+5.1f} "
              f"{m['fall_ms']:6.0f} (x{m['fall_ms'] / base:4.2f}) "
              f"{str(m['falls_ms']):>20s} {m['fall_dry_input_ms']:10.0f} {m['fall_dry_loudness_ms']:13.0f} "
              f"{m['fall_other_ms']:11.0f}")
    print("(learned / the hall's own; the dry output's fall against the baseline's, then with the dry trumpet's f0 and "
          f"loudness as input, with the recording's f0 but the dry trumpet's loudness, and in the {OTHER[0]} s room, "
          f"which no model was trained in; the {len(ROOMS)}-room model was trained in neither room)")


if __name__ == "__main__":
    main()
