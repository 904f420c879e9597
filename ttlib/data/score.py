"""The built-in performances' scores: melodies composed from a seed, with expression, and their exact f0.

Melodies are composed from a seed (phrases in a key and a scale, steps and leaps,
rhythms, rests) and performed with expression (vibrato by pitch bend with varied rate,
depth and onset; dynamics by CC11 expression curves and note velocity; legato,
normal and staccato articulation; varied tempo), as a `note_seq` NoteSequence that
`ttlib.data.builtin` renders with FluidSynth.

The ground truth comes with the score: the f0 implied by the notes and the pitch-bend
events, frame by frame (`ground_truth`). Notebook 05 shows both; notebooks 02, 03 and
07 measure trackers against this truth.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ttlib.core.units import SAMPLE_RATE, frame_times, hop_length, midi_to_hz
from ttlib.core.units import n_frames as count_frames

if TYPE_CHECKING:
    import note_seq

BEND_RANGE_CENTS = 200.0
"""General MIDI's default pitch-bend range: +-2 semitones over +-8192."""
CONTROL_RATE_HZ = 100.0
"""Rate of pitch-bend and expression (CC11) events."""


@dataclass(frozen=True)
class InstrumentSpec:
    """How an instrument is played in the built-in performances.

    Attributes:
      name: "trumpet" or "whistle".
      program: General MIDI program, 0-based (56 = Trumpet, 78 = Whistle).
      low, high: MIDI range of the notes (inclusive).
      vibrato_cents: range of vibrato depth (cents, peak).
      vibrato_hz: range of vibrato rate (Hz).
      velocity: range of note velocities.
      minutes: default total length of the built-in set (min).
      recording_s: range of one recording's length (s).
    """

    name: str
    program: int
    low: int
    high: int
    vibrato_cents: tuple
    vibrato_hz: tuple
    velocity: tuple
    minutes: float
    recording_s: tuple


INSTRUMENTS = {
    # Trumpet: E3 (165 Hz) to D6 (1175 Hz).
    "trumpet": InstrumentSpec("trumpet", 56, 52, 86, (8.0, 30.0), (4.5, 6.5), (55, 120), 12.0, (35.0, 55.0)),
    # Whistling: F5 (698 Hz) to F#7 (2960 Hz), above CREPE's ceiling (about 2 kHz) at the top.
    "whistle": InstrumentSpec("whistle", 78, 77, 102, (15.0, 45.0), (4.0, 7.0), (60, 110), 4.0, (20.0, 35.0)),
}
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
}


# ----------------------------------------------------------------------------- composition
@dataclass
class Performance:
    """One recording's score and expression, in seconds.

    Attributes:
      notes: [(pitch, velocity, start_s, end_s)], monophonic, sorted.
      bends: [(time_s, value)], value in [-8192, 8191] (+-200 cents), sorted.
      expression: [(time_s, cc11)], values 0..127, sorted.
      seconds: total length including the final release.
    """

    notes: list
    bends: list
    expression: list
    seconds: float


def compose(spec: InstrumentSpec, seconds: float, rng: np.random.Generator,
            tuning_cents: dict | None = None) -> Performance:
    """Phrases with rests until `seconds`, performed with expression.

    `tuning_cents` maps a MIDI key to the measured offset of the soundfont's sample
    (cents); the bends subtract it, so the audio sounds at the score's pitch.
    """
    tuning_cents = tuning_cents or {}
    notes, bends, expression = [], [], []
    t = float(rng.uniform(0.3, 0.6))
    while t < seconds - 3.0:
        t = _phrase(spec, t, seconds, rng, tuning_cents, notes, bends, expression)
        t += float(rng.uniform(0.4, 1.6))                       # a rest, a breath
    end = max(seconds, (notes[-1][3] if notes else t) + 1.0)    # at least `seconds`, with the last release
    return Performance(notes, bends, expression, end)


def _phrase(spec, t, limit, rng, tuning, notes, bends, expression) -> float:
    bpm = float(rng.uniform(72, 138))
    beat = 60.0 / bpm
    scale = SCALES[list(SCALES)[rng.integers(len(SCALES))]]
    tonic = int(rng.integers(12))
    keys = [k for k in range(spec.low, spec.high + 1) if (k - tonic) % 12 in scale]
    centre = float(rng.uniform(spec.low + 3, spec.high - 3))
    index = int(np.argmin([abs(k - centre) for k in keys]))
    span = int(rng.integers(5, 10))                               # scale steps either side of the centre
    lo, hi = max(0, index - span), min(len(keys) - 1, index + span)
    n_notes = int(rng.integers(4, 13))
    articulation = rng.choice(["legato", "normal", "staccato"], p=[0.35, 0.45, 0.2])
    base_velocity = float(rng.uniform(*spec.velocity))
    phrase_start = t
    beats_so_far = 0.0
    for i in range(n_notes):
        last = i == n_notes - 1
        length_beats = float(rng.choice([2.0, 3.0, 4.0])) if last else float(
            rng.choice([0.5, 0.75, 1.0, 1.5, 2.0, 3.0], p=[0.22, 0.08, 0.32, 0.14, 0.18, 0.06]))
        duration = length_beats * beat * float(rng.uniform(0.97, 1.03))   # a little rubato
        if t + duration > limit - 1.0:
            break
        if i > 0:
            move = rng.random()
            step = (int(rng.choice([-2, -1, 1, 2])) if move < 0.75 else
                    int(rng.choice([-5, -4, -3, 3, 4, 5])) if move < 0.95 else 0)
            index += step
            if index < lo or index > hi:                           # reflect at the phrase's range
                index -= 2 * step
            index = min(max(index, lo), hi)
        key = keys[index]
        held = {"legato": 1.0, "normal": float(rng.uniform(0.85, 0.95)),
                "staccato": float(rng.uniform(0.45, 0.65))}[articulation]
        if last:
            held = 1.0
        accent = 8.0 if beats_so_far % 2 < 1e-6 else 0.0
        velocity = int(np.clip(base_velocity + accent + rng.normal(0, 5), 30, 127))
        start, end = t, t + duration * held
        notes.append((key, velocity, start, end))
        _vibrato(spec, key, start, end, rng, tuning, bends)
        t += duration
        beats_so_far += length_beats
    # The phrase's dynamics: a hairpin in CC11 (expression) over its length.
    _hairpin(phrase_start, t, rng, expression)
    return t


