"""Features for DDSP: f0 with confidence, and A-weighted loudness, cached on disk.

Frames are on the course's analysis grid (`ttlib.core.units`): frame i at
t = i / frame_rate, i = 0 .. n_samples // hop, the grid of `ttlib.pitch.track` and of
ddsp's `compute_loudness` with 'center' padding. The cache key is the SHA-256 of the
audio's samples together with every parameter and the feature code's version, so a
second run is instant and a changed parameter recomputes.

Loudness is used from notebook 04 on; notebook 05 computes both features for a dataset.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ttlib.core import paths
from ttlib.core.io import atomic_file
from ttlib.core.units import SAMPLE_RATE, frame_times, hop_length, n_frames
from ttlib.pitch.tracking import check_method, track

FEATURES_VERSION = 1
"""Bump when the computation changes, so old cache entries are not reused."""
LOUDNESS_N_FFT = 512
"""ddsp's default FFT size for loudness (32 ms at 16 kHz)."""


@dataclass
class Features:
    """Frame-wise features of one recording.

    Attributes:
      f0_hz: f0 in Hz, shape [n_frames].
      f0_confidence: tracker confidence in [0, 1], shape [n_frames].
      loudness_db: A-weighted power in dB (ddsp's `compute_loudness`, reference 0 dB:
        a full-scale sine reads about +20 dB at 1 kHz and +11 dB at 250 Hz; floor
        ddsp's -80 dB range), shape [n_frames].
      frame_rate: frames per second (Hz).
      f0_method: the tracker (see `ttlib.pitch.METHODS`).
    """

    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray
    frame_rate: float
    f0_method: str

    @property
    def n_frames(self) -> int:
        return int(self.f0_hz.size)

    @property
    def times_s(self) -> np.ndarray:
        return frame_times(self.n_frames, self.frame_rate)


def loudness_db(audio, sample_rate: int = SAMPLE_RATE, frame_rate: float = 250.0,
                n_fft: int = LOUDNESS_N_FFT, chunk_s: float = 60.0) -> np.ndarray:
    """A-weighted loudness in dB as ddsp computes it (NumPy path, 'center' padding).

    Args:
      audio: mono samples, shape [n_samples].
      chunk_s: longer audio is measured in chunks of this length with 1 s of context
        on each side (the same frames, bounded memory).

    Returns:
      shape [n_samples // hop + 1], hop = sample_rate / frame_rate.
    """
    import ddsp

    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    hop = hop_length(sample_rate, frame_rate)

    def measure(piece):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)   # librosa's A-weighting at 0 Hz: log10(0)
            out = ddsp.spectral_ops.compute_loudness(piece, sample_rate=sample_rate, frame_rate=int(frame_rate),
                                                     n_fft=n_fft, use_tf=False, padding="center")
        return np.asarray(out, dtype=np.float32).reshape(-1)

    count = n_frames(audio.size, hop)
    chunk = int(chunk_s * frame_rate)
    if count <= chunk + 2 * int(frame_rate):
        return measure(audio)
    margin = int(frame_rate)
    out = np.empty(count, np.float32)
    for start in range(0, count, chunk):
        stop = min(count, start + chunk)
        lo, hi = max(0, start - margin), min(count, stop + margin)
        piece = measure(audio[lo * hop:min(audio.size, (hi - 1) * hop + 1)])
        out[start:stop] = piece[start - lo:stop - lo]
    return out


