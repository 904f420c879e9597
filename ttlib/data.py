"""Datasets for training: sources, features, 4 s examples, splits by recording, statistics.

`build_dataset(source, out_dir)` takes one of
  - "builtin" or "builtin:trumpet" / "builtin:whistle": the rendered performances
    (`ttlib.builtin`), with their exact f0 kept as `f0_hz_truth`;
  - "urmp:PATH": a copy of the URMP dataset in its published layout
    (`.../NN_Piece_inst.../AuSep_K_inst_NN_Piece.wav` with `F0s_K_inst_NN_Piece.txt`),
    stems chosen by instrument code (default `tpt`), f0 from the annotation; or a
    folder of Magenta's preprocessed URMP TFRecords
    (`urmp_<inst>_solo_ddsp_conditioning_{train,test}*.tfrecord*`);
  - "folder:PATH": any folder of recordings, searched recursively;
and writes to `out_dir`:
  - `train.tfrecord`, `validation.tfrecord`: examples in ddsp's format (`audio`
    [n_samples], `f0_hz`, `f0_confidence`, `loudness_db` [n_frames]), read by
    `provider()` (ddsp's `TFRecordProvider`) for ddsp's trainer;
  - `statistics.json`: pitch and loudness distributions and quantiles of the
    training split (what transfer's automatic adjustment needs);
  - `manifest.json`: the source, every parameter, each recording (its split, length,
    examples, what was found in it) and each file skipped and why.

Train and validation are split by recording: no window of one recording is on both sides.
"""
from __future__ import annotations

import glob
import json
import os
import random
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import ttlib
from ttlib import SAMPLE_RATE

DATASET_VERSION = 1
CONFIDENCE_THRESHOLD = 0.5
"""f0 confidence above which a frame counts as voiced in the statistics."""
URMP_INSTRUMENTS = ("vn", "va", "vc", "db", "fl", "ob", "cl", "sax", "bn", "tpt", "hn", "tbn", "tba")
URMP_STEM = re.compile(r"^AuSep_(\d+)_([a-z]+)_(\d+_.+)\.wav$", re.IGNORECASE)


