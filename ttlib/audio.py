"""Audio for the course: reading files people have, checking them, and one way to listen.

Audio arrays are mono float32 at `ttlib.SAMPLE_RATE` (16 kHz) unless a function says
otherwise; shapes are `[n_samples]`.

`load()` reads wav, flac, ogg and mp3 (through libsndfile), any sample rate and
channel count; it mixes to mono, resamples with soxr (high quality), and refuses
what cannot be used with an `AudioError` naming the file and the problem: empty,
not audio, NaN or infinite samples, shorter than one analysis frame. Clipping, a
DC offset (removed), stereo and silence are reported in an `AudioReport`.
"""
from __future__ import annotations

import html
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ttlib import SAMPLE_RATE

FRAME_SAMPLES = 1024
"""One analysis frame at 16 kHz (64 ms): CREPE's input, the shortest usable audio."""
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")
CLIP_LEVEL = 0.999
CLIP_FRACTION = 1e-3
DC_LEVEL = 0.01
SILENCE_DB = -60.0


class AudioError(ValueError):
    """A file that cannot be used as audio; the message names the file and what to do."""


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
        return self.rms_db <= SILENCE_DB


def resample(audio, sample_rate_in: int, sample_rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Resample mono `audio` (shape [n_samples]) with soxr's high-quality filter."""
    import soxr

    audio = np.asarray(audio, dtype=np.float32)
    if int(sample_rate_in) == int(sample_rate_out):
        return audio
    return soxr.resample(audio, sample_rate_in, sample_rate_out, quality="HQ").astype(np.float32)


def load(path, sample_rate: int = SAMPLE_RATE, with_report: bool = False, quiet: bool = False):
    """Read an audio file as mono float32 at `sample_rate` Hz.

    Args:
      path: a wav, flac, ogg or mp3 file (anything libsndfile reads), any rate and channels.
      sample_rate: the rate to return (Hz).
      with_report: also return the `AudioReport`.
      quiet: do not issue `AudioWarning`s (the report still lists the problems).

    Returns:
      audio, shape [n_samples]; or (audio, report) with `with_report=True`.

    Raises:
      FileNotFoundError: no such file.
      AudioError: empty, not audio, no samples, NaN or infinite samples, or shorter than
        one analysis frame (64 ms).
    """
    import soundfile

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: the file is empty (0 bytes). Record or export it again.")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise AudioError(f"{path}: not an audio file that can be read ({exc}). Use wav, flac, ogg or mp3; "
                         "convert other formats first (for example with ffmpeg or Audacity).") from None
    if data.shape[0] == 0:
        raise AudioError(f"{path}: the file holds no samples.")
    bad = ~np.isfinite(data)
    if bad.any():
        first = int(np.argmax(bad.any(axis=1)))
        raise AudioError(f"{path}: {int(bad.sum())} samples are NaN or infinite (the first at "
                         f"{first / rate:.3f} s). The file is damaged; export it again.")
    channels = data.shape[1]
    peak = float(np.max(np.abs(data)))
    clipped = _clipped_fraction(data)
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
    if audio.size < FRAME_SAMPLES * sample_rate / SAMPLE_RATE:
        raise AudioError(f"{path}: {report.seconds * 1000:.0f} ms long, shorter than one analysis frame "
                         f"({1000 * FRAME_SAMPLES / SAMPLE_RATE:.0f} ms). Use a longer recording.")
    if not quiet:
        for note in report.notes:
            if not note.endswith("mixed down to mono"):
                warnings.warn(f"{path}: {note}", AudioWarning, stacklevel=2)
    return (audio, report) if with_report else audio


def _clipped_fraction(data) -> float:
    """Share of samples in flat tops: runs of 3 or more samples at >= 0.999 of full scale.

    A full-scale sine touches the top for a sample or two; clipping flattens it for longer.
    """
    at_top = np.abs(data) >= CLIP_LEVEL
    if data.shape[0] < 3:
        return float(at_top.mean())
    in_run = np.zeros_like(at_top)
    run = at_top[:-2] & at_top[1:-1] & at_top[2:]
    in_run[:-2] |= run
    in_run[1:-1] |= run
    in_run[2:] |= run
    return float(in_run.mean())


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
    except Exception as exc:  # no network and no cached copy: pooch raises several kinds
        from ttlib import builtin

        take = builtin.recordings(builtin.build("trumpet", minutes=0.5, seed=0, progress=False))[0]
        onset = int(np.argmax(np.abs(take.audio) > 0.01))
        audio = take.audio[onset:onset + int(5.3 * SAMPLE_RATE)]
        return (resample(audio, SAMPLE_RATE, sample_rate),
                f"the built-in rendered trumpet (librosa's example could not be loaded: {type(exc).__name__}; "
                "set LIBROSA_DATA_DIR to a folder holding it, or connect once)")


