"""The built-in data: expressive trumpet, flute, violin, saxophone and whistle performances rendered offline.

Scores come from `ttlib.data.score` (composed from a seed, with vibrato, dynamics and
articulation); this module renders them with FluidSynth through a General MIDI
soundfont at 44.1 kHz, then resamples to 16 kHz (rendering at 16 kHz aliases).

The ground truth comes with it: the f0 implied by the score and the pitch-bend
events, frame by frame. Voicing = a note is held, or its release is still sounding:
after a note-off a sampled note rings on (its release and FluidSynth's reverb) for
about a quarter of a second; the build measures how long it stays within 30 dB of
the held level and counts that tail as voiced (until the next note starts). A
soundfont's samples are not all exactly in tune (FluidR3's whistle is about +15 cents
sharp), so each key is measured once and corrected by pitch bend: the audio then
plays the score's pitch, and the ground truth is exact up to the samples' own small
wobble (about +-10 cents for the whistle's built-in vibrato).

True dynamics (the default; `dynamics=False` or the source `builtin:INSTRUMENT:gm` leave them out):
the instruments (not the whistle) play through a low-pass filter that opens as they play harder
(`ttlib.data.score`, `InstrumentSpec.brightness`), so their spectrum brightens with loudness as a
real instrument's does (measured by `ttlib.data.dynamics`). Without them General MIDI's expression
is a gain alone: the samples of generator 2, which the learned-encoder experiment keeps.

Everything is deterministic for a seed and cached under the cache folder; the cache key holds
the instrument's whole `InstrumentSpec`, so a change to how one instrument plays renders that
one again. Notebook 05
builds the training set from it; notebooks 01-03 and 07-08 take clips (`clip`).
`example_trumpet` is the real trumpet of notebooks 01-04, with a built-in fallback.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ttlib.audio.io import load, resample, save_wav
from ttlib.core import paths
from ttlib.core.errors import ConfigError
from ttlib.core.io import new_folder, sha256_file, sha256_text
from ttlib.core.units import SAMPLE_RATE, cents, frame_times, hop_length, midi_to_hz, n_frames
from ttlib.data import soundfont as sf
from ttlib.data.score import (
                              INSTRUMENTS,
                              InstrumentSpec,
                              Performance,
                              brightness_events,
                              compose,
                              ground_truth,
                              to_note_sequence,
)
from ttlib.pitch.tracking import frame_level_db
from ttlib.pitch.yin_tracker import yin

GENERATOR_VERSION = 2
DYNAMICS_VERSION = 2
"""The true-dynamics rendering's own version, in the cache key of builds with `dynamics=True` only (the
gain-only samples keep theirs): 2 spaces the filter's NRPN updates (`score.NRPN_SPACING_S`)."""
"""Bump when composition or rendering changes, so caches are rebuilt."""


def render(performance: Performance, spec: InstrumentSpec, soundfont: str | os.PathLike | None = None,
           peak: float = 0.7, effects: bool = True) -> np.ndarray:
    """FluidSynth rendering at 44.1 kHz resampled to 16 kHz; shape [n_samples] at 16 kHz.

    The take is scaled to `peak` (dynamics inside it are kept) and cut or padded
    to `performance.seconds`. `effects`: FluidSynth's reverb and chorus (`soundfont.render_midi`).
    """
    import note_seq

    midi = note_seq.note_sequence_to_pretty_midi(to_note_sequence(performance, spec))
    rendered = sf.render_midi(midi, sf.RENDER_SAMPLE_RATE, soundfont, effects)
    out = resample(rendered, sf.RENDER_SAMPLE_RATE, SAMPLE_RATE)
    n_samples = int(round(performance.seconds * SAMPLE_RATE))
    out = np.pad(out, (0, max(0, n_samples - out.size)))[:n_samples]
    largest = float(np.max(np.abs(out))) if out.size else 0.0
    return (out * (peak / largest) if largest > 0 else out).astype(np.float32)