class DatasetError(ValueError):
    """A dataset cannot be built or read; the message says why and what to do."""


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
    """

    recording_id: str
    audio: np.ndarray
    f0_hz: np.ndarray | None = None
    f0_confidence: np.ndarray | None = None
    f0_hz_truth: np.ndarray | None = None
    notes: list = field(default_factory=list)
    path: str = ""


# ----------------------------------------------------------------------------- sources
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
    raise DatasetError(f"Unknown source {source!r}: use builtin[:trumpet|whistle], urmp:PATH or folder:PATH.")


def builtin_items(instrument: str = "trumpet", minutes: float | None = None, seed: int = 0,
                  frame_rate: float = 250.0, cache_dir=None, progress: bool = True) -> tuple[list[Item], list]:
    """The built-in performances as items, with their exact f0 as `f0_hz_truth`."""
    from ttlib import builtin

    folder = builtin.build(instrument, minutes, seed, cache_dir, progress=progress)
    items = []
    for take in builtin.recordings(folder):
        truth, voiced = take.ground_truth(frame_rate)
        items.append(Item(take.name, take.audio, f0_hz_truth=np.where(voiced, truth, 0.0).astype(np.float32),
                          path=str(folder / f"{take.name}.wav")))
    return items, []


def read_urmp_f0(path) -> tuple[np.ndarray, np.ndarray]:
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


def f0_on_grid(times_s, f0_hz, n_frames: int, frame_rate: float) -> tuple[np.ndarray, np.ndarray]:
    """Put an annotated f0 (0 = unvoiced) on frames t = i / frame_rate.

    f0 is interpolated in log frequency between voiced points; a frame is voiced
    when its nearest annotation point is. Returns (f0_hz, confidence) of shape
    [n_frames], confidence 1 where voiced and 0 elsewhere.
    """
    times_s, f0_hz = np.asarray(times_s, float), np.asarray(f0_hz, float)
    grid = np.arange(n_frames) / frame_rate
    voiced_points = f0_hz > 0
    nearest = np.clip(np.searchsorted(times_s, grid), 0, times_s.size - 1)
    before = np.clip(nearest - 1, 0, times_s.size - 1)
    nearest = np.where(np.abs(times_s[before] - grid) < np.abs(times_s[nearest] - grid), before, nearest)
    voiced = voiced_points[nearest] & (grid <= times_s[-1] + 0.05)
    f0 = np.zeros(n_frames)
    if voiced_points.any():
        log_f0 = np.interp(grid, times_s[voiced_points], np.log2(f0_hz[voiced_points]))
        f0 = np.where(voiced, 2.0 ** log_f0, 0.0)
    return f0.astype(np.float32), voiced.astype(np.float32)


def urmp_items(path, instrument: str = "tpt", frame_rate: float = 250.0) -> tuple[list[Item], list]:
    """The solo stems of one URMP instrument, with their annotated f0.

    Looks for `AuSep_K_<instrument>_NN_Piece.wav` anywhere under `path` and the
    `F0s_K_<instrument>_NN_Piece.txt` beside it. Stems without an annotation are skipped.
    """
    from ttlib import audio as audio_lib, pitch

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
            samples, report = audio_lib.load(stem, with_report=True, quiet=True)
            times, f0 = read_urmp_f0(annotation)
        except (audio_lib.AudioError, DatasetError) as exc:
            skipped.append({"path": str(stem), "reason": str(exc)})
            continue
        count = pitch.n_frames(samples.size, int(SAMPLE_RATE / frame_rate))
        f0_grid, confidence = f0_on_grid(times, f0, count, frame_rate)
        items.append(Item(f"{piece}_{inst}{number}", samples, f0_grid, confidence, notes=report.notes,
                          path=str(stem)))
    if not items and not skipped:
        raise DatasetError(f"No URMP stems AuSep_*_{instrument}_*.wav under {path}. Point urmp: at the "
                           "folder that holds the NN_Piece_... folders (URMP's Dataset/).")
    return items, skipped


def urmp_tfrecord_files(path, instrument: str = "tpt") -> dict:
    """Magenta's preprocessed URMP TFRecords under `path`: {"train": [...], "test": [...]}."""
    found = {}
    for split in ("train", "test"):
        pattern = os.path.join(str(path), f"urmp_{instrument}_solo_ddsp_conditioning_{split}*.tfrecord*")
        found[split] = sorted(glob.glob(pattern))
    return found


def folder_items(path) -> tuple[list[Item], list]:
    """Every readable recording under `path` (recursively), with silence trimmed at both ends."""
    from ttlib import audio as audio_lib

    items, skipped = [], []
    files = audio_lib.find_audio_files(path)
    if not files:
        raise DatasetError(f"No audio files ({', '.join(audio_lib.AUDIO_EXTENSIONS)}) under {path}.")
    root = Path(path)
    for file in files:
        try:
            samples, report = audio_lib.load(file, with_report=True, quiet=True)
        except audio_lib.AudioError as exc:
            skipped.append({"path": str(file), "reason": str(exc)})
            continue
        if report.silent:
            skipped.append({"path": str(file), "reason": f"silent (level {report.rms_db:.0f} dB): nothing to learn"})
            continue
        trimmed = audio_lib.trim_silence(samples)
        notes = list(report.notes)
        if trimmed.size < samples.size:
            notes.append(f"trimmed {(samples.size - trimmed.size) / SAMPLE_RATE:.2f} s of silence at the ends")
        recording_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(file.relative_to(root).with_suffix("")))
        if any(item.recording_id == recording_id for item in items):     # take.wav beside take.flac
            recording_id += "_" + file.suffix.lstrip(".").lower()
        items.append(Item(recording_id, trimmed, notes=notes, path=str(file)))
    return items, skipped


