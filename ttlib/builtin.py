"""The built-in data: expressive trumpet and whistle performances rendered offline.

Melodies are composed from a seed (phrases in a key and a scale, steps and leaps,
rhythms, rests), performed with expression (vibrato by pitch bend with varied rate,
depth and onset; dynamics by CC11 expression curves and note velocity; legato,
normal and staccato articulation; varied tempo), written as a `note_seq`
NoteSequence and rendered by FluidSynth through a General MIDI soundfont at
44.1 kHz, then resampled to 16 kHz (rendering at 16 kHz aliases).

The ground truth comes with it: the f0 implied by the score and the pitch-bend
events, frame by frame. Voicing = a note is held, or its release is still sounding:
after a note-off a sampled note rings on (its release and FluidSynth's reverb) for
about a quarter of a second; the build measures how long it stays within 30 dB of
the held level and counts that tail as voiced (until the next note starts). A soundfont's samples are
not all exactly in tune (FluidR3's whistle is about +15 cents sharp), so each key
is measured once and corrected by pitch bend: the audio then plays the score's
pitch, and the ground truth is exact up to the samples' own small wobble
(about +-10 cents for the whistle's built-in vibrato).

Everything is deterministic for a seed and cached under the cache folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ttlib import SAMPLE_RATE

GENERATOR_VERSION = 2
"""Bump when composition or rendering changes, so caches are rebuilt."""
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
    # Whistling: F5 (698 Hz) to F#7 (2960 Hz), above CREPE's 1976 Hz ceiling at the top.
    "whistle": InstrumentSpec("whistle", 78, 77, 102, (15.0, 45.0), (4.0, 7.0), (60, 110), 4.0, (20.0, 35.0)),
}
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
}


def midi_to_hz(pitch) -> np.ndarray:
    """Equal temperament, A4 = MIDI 69 = 440 Hz."""
    return 440.0 * 2.0 ** ((np.asarray(pitch, dtype=float) - 69.0) / 12.0)


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


def to_note_sequence(performance: Performance, spec: InstrumentSpec):
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
                 n_frames: int | None = None, release_s: float = 0.0):
    """The f0 the score and the bends imply, on frames t = i / frame_rate.

    Args:
      release_s: how long a note still sounds after its note-off (its release tail);
        those frames are voiced at the note's last pitch, up to the next note's start.

    Returns:
      (f0_hz, voiced): shapes [n_frames]; f0 is 0 where nothing sounds.
    """
    tuning_cents = tuning_cents or {}
    count = n_frames if n_frames is not None else int(performance.seconds * frame_rate) + 1
    times = np.arange(count) / frame_rate
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


# ----------------------------------------------------------------------------- rendering
def render(performance: Performance, spec: InstrumentSpec, soundfont=None, peak: float = 0.7) -> np.ndarray:
    """FluidSynth rendering at 44.1 kHz resampled to 16 kHz; shape [n_samples] at 16 kHz.

    The take is scaled to `peak` (dynamics inside it are kept) and cut or padded
    to `performance.seconds`.
    """
    import note_seq

    from ttlib import audio, soundfont as sf

    midi = note_seq.note_sequence_to_pretty_midi(to_note_sequence(performance, spec))
    rendered = sf.render_midi(midi, sf.RENDER_SAMPLE_RATE, soundfont)
    out = audio.resample(rendered, sf.RENDER_SAMPLE_RATE, SAMPLE_RATE)
    n_samples = int(round(performance.seconds * SAMPLE_RATE))
    out = np.pad(out, (0, max(0, n_samples - out.size)))[:n_samples]
    largest = float(np.max(np.abs(out))) if out.size else 0.0
    return (out * (peak / largest) if largest > 0 else out).astype(np.float32)


def measure_tuning(spec: InstrumentSpec, keys, soundfont=None) -> dict:
    """Cents by which the soundfont's sample for each key sounds above equal temperament.

    Renders a 1.2 s note per key and takes the median of YIN's f0 over 0.3 to 1.1 s.
    """
    import pretty_midi

    from ttlib import pitch as pitch_lib, soundfont as sf

    offsets = {}
    for key in keys:
        midi = pretty_midi.PrettyMIDI()
        part = pretty_midi.Instrument(program=spec.program)
        part.notes.append(pretty_midi.Note(velocity=100, pitch=int(key), start=0.0, end=1.2))
        midi.instruments.append(part)
        rendered = sf.render_midi(midi, sf.RENDER_SAMPLE_RATE, soundfont)
        hz = float(midi_to_hz(key))
        f0, aperiodicity = pitch_lib.yin(rendered[int(0.3 * sf.RENDER_SAMPLE_RATE):int(1.1 * sf.RENDER_SAMPLE_RATE)],
                                         sf.RENDER_SAMPLE_RATE, frame_rate=100, fmin=hz / 1.5, fmax=hz * 1.5,
                                         frame_length=4096)
        good = aperiodicity < 0.3
        offsets[int(key)] = float(np.median(pitch_lib.cents(f0[good], hz))) if good.any() else 0.0
    return offsets


def measure_release(spec: InstrumentSpec, soundfont=None, drop_db: float = 30.0) -> float:
    """Seconds a note keeps sounding after its note-off, until it is `drop_db` below its held level.

    The median over a low, a middle and a high key of the instrument.
    """
    import pretty_midi

    from ttlib import pitch as pitch_lib, soundfont as sf

    hop = sf.RENDER_SAMPLE_RATE // 100
    releases = []
    for key in (spec.low + 3, (spec.low + spec.high) // 2, spec.high - 3):
        midi = pretty_midi.PrettyMIDI()
        part = pretty_midi.Instrument(program=spec.program)
        part.notes.append(pretty_midi.Note(velocity=100, pitch=int(key), start=0.0, end=1.0))
        midi.instruments.append(part)
        level = pitch_lib.frame_level_db(sf.render_midi(midi, sf.RENDER_SAMPLE_RATE, soundfont), hop)
        held = float(np.median(level[50:95]))
        after = level[100:]
        quiet = np.flatnonzero(after < held - drop_db)
        releases.append((quiet[0] if quiet.size else after.size) / 100.0)
    return float(np.median(releases))


def _soundfont_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def build(instrument: str = "trumpet", minutes: float | None = None, seed: int = 0,
          cache_dir=None, soundfont=None, progress: bool = True) -> Path:
    """Render (or find in the cache) the built-in performances of `instrument`.

    Writes into `cache_dir/builtin/<instrument>-<key>/`: `NNN.wav` (16 kHz mono float),
    `NNN.mid` (the score with its bends and CC11), `NNN.json` (the exact events, for
    ground truth at any frame rate) and `manifest.json` (seed, soundfont, tuning,
    recordings, wall time). A second call with the same arguments returns at once.

    Args:
      instrument: "trumpet" or "whistle".
      minutes: total length; None takes the instrument's default (12 and 4 minutes).
      seed: the seed of the composition.
      cache_dir: root of the cache (default: `ttlib.features.default_cache_dir()`).
      soundfont: .sf2 path (default: `ttlib.soundfont.find_soundfont()`).

    Returns:
      The folder of the rendered set.
    """
    import note_seq

    from ttlib import audio, features, soundfont as sf

    if instrument not in INSTRUMENTS:
        raise ValueError(f"Unknown built-in instrument {instrument!r}; choose one of {', '.join(INSTRUMENTS)}.")
    spec = INSTRUMENTS[instrument]
    minutes = spec.minutes if minutes is None else float(minutes)
    if minutes <= 0:
        raise ValueError(f"minutes must be positive, not {minutes}.")
    sf2 = sf.find_soundfont(soundfont)
    params = {"version": GENERATOR_VERSION, "instrument": asdict(spec), "minutes": minutes, "seed": seed,
              "soundfont": _soundfont_digest(sf2), "sample_rate": SAMPLE_RATE}
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    root = Path(cache_dir) if cache_dir is not None else features.default_cache_dir()
    folder = root / "builtin" / f"{instrument}-{key}"
    if (folder / "manifest.json").is_file():
        return folder

    start_time = time.perf_counter()
    partial = folder.with_name(folder.name + ".partial")
    partial.mkdir(parents=True, exist_ok=True)
    tuning = measure_tuning(spec, range(spec.low, spec.high + 1), sf2)
    release_s = measure_release(spec, sf2)
    rng_master = np.random.default_rng([seed, spec.program])
    total = minutes * 60.0
    n_takes = max(1, int(round(total / np.mean(spec.recording_s))))
    shares = rng_master.uniform(*spec.recording_s, size=n_takes)
    lengths = list(shares * total / shares.sum())
    recordings = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(lengths), desc=f"rendering built-in {instrument}", unit="take", leave=False)
    for number, length in enumerate(lengths):
        rng = np.random.default_rng([seed, spec.program, number])
        performance = compose(spec, length, rng, tuning)
        samples = render(performance, spec, sf2)
        name = f"{instrument}_{number:03d}"
        audio.save_wav(partial / f"{name}.wav", samples, overwrite=True)
        note_seq.sequence_proto_to_midi_file(to_note_sequence(performance, spec), str(partial / f"{name}.mid"))
        (partial / f"{name}.json").write_text(json.dumps(asdict(performance)))
        pitches = [n[0] for n in performance.notes]
        recordings.append({"name": name, "seconds": round(samples.size / SAMPLE_RATE, 3),
                           "n_notes": len(pitches), "lowest": int(min(pitches)), "highest": int(max(pitches))})
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    manifest = {"params": params, "soundfont_path": str(sf2), "tuning_cents": tuning, "release_s": release_s,
                "recordings": recordings, "seconds": round(sum(r["seconds"] for r in recordings), 3),
                "build_seconds": round(time.perf_counter() - start_time, 2)}
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if folder.exists():                                           # a concurrent build finished first
        import shutil

        shutil.rmtree(partial)
    else:
        os.replace(partial, folder)
    return folder


@dataclass
class Recording:
    """One built-in take: audio at 16 kHz, its performance, the measured tuning and release."""

    name: str
    audio: np.ndarray
    performance: Performance
    tuning_cents: dict
    release_s: float = 0.0

    def ground_truth(self, frame_rate: float = 250.0):
        """(f0_hz, voiced) on the frames of `ttlib.features` (n_samples // hop + 1 of them)."""
        hop = SAMPLE_RATE / frame_rate
        return ground_truth(self.performance, frame_rate, self.tuning_cents, int(self.audio.size // hop) + 1,
                            self.release_s)


def recordings(folder) -> list[Recording]:
    """The takes of a folder written by `build`, in order."""
    from ttlib import audio

    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    tuning = {int(k): v for k, v in manifest["tuning_cents"].items()}
    out = []
    for entry in manifest["recordings"]:
        events = json.loads((folder / f"{entry['name']}.json").read_text())
        performance = Performance([tuple(n) for n in events["notes"]], [tuple(b) for b in events["bends"]],
                                  [tuple(e) for e in events["expression"]], events["seconds"])
        out.append(Recording(entry["name"], audio.load(folder / f"{entry['name']}.wav", quiet=True),
                             performance, tuning, float(manifest.get("release_s", 0.0))))
    return out


@dataclass
class Clip:
    """A stretch of the built-in performances with its ground truth.

    Attributes:
      audio: mono float32 at 16 kHz, shape [n_samples].
      f0_hz: the exact f0 (0 Hz where no note sounds), shape [n_frames], frames at i / frame_rate.
      frame_rate: frames per second (Hz).
      instrument: "trumpet" or "whistle".
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    frame_rate: float
    instrument: str

    @property
    def times_s(self) -> np.ndarray:
        return np.arange(self.f0_hz.size) / self.frame_rate


def clip(instrument: str = "trumpet", seconds: float = 60.0, frame_rate: float = 100.0, seed: int = 0,
         cache_dir=None) -> Clip:
    """The first `seconds` of the built-in `instrument` takes, joined, with their ground truth.

    Each take is cut to whole frames before joining, so every frame of the result
    stays on its take's grid and the truth is exact across the joins.
    """
    spec = INSTRUMENTS[instrument] if instrument in INSTRUMENTS else None
    if spec is None:
        raise ValueError(f"Unknown built-in instrument {instrument!r}; choose one of {', '.join(INSTRUMENTS)}.")
    minutes = max(seconds / 60.0 * 1.1, spec.recording_s[1] / 60.0)
    folder = build(instrument, minutes=minutes, seed=seed, cache_dir=cache_dir, progress=False)
    hop = int(round(SAMPLE_RATE / frame_rate))
    pieces, truths, total = [], [], 0
    for take in recordings(folder):
        n = take.audio.size // hop
        f0, voiced = take.ground_truth(frame_rate)
        pieces.append(take.audio[:n * hop])
        truths.append(np.where(voiced, f0, 0.0)[:n])
        total += n * hop
        if total >= seconds * SAMPLE_RATE:
            break
    n_samples = min(total, int(seconds * SAMPLE_RATE)) // hop * hop
    audio = np.concatenate(pieces)[:n_samples]
    truth = np.concatenate(truths)[:n_samples // hop + 1]
    if truth.size < n_samples // hop + 1:
        truth = np.pad(truth, (0, n_samples // hop + 1 - truth.size))
    return Clip(audio, truth.astype(np.float32), float(frame_rate), instrument)
