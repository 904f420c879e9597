"""Reading, checking, resampling and saving audio files.

Audio arrays are mono float32 at `ttlib.SAMPLE_RATE` (16 kHz) unless a function says
otherwise; shapes are `[n_samples]`.

`load()` reads wav, flac, ogg and mp3 (through libsndfile), any sample rate and
channel count; it mixes to mono, resamples with soxr (high quality), and refuses
what cannot be used with an `AudioError` naming the file and the problem: empty,
not audio, NaN or infinite samples, shorter than one analysis frame. Clipping, a
DC offset (removed), stereo and silence are reported in an `AudioReport`.

Taught in notebook 01 (samples and the sampling rate); used by every notebook.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ttlib.core.constants import SILENT_RMS_DB
from ttlib.core.errors import AudioError, MissingFileError, OutputExistsError
from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")
CLIP_LEVEL = 0.999
"""A sample at or above this magnitude (full scale = 1) may be clipped."""
CLIP_FRACTION = 1e-3
"""Share of clipped samples from which a file is reported as clipped."""
DC_LEVEL = 0.01
"""Mean sample value from which a DC offset is reported and removed."""


class AudioWarning(UserWarning):
    """Audio that can be used but has a problem worth knowing (clipping, DC offset, silence)."""


@dataclass
class AudioReport:
    """What `load()` found in a file.

    Attributes:
      path: the file.
      sample_rate_in: the file's sample rate (Hz).
      channels: the file's channel count.
      seconds: duration (s).
      peak: largest magnitude before any processing (full scale = 1).
      clipped_fraction: share of samples in flat tops (3 or more in a row at >= 0.999 of full scale).
      dc_offset: mean sample value (removed by `load`).
      rms_db: level of the mono mix in dB relative to full scale.
      notes: problems found, in words.
    """

    path: str
    sample_rate_in: int
    channels: int
    seconds: float
    peak: float
    clipped_fraction: float
    dc_offset: float
    rms_db: float
    notes: list = field(default_factory=list)

    @property
    def silent(self) -> bool:
        return self.rms_db <= SILENT_RMS_DB


def resample(audio, sample_rate_in: int, sample_rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono `audio` (shape [n_samples]) with soxr's high-quality filter."""
    import soxr

    audio = np.asarray(audio, dtype=np.float32)
    if int(sample_rate_in) == int(sample_rate_out):
        return audio
    return soxr.resample(audio, sample_rate_in, sample_rate_out, quality="HQ").astype(np.float32)


def load(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE, with_report: bool = False,
         quiet: bool = False, min_samples: int | None = None) -> np.ndarray | tuple[np.ndarray, AudioReport]:
    """Read an audio file as mono float32 at `sample_rate` Hz.

    Args:
      path: a wav, flac, ogg or mp3 file (anything libsndfile reads), any rate and channels.
      sample_rate: the rate to return (Hz).
      with_report: also return the `AudioReport`.
      quiet: do not issue `AudioWarning`s (the report still lists the problems).
      min_samples: the shortest result accepted (default: one analysis frame, 64 ms; an
        impulse response may be shorter).

    Returns:
      audio, shape [n_samples]; or (audio, report) with `with_report=True`.

    Raises:
      MissingFileError: no such file.
      AudioError: empty, not audio, no samples, NaN or infinite samples, or shorter than
        one analysis frame (64 ms).
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such file. Check the name, or give the path of a wav, flac, ogg or mp3.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes). Record or export it again.")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        reason = " ".join(str(exc).split())
        raise AudioError(f"{path}: not an audio file that can be read ({reason}). Use wav, flac, ogg or mp3; "
                         "convert other formats first (for example with ffmpeg or Audacity).") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples. Record or export it again.")
    bad = ~np.isfinite(data)
    if bad.any():
        first = int(np.argmax(bad.any(axis=1)))
        raise AudioError(f"{path}: {int(bad.sum())} samples are NaN or infinite (the first at "
                         f"{first / rate:.3f} s). The file is damaged; export it again.")
    channels = data.shape[1]
    peak = float(np.max(np.abs(data)))
    clipped = clipped_fraction(data)
    mono = data.mean(axis=1) if channels > 1 else data[:, 0]
    dc = float(np.mean(mono))
    rms = float(np.sqrt(np.mean(mono.astype(np.float64) ** 2)))
    report = AudioReport(str(path), int(rate), channels, data.shape[0] / rate, peak, clipped, dc,
                         float(20 * np.log10(max(rms, 1e-10))))
    if channels > 1:
        report.notes.append(f"{channels} channels mixed down to mono")
    if clipped >= CLIP_FRACTION:
        report.notes.append(f"clipped: {100 * clipped:.2f}% of samples at full scale (pitch and loudness "
                            "are unreliable there; record at a lower level)")
    if abs(dc) >= DC_LEVEL:
        report.notes.append(f"DC offset of {dc:+.3f} removed")
        mono = mono - dc
    if report.silent:
        report.notes.append(f"silent (level {report.rms_db:.0f} dB re full scale)")
    audio = resample(mono, rate, sample_rate)
    if min_samples is not None:
        if audio.size < min_samples:
            raise AudioError(f"{path}: {audio.size} samples at {sample_rate} Hz, fewer than {min_samples}.")
    elif audio.size < FRAME_LENGTH * sample_rate / SAMPLE_RATE:
        raise AudioError(f"{path}: {report.seconds * 1000:.0f} ms long, shorter than one analysis frame "
                         f"({1000 * FRAME_LENGTH / SAMPLE_RATE:.0f} ms). Use a longer recording.")
    if not quiet:
        for note in report.notes:
            if not note.endswith("mixed down to mono"):
                warnings.warn(f"{path}: {note}", AudioWarning, stacklevel=2)
    return (audio, report) if with_report else audio


def clipped_fraction(data) -> float:
    """Share of samples in flat tops: runs of 3 or more samples at >= 0.999 of full scale.

    A full-scale sine touches the top for a sample or two; clipping flattens it for longer.
    `data` has shape [n_samples] or [n_samples, channels].
    """
    at_top = np.abs(np.asarray(data)) >= CLIP_LEVEL
    if at_top.shape[0] < 3:
        return float(at_top.mean())
    in_run = np.zeros_like(at_top)
    run = at_top[:-2] & at_top[1:-1] & at_top[2:]
    in_run[:-2] |= run
    in_run[1:-1] |= run
    in_run[2:] |= run
    return float(in_run.mean())


def find_audio_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under `folder`, recursively, sorted (by extension, see AUDIO_EXTENSIONS)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"{folder}: no such folder.")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def save_wav(path: str | os.PathLike, audio, sample_rate: int = SAMPLE_RATE, overwrite: bool = False) -> Path:
    """Write mono `audio` (shape [n_samples], floats in [-1, 1]) as a 32-bit float WAV.

    Refuses to replace an existing file unless `overwrite=True`, so nothing a
    user made is lost silently. Parent folders are created.

    Returns:
      The path written.

    Raises:
      OutputExistsError: the file exists and `overwrite` is False.
      AudioError: the audio holds NaN or infinite samples.
    """
    import soundfile

    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it, "
                                "or choose another name.")
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"Not writing {path}: the audio holds NaN or infinite samples. Check the step that "
                         "produced it (a diverged model gives NaNs).")
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), audio, sample_rate, subtype="FLOAT")
    return path
