"""The experiment's encoder: a private copy of CREPE's pretrained convolutions, and their features.

`crepe_convolutions` copies CREPE's six convolutional layers (the classifier dropped), so
fine-tuning them never changes the tracker `ttlib.pitch` uses; `crepe_windows` cuts the
normalised 1024-sample windows CREPE reads around every control frame (notebook 08
derives them by hand first); `encoder_features` runs the convolutions on them, and
`cached_encoder_features` keeps a dataset split's features on disk.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ttlib.core import paths
from ttlib.core.errors import ExperimentError
from ttlib.core.io import sha256_file
from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE, hop_length, n_frames
from ttlib.data.examples import Examples
from ttlib.pitch.crepe_weights import check_installed

if TYPE_CHECKING:
    import tensorflow as tf


def crepe_convolutions(capacity: str = "tiny") -> tf.keras.Model:
    """A fresh copy of CREPE's pretrained convolutional layers: [n, 1024] frames -> [n, features].

    The copy has its own weights (fine-tuning it does not change the tracker that
    `ttlib.pitch` uses). Features: 4 positions x 64 x capacity-multiplier/4 channels
    (256 for tiny, 512 for small).
    """
    import crepe.core
    import tensorflow as tf

    check_installed(capacity)
    full = crepe.core.build_and_load_model(capacity)
    trunk = tf.keras.Model(full.input, full.get_layer("flatten").output, name=f"crepe_{capacity}_convs")
    copy = tf.keras.models.clone_model(trunk)
    copy.set_weights(trunk.get_weights())
    return copy


def crepe_windows(audio, frame_rate: int, count: int) -> tf.Tensor:
    """CREPE's normalised windows around every control frame.

    Args:
      audio: [batch, n_samples] tensor at 16 kHz.
      frame_rate: control frames per second.
      count: frames to return; frame i is centred on sample i * hop.

    Returns:
      [batch, n_frames, 1024]: each window minus its mean, divided by its standard
      deviation (CREPE's input; it throws the window's level away).
    """
    import tensorflow as tf

    padded = tf.pad(audio, [[0, 0], [FRAME_LENGTH // 2, FRAME_LENGTH // 2]])
    windows = tf.signal.frame(padded, FRAME_LENGTH, hop_length(SAMPLE_RATE, frame_rate))[:, :count]
    windows = windows - tf.reduce_mean(windows, axis=-1, keepdims=True)
    return windows / tf.maximum(tf.math.reduce_std(windows, axis=-1, keepdims=True), 1e-8)


def encoder_features(audio, capacity: str = "tiny", frame_rate: int = 50, chunk_frames: int = 2048,
                     convolutions=None) -> np.ndarray:
    """CREPE's convolutional features of every control frame of some clips.

    Args:
      audio: [n, n_samples] at 16 kHz.
      convolutions: a `crepe_convolutions` model to use (default: a new one).

    Returns:
      [n, n_samples // hop, features] float32: the model's control frames (whole frames,
      `ttlib.core.units.n_frames(..., whole=True)`).
    """
    import tensorflow as tf

    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2:
        raise ExperimentError(f"encoder_features wants [clips, samples], got shape {audio.shape}.")
    convolutions = convolutions or crepe_convolutions(capacity)
    count = n_frames(audio.shape[1], hop_length(SAMPLE_RATE, frame_rate), whole=True)
    per_chunk = max(1, chunk_frames // max(count, 1))
    out = []
    for s in range(0, audio.shape[0], per_chunk):
        windows = crepe_windows(tf.convert_to_tensor(audio[s:s + per_chunk]), frame_rate, count)
        flat = tf.reshape(windows, [-1, FRAME_LENGTH])
        feats = convolutions(flat, training=False)
        out.append(np.asarray(tf.reshape(feats, [windows.shape[0], count, -1])))
    return np.concatenate(out).astype(np.float32)


def cached_encoder_features(examples: Examples, dataset_dir: str | os.PathLike, split: str, capacity: str,
                            frame_rate: int, cache_dir: str | os.PathLike | None = None,
                            progress: bool = False) -> np.ndarray:
    """`encoder_features` of a dataset split's examples, computed once and kept on disk.

    The cache file is named by the split's TFRecord SHA-256, the capacity and the frame rate
    (under `ttlib.core.paths.cache_dir()/crepe-encoder` unless `cache_dir` is given).
    """
    digest = sha256_file(Path(dataset_dir) / f"{split}.tfrecord")[:16]
    root = Path(cache_dir) if cache_dir is not None else paths.cache_dir()
    path = root / "crepe-encoder" / f"{digest}-{split}-{capacity}-{frame_rate}fps.npy"
    expected = (len(examples), n_frames(examples.audio.shape[1], hop_length(SAMPLE_RATE, frame_rate), whole=True))
    if path.is_file():
        try:
            cached = np.load(path)
            if cached.shape[:2] == expected:
                return cached
        except (OSError, ValueError):
            pass                                            # damaged: compute again
    start = time.perf_counter()
    convolutions = crepe_convolutions(capacity)
    parts = []
    step = 32
    iterator = range(0, len(examples), step)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"CREPE {capacity} features ({split})", unit="x32", leave=False)
    for s in iterator:
        parts.append(encoder_features(examples.audio[s:s + step], capacity, frame_rate, convolutions=convolutions))
    values = np.concatenate(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, values)
    os.replace(tmp, path)
    if progress:
        print(f"CREPE {capacity} features of {len(examples)} {split} examples: {time.perf_counter() - start:.0f} s "
              f"(cached in {path})")
    return values
