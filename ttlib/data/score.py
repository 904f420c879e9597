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

from dataclasses import dataclass, field
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
FILTER_FC_DEFAULT_CENTS = 13500.0
"""The SoundFont 2 default of initialFilterFc (generator 8): 13500 absolute cents, about 20 kHz (filter open)."""
NRPN_FILTER_FC = ((99, 120), (98, 8))
"""SoundFont 2.01 NRPN select of generator 8 (initialFilterFc): CC99 = 120, CC98 = 8. FluidSynth then adds
(data - 8192) x 2 cents to the cutoff of the channel's voices, playing ones included, when CC6 (data entry MSB)
arrives after CC38 (its LSB)."""
NRPN_LEADS_MS = (3, 2, 1, 0)
"""When each of one update's four controllers (CC99, CC98, CC38, CC6) is sent, ms before the update's time."""
NRPN_SPACING_S = 0.005
"""The least time between two updates of the cutoff. FluidSynth's CC99 sets the generator number to 0, each
CC98 adds its value, each CC6 applies the data to that number and sets it to 0 again: two updates whose
controllers interleave apply one of them to generator 0 (the sample's start) or, less than 1 ms apart, 16 (the
reverb send), which then stays changed: a minute of trumpet deconvolved in 10-s pieces gave DRRs from 14 to
40 dB before, 19 to 20 dB with the gain alone."""


@dataclass(frozen=True)
class InstrumentSpec:
    """How an instrument is played in the built-in performances.

    Attributes:
      name: "trumpet", "flute", "violin", "saxophone" or "whistle".
      program: General MIDI program, 0-based (56 Trumpet, 73 Flute, 40 Violin, 65 Alto Sax, 78 Whistle).
      low, high: MIDI range of the notes (inclusive).
      vibrato_cents: range of vibrato depth (cents, peak).
      vibrato_hz: range of vibrato rate (Hz).
      velocity: range of note velocities.
      minutes: default total length of the built-in set (min).
      recording_s: range of one recording's length (s).
      brightness: true dynamics: (soft, loud) cutoff of a low-pass filter, in octaves above the note's
        f0, at expression 0 and 127 (CC11); the filter opens as the player plays harder, so the
        spectrum brightens with loudness as a real instrument's does. None: General MIDI's expression,
        a gain only (the sound of the whistle, and of every instrument rendered `dynamics=False`).
      articulation: probabilities of a phrase being played legato, normal or staccato.
      vibrato_onset_s: range of the delay before a note's vibrato starts (s).
      breath_s: a wind player's breath: a phrase ends before it lasts longer (s); None: no limit
        (bowed strings, and the trumpet's phrases, which are short enough).
      scoop_cents: a saxophone's scoop: some notes start this far below and bend up within 60 ms.
      bow_swell: a bowed string: each long note swells and fades on its own bow stroke instead of
        the whole phrase following one hairpin.
      portamento: a string player's shift: the probability that a step of up to 2 semitones slides
        in from the last note's pitch over 80 ms (pitch bend reaches 2 semitones).
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
    brightness: tuple | None = None
    articulation: tuple = (0.35, 0.45, 0.2)
    vibrato_onset_s: tuple = (0.12, 0.3)
    breath_s: float | None = None
    scoop_cents: float = 0.0
    bow_swell: bool = False
    portamento: float = 0.0


INSTRUMENTS = {
    # Trumpet: E3 (165 Hz) to D6 (1175 Hz); soft, about 4 harmonics below the cutoff, loud 32.
    "trumpet": InstrumentSpec("trumpet", 56, 52, 86, (8.0, 30.0), (4.5, 6.5), (55, 120), 12.0, (35.0, 55.0),
                              brightness=(2.0, 5.0)),
    # Whistling: F5 (698 Hz) to F#7 (2960 Hz), above CREPE's ceiling (about 2 kHz) at the top. Nearly a sine
    # at any loudness: no brightness coupling.
    "whistle": InstrumentSpec("whistle", 78, 77, 102, (15.0, 45.0), (4.0, 7.0), (60, 110), 4.0, (20.0, 35.0)),
    # Flute: C4 (262 Hz) to A6 (1760 Hz); breath-long phrases, much tonguing, a quick light vibrato, a dark
    # soft tone that brightens when overblown.
    "flute": InstrumentSpec("flute", 73, 60, 93, (8.0, 22.0), (4.5, 6.0), (50, 115), 12.0, (35.0, 55.0),
                            brightness=(1.0, 4.0), articulation=(0.3, 0.4, 0.3), vibrato_onset_s=(0.08, 0.2),
                            breath_s=6.0),
    # Violin: G3 (196 Hz) to A6 (1760 Hz); slurred bows that swell, wide early vibrato, shifts that slide.
    "violin": InstrumentSpec("violin", 40, 55, 93, (15.0, 35.0), (5.0, 7.0), (45, 120), 12.0, (35.0, 55.0),
                             brightness=(1.5, 4.5), articulation=(0.55, 0.35, 0.1), vibrato_onset_s=(0.05, 0.15),
                             bow_swell=True, portamento=0.2),
    # Alto saxophone: D-flat 3 (139 Hz) to A-flat 5 (831 Hz) sounding; long legato breaths, scoops into
    # notes, a late vibrato.
    "saxophone": InstrumentSpec("saxophone", 65, 49, 80, (10.0, 30.0), (4.5, 6.0), (50, 120), 12.0,
                                (35.0, 55.0), brightness=(2.0, 5.0), articulation=(0.5, 0.4, 0.1),
                                vibrato_onset_s=(0.2, 0.45), breath_s=8.0, scoop_cents=60.0),
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
      brightness: [(time_s, data)], the filter cutoff's NRPN data entry (14 bits, 8192: no change),
        sorted; empty without true dynamics.
    """

    notes: list
    bends: list
    expression: list
    seconds: float
    brightness: list = field(default_factory=list)


