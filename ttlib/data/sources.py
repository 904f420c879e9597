"""Where training audio comes from: the built-in performances, URMP, or a folder of recordings.

Each source gives `Item`s, one per recording, before features are computed:
  - `builtin_items`: the rendered performances (`ttlib.data.builtin`), with their exact
    f0 kept as `f0_hz_truth`;
  - `urmp_items`: the solo stems of a copy of the URMP dataset in its published layout
    (`.../NN_Piece_inst.../AuSep_K_inst_NN_Piece.wav` with `F0s_K_inst_NN_Piece.txt`),
    chosen by instrument code (default `tpt`), f0 from the annotation;
    (`urmp_tfrecord_files` finds Magenta's preprocessed URMP TFRecords instead);
  - `folder_items`: any folder of recordings, searched recursively, each file checked
    and its silent ends trimmed.
Each returns (items, skipped) where skipped lists every file left out and why.

Notebook 05 builds its training set from these (`ttlib.data.dataset.build_dataset`).
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ttlib.audio.edit import trim_silence
from ttlib.audio.io import AUDIO_EXTENSIONS, find_audio_files, load
from ttlib.core.errors import AudioError, DatasetError
from ttlib.core.units import SAMPLE_RATE, frame_times, hop_length, n_frames
from ttlib.data import builtin

URMP_INSTRUMENTS = ("vn", "va", "vc", "db", "fl", "ob", "cl", "sax", "bn", "tpt", "hn", "tbn", "tba")
URMP_STEM = re.compile(r"^AuSep_(\d+)_([a-z]+)_(\d+_.+)\.wav$", re.IGNORECASE)


@dataclass
class Item:
    """One recording of a source, before features.

    Attributes:
      recording_id: unique name; the unit of the train/validation split.
      audio: mono float32 at 16 kHz, shape [n_samples].
      f0_hz, f0_confidence: given f0 on the dataset's frame grid (annotations), or None
        to track it.
      f0_hz_truth: exact f0 (built-in renderings), or None.
      notes: what was found in the file (stereo, clipping, padding, ...).
      path: where it came from.
      target: the audio the model is to make from `audio`'s features, when not `audio`
        itself (the recording before it was played in a room: `ttlib.data.rooms.play_in_room`).
    """

    recording_id: str
    audio: np.ndarray
    f0_hz: np.ndarray | None = None
    f0_confidence: np.ndarray | None = None
    f0_hz_truth: np.ndarray | None = None
    notes: list = field(default_factory=list)
    path: str = ""
    target: np.ndarray | None = None


def parse_source(source: str) -> tuple[str, str]:
    """("builtin", "trumpet"), ("urmp", PATH) or ("folder", PATH) from a source string."""
    kind, _, arg = source.partition(":")
    kind = kind.strip().lower()
    if kind == "builtin":
        return kind, arg or "trumpet"
    if kind in ("urmp", "folder"):
        if not arg:
            raise DatasetError(f"--source {kind}:PATH needs a path, e.g. {kind}:/data/{kind.upper()}")
        path = Path(arg).expanduser()
        if not path.is_dir():
            raise DatasetError(f"{kind} source {path} is not a folder.")
        return kind, str(path)
    raise DatasetError(f"Unknown source {source!r}: use builtin[:INSTRUMENT][:dry|:dynamics|:gm] (INSTRUMENT: trumpet, "
                       "flute, violin, saxophone or whistle), urmp:PATH or folder:PATH.")


def builtin_render(instrument: str = "trumpet") -> dict | None:
    """What a built-in source renders beyond its name, for a dataset's settings: {"dynamics": version} when
    "INSTRUMENT[:variant]" plays with true dynamics, else None (the samples of generator 2, whose datasets
    keep the settings they had before true dynamics)."""
    name, _, variant = instrument.partition(":")
    spec = builtin.INSTRUMENTS.get(name or "trumpet")
    if spec is None or not spec.brightness or variant == "gm":
        return None
    return {"dynamics": builtin.DYNAMICS_VERSION}


def builtin_items(instrument: str = "trumpet", minutes: float | None = None, seed: int = 0,
                  frame_rate: float = 250.0, cache_dir: str | os.PathLike | None = None,
                  progress: bool = True) -> tuple[list[Item], list]:
    """The built-in performances as items, with their exact f0 as `f0_hz_truth`.

    instrument: one of `ttlib.data.score.INSTRUMENTS` ("trumpet", "flute", "violin", "saxophone",
    "whistle"), alone or with a variant: ":dry" (rendered without FluidSynth's reverb and chorus,
    `builtin.build(effects=False)`: a dry instrument, notebook 10), ":dynamics" (true dynamics,
    `builtin.build(dynamics=True)`, as without a variant) or ":gm" (General MIDI's expression
    alone, a gain, `dynamics=False`: the learned-encoder experiment's trumpet).
    """
    instrument, _, variant = instrument.partition(":")
    if variant not in ("", "dry", "dynamics", "gm"):
        raise DatasetError(f"Unknown built-in variant {variant!r} in builtin:{instrument}:{variant}; use "
                           f"builtin:{instrument}, or with :dry, :dynamics or :gm.")
    folder = builtin.build(instrument, minutes, seed, cache_dir, progress=progress, effects=variant != "dry",
                           dynamics=variant != "gm")
    items = []
    for take in builtin.recordings(folder):
        truth, voiced = take.ground_truth(frame_rate)
        items.append(Item(take.name, take.audio, f0_hz_truth=np.where(voiced, truth, 0.0).astype(np.float32),
                          path=str(folder / f"{take.name}.wav")))
    return items, []


def read_urmp_f0(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray]:
    """A URMP `F0s_*.txt` annotation: (times_s, f0_hz), each shape [n]; 0 Hz = unvoiced.

    Raises:
      DatasetError: not two numeric columns, or times that go backwards.
    """
    path = Path(path)
    try:
        table = np.loadtxt(str(path), delimiter=None if "," not in path.read_text()[:200] else ",", ndmin=2)
    except ValueError as exc:
        raise DatasetError(f"{path}: not a URMP f0 annotation (two numeric columns: time in s, f0 in Hz): "
                           f"{exc}") from None
    if table.shape[1] < 2 or table.shape[0] < 2:
        raise DatasetError(f"{path}: expected two columns (time s, f0 Hz) and at least two rows, "
                           f"found shape {table.shape}.")
    times, f0 = table[:, 0], table[:, 1]
    if np.any(np.diff(times) <= 0):
        raise DatasetError(f"{path}: the times (first column) must increase.")
    return times, np.maximum(f0, 0.0)


def f0_on_grid(times_s, f0_hz, count: int, frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Put an annotated f0 (0 = unvoiced) on frames t = i / frame_rate.

    f0 is interpolated in log frequency between voiced points; a frame is voiced
    when its nearest annotation point is. Returns (f0_hz, confidence) of shape
    [count], confidence 1 where voiced and 0 elsewhere.
    """
    times_s, f0_hz = np.asarray(times_s, float), np.asarray(f0_hz, float)
    grid = frame_times(count, frame_rate)
    voiced_points = f0_hz > 0
    nearest = np.clip(np.searchsorted(times_s, grid), 0, times_s.size - 1)
    before = np.clip(nearest - 1, 0, times_s.size - 1)
    nearest = np.where(np.abs(times_s[before] - grid) < np.abs(times_s[nearest] - grid), before, nearest)
    voiced = voiced_points[nearest] & (grid <= times_s[-1] + 0.05)
    f0 = np.zeros(count)
    if voiced_points.any():
        log_f0 = np.interp(grid, times_s[voiced_points], np.log2(f0_hz[voiced_points]))
        f0 = np.where(voiced, 2.0 ** log_f0, 0.0)
    return f0.astype(np.float32), voiced.astype(np.float32)


def urmp_items(path: str | os.PathLike, instrument: str = "tpt",
               frame_rate: float = 250.0) -> tuple[list[Item], list]:
    """The solo stems of one URMP instrument, with their annotated f0.

    Looks for `AuSep_K_<instrument>_NN_Piece.wav` anywhere under `path` and the
    `F0s_K_<instrument>_NN_Piece.txt` beside it. Stems without an annotation are skipped.
    """
    if instrument not in URMP_INSTRUMENTS:
        raise DatasetError(f"Unknown URMP instrument code {instrument!r}; URMP uses {', '.join(URMP_INSTRUMENTS)}.")
    items, skipped = [], []
    stems = sorted(p for p in Path(path).rglob("AuSep_*.wav")
                   if URMP_STEM.match(p.name) and URMP_STEM.match(p.name).group(2).lower() == instrument)
    for stem in stems:
        number, inst, piece = URMP_STEM.match(stem.name).groups()
        annotation = stem.with_name(f"F0s_{number}_{inst}_{piece}.txt")
        if not annotation.is_file():
            skipped.append({"path": str(stem), "reason": f"no f0 annotation {annotation.name} beside it"})
            continue
        try:
            samples, report = load(stem, with_report=True, quiet=True)
            times, f0 = read_urmp_f0(annotation)
        except (AudioError, DatasetError) as exc:
            skipped.append({"path": str(stem), "reason": str(exc)})
            continue
        count = n_frames(samples.size, hop_length(SAMPLE_RATE, frame_rate))
        f0_grid, confidence = f0_on_grid(times, f0, count, frame_rate)
        items.append(Item(f"{piece}_{inst}{number}", samples, f0_grid, confidence, notes=report.notes,
                          path=str(stem)))
    if not items and not skipped:
        raise DatasetError(f"No URMP stems AuSep_*_{instrument}_*.wav under {path}. Point urmp: at the "
                           "folder that holds the NN_Piece_... folders (URMP's Dataset/).")
    return items, skipped


def urmp_tfrecord_files(path: str | os.PathLike, instrument: str = "tpt") -> dict:
    """Magenta's preprocessed URMP TFRecords under `path`: {"train": [...], "test": [...]}."""
    found = {}
    for split in ("train", "test"):
        pattern = os.path.join(str(path), f"urmp_{instrument}_solo_ddsp_conditioning_{split}*.tfrecord*")
        found[split] = sorted(glob.glob(pattern))
    return found


def folder_items(path: str | os.PathLike) -> tuple[list[Item], list]:
    """Every readable recording under `path` (recursively), with silence trimmed at both ends."""
    items, skipped = [], []
    files = find_audio_files(path)
    if not files:
        raise DatasetError(f"No audio files ({', '.join(AUDIO_EXTENSIONS)}) under {path}. Point folder: at the "
                           "folder that holds your recordings.")
    root = Path(path)
    for file in files:
        try:
            samples, report = load(file, with_report=True, quiet=True)
        except AudioError as exc:
            skipped.append({"path": str(file), "reason": str(exc)})
            continue
        if report.silent:
            skipped.append({"path": str(file), "reason": f"silent (level {report.rms_db:.0f} dB): nothing to learn"})
            continue
        trimmed = trim_silence(samples)
        notes = list(report.notes)
        if trimmed.size < samples.size:
            notes.append(f"trimmed {(samples.size - trimmed.size) / SAMPLE_RATE:.2f} s of silence at the ends")
        recording_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(file.relative_to(root).with_suffix("")))
        if any(item.recording_id == recording_id for item in items):     # take.wav beside take.flac
            recording_id += "_" + file.suffix.lstrip(".").lower()
        items.append(Item(recording_id, trimmed, notes=notes, path=str(file)))
    return items, skipped
