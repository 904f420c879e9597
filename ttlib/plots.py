"""Plot helpers: each takes `ax=None` and returns the axes it drew on."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 3))
    return ax


def f0_track(times_s, f0_hz, ax=None, label="f0", reference_hz=None):
    """Draw an f0 track (Hz, shape [n_frames]) over time (s); optionally a reference line."""
    ax = _axes(ax)
    ax.plot(times_s, f0_hz, label=label)
    if reference_hz is not None:
        ax.axhline(reference_hz, color="k", linestyle="--", linewidth=1, label=f"{reference_hz:g} Hz")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("f0 (Hz)")
    ax.legend(loc="best")
    return ax


def magnitude_spectrum(audio, sample_rate, ax=None, max_hz=None, label=None):
    """Draw the magnitude spectrum (dB) of `audio` (shape [n_samples]) against frequency (Hz)."""
    ax = _axes(ax)
    audio = np.asarray(audio, dtype=float)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    freqs = np.fft.rfftfreq(audio.size, 1.0 / sample_rate)
    db = 20 * np.log10(np.maximum(spectrum / max(spectrum.max(), 1e-12), 1e-6))
    ax.plot(freqs, db, label=label)
    ax.set_xlim(0, max_hz or sample_rate / 2)
    ax.set_ylim(-100, 5)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("magnitude (dB re peak)")
    return ax


def save(fig, output_dir, name: str) -> Path:
    """Save `fig` as `output_dir/name.png` (folders created) and return the path."""
    path = Path(output_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path
