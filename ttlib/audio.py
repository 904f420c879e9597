"""Audio for the course: one way to listen (players normalised before playback).

Audio arrays are mono float32 at `ttlib.SAMPLE_RATE` (16 kHz) unless a function says
otherwise; shapes are `[n_samples]`.
"""
from __future__ import annotations

import html

import numpy as np

from ttlib import SAMPLE_RATE


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
