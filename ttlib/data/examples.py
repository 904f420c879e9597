"""A dataset split in memory, and the batches training draws from it.

`load_examples` reads one split of a dataset folder (`ttlib.data.dataset`) into an
`Examples`; `read_examples` reads it as a list of dicts, keeping the audio of only a few
examples (notebook 05 looks at every example's features but plays only a few);
`BatchSampler` gives the batch of training step k from (seed, k) alone,
which is what makes a resumed run see the same batches as an uninterrupted one
(notebook 06); `validation_batch` is the fixed batch held-out measures use.

Shapes: a batch is a dict of `audio` [batch, n_samples], `f0_hz` [batch, frames]
and `loudness_db` [batch, frames] (frames at the dataset's frame rate).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ttlib.core.errors import ConfigError, DatasetError
from ttlib.core.units import hop_length
from ttlib.data.dataset import SPLITS, read_manifest


@dataclass
class Examples:
    """The examples of one dataset split, in memory.

    Attributes:
      audio: [n, n_samples] float32 at `sample_rate`.
      f0_hz, f0_confidence, loudness_db: [n, n_frames] at `frame_rate`.
      recording_id: [n] the recording each example comes from.
      frame_rate: frames per second (Hz).
      sample_rate: Hz.
      f0_hz_truth: [n, n_frames] exact f0 (0 = silent) for built-in data, else None.
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray
    recording_id: list
    frame_rate: float
    sample_rate: int
    f0_hz_truth: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.audio.shape[0])

    @property
    def seconds(self) -> float:
        """Length of one example (s)."""
        return self.audio.shape[1] / self.sample_rate

    @property
    def hop(self) -> int:
        """Audio samples per frame."""
        return hop_length(self.sample_rate, self.frame_rate)

    def crop(self, index, start_frame: int, seconds: float) -> dict:
        """Features of examples `index` from `start_frame`, `seconds` long (model input dict)."""
        frames = int(round(seconds * self.frame_rate))
        samples = frames * self.hop
        s0 = start_frame * self.hop
        return {"audio": self.audio[index, s0:s0 + samples],
                "f0_hz": self.f0_hz[index, start_frame:start_frame + frames],
                "loudness_db": self.loudness_db[index, start_frame:start_frame + frames]}

    def select(self, indices) -> Examples:
        """The examples at `indices` (a list or array of positions), in that order."""
        indices = np.asarray(indices, int)
        return dataclasses.replace(
            self, audio=self.audio[indices], f0_hz=self.f0_hz[indices], f0_confidence=self.f0_confidence[indices],
            loudness_db=self.loudness_db[indices], recording_id=[self.recording_id[i] for i in indices],
            f0_hz_truth=None if self.f0_hz_truth is None else self.f0_hz_truth[indices])

    def at_frame_rate(self, frame_rate: float) -> Examples:
        """The same examples with their frame features taken at `frame_rate` (every k-th frame)."""
        step = int(round(self.frame_rate / frame_rate))
        if step < 1 or abs(self.frame_rate / step - frame_rate) > 1e-6:
            raise ConfigError(f"The dataset's {self.frame_rate:g} frames/s are not a multiple of {frame_rate:g}.")
        return dataclasses.replace(
            self, f0_hz=self.f0_hz[:, ::step], f0_confidence=self.f0_confidence[:, ::step],
            loudness_db=self.loudness_db[:, ::step], frame_rate=float(frame_rate),
            f0_hz_truth=None if self.f0_hz_truth is None else self.f0_hz_truth[:, ::step])


def _parsed(data_dir: str | os.PathLike, split: str, max_examples: int | None):
    """Each example of `split` as a dict of NumPy arrays (bytes for recording_id), and the split's count."""
    import tensorflow as tf

    manifest = read_manifest(data_dir)
    if split not in SPLITS:
        raise DatasetError(f"split must be 'train' or 'validation', not {split!r}.")
    count = manifest["examples"].get(split, 0)
    n_samples, n_frames = int(manifest["example_samples"]), int(manifest["example_frames"])
    spec = {"audio": tf.io.FixedLenFeature([n_samples], tf.float32),
            "f0_hz": tf.io.FixedLenFeature([n_frames], tf.float32),
            "f0_confidence": tf.io.FixedLenFeature([n_frames], tf.float32),
            "loudness_db": tf.io.FixedLenFeature([n_frames], tf.float32),
            "recording_id": tf.io.FixedLenFeature([], tf.string, default_value=b""),
            "f0_hz_truth": tf.io.FixedLenFeature([n_frames], tf.float32, default_value=[-1.0] * n_frames)}

    def records():
        if count == 0:
            return
        dataset = tf.data.TFRecordDataset(str(Path(data_dir) / f"{split}.tfrecord"))
        if max_examples is not None:
            dataset = dataset.take(max_examples)
        try:
            yield from dataset.map(lambda r: tf.io.parse_single_example(r, spec)).as_numpy_iterator()
        except tf.errors.OpError as exc:
            raise DatasetError(f"{data_dir}/{split}.tfrecord cannot be read ({type(exc).__name__}); the file is "
                               "damaged or from another format. Rebuild the dataset with --overwrite.") from None

    return records(), count, manifest