def find_audio_files(folder) -> list[Path]:
    """Audio files under `folder`, recursively, sorted (by extension, see AUDIO_EXTENSIONS)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder.")
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)


def split_on_silence(audio, sample_rate: int = SAMPLE_RATE, top_db: float = 40.0,
                     min_silence_s: float = 0.3, min_sound_s: float = 0.25) -> list[tuple[int, int]]:
    """Stretches of sound in `audio` (shape [n_samples]) between silences.

    A silence is at least `min_silence_s` seconds more than `top_db` dB below the
    loudest frame; stretches shorter than `min_sound_s` are dropped.

    Returns:
      [(start_sample, end_sample), ...], in order.
    """
    import librosa

    audio = np.asarray(audio, dtype=np.float32)
    if not np.any(audio):
        return []
    intervals = librosa.effects.split(audio, top_db=top_db, frame_length=1024, hop_length=256)
    merged: list[list[int]] = []
    for start, end in intervals:
        if merged and start - merged[-1][1] < min_silence_s * sample_rate:
            merged[-1][1] = int(end)
        else:
            merged.append([int(start), int(end)])
    return [(s, e) for s, e in merged if e - s >= min_sound_s * sample_rate]


def trim_silence(audio, sample_rate: int = SAMPLE_RATE, top_db: float = 40.0) -> np.ndarray:
    """`audio` without its silent beginning and end (shape [n_kept])."""
    spans = split_on_silence(audio, sample_rate, top_db, min_silence_s=0.0, min_sound_s=0.0)
    return np.asarray(audio[spans[0][0]:spans[-1][1]] if spans else audio[:0], dtype=np.float32)


def normalize(audio, peak: float = 0.9) -> np.ndarray:
    """Scale `audio` so its largest magnitude is `peak`; silence stays silence.

    Args:
      audio: samples, shape [n_samples] (any float or int dtype).
      peak: target peak amplitude (0 to 1).

    Returns:
      float32 array, shape [n_samples].

    Raises:
      ValueError: `audio` holds NaN or infinite samples.
    """
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(audio)):
        raise ValueError("The audio holds NaN or infinite samples; it cannot be played. "
                         "Check the step that produced it (a diverged model gives NaNs).")
    largest = float(np.max(np.abs(audio))) if audio.size else 0.0
    return audio if largest == 0.0 else audio * (peak / largest)


def play(audio, sample_rate: int = SAMPLE_RATE):
    """A notebook player for `audio` (shape [n_samples]), normalised first.

    Returns:
      `IPython.display.Audio`; the last expression of a cell shows it.
    """
    from IPython.display import Audio

    return Audio(normalize(audio), rate=sample_rate, normalize=False)


def player_table(players: dict, sample_rate: int = SAMPLE_RATE):
    """One table of players: {label: audio [n_samples]} -> an HTML table, one row each.

    Returns:
      `IPython.display.HTML`; the last expression of a cell shows it.
    """
    from IPython.display import HTML

    rows = []
    for label, audio in players.items():
        seconds = np.asarray(audio).size / sample_rate
        rows.append(
            f"<tr><td style='text-align:left'>{html.escape(str(label))}</td>"
            f"<td>{seconds:.1f} s</td><td>{play(audio, sample_rate)._repr_html_()}</td></tr>")
    return HTML("<table><tr><th>audio</th><th>length</th><th>listen</th></tr>"
                + "".join(rows) + "</table>")


def save_wav(path, audio, sample_rate: int = SAMPLE_RATE, overwrite: bool = False):
    """Write mono `audio` (shape [n_samples], floats in [-1, 1]) as a 32-bit float WAV.

    Refuses to replace an existing file unless `overwrite=True`, so nothing a
    user made is lost silently. Parent folders are created.

    Returns:
      The path written (a `pathlib.Path`).
    """
    from pathlib import Path

    import soundfile

    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it, or choose another name.")
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if not np.all(np.isfinite(audio)):
        raise ValueError(f"Not writing {path}: the audio holds NaN or infinite samples.")
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), audio, sample_rate, subtype="FLOAT")
    return path
