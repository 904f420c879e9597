"""Datasets for training: features, 4 s examples, splits by recording, statistics, the files.

`build_dataset(source, out_dir)` takes one of
  - "builtin" or "builtin:trumpet" / "builtin:whistle": the rendered performances
    (`ttlib.data.builtin`), with their exact f0 kept as `f0_hz_truth`;
  - "urmp:PATH": a copy of the URMP dataset in its published layout, or a folder of
    Magenta's preprocessed URMP TFRecords
    (`urmp_<inst>_solo_ddsp_conditioning_{train,test}*.tfrecord*`);
  - "folder:PATH": any folder of recordings, searched recursively
(see `ttlib.data.sources`), each recording played in a room first if `room` names an
impulse response, or a folder of them, one drawn per recording (`play_in_room`:
reverberant training data, as the DDSP paper's
dereverberation experiment trains on; with `dry_target` the features come from the
recording in the room and the audio target is the recording without it, supervised
dereverberation; notebook 10), and writes to `out_dir`:
  - `train.tfrecord`, `validation.tfrecord`: examples in ddsp's format (`audio`
    [n_samples], `f0_hz`, `f0_confidence`, `loudness_db` [n_frames]), read by
    `provider()` (ddsp's `TFRecordProvider`) for ddsp's trainer, or by
    `ttlib.data.examples.load_examples` into memory;
  - `statistics.json`: pitch and loudness distributions and quantiles of the
    training split (what transfer's automatic adjustment needs, `ttlib.data.stats`);
  - `manifest.json`: the source, every parameter, each recording (its split, length,
    examples, what was found in it) and each file skipped and why.

Train and validation are split by recording: no window of one recording is on both
sides. Taught in notebook 05.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

import ttlib
from ttlib.core import paths
from ttlib.core.errors import DatasetError
from ttlib.core.io import read_json, replace_folder, sha256_file
from ttlib.core.units import SAMPLE_RATE, hop_length, n_frames
from ttlib.data.features import recording_features
from ttlib.data.pipeline import beam_features, check_pipeline, runner_name
from ttlib.data.rooms import load_rooms, play_in_room, rooms_sha256
from ttlib.data.sources import (
                                builtin_items,
                                builtin_render,
                                folder_items,
                                parse_source,
                                urmp_items,
                                urmp_tfrecord_files,
)
from ttlib.data.stats import statistics
from ttlib.pitch.tracking import METHODS

if TYPE_CHECKING:
    import tensorflow as tf
    from ddsp.training.data import TFRecordProvider

DATASET_VERSION = 1
SPLITS = ("train", "validation")


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


def windows(count: int, example_frames: int, hop_frames: int) -> list[int]:
    """Start frames of the examples in `count` frames: every `hop_frames`, each `example_frames` long, inside."""
    if count < example_frames:
        return []
    return list(range(0, count - example_frames + 1, hop_frames))



def build_dataset(source: str, out_dir: str | os.PathLike, f0_method: str | None = None,
                  frame_rate: float = 250.0, example_seconds: int = 4, hop_seconds: float = 1.0,
                  validation_fraction: float = 0.1, seed: int = 0, minutes: float | None = None,
                  instrument: str = "tpt", cache_dir: str | os.PathLike | None = "default",
                  overwrite: bool = False, progress: bool = True, runner: str | None = None,
                  pipeline_options: str | list | None = None, staging: str | None = None,
                  room: str | os.PathLike | None = None, dry_target: bool = False) -> Path:
    """Build a training set from `source` into `out_dir` (see the module's docstring).

    Args:
      source: "builtin[:INSTRUMENT][:dry|:dynamics|:gm]" (`ttlib.data.sources.builtin_items`),
        "urmp:PATH" or "folder:PATH".
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
      progress: show progress bars (in-process) or the pipeline's stages (Beam).
      runner: None: compute the features here, one recording after another; else an Apache Beam
        runner ("direct", "DataflowRunner", "FlinkRunner", "SparkRunner", `ttlib.data.pipeline`)
        computes them, one recording per element, and the dataset is assembled here from what the
        workers staged. The files written are the same either way.
      pipeline_options: Beam's pipeline options, as ddsp_prepare_tfrecord's `--pipeline_options`
        ("--project=P,--region=R,--temp_location=gs://...") or a list of flags.
      staging: where the workers write each recording's features (a folder every worker and this
        machine can reach: local for "direct", gs://... for Dataflow); default `out_dir` + ".staging".
      room: an impulse response's audio file: every recording is played in that room
        before its features are computed (`play_in_room`), so f0, loudness and the
        audio target all hold its reverberation; or a folder of them: each recording is
        played in one drawn at random (`seed`). None: the recordings as they are.
      dry_target: with `room`, the audio target is the recording before it was played in
        the room (f0 and loudness still from the recording in it): the model learns to
        make the dry sound from reverberant features.

    Returns:
      `out_dir` as a Path. If it already holds a dataset built with the same
      arguments, it is returned at once.

    Raises:
      DatasetError: a bad source, an `out_dir` holding something else, no usable audio, or a
        `room` folder without audio files.
      MissingFileError, AudioError: a `room` that is missing, not audio, silent or too long.
    """
    kind, arg = parse_source(source)
    out_dir = Path(out_dir)
    if int(example_seconds) != example_seconds or example_seconds <= 0:
        raise DatasetError(f"example_seconds must be a whole number of seconds (ddsp's reader), not {example_seconds}.")
    if not 0 <= validation_fraction < 1:
        raise DatasetError(f"validation_fraction must be in [0, 1), not {validation_fraction}.")
    hop = hop_length(SAMPLE_RATE, frame_rate)
    method = f0_method or "crepe-tiny"
    if method not in METHODS:
        raise DatasetError(f"Unknown f0 method {method!r}; choose one of {', '.join(METHODS)}.")
    params = {"version": DATASET_VERSION, "source": f"{kind}:{arg}", "f0_method": f0_method,
              "frame_rate": frame_rate, "example_seconds": int(example_seconds), "hop_seconds": hop_seconds,
              "validation_fraction": validation_fraction, "seed": seed, "minutes": minutes,
              "instrument": instrument, "sample_rate": SAMPLE_RATE}
    render = builtin_render(arg) if kind == "builtin" else None
    if render is not None:
        params["builtin"] = render                          # true dynamics: not the samples of before
    rooms = None
    if dry_target and room is None:
        raise DatasetError("A dry target (--dry-target) keeps the audio target dry while the features come from the "
                           "recording played in a room: give the room too (--room IR.wav).")
    if room is not None:
        rooms = load_rooms(room)                                    # unit energy; a bad file is named here
        params["room"] = {"path": str(Path(room).resolve()),        # the samples, not the files' bytes:
                          "sha256": rooms_sha256(rooms)}           # (a PEAK chunk's time)
        if Path(room).is_dir():
            params["room"]["files"] = [name for name, _ in rooms]
        if dry_target:
            params["room"]["target"] = "dry"
    if runner is not None:
        check_pipeline(runner, pipeline_options, staging)           # a mistake is named before any work
    if _up_to_date(out_dir, params, overwrite):
        return out_dir

    start = time.perf_counter()
    cache = None if cache_dir is None else (paths.cache_dir() if cache_dir == "default" else Path(cache_dir))
    if kind == "urmp" and any(urmp_tfrecord_files(arg, instrument).values()):
        if rooms is not None:
            raise DatasetError(f"{arg} holds Magenta's URMP TFRecords, whose features are computed already; a room "
                               "can only be applied to audio. Point urmp: at the URMP folder of WAV stems instead.")
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

    if rooms is not None:
        play_in_room(items, rooms, keep_dry=dry_target, seed=seed)
    example_frames = int(example_seconds * frame_rate)
    example_samples = int(example_seconds * SAMPLE_RATE)
    pad_short(items, example_samples, frame_rate)
    if runner is None:
        per_recording = _features_of(items, method, f0_method, frame_rate, cache, progress)
    else:
        per_recording = beam_features(items, method, f0_method, frame_rate, cache, runner, pipeline_options,
                                      staging or out_dir.with_name(out_dir.name + ".staging"), progress)
    split = split_recordings({rid: v[0].audio.size / SAMPLE_RATE for rid, v in per_recording.items()},
                             validation_fraction, seed)
    tmp_dir = out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(tmp_dir, ignore_errors=True)
    tmp_dir.mkdir(parents=True)
    counts, recordings, frames = _write_examples(tmp_dir, per_recording, split, hop, example_frames,
                                                 max(1, int(round(hop_seconds * frame_rate))))
    if counts["train"] == 0:
        raise DatasetError(f"No training example: every recording is shorter than {example_seconds} s "
                           "or went to validation. Add recordings or lower example_seconds.")
    stats = {side: statistics(*(np.concatenate([p[i] for p in parts]) for i in range(3)), frame_rate)
             for side, parts in frames.items() if parts}
    stats["frame_rate"] = frame_rate
    stats["sample_rate"] = SAMPLE_RATE
    stats["f0_method"] = "annotation" if (kind == "urmp" and f0_method is None) else method
    manifest = {"params": params, "built": time.strftime("%Y-%m-%d %H:%M:%S"), "ttlib": ttlib.__version__,
                "examples": counts, "example_frames": example_frames, "example_samples": example_samples,
                "recordings": recordings, "skipped": skipped, "build_seconds": round(time.perf_counter() - start, 1),
                "features_by": "this process" if runner is None else f"Apache Beam, {runner_name(runner)}"}
    (tmp_dir / "statistics.json").write_text(json.dumps(stats, indent=2))
    (tmp_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    replace_folder(tmp_dir, out_dir)
    return out_dir


def _up_to_date(out_dir: Path, params: dict, overwrite: bool) -> bool:
    """Whether `out_dir` already holds this dataset; refuses to replace anything else unless `overwrite`."""
    manifest_path = out_dir / "manifest.json"
    if manifest_path.is_file():
        existing = json.loads(manifest_path.read_text())
        if existing.get("params") == params:
            print(f"{out_dir} is up to date (built {existing.get('built')}); nothing to do.")
            return True
        if not overwrite:
            raise DatasetError(f"{out_dir} holds a dataset built with other settings ({existing.get('params')}). "
                               "Choose another --out, or pass --overwrite to replace it.")
    elif out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise DatasetError(f"{out_dir} exists and is not a dataset folder; choose an empty or new --out "
                           "(or pass --overwrite to replace its contents).")
    return False


def pad_short(items: list, example_samples: int, frame_rate: float) -> None:
    """Pad recordings shorter than one example with silence (their notes say so), in place."""
    hop = hop_length(SAMPLE_RATE, frame_rate)
    for item in items:
        if item.audio.size < example_samples:
            item.notes.append(f"shorter than one example ({item.audio.size / SAMPLE_RATE:.2f} s): padded with silence")
            if item.target is not None:
                item.target = np.pad(item.target, (0, example_samples - item.audio.size))
            item.audio = np.pad(item.audio, (0, example_samples - item.audio.size))
            for name in ("f0_hz", "f0_confidence", "f0_hz_truth"):
                value = getattr(item, name)
                if value is not None:
                    setattr(item, name, np.pad(value, (0, n_frames(item.audio.size, hop) - value.size)))


def _features_of(items: list, method: str, f0_method: str | None, frame_rate: float,
                 cache: Path | None, progress: bool) -> dict:
    """{recording_id: (item, f0_hz, f0_confidence, loudness_db, f0 source)}, computed here, one by one."""
    bar = None
    if progress:
        from tqdm.auto import tqdm

        tenths = [int(round(10 * item.audio.size / SAMPLE_RATE)) for item in items]      # whole: no float overshoot
        bar = tqdm(total=sum(tenths), unit="s", unit_scale=0.1, desc=f"features ({method})", leave=False)
    per_recording = {}
    for item in items:
        per_recording[item.recording_id] = (item, *recording_features(item, method, f0_method, frame_rate, cache))
        if bar is not None:
            bar.update(int(round(10 * item.audio.size / SAMPLE_RATE)))
    if bar is not None:
        bar.close()
    return per_recording


def _write_examples(folder: Path, per_recording: dict, split: dict, hop: int, example_frames: int,
                    hop_frames: int) -> tuple[dict, list, dict]:
    """Write each recording's windows into `folder/{train,validation}.tfrecord`.

    Returns:
      (examples per split, one manifest entry per recording, {split: [(f0, confidence, loudness)]}).
    """
    import tensorflow as tf

    example_samples = example_frames * hop
    writers = {name: tf.io.TFRecordWriter(str(folder / f"{name}.tfrecord")) for name in SPLITS}
    counts, recordings, frames = {name: 0 for name in SPLITS}, [], {name: [] for name in SPLITS}
    try:
        for rid, (item, f0, confidence, loudness, f0_source) in per_recording.items():
            side = split[rid]
            target = item.audio if item.target is None else item.target
            count = min(f0.size, loudness.size)
            starts = [s for s in windows(count, example_frames, hop_frames)
                      if s * hop + example_samples <= item.audio.size]
            for s in starts:
                example = {"audio": target[s * hop:s * hop + example_samples],
                           "f0_hz": f0[s:s + example_frames], "f0_confidence": confidence[s:s + example_frames],
                           "loudness_db": loudness[s:s + example_frames]}
                if item.f0_hz_truth is not None:
                    example["f0_hz_truth"] = item.f0_hz_truth[s:s + example_frames]
                writers[side].write(tf_example(example, rid).SerializeToString(deterministic=True))
            counts[side] += len(starts)
            frames[side].append((f0[:count], confidence[:count], loudness[:count]))
            recordings.append({"recording_id": rid, "path": item.path, "split": side,
                               "seconds": round(item.audio.size / SAMPLE_RATE, 3), "examples": len(starts),
                               "f0_source": f0_source, "has_truth": item.f0_hz_truth is not None,
                               "notes": item.notes})
    finally:
        for writer in writers.values():
            writer.close()
    return counts, recordings, frames


def tf_example(example: dict, recording_id: str) -> tf.train.Example:
    """One example as a `tf.train.Example`: each array a float list, and its recording's id.

    Written with `SerializeToString(deterministic=True)`: the features are a protobuf map, whose
    entries are otherwise serialized in an order that changes from one Python process to the next,
    so the same examples would give files with other bytes (and another SHA-256) at every build.
    """
    import tensorflow as tf

    feature = {k: tf.train.Feature(float_list=tf.train.FloatList(value=np.asarray(v, np.float32)))
               for k, v in example.items()}
    feature["recording_id"] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[recording_id.encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def _import_urmp_tfrecords(path: str, instrument: str, out_dir: Path, params: dict, frame_rate: float,
                           example_seconds: int, start: float) -> Path:
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
                    writer.write(tf_example(example, f"urmp_{theirs}").SerializeToString(deterministic=True))
                    parts.append((record["f0_hz"], record["f0_confidence"], record["loudness_db"]))
                    counts[ours] += 1
        if parts:
            stats[ours] = statistics(*(np.concatenate([p[i] for p in parts]) for i in range(3)), frame_rate)
    stats.update({"frame_rate": frame_rate, "sample_rate": SAMPLE_RATE, "f0_method": "crepe (Magenta's preprocessing)"})
    manifest = {"params": params, "built": time.strftime("%Y-%m-%d %H:%M:%S"), "ttlib": ttlib.__version__,
                "examples": counts, "example_frames": int(example_seconds * frame_rate),
                "example_samples": int(example_seconds * SAMPLE_RATE),
                "recordings": [{"recording_id": f"urmp_{s}", "path": f,
                                "split": "train" if s == "train" else "validation"}
                               for s in ("train", "test") for f in files[s]],
                "skipped": [], "note": "Magenta's preprocessed URMP TFRecords: their train/test split is kept.",
                "build_seconds": round(time.perf_counter() - start, 1)}
    (tmp_dir / "statistics.json").write_text(json.dumps(stats, indent=2))
    (tmp_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    replace_folder(tmp_dir, out_dir)
    return out_dir


# ----------------------------------------------------------------------------- reading
def read_manifest(dataset_dir: str | os.PathLike) -> dict:
    """The manifest of a dataset folder, or a DatasetError saying what is missing."""
    path = Path(dataset_dir) / "manifest.json"
    if not path.is_file():
        raise DatasetError(f"{dataset_dir} is not a dataset folder (no manifest.json). Build one with "
                           "`python -m ttlib data build --source builtin --out DIR`.")
    return read_json(path, error=DatasetError)


def read_statistics(dataset_dir: str | os.PathLike) -> dict:
    """The statistics.json of a dataset folder."""
    read_manifest(dataset_dir)
    return read_json(Path(dataset_dir) / "statistics.json", error=DatasetError)


def dataset_fingerprint(dataset_dir: str | os.PathLike) -> dict:
    """Where a dataset came from and the SHA-256 of its files (what a run log records of its data)."""
    dataset_dir = Path(dataset_dir)
    manifest = read_manifest(dataset_dir)
    return {"path": str(dataset_dir.resolve()), "source": manifest["params"]["source"],
            "examples": manifest["examples"],
            "train_sha256": sha256_file(dataset_dir / "train.tfrecord"),
            "statistics_sha256": sha256_file(dataset_dir / "statistics.json")}


def provider(dataset_dir: str | os.PathLike, split: str = "train") -> TFRecordProvider:
    """ddsp's `TFRecordProvider` over one split, for ddsp's trainer and `get_batch()`.

    Each example is a dict: `audio` [n_samples], `f0_hz`, `f0_confidence`,
    `loudness_db` [n_frames].
    """
    from ddsp.training import data as ddsp_data

    manifest = read_manifest(dataset_dir)
    if split not in SPLITS:
        raise DatasetError(f"split must be 'train' or 'validation', not {split!r}.")
    if manifest["examples"].get(split, 0) == 0:
        raise DatasetError(f"{dataset_dir} has no {split} examples.")
    params = manifest["params"]
    return ddsp_data.LegacyTFRecordProvider(str(Path(dataset_dir) / f"{split}.tfrecord"),
                                            example_secs=params["example_seconds"], sample_rate=SAMPLE_RATE,
                                            frame_rate=int(params["frame_rate"]))