def load_examples(data_dir: str | os.PathLike, split: str = "train", max_examples: int | None = None) -> Examples:
    """Read one split of a dataset folder (see `ttlib.data.dataset`) into memory.

    Raises:
      DatasetError: not a dataset folder, the split is empty, or its file is damaged.
    """
    records, count, manifest = _parsed(data_dir, split, max_examples)
    if count == 0:
        raise DatasetError(f"{data_dir} has no {split} examples: rebuild it with more recordings "
                           "(a recording must be at least one example long).")
    columns = {}
    for record in records:
        for k, v in record.items():
            columns.setdefault(k, []).append(v)
    truth = np.stack(columns["f0_hz_truth"])
    return Examples(
        audio=np.stack(columns["audio"]), f0_hz=np.stack(columns["f0_hz"]),
        f0_confidence=np.stack(columns["f0_confidence"]), loudness_db=np.stack(columns["loudness_db"]),
        recording_id=[r.decode() for r in columns["recording_id"]],
        frame_rate=float(manifest["params"]["frame_rate"]), sample_rate=int(manifest["params"]["sample_rate"]),
        f0_hz_truth=None if (truth < 0).all() else truth)


def read_examples(data_dir: str | os.PathLike, split: str = "train", keep_audio: tuple | list = ()) -> list[dict]:
    """Every example of one split as a dict of NumPy arrays, in file order (notebook 05).

    Unlike ddsp's reader (`ttlib.data.provider`), which knows only audio, f0_hz,
    f0_confidence and loudness_db, each dict also has `recording_id` (a str) and, for
    the built-in data, `f0_hz_truth`. To save memory, `audio` is kept only for the
    example indices in `keep_audio`. An empty split gives an empty list.

    Raises:
      DatasetError: not a dataset folder, or its file is damaged.
    """
    keep = set(int(i) for i in keep_audio)
    examples = []
    for index, record in enumerate(_parsed(data_dir, split, None)[0]):
        example = {k: v for k, v in record.items() if k != "audio" or index in keep}
        example["recording_id"] = example["recording_id"].decode()
        if (example["f0_hz_truth"] < 0).all():
            del example["f0_hz_truth"]
        examples.append(example)
    return examples


class BatchSampler:
    """The batch of training step k, from (seed, k) alone.

    Example q = k * batch_size + j of the stream is position q mod n of the
    permutation of epoch q // n (seeded by (seed, epoch)); it is cropped to the
    model's example length at a frame offset seeded by (seed, q).
    """

    def __init__(self, examples: Examples, seconds: float, batch_size: int, seed: int):
        if seconds > examples.seconds + 1e-9:
            raise ConfigError(f"The model wants {seconds:g} s examples but the dataset's are {examples.seconds:g} s; "
                              "build the dataset with longer examples or use a configuration with shorter ones.")
        self.examples, self.seconds, self.batch_size, self.seed = examples, seconds, batch_size, seed
        self.max_start = int(round((examples.seconds - seconds) * examples.frame_rate))
        self._perms = {}

    def _perm(self, epoch: int) -> np.ndarray:
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch]).permutation(len(self.examples))}
        return self._perms[epoch]

    def indices(self, step: int) -> list[tuple[int, int]]:
        """(example index, start frame) of each example of step `step` (0-based)."""
        n = len(self.examples)
        out = []
        for q in range(step * self.batch_size, (step + 1) * self.batch_size):
            index = int(self._perm(q // n)[q % n])
            start = 0
            if self.max_start:
                start = int(np.random.default_rng([self.seed, q, 1]).integers(0, self.max_start + 1))
            out.append((index, start))
        return out

    def batch(self, step: int) -> dict:
        """The batch of step `step` (0-based): float32 arrays, see the module's docstring."""
        parts = [self.examples.crop(i, s, self.seconds) for i, s in self.indices(step)]
        return {k: np.stack([p[k] for p in parts]).astype(np.float32) for k in parts[0]}


def validation_batch(examples: Examples, seconds: float, max_examples: int) -> dict:
    """The first `seconds` of the first `max_examples` examples, as one batch."""
    n = min(len(examples), max_examples)
    parts = [examples.crop(i, 0, seconds) for i in range(n)]
    return {k: np.stack([p[k] for p in parts]).astype(np.float32) for k in parts[0]}
