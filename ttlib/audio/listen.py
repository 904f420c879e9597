"""The one way the course plays audio: a normalised player, or a table of them.

`play` and `player_table` are what notebooks 00-08 show; `wav_bytes` is what the
widgets put in their `Audio` widget (notebooks 01-03 and 07). Arrays are mono, shape [n_samples].
"""
from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING

import numpy as np

from ttlib.audio.edit import normalize
from ttlib.core.units import SAMPLE_RATE

if TYPE_CHECKING:
    from IPython.display import HTML, Audio


def play(audio, sample_rate: int = SAMPLE_RATE) -> Audio:
    """A notebook player for `audio` (shape [n_samples]), normalised first.

    Returns:
      `IPython.display.Audio`; the last expression of a cell shows it.
    """
    from IPython.display import Audio

    return Audio(normalize(audio), rate=sample_rate, normalize=False)


def player_table(players: dict, sample_rate: int = SAMPLE_RATE) -> HTML:
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


def wav_bytes(samples, sample_rate: int = SAMPLE_RATE, normalize_level: bool = True) -> bytes:
    """A 16-bit WAV file of mono `samples` (shape [n_samples]), as bytes.

    normalize_level: scale the peak to 0.9; False keeps the level (so a loudness slider
    is heard) and only scales down a peak above full scale.
    """
    import soundfile

    samples = np.asarray(samples, np.float32)
    if normalize_level:
        samples = normalize(samples)
    else:
        peak = float(np.abs(samples).max()) if samples.size else 0.0
        samples = samples / peak * 0.99 if peak > 0.99 else samples
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