def _vibrato(spec, key, start, end, rng, tuning, bends):
    """Bend events for one note: the key's tuning correction, plus vibrato on longer notes."""
    correction = -float(tuning.get(key, 0.0))
    duration = end - start
    times = np.arange(start, end, 1.0 / CONTROL_RATE_HZ)
    cents = np.full(times.size, correction)
    if duration >= 0.35 and rng.random() > 0.25:
        depth = float(rng.uniform(*spec.vibrato_cents))
        rate = float(rng.uniform(*spec.vibrato_hz))
        onset = float(rng.uniform(0.12, 0.3))
        since = times - start - onset
        ramp = np.clip(since / 0.25, 0.0, 1.0)
        cents += np.where(since > 0, depth * ramp * np.sin(2 * np.pi * rate * np.maximum(since, 0)), 0.0)
    values = np.clip(np.round(cents / BEND_RANGE_CENTS * 8192), -8192, 8191).astype(int)
    previous = None
    for time_s, value in zip(times, values):
        if value != previous:
            bends.append((float(time_s), int(value)))
            previous = value


def _hairpin(start, end, rng, expression):
    points = np.array([[0.0, rng.uniform(55, 90)], [rng.uniform(0.3, 0.7), rng.uniform(90, 127)],
                       [1.0, rng.uniform(45, 85)]])
    times = np.arange(start, end, 1.0 / CONTROL_RATE_HZ * 2)
    values = np.interp((times - start) / max(end - start, 1e-6), points[:, 0], points[:, 1])
    previous = None
    for time_s, value in zip(times, np.round(values).astype(int)):
        if value != previous:
            expression.append((float(time_s), int(value)))
            previous = value


def to_note_sequence(performance: Performance, spec: InstrumentSpec) -> note_seq.NoteSequence:
    """The performance as a `note_seq` NoteSequence (one monophonic part)."""
    import note_seq

    sequence = note_seq.NoteSequence(ticks_per_quarter=480)
    sequence.tempos.add(qpm=120.0)
    for pitch, velocity, start, end in performance.notes:
        sequence.notes.add(pitch=pitch, velocity=velocity, start_time=start, end_time=end,
                           program=spec.program, instrument=0)
    for time_s, value in performance.bends:
        sequence.pitch_bends.add(time=time_s, bend=value, program=spec.program, instrument=0)
    for time_s, value in performance.expression:
        sequence.control_changes.add(time=time_s, control_number=11, control_value=value,
                                     program=spec.program, instrument=0)
    sequence.total_time = performance.seconds
    return sequence


# ----------------------------------------------------------------------------- ground truth
def ground_truth(performance: Performance, frame_rate: float = 250.0, tuning_cents: dict | None = None,
                 n_frames: int | None = None, release_s: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The f0 the score and the bends imply, on frames t = i / frame_rate.

    Args:
      tuning_cents: {MIDI key: cents the soundfont's sample sounds above equal temperament}.
      n_frames: how many frames (default: the analysis frames of the performance's length).
      release_s: how long a note still sounds after its note-off (its release tail);
        those frames are voiced at the note's last pitch, up to the next note's start.

    Returns:
      (f0_hz, voiced): shapes [n_frames]; f0 is 0 where nothing sounds.
    """
    tuning_cents = tuning_cents or {}
    if n_frames is None:
        n_frames = count_frames(int(round(performance.seconds * SAMPLE_RATE)), hop_length(SAMPLE_RATE, frame_rate))
    count = n_frames
    times = frame_times(count, frame_rate)
    f0_hz = np.zeros(count)
    voiced = np.zeros(count, dtype=bool)
    bend_times = np.array([b[0] for b in performance.bends])
    bend_values = np.array([b[1] for b in performance.bends], dtype=float)
    starts = [n[2] for n in performance.notes[1:]] + [np.inf]
    for (pitch, _, start, end), next_start in zip(performance.notes, starts):
        end = min(end + release_s, next_start) if release_s > 0 else end
        inside = (times >= start) & (times < end)
        if not inside.any():
            continue
        which = np.searchsorted(bend_times, times[inside], side="right") - 1
        bend_cents = np.where(which >= 0, bend_values[np.maximum(which, 0)], 0.0) * BEND_RANGE_CENTS / 8192
        f0_hz[inside] = midi_to_hz(pitch) * 2.0 ** ((bend_cents + tuning_cents.get(pitch, 0.0)) / 1200.0)
        voiced[inside] = True
    return f0_hz.astype(np.float32), voiced