def compose(spec: InstrumentSpec, seconds: float, rng: np.random.Generator,
            tuning_cents: dict | None = None, dynamics: bool = True) -> Performance:
    """Phrases with rests until `seconds`, performed with expression.

    `tuning_cents` maps a MIDI key to the measured offset of the soundfont's sample
    (cents); the bends subtract it, so the audio sounds at the score's pitch. `dynamics`:
    the filter follows the expression (`InstrumentSpec.brightness`; the notes, bends and
    expression are the same either way).
    """
    tuning_cents = tuning_cents or {}
    notes, bends, expression = [], [], []
    t = float(rng.uniform(0.3, 0.6))
    while t < seconds - 3.0:
        t = _phrase(spec, t, seconds, rng, tuning_cents, notes, bends, expression)
        t += float(rng.uniform(0.4, 1.6))                       # a rest, a breath
    end = max(seconds, (notes[-1][3] if notes else t) + 1.0)    # at least `seconds`, with the last release
    bright = brightness_events(notes, expression, spec.brightness) if dynamics and spec.brightness else []
    return Performance(notes, bends, expression, end, bright)


def brightness_events(notes: list, expression: list, octaves: tuple) -> list:
    """The filter cutoff of true dynamics as NRPN data, at every note start and expression change.

    The cutoff sits `octaves[0]` above the sounding note's f0 at expression 0 and `octaves[1]` at 127,
    in between on a log scale (the cutoff in cents grows linearly with CC11):

        cutoff_cents = 100 * key + 1200 * (lo + (hi - lo) * cc11 / 127)     (absolute cents, 0 = 8.18 Hz)
        data = 8192 + (cutoff_cents - 13500) / 2                           (FluidSynth: 2 cents a step)

    Returns:
      [(time_s, data)], sorted, only where the value changes, at least `NRPN_SPACING_S` apart: an
      update closer than that to the one before replaces it (the cutoff waits at most 5 ms).
    """
    lo, hi = octaves
    times = sorted({n[2] for n in notes} | {e[0] for e in expression})
    starts = np.array([n[2] for n in notes])
    expr_t = np.array([e[0] for e in expression]) if expression else np.zeros(0)
    expr_v = np.array([e[1] for e in expression], dtype=float) if expression else np.zeros(0)
    out, previous = [], None
    for time_s in times:
        which = int(np.searchsorted(starts, time_s, side="right")) - 1
        if which < 0:
            continue
        e = int(np.searchsorted(expr_t, time_s, side="right")) - 1
        level = expr_v[e] / 127.0 if e >= 0 else 1.0
        cutoff = 100.0 * notes[which][0] + 1200.0 * (lo + (hi - lo) * level)
        data = int(np.clip(round(8192 + (cutoff - FILTER_FC_DEFAULT_CENTS) / 2.0), 0, 16383))
        if out and time_s - out[-1][0] < NRPN_SPACING_S:
            out.pop()                                     # too close to interleave with: this one replaces it
            previous = out[-1][1] if out else None
        if data != previous:
            out.append((float(time_s), data))
            previous = data
    return out


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
    articulation = rng.choice(["legato", "normal", "staccato"], p=list(spec.articulation))
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
        if spec.breath_s is not None and i > 0 and t + duration - phrase_start > spec.breath_s:
            break                                                   # out of breath: the phrase ends here
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
        previous_key = notes[-1][0] if i > 0 else None
        notes.append((key, velocity, start, end))
        _vibrato(spec, key, start, end, rng, tuning, bends, previous_key)
        if spec.bow_swell:                                          # each stroke its own swell; short ones flat
            if duration >= 0.5:
                _hairpin(start, t + duration, rng, expression)
            else:
                expression.append((float(start), int(rng.integers(60, 110))))
        t += duration
        beats_so_far += length_beats
    if not spec.bow_swell:
        # The phrase's dynamics: a hairpin in CC11 (expression) over its length.
        _hairpin(phrase_start, t, rng, expression)
    return t