def cache_key(audio, **params) -> str:
    """SHA-256 over the samples (float32), every parameter and FEATURES_VERSION."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(audio, dtype=np.float32).tobytes())
    digest.update(json.dumps({"version": FEATURES_VERSION, **params}, sort_keys=True).encode())
    return digest.hexdigest()


def compute(audio, sample_rate: int = SAMPLE_RATE, f0_method: str = "crepe-tiny", frame_rate: float = 250.0,
            fmin: float = 60.0, fmax: float = 2000.0, crepe_step_ms: float | None = 10.0,
            cache_dir: str | os.PathLike | None = "default", chunk_s: float = 60.0,
            progress: bool = True, label: str = "features", crepe_octaves_down: int = 0) -> Features:
    """f0, confidence and loudness of mono `audio`, from the cache when it has them.

    Args:
      audio: mono samples, shape [n_samples], at `sample_rate` Hz.
      f0_method: one of `ttlib.pitch.METHODS`.
      frame_rate: frames per second (Hz); ddsp's models use 250.
      fmin, fmax: YIN/pYIN search range (Hz).
      crepe_step_ms: CREPE's hop before interpolation onto the grid (10 ms: 2.5 times
        faster than running at 4 ms; None runs CREPE at the grid's hop).
      cache_dir: folder of the cache; "default" is `ttlib.core.paths.cache_dir()`, None disables it.
      chunk_s: long audio is tracked in chunks of this length (with overlap), for a
        progress bar and bounded memory.
      progress: show a progress bar for audio longer than one chunk.
      label: text of the progress bar.
      crepe_octaves_down: analyse with CREPE this many octaves down (whistles above its
        ~2 kHz ceiling: 1); see `ttlib.pitch.crepe_f0_hz`.

    Returns:
      `Features` with n_samples // hop + 1 frames.
    """
    check_method(f0_method)
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    params = dict(sample_rate=sample_rate, f0_method=f0_method, frame_rate=frame_rate, fmin=fmin, fmax=fmax,
                  crepe_step_ms=crepe_step_ms if f0_method.startswith("crepe") else None,
                  loudness_n_fft=LOUDNESS_N_FFT)
    if crepe_octaves_down and f0_method.startswith("crepe"):
        params["crepe_octaves_down"] = int(crepe_octaves_down)       # (absent when 0: older cache keys stay valid)
    path = None
    if cache_dir is not None:
        folder = paths.cache_dir() if cache_dir == "default" else Path(cache_dir)
        path = folder / "features" / f"{cache_key(audio, **params)}.npz"
        if path.is_file():
            try:
                with np.load(path) as saved:
                    return Features(saved["f0_hz"], saved["f0_confidence"], saved["loudness_db"],
                                    float(frame_rate), f0_method)
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)   # a damaged entry is recomputed
    hop = hop_length(sample_rate, frame_rate)
    count = n_frames(audio.size, hop)
    f0_hz = np.zeros(count, np.float32)
    confidence = np.zeros(count, np.float32)
    chunk_frames = max(1, int(chunk_s * frame_rate))
    margin = int(frame_rate)                    # 1 s of context on each side of a chunk
    starts = range(0, count, chunk_frames)
    bar = None
    if progress and len(starts) > 1:
        from tqdm.auto import tqdm

        bar = tqdm(total=round(count / frame_rate, 2), unit="s", desc=label, leave=False)
    for start in starts:
        stop = min(count, start + chunk_frames)
        lo, hi = max(0, start - margin), min(count, stop + margin)
        piece = audio[lo * hop:min(audio.size, (hi - 1) * hop + 1)]
        result = track(piece, f0_method, sample_rate, frame_rate, fmin, fmax, crepe_step_ms=crepe_step_ms,
                             crepe_octaves_down=int(crepe_octaves_down))
        f0_hz[start:stop] = result.f0_hz[start - lo:stop - lo]
        confidence[start:stop] = result.confidence[start - lo:stop - lo]
        if bar is not None:
            bar.update((stop - start) / frame_rate)
    if bar is not None:
        bar.close()
    features = Features(f0_hz, confidence, loudness_db(audio, sample_rate, frame_rate)[:count],
                        float(frame_rate), f0_method)
    if path is not None:
        with atomic_file(path, ".npz") as tmp:
            np.savez(tmp, f0_hz=features.f0_hz, f0_confidence=features.f0_confidence,
                     loudness_db=features.loudness_db)
    return features


def recording_features(item, method: str, f0_method: str | None, frame_rate: float,
                       cache: str | os.PathLike | None) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """(f0_hz, f0_confidence, loudness_db, f0 source) of one recording: its annotation when it has one and
    no tracker was asked for, else `method`'s tracking. The one feature step of the dataset builder, in this
    process (`ttlib.data.dataset`) or on Apache Beam's workers (`ttlib.data.pipeline`)."""
    if item.f0_hz is not None and f0_method is None:                   # the annotation is the f0
        return item.f0_hz, item.f0_confidence, loudness_db(item.audio, SAMPLE_RATE, frame_rate), "annotation"
    feats = compute(item.audio, SAMPLE_RATE, method, frame_rate, cache_dir=cache, progress=False)
    return feats.f0_hz, feats.f0_confidence, feats.loudness_db, method