# ----------------------------------------------------------------------------- examples
def split_recordings(durations: dict, validation_fraction: float, seed: int) -> dict:
    """Assign whole recordings to "train" or "validation".

    Recordings are shuffled with `seed` and moved to validation until it holds at
    least `validation_fraction` of the total duration (never all of them).

    Returns:
      {recording_id: "train" | "validation"}.
    """
    ids = sorted(durations)
    random.Random(seed).shuffle(ids)
    total = sum(durations.values())
    split, held_out = {}, 0.0
    for index, rid in enumerate(ids):
        take = (validation_fraction > 0 and held_out < validation_fraction * total and index < len(ids) - 1)
        split[rid] = "validation" if take else "train"
        held_out += durations[rid] if take else 0.0
    return split


def windows(n_frames: int, example_frames: int, hop_frames: int) -> list[int]:
    """Start frames of the examples: every `hop_frames`, each `example_frames` long, inside the recording."""
    if n_frames < example_frames:
        return []
    return list(range(0, n_frames - example_frames + 1, hop_frames))


def statistics(f0_hz, f0_confidence, loudness_db, frame_rate: float,
               threshold: float = CONFIDENCE_THRESHOLD) -> dict:
    """Pitch and loudness distributions of a set of frames (each shape [n_frames]).

    Pitch is in MIDI note numbers (69 = A4 = 440 Hz) over voiced frames (confidence
    >= threshold and loudness above -70 dB); loudness is in dB, over voiced frames
    (what ddsp's automatic adjustment fits) and over all frames.
    """
    f0_hz, f0_confidence, loudness_db = (np.asarray(x, dtype=float) for x in (f0_hz, f0_confidence, loudness_db))
    voiced = (f0_confidence >= threshold) & (f0_hz > 0) & (loudness_db > -70.0)
    levels = np.linspace(0, 100, 101)
    out = {"n_frames": int(f0_hz.size), "seconds": round(f0_hz.size / frame_rate, 2),
           "voiced_fraction": float(voiced.mean()) if f0_hz.size else 0.0,
           "confidence_threshold": threshold, "quantile_levels_percent": levels.tolist()}
    if voiced.any():
        midi = 69.0 + 12.0 * np.log2(f0_hz[voiced] / 440.0)
        out["pitch_midi"] = {"mean": float(midi.mean()), "std": float(midi.std()), "min": float(midi.min()),
                             "max": float(midi.max()), "quantiles": np.percentile(midi, levels).tolist()}
        loud = loudness_db[voiced]
        out["loudness_db_voiced"] = {"mean": float(loud.mean()), "std": float(loud.std()),
                                     "quantiles": np.percentile(loud, levels).tolist()}
    if f0_hz.size:
        out["loudness_db"] = {"mean": float(loudness_db.mean()), "std": float(loudness_db.std()),
                              "quantiles": np.percentile(loudness_db, levels).tolist()}
    return out