def _vibrato(spec, key, start, end, rng, tuning, bends, previous_key=None):
    """Bend events for one note: the key's tuning correction, a scoop or a slide in, and vibrato on longer notes."""
    correction = -float(tuning.get(key, 0.0))
    duration = end - start
    times = np.arange(start, end, 1.0 / CONTROL_RATE_HZ)
    cents = np.full(times.size, correction)
    if spec.scoop_cents > 0 and rng.random() < 0.35:                # from below, up to pitch in 60 ms
        cents -= spec.scoop_cents * np.clip(1.0 - (times - start) / 0.06, 0.0, 1.0)
    if (spec.portamento > 0 and previous_key is not None and 0 < abs(key - previous_key) <= 2
            and rng.random() < spec.portamento):                   # a shift: slide in from the last note
        cents += 100.0 * (previous_key - key) * np.clip(1.0 - (times - start) / 0.08, 0.0, 1.0)
    if duration >= 0.35 and rng.random() > 0.25:
        depth = float(rng.uniform(*spec.vibrato_cents))
        rate = float(rng.uniform(*spec.vibrato_hz))
        onset = float(rng.uniform(*spec.vibrato_onset_s))
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
    for time_s, data in performance.brightness:
        # NRPN: select the cutoff (CC99, CC98), then the data's LSB (CC38), then its MSB (CC6), which applies
        # it; a millisecond apart, since a MIDI file orders controllers of one tick by number.
        for lead_ms, (number, value) in zip(NRPN_LEADS_MS, NRPN_FILTER_FC + ((38, data & 127), (6, data >> 7))):
            sequence.control_changes.add(time=time_s - lead_ms / 1000.0, control_number=number,
                                         control_value=value, program=spec.program, instrument=0)
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