def measure_tuning(spec: InstrumentSpec, keys, soundfont: str | os.PathLike | None = None) -> dict:
    """Cents by which the soundfont's sample for each key sounds above equal temperament.

    Renders a 1.2 s note per key and takes the median of YIN's f0 over 0.3 to 1.1 s.
    """
    import pretty_midi

    offsets = {}
    for key in keys:
        midi = pretty_midi.PrettyMIDI()
        part = pretty_midi.Instrument(program=spec.program)
        part.notes.append(pretty_midi.Note(velocity=100, pitch=int(key), start=0.0, end=1.2))
        midi.instruments.append(part)
        rendered = sf.render_midi(midi, sf.RENDER_SAMPLE_RATE, soundfont)
        hz = float(midi_to_hz(key))
        f0, aperiodicity = yin(rendered[int(0.3 * sf.RENDER_SAMPLE_RATE):int(1.1 * sf.RENDER_SAMPLE_RATE)],
                               sf.RENDER_SAMPLE_RATE, frame_rate=100, fmin=hz / 1.5, fmax=hz * 1.5, frame_length=4096)
        good = aperiodicity < 0.3
        offsets[int(key)] = float(np.median(cents(f0[good], hz))) if good.any() else 0.0
    return offsets


def measure_release(spec: InstrumentSpec, soundfont: str | os.PathLike | None = None,
                    drop_db: float = 30.0, effects: bool = True) -> float:
    """Seconds a note keeps sounding after its note-off, until it is `drop_db` below its held level.

    The median over a low, a middle and a high key of the instrument.
    """
    import pretty_midi

    hop = hop_length(sf.RENDER_SAMPLE_RATE, 100)
    releases = []
    for key in (spec.low + 3, (spec.low + spec.high) // 2, spec.high - 3):
        midi = pretty_midi.PrettyMIDI()
        part = pretty_midi.Instrument(program=spec.program)
        part.notes.append(pretty_midi.Note(velocity=100, pitch=int(key), start=0.0, end=1.0))
        midi.instruments.append(part)
        level = frame_level_db(sf.render_midi(midi, sf.RENDER_SAMPLE_RATE, soundfont, effects), hop)
        held = float(np.median(level[50:95]))
        after = level[100:]
        quiet = np.flatnonzero(after < held - drop_db)
        releases.append((quiet[0] if quiet.size else after.size) / 100.0)
    return float(np.median(releases))


def build(instrument: str = "trumpet", minutes: float | None = None, seed: int = 0,
          cache_dir: str | os.PathLike | None = None, soundfont: str | os.PathLike | None = None,
          progress: bool = True, effects: bool = True, dynamics: bool = True) -> Path:
    """Render (or find in the cache) the built-in performances of `instrument`.

    Writes into `cache_dir/builtin/<instrument>-<key>/`: `NNN.wav` (16 kHz mono float),
    `NNN.mid` (the score with its bends and CC11), `NNN.json` (the exact events, for
    ground truth at any frame rate) and `manifest.json` (seed, soundfont, tuning,
    recordings, wall time). A second call with the same arguments returns at once.

    Args:
      instrument: one of `INSTRUMENTS`: "trumpet", "flute", "violin", "saxophone" or "whistle".
      minutes: total length; None takes the instrument's default (12 minutes; the whistle 4).
      seed: the seed of the composition.
      cache_dir: root of the cache (default: `ttlib.core.paths.cache_dir()`).
      soundfont: .sf2 path (default: `ttlib.data.soundfont.find_soundfont()`).
      effects: FluidSynth's reverb and chorus; False renders the performances dry (a
        separate cache entry; the default's entry, and so the data of the reference
        runs, is unchanged).
      dynamics: True (the default): the filter follows the expression (true dynamics,
        `InstrumentSpec.brightness`); False: General MIDI's expression alone, a gain, the samples
        of generator 2 (the learned-encoder experiment's, `builtin:trumpet:gm`). The same notes
        either way; a separate cache entry. No effect on an instrument without `brightness` (the whistle).

    Returns:
      The folder of the rendered set.
    """
    import note_seq

    spec = instrument_spec(instrument)
    minutes = spec.minutes if minutes is None else float(minutes)
    if minutes <= 0:
        raise ConfigError(f"minutes must be positive, not {minutes}.")
    sf2 = sf.find_soundfont(soundfont)
    params = {"version": GENERATOR_VERSION, "instrument": asdict(spec), "minutes": minutes, "seed": seed,
              "soundfont": sha256_file(sf2, chunk=1 << 22)[:16], "sample_rate": SAMPLE_RATE}
    if not effects:
        params["effects"] = False
    if spec.brightness and dynamics:
        params["dynamics"] = DYNAMICS_VERSION
    key = sha256_text(json.dumps(params, sort_keys=True))[:12]
    root = Path(cache_dir) if cache_dir is not None else paths.cache_dir()
    folder = root / "builtin" / f"{instrument}-{key}"
    if (folder / "manifest.json").is_file():
        return folder

    start_time = time.perf_counter()
    # a folder of this build's own: two processes rendering the same take (two notebooks, two test lanes) never
    # write into each other's files; the first to finish moves its folder into place. A folder here already,
    # without its manifest, is damaged (finished builds move in whole): this build replaces it.
    with new_folder(folder, replace=folder.exists()) as partial:
        tuning = measure_tuning(spec, range(spec.low, spec.high + 1), sf2)
        release_s = measure_release(spec, sf2, effects=effects)
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
            performance = compose(spec, length, rng, tuning, dynamics=dynamics)
            samples = render(performance, spec, sf2, effects=effects)
            name = f"{instrument}_{number:03d}"
            save_wav(partial / f"{name}.wav", samples, overwrite=True)
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
    return folder


@dataclass
class Recording:
    """One built-in take: audio at 16 kHz, its performance, the measured tuning and release."""

    name: str
    audio: np.ndarray
    performance: Performance
    tuning_cents: dict
    release_s: float = 0.0

    def ground_truth(self, frame_rate: float = 250.0) -> tuple[np.ndarray, np.ndarray]:
        """(f0_hz, voiced) on the analysis frames of the take (n_samples // hop + 1 of them)."""
        count = n_frames(self.audio.size, hop_length(SAMPLE_RATE, frame_rate))
        return ground_truth(self.performance, frame_rate, self.tuning_cents, count,
                            self.release_s)


def recordings(folder: str | os.PathLike) -> list[Recording]:
    """The takes of a folder written by `build`, in order."""
    folder = Path(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    tuning = {int(k): v for k, v in manifest["tuning_cents"].items()}
    out = []
    for entry in manifest["recordings"]:
        events = json.loads((folder / f"{entry['name']}.json").read_text())
        performance = Performance([tuple(n) for n in events["notes"]], [tuple(b) for b in events["bends"]],
                                  [tuple(e) for e in events["expression"]], events["seconds"],
                                  [tuple(b) for b in events.get("brightness", [])])
        out.append(Recording(entry["name"], load(folder / f"{entry['name']}.wav", quiet=True),
                             performance, tuning, float(manifest.get("release_s", 0.0))))
    return out


@dataclass
class Clip:
    """A stretch of the built-in performances with its ground truth.

    Attributes:
      audio: mono float32 at 16 kHz, shape [n_samples].
      f0_hz: the exact f0 (0 Hz where no note sounds), shape [n_frames], frames at i / frame_rate.
      frame_rate: frames per second (Hz).
      instrument: the built-in instrument's name (`INSTRUMENTS`).
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    frame_rate: float
    instrument: str

    @property
    def times_s(self) -> np.ndarray:
        return frame_times(self.f0_hz.size, self.frame_rate)


def crescendo(instrument: str = "trumpet", dynamics: bool = True, key: int | None = None,
              soundfont: str | os.PathLike | None = None) -> Clip:
    """One held note (the middle of the range) through a hairpin, CC11 30 -> 127 -> 30 over 3 s, dry.

    The instrument's own coupling of brightness to loudness, free of melody and velocity:
    `ttlib.data.dynamics.brightness_fit` on it gives about 0 harmonics per 10 dB for a gain
    (`dynamics=False`) and the filter's effect with true dynamics. Frames at 100 Hz.
    """
    spec = instrument_spec(instrument)
    key = (spec.low + spec.high) // 2 if key is None else int(key)
    levels = np.round(np.r_[np.linspace(30, 127, 75), np.linspace(127, 30, 75)]).astype(int)
    expression = [(0.3 + 0.02 * i, int(v)) for i, v in enumerate(levels)]
    note = [(key, 100, 0.3, 3.3)]
    bright = brightness_events(note, expression, spec.brightness) if dynamics and spec.brightness else []
    performance = Performance(note, [(0.3, 0)], expression, 4.0, bright)
    audio = render(performance, spec, soundfont, effects=False)
    f0, voiced = ground_truth(performance, 100.0, n_frames=n_frames(audio.size, hop_length(SAMPLE_RATE, 100.0)))
    return Clip(audio, np.where(voiced, f0, 0.0).astype(np.float32), 100.0, instrument)


def instrument_spec(instrument: str) -> InstrumentSpec:
    """The `InstrumentSpec` of a built-in instrument, or a ConfigError naming the choices."""
    if instrument not in INSTRUMENTS:
        raise ConfigError(f"Unknown built-in instrument {instrument!r}; choose one of {', '.join(INSTRUMENTS)}.")
    return INSTRUMENTS[instrument]


def clip(instrument: str = "trumpet", seconds: float = 60.0, frame_rate: float = 100.0, seed: int = 0,
         cache_dir: str | os.PathLike | None = None, effects: bool = True, dynamics: bool = True) -> Clip:
    """The first `seconds` of the built-in `instrument` takes, joined, with their ground truth.

    Each take is cut to whole frames before joining, so every frame of the result
    stays on its take's grid and the truth is exact across the joins. `effects=False`:
    rendered without FluidSynth's reverb and chorus; `dynamics=False`: without true dynamics
    (`build`).
    """
    spec = instrument_spec(instrument)
    minutes = max(seconds / 60.0 * 1.1, spec.recording_s[1] / 60.0)
    folder = build(instrument, minutes=minutes, seed=seed, cache_dir=cache_dir, progress=False, effects=effects,
                   dynamics=dynamics)
    hop = hop_length(SAMPLE_RATE, frame_rate)
    pieces, truths, total = [], [], 0
    for take in recordings(folder):
        n = n_frames(take.audio.size, hop, whole=True)
        f0, voiced = take.ground_truth(frame_rate)
        pieces.append(take.audio[:n * hop])
        truths.append(np.where(voiced, f0, 0.0)[:n])
        total += n * hop
        if total >= seconds * SAMPLE_RATE:
            break
    n_samples = n_frames(min(total, int(seconds * SAMPLE_RATE)), hop, whole=True) * hop
    audio = np.concatenate(pieces)[:n_samples]
    count = n_frames(n_samples, hop)
    truth = np.concatenate(truths)[:count]
    if truth.size < count:
        truth = np.pad(truth, (0, count - truth.size))
    return Clip(audio, truth.astype(np.float32), float(frame_rate), instrument)


def example_trumpet(sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, str]:
    """librosa's example trumpet (Mihai Sorohan, solo trumpet, 5.3 s, CC BY 3.0), mono at `sample_rate`.

    librosa keeps it in its data folder (`LIBROSA_DATA_DIR`, or its user cache) and
    downloads it there once when online. Offline and without that file, the first
    phrase of the built-in rendered trumpet takes its place, and the description says so.

    Returns:
      (audio [n_samples], description).
    """
    import librosa

    try:
        path = librosa.example("trumpet", hq=True)
        return load(path, sample_rate, quiet=True), "librosa's example trumpet (Mihai Sorohan, CC BY 3.0)"
    except Exception as exc:
        take = recordings(build("trumpet", minutes=0.5, seed=0, progress=False))[0]
        onset = int(np.argmax(np.abs(take.audio) > 0.01))
        audio = take.audio[onset:onset + int(5.3 * SAMPLE_RATE)]
        return (resample(audio, SAMPLE_RATE, sample_rate),
                f"the built-in rendered trumpet (librosa's example could not be loaded: {type(exc).__name__}; "
                "set LIBROSA_DATA_DIR to a folder holding it, or connect once)")