# ----------------------------------------------------------------------------- building
def build_dataset(source: str, out_dir, f0_method: str | None = None, frame_rate: float = 250.0,
                  example_seconds: int = 4, hop_seconds: float = 1.0, validation_fraction: float = 0.1,
                  seed: int = 0, minutes: float | None = None, instrument: str = "tpt",
                  cache_dir="default", overwrite: bool = False, progress: bool = True) -> Path:
    """Build a training set from `source` into `out_dir` (see the module's docstring).

    Args:
      source: "builtin[:trumpet|whistle]", "urmp:PATH" or "folder:PATH".
      out_dir: the dataset folder to write.
      f0_method: tracker for recordings without annotated f0 (`ttlib.pitch.METHODS`);
        None: "crepe-tiny". URMP stems use their annotation unless this is given.
      frame_rate: feature frames per second (Hz); ddsp's models use 250.
      example_seconds: length of one example (whole seconds, as ddsp's reader wants).
      hop_seconds: hop between examples of one recording (s).
      validation_fraction: share of the duration held out, by recording.
      seed: seed of the split (and of the built-in composition).
      minutes: length of the built-in set (None: its default).
      instrument: URMP instrument code.
      cache_dir: feature and rendering cache ("default", a folder, or None for none).
      overwrite: replace an existing, different dataset in `out_dir`.

    Returns:
      `out_dir` as a Path. If it already holds a dataset built with the same
      arguments, it is returned at once.

    Raises:
      DatasetError: a bad source, an `out_dir` holding something else, or no usable audio.
    """
    from ttlib import features as features_lib, pitch

    kind, arg = parse_source(source)
    out_dir = Path(out_dir)
    if int(example_seconds) != example_seconds or example_seconds <= 0:
        raise DatasetError(f"example_seconds must be a whole number of seconds (ddsp's reader), not {example_seconds}.")
    if not 0 <= validation_fraction < 1:
        raise DatasetError(f"validation_fraction must be in [0, 1), not {validation_fraction}.")
    hop = pitch._hop(SAMPLE_RATE, frame_rate)
    method = f0_method or "crepe-tiny"
    if method not in pitch.METHODS:
        raise DatasetError(f"Unknown f0 method {method!r}; choose one of {', '.join(pitch.METHODS)}.")
    params = {"version": DATASET_VERSION, "source": f"{kind}:{arg}", "f0_method": f0_method,
              "frame_rate": frame_rate, "example_seconds": int(example_seconds), "hop_seconds": hop_seconds,
              "validation_fraction": validation_fraction, "seed": seed, "minutes": minutes,
              "instrument": instrument, "sample_rate": SAMPLE_RATE}
    manifest_path = out_dir / "manifest.json"
    if manifest_path.is_file():
        existing = json.loads(manifest_path.read_text())
        if existing.get("params") == params:
            print(f"{out_dir} is up to date (built {existing.get('built')}); nothing to do.")
            return out_dir
        if not overwrite:
            raise DatasetError(f"{out_dir} holds a dataset built with other settings ({existing.get('params')}). "
                               "Choose another --out, or pass --overwrite to replace it.")
    elif out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise DatasetError(f"{out_dir} exists and is not a dataset folder; choose an empty or new --out "
                           "(or pass --overwrite to replace its contents).")

    start = time.perf_counter()
    cache = None if cache_dir is None else (features_lib.default_cache_dir() if cache_dir == "default" else Path(cache_dir))
    if kind == "urmp" and any(urmp_tfrecord_files(arg, instrument).values()):
        return _import_urmp_tfrecords(arg, instrument, out_dir, params, frame_rate, int(example_seconds), start)
    if kind == "builtin":
        items, skipped = builtin_items(arg, minutes, seed, frame_rate, cache, progress)
    elif kind == "urmp":
        items, skipped = urmp_items(arg, instrument, frame_rate)
    else:
        items, skipped = folder_items(arg)
    if not items:
        raise DatasetError(f"No usable recording in {source}: "
                           + "; ".join(f"{Path(s['path']).name}: {s['reason']}" for s in skipped))

    example_frames = int(example_seconds * frame_rate)
    example_samples = int(example_seconds * SAMPLE_RATE)
    hop_frames = max(1, int(round(hop_seconds * frame_rate)))
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)

    # Features, then examples per recording.
    per_recording, frames = {}, {"train": [], "validation": []}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        total_s = sum(max(item.audio.size, example_samples) for item in items) / SAMPLE_RATE
        bar = tqdm(total=round(total_s, 1), unit="s", desc=f"features ({method})", leave=False)
    for item in items:
        if item.audio.size < example_samples:
            item.notes.append(f"shorter than one example ({item.audio.size / SAMPLE_RATE:.2f} s): padded with silence")
            item.audio = np.pad(item.audio, (0, example_samples - item.audio.size))
            for name in ("f0_hz", "f0_confidence", "f0_hz_truth"):
                value = getattr(item, name)
                if value is not None:
                    setattr(item, name, np.pad(value, (0, pitch.n_frames(item.audio.size, hop) - value.size)))
        use_annotation = item.f0_hz is not None and f0_method is None
        feats = None if use_annotation else features_lib.compute(item.audio, SAMPLE_RATE, method, frame_rate,
                                                                 cache_dir=cache, progress=False)
        loudness = feats.loudness_db if feats is not None else features_lib.loudness_db(item.audio, SAMPLE_RATE, frame_rate)
        f0 = item.f0_hz if use_annotation else feats.f0_hz
        confidence = item.f0_confidence if use_annotation else feats.f0_confidence
        per_recording[item.recording_id] = (item, f0, confidence, loudness)
        if bar is not None:
            bar.update(round(item.audio.size / SAMPLE_RATE, 1))
    if bar is not None:
        bar.close()
    split = split_recordings({rid: v[0].audio.size / SAMPLE_RATE for rid, v in per_recording.items()},
                             validation_fraction, seed)

    import tensorflow as tf

    writers = {name: tf.io.TFRecordWriter(str(tmp_dir / f"{name}.tfrecord")) for name in ("train", "validation")}
    recordings, counts = [], {"train": 0, "validation": 0}
    try:
        for rid, (item, f0, confidence, loudness) in per_recording.items():
            side = split[rid]
            count = min(f0.size, loudness.size)
            starts = windows(count, example_frames, hop_frames)
            starts = [s for s in starts if s * hop + example_samples <= item.audio.size]
            for s in starts:
                example = {"audio": item.audio[s * hop:s * hop + example_samples],
                           "f0_hz": f0[s:s + example_frames], "f0_confidence": confidence[s:s + example_frames],
                           "loudness_db": loudness[s:s + example_frames]}
                if item.f0_hz_truth is not None:
                    example["f0_hz_truth"] = item.f0_hz_truth[s:s + example_frames]
                writers[side].write(_tf_example(example, rid).SerializeToString())
            counts[side] += len(starts)
            frames[side].append((f0[:count], confidence[:count], loudness[:count]))
            recordings.append({"recording_id": rid, "path": item.path, "split": side,
                               "seconds": round(item.audio.size / SAMPLE_RATE, 3), "examples": len(starts),
                               "f0_source": "annotation" if (item.f0_hz is not None and f0_method is None) else method,
                               "has_truth": item.f0_hz_truth is not None, "notes": item.notes})
    finally:
        for writer in writers.values():
            writer.close()
    if counts["train"] == 0:
        raise DatasetError(f"No training example: every recording is shorter than {example_seconds} s "
                           "or went to validation. Add recordings or lower example_seconds.")
    stats = {}
    for side, parts in frames.items():
        if parts:
            stats[side] = statistics(*(np.concatenate([p[i] for p in parts]) for i in range(3)), frame_rate)
    stats["frame_rate"] = frame_rate
    stats["sample_rate"] = SAMPLE_RATE
    stats["f0_method"] = "annotation" if (kind == "urmp" and f0_method is None) else method
    manifest = {"params": params, "built": time.strftime("%Y-%m-%d %H:%M:%S"), "ttlib": ttlib.__version__,
                "examples": counts, "example_frames": example_frames, "example_samples": example_samples,
                "recordings": recordings, "skipped": skipped, "build_seconds": round(time.perf_counter() - start, 1)}
    (tmp_dir / "statistics.json").write_text(json.dumps(stats, indent=2))
    (tmp_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _replace_folder(tmp_dir, out_dir)
    return out_dir


def _replace_folder(new: Path, target: Path) -> None:
    if target.exists():
        shutil.rmtree(target)
    os.replace(new, target)


def _tf_example(example: dict, recording_id: str):
    import tensorflow as tf

    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(v, np.float32)))
               for k, v in example.items()}
    feature["recording_id"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[recording_id.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _import_urmp_tfrecords(path, instrument, out_dir, params, frame_rate, example_seconds, start) -> Path:
    """Copy Magenta's URMP TFRecords (their train/test split) into our layout, with statistics."""
    import tensorflow as tf
    from ddsp.training import data as ddsp_data

    files = urmp_tfrecord_files(path, instrument)
    if not files["train"]:
        raise DatasetError(f"{path} has URMP TFRecords but none for the train split of {instrument!r}.")
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    counts, stats = {}, {}
    for ours, theirs in (("train", "train"), ("validation", "test")):
        counts[ours], parts = 0, []
        with tf.io.TFRecordWriter(str(tmp_dir / f"{ours}.tfrecord")) as writer:
            if files[theirs]:
                pattern = os.path.join(str(path), f"urmp_{instrument}_solo_ddsp_conditioning_{theirs}*.tfrecord*")
                reader = ddsp_data.LegacyTFRecordProvider(pattern, example_secs=example_seconds,
                                                          sample_rate=SAMPLE_RATE, frame_rate=int(frame_rate))
                for record in reader.get_dataset(shuffle=False).as_numpy_iterator():
                    example = {k: record[k] for k in ("audio", "f0_hz", "f0_confidence", "loudness_db")}
                    writer.write(_tf_example(example, f"urmp_{theirs}").SerializeToString())
                    parts.append((record["f0_hz"], record["f0_confidence"], record["loudness_db"]))
                    counts[ours] += 1
        if parts:
            stats[ours] = statistics(*(np.concatenate([p[i] for p in parts]) for i in range(3)), frame_rate)
    stats.update({"frame_rate": frame_rate, "sample_rate": SAMPLE_RATE, "f0_method": "crepe (Magenta's preprocessing)"})
    manifest = {"params": params, "built": time.strftime("%Y-%m-%d %H:%M:%S"), "ttlib": ttlib.__version__,
                "examples": counts, "example_frames": int(example_seconds * frame_rate),
                "example_samples": int(example_seconds * SAMPLE_RATE),
                "recordings": [{"recording_id": f"urmp_{s}", "path": f, "split": "train" if s == "train" else "validation"}
                               for s in ("train", "test") for f in files[s]],
                "skipped": [], "note": "Magenta's preprocessed URMP TFRecords: their train/test split is kept.",
                "build_seconds": round(time.perf_counter() - start, 1)}
    (tmp_dir / "statistics.json").write_text(json.dumps(stats, indent=2))
    (tmp_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    _replace_folder(tmp_dir, out_dir)
    return out_dir


# ----------------------------------------------------------------------------- reading
def read_manifest(dataset_dir) -> dict:
    """The manifest of a dataset folder, or a DatasetError saying what is missing."""
    path = Path(dataset_dir) / "manifest.json"
    if not path.is_file():
        raise DatasetError(f"{dataset_dir} is not a dataset folder (no manifest.json). Build one with "
                           "`python -m ttlib data build --source builtin --out DIR`.")
    return json.loads(path.read_text())


def read_statistics(dataset_dir) -> dict:
    """The statistics.json of a dataset folder."""
    read_manifest(dataset_dir)
    return json.loads((Path(dataset_dir) / "statistics.json").read_text())


def provider(dataset_dir, split: str = "train"):
    """ddsp's `TFRecordProvider` over one split, for ddsp's trainer and `get_batch()`.

    Each example is a dict: `audio` [n_samples], `f0_hz`, `f0_confidence`,
    `loudness_db` [n_frames].
    """
    from ddsp.training import data as ddsp_data

    manifest = read_manifest(dataset_dir)
    if split not in ("train", "validation"):
        raise DatasetError(f"split must be 'train' or 'validation', not {split!r}.")
    if manifest["examples"].get(split, 0) == 0:
        raise DatasetError(f"{dataset_dir} has no {split} examples.")
    params = manifest["params"]
    return ddsp_data.LegacyTFRecordProvider(str(Path(dataset_dir) / f"{split}.tfrecord"),
                                            example_secs=params["example_seconds"], sample_rate=SAMPLE_RATE,
                                            frame_rate=int(params["frame_rate"]))
