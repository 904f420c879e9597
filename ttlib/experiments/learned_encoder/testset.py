"""The transfer test set: held-out whistling, with what a trumpet playing the same notes sounds like.

The whistle dataset's held-out (validation) recordings are built-in performances, so
their scores give the exact f0, and the same scores rendered with the built-in
trumpet, moved by whole octaves into its range, are the reference the transfer is
measured against (spectral and loudness errors). Every row of notebook 08's table is
measured on the same set; it is built once and kept on disk under
`ttlib.core.paths.cache_dir()/experiment-transfer-sets`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ttlib.core import paths
from ttlib.core.errors import ExperimentError
from ttlib.core.io import read_json, sha256_file, sha256_text
from ttlib.core.units import SAMPLE_RATE, hop_length, hz_to_midi
from ttlib.data import builtin
from ttlib.data.dataset import read_manifest
from ttlib.data.features import loudness_db
from ttlib.data.score import INSTRUMENTS, Performance
from ttlib.data.stats import training_ranges

TESTSET_VERSION = 1
"""Bump when the set is made differently, so cached sets are rebuilt."""


@dataclass
class TransferSet:
    """Held-out whistling cut into clips, with what a trumpet playing it should give.

    Attributes:
      audio: [n, n_samples] whistle clips (16 kHz).
      f0_hz: [n, frames] the whistle's exact f0 (0 = silent), at the control rate.
      loudness_db: [n, frames] the whistle's loudness.
      target: [n, n_samples] the same notes, bends and dynamics rendered with the
        built-in trumpet, `octave_shift` octaves away (the reference for spectral and
        loudness errors).
      target_loudness_db: [n, frames] the target's loudness.
      octave_shift: whole octaves from the whistle to the trumpet's median pitch.
      frame_rate: control frames per second.
      names: [n] "recording@start_s".
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    loudness_db: np.ndarray
    target: np.ndarray
    target_loudness_db: np.ndarray
    octave_shift: int
    frame_rate: int
    names: list

    def __len__(self) -> int:
        return int(self.audio.shape[0])

    def select(self, indices) -> TransferSet:
        """The clips at `indices`, in that order."""
        indices = np.asarray(indices, int)
        return TransferSet(self.audio[indices], self.f0_hz[indices], self.loudness_db[indices], self.target[indices],
                           self.target_loudness_db[indices], self.octave_shift, self.frame_rate,
                           [self.names[i] for i in indices])


def transfer_set(whistle_dir: str | os.PathLike, trumpet_statistics: dict, seconds: float, frame_rate: int = 50,
                 max_clips: int | None = 16, cache_dir: str | os.PathLike | None = None) -> TransferSet:
    """Cut the held-out (validation) recordings of a built-in whistle dataset into clips.

    The recordings must be built-in ones (their scores give the exact f0 and the trumpet
    target). The set is kept on disk, keyed by the held-out data, the trumpet's
    statistics and every argument, so every row of the table gets the same set at once.

    Raises:
      ExperimentError: the dataset has no held-out built-in recordings.
    """
    manifest = read_manifest(whistle_dir)
    held_out = [r for r in manifest["recordings"] if r["split"] == "validation"]
    if not held_out or not manifest["params"]["source"].startswith("builtin"):
        raise ExperimentError(f"{whistle_dir} has no held-out built-in recordings; build it with "
                              "`python -m ttlib data build --source builtin:whistle --validation-fraction 0.25`.")
    folders = sorted({str(Path(r["path"]).parent) for r in held_out})
    key = sha256_text(json.dumps({
        "version": TESTSET_VERSION, "generator": builtin.GENERATOR_VERSION,
        "held_out": sha256_file(Path(whistle_dir) / "validation.tfrecord"),
        "renderings": [read_json(Path(f) / "manifest.json")["params"] for f in folders],
        "trumpet_statistics": sha256_text(json.dumps(trumpet_statistics, sort_keys=True)),
        "seconds": float(seconds), "frame_rate": int(frame_rate), "max_clips": max_clips}, sort_keys=True))[:20]
    path = Path(cache_dir or paths.cache_dir()) / "experiment-transfer-sets" / f"{key}.npz"
    if path.is_file():
        try:
            with np.load(path) as saved:
                return TransferSet(saved["audio"], saved["f0_hz"], saved["loudness_db"], saved["target"],
                                   saved["target_loudness_db"], int(saved["octave_shift"]), int(frame_rate),
                                   [str(n) for n in saved["names"]])
        except (OSError, ValueError, KeyError):
            path.unlink(missing_ok=True)                         # damaged: made again
    tset = _make_transfer_set(held_out, folders, trumpet_statistics, seconds, frame_rate, max_clips)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    np.savez(tmp, audio=tset.audio, f0_hz=tset.f0_hz, loudness_db=tset.loudness_db, target=tset.target,
             target_loudness_db=tset.target_loudness_db, octave_shift=tset.octave_shift, names=np.array(tset.names))
    os.replace(tmp, path)
    return tset


def _make_transfer_set(held_out: list, folders: list, trumpet_statistics: dict, seconds: float, frame_rate: int,
                       max_clips: int | None) -> TransferSet:
    takes = {}
    for folder in folders:
        for take in builtin.recordings(folder):
            takes[take.name] = take
    hop = hop_length(SAMPLE_RATE, frame_rate)
    n_samples, count = int(round(seconds * SAMPLE_RATE)), int(round(seconds * frame_rate))
    clips = []
    for entry in held_out:
        take = takes[entry["recording_id"]]
        f0, voiced = take.ground_truth(frame_rate)
        f0 = np.where(voiced, f0, 0.0)
        for start in range(0, take.audio.size - n_samples + 1, n_samples):
            clips.append((take, start, f0[start // hop:start // hop + count]))
    if max_clips is not None and len(clips) > max_clips:       # spread over the recordings
        keep = np.linspace(0, len(clips) - 1, max_clips).round().astype(int)
        clips = [clips[i] for i in keep]
    truth = np.stack([c[2] for c in clips])
    ranges = training_ranges(trumpet_statistics)
    octave_shift = int(np.round((ranges["pitch_midi"][50] - np.median(hz_to_midi(truth[truth > 0]))) / 12.0))
    targets = {}
    for take in {c[0].name: c[0] for c in clips}.values():
        p = take.performance
        moved = Performance([(n[0] + 12 * octave_shift, n[1], n[2], n[3]) for n in p.notes],
                            p.bends, p.expression, p.seconds)
        targets[take.name] = builtin.render(moved, INSTRUMENTS["trumpet"])
    audio = np.stack([c[0].audio[c[1]:c[1] + n_samples] for c in clips]).astype(np.float32)
    target = np.stack([targets[c[0].name][c[1]:c[1] + n_samples] for c in clips]).astype(np.float32)
    loud = np.stack([loudness_db(a, SAMPLE_RATE, frame_rate)[:count] for a in audio])
    target_loud = np.stack([loudness_db(a, SAMPLE_RATE, frame_rate)[:count] for a in target])
    return TransferSet(audio, truth.astype(np.float32), loud.astype(np.float32), target,
                       target_loud.astype(np.float32), octave_shift, frame_rate,
                       [f"{c[0].name}@{c[1] / SAMPLE_RATE:g}s" for c in clips])
