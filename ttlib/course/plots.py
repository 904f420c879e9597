"""Plot helpers: each takes `ax=None` and returns the axes it drew on; axes are labelled with units.

`spectrogram` is the course's one spectrogram (every notebook from 01 on); `f0_track`
and `magnitude_spectrum` draw notebook 00-01's first sounds; `loss_curves` notebook 06's
training; `transfer_controls` notebook 07's adjustment, and `transfer_view` its sliders' picture
(the control curves beside the result's spectrogram). `save` keeps a figure as PNG.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE, frame_times, hz_to_midi
from ttlib.data.stats import training_ranges
from ttlib.models.training import read_losses, read_validation

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _axes(ax) -> Axes:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(8, 3))
    return ax


def f0_track(times_s, f0_hz, ax=None, label: str = "f0", reference_hz: float | None = None) -> Axes:
    """Draw an f0 track (Hz, shape [n_frames]) over time (s); optionally a reference line."""
    ax = _axes(ax)
    ax.plot(times_s, f0_hz, label=label)
    if reference_hz is not None:
        ax.axhline(reference_hz, color="k", linestyle="--", linewidth=1, label=f"{reference_hz:g} Hz")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("f0 (Hz)")
    ax.legend(loc="best")
    return ax


def magnitude_spectrum(audio, sample_rate: int, ax=None, max_hz: float | None = None,
                       label: str | None = None) -> Axes:
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


def save(fig, output_dir: str | os.PathLike, name: str) -> Path:
    """Save `fig` as `output_dir/name.png` (folders created) and return the path."""
    path = Path(output_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return path


def spectrogram(audio, sample_rate: int = SAMPLE_RATE, ax=None, f0_hz=None, frame_rate: float | None = None,
                voiced=None, harmonics: int = 0, n_fft: int = 2048, hop_length: int = 160,
                max_hz: float | None = None, log_frequency: bool = False, f0_label: str = "f0",
                color: str = "cyan") -> Axes:
    """The course's one spectrogram: magnitude in dB over time, with an f0 track and its multiples.

    Args:
      audio: mono samples, shape [n_samples].
      f0_hz: optional f0 track (Hz), shape [n_frames], at `frame_rate` frames per second
        (frame i at i / frame_rate s); drawn where `voiced` (default: f0 > 0).
      harmonics: also draw 2 f0, 3 f0, ... up to this multiple (dashed).
      n_fft, hop_length: STFT size and hop (samples).
      max_hz: top of the frequency axis (default: Nyquist).
      log_frequency: logarithmic frequency axis (pitch-like) instead of linear.

    Returns:
      The axes.
    """
    import librosa
    import librosa.display

    ax = _axes(ax)
    audio = np.asarray(audio, dtype=np.float32)
    magnitude = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length))
    db = librosa.amplitude_to_db(magnitude, ref=np.max(magnitude) if magnitude.size and magnitude.max() > 0 else 1.0,
                                 top_db=80.0)
    image = librosa.display.specshow(db, sr=sample_rate, hop_length=hop_length, x_axis="time",
                                     y_axis="log" if log_frequency else "linear", ax=ax, cmap="magma")
    ax.figure.colorbar(image, ax=ax, format="%+.0f dB", pad=0.01)
    if f0_hz is not None:
        if frame_rate is None:
            raise ConfigError("spectrogram(): give frame_rate with f0_hz.")
        f0_hz = np.asarray(f0_hz, dtype=float)
        shown = (f0_hz > 0) if voiced is None else np.asarray(voiced, dtype=bool)
        times = frame_times(f0_hz.size, frame_rate)
        track = np.where(shown, f0_hz, np.nan)
        ax.plot(times, track, color=color, linewidth=1.5, label=f0_label)
        for k in range(2, harmonics + 1):
            ax.plot(times, k * track, color=color, linewidth=0.8, linestyle="--", alpha=0.7,
                    label=f"2·{f0_label}, 3·{f0_label}, ..." if k == 2 else None)
        ax.legend(loc="upper right", fontsize="small")
    ax.set_ylim(30 if log_frequency else 0, max_hz or sample_rate / 2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    return ax


def loss_curves(model_dir: str | os.PathLike, ax=None, smooth: int = 20, label: str = "") -> Axes:
    """Draw a model folder's training loss (raw and a `smooth`-step running mean) and held-out loss per step.

    The held-out values are the paper's multi-scale spectral loss on validation
    examples (see `ttlib.models.evaluation.held_out_loss`); the training loss is the
    configuration's own spectral loss on each batch.
    """
    ax = _axes(ax)
    steps, losses = read_losses(model_dir)
    prefix = f"{label} " if label else ""
    if steps.size:
        ax.plot(steps, losses, color="C0", alpha=0.3, linewidth=0.8, label=f"{prefix}training loss (each batch)")
        k = max(1, min(smooth, steps.size))
        if k > 1:
            mean = np.convolve(losses, np.ones(k) / k, mode="valid")
            ax.plot(steps[k - 1:], mean, color="C0", label=f"{prefix}training loss ({k}-step mean)")
    v_steps, v_losses = read_validation(model_dir)
    if v_steps.size:
        ax.plot(v_steps, v_losses, "o-", color="C3", markersize=3, label=f"{prefix}held-out spectral loss")
    ax.set_xlabel("training step")
    ax.set_ylabel("spectral loss")
    ax.legend(loc="upper right")
    return ax


def transfer_controls(source, adjusted, statistics: dict, axes=None) -> list:
    """The source's pitch (MIDI) and loudness (dB) before and after adjustment, over time,
    on the band of the training data (5th to 95th percentile, median dashed).

    Args:
      source: a `ttlib.transfer.SourceFeatures`; adjusted: a `ttlib.transfer.Adjusted`.
      statistics: the model's training statistics.
      axes: two axes (pitch, loudness); None makes them.
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 3))
    ranges = training_ranges(statistics)
    t = source.times_s
    playing, on = source.playing, adjusted.on
    before = np.where(playing, hz_to_midi(source.f0_hz), np.nan)
    after = np.where(on, hz_to_midi(adjusted.f0_hz), np.nan)
    for ax, key, b, a, unit in ((axes[0], "pitch_midi", before, after, "pitch (MIDI)"),
                                (axes[1], "loudness_db", np.where(playing, source.loudness_db, np.nan),
                                 np.where(on, adjusted.loudness_db, np.nan), "loudness (dB)")):
        q = ranges[key]
        ax.axhspan(q[5], q[95], color="C2", alpha=0.15, label="training data, 5-95%")
        ax.axhline(q[50], color="C2", linestyle="--", linewidth=1)
        ax.plot(t, b, color="0.6", linewidth=1, label="source")
        ax.plot(t, a, color="C3", linewidth=1.2, label="adjusted (model input)")
        ax.set(xlabel="time (s)", ylabel=unit)
    axes[0].legend(loc="upper right", fontsize=8)
    return axes


def transfer_view(source, adjusted, statistics: dict, audio, sample_rate: int = SAMPLE_RATE,
                  max_hz: float = 6000.0, figsize: tuple = (13, 4.2)) -> Figure:
    """Notebook 07's slider picture: the control curves (pitch and loudness, `transfer_controls`)
    on the left, the result's spectrogram with the adjusted f0 on the right.

    Args:
      source, adjusted, statistics: as for `transfer_controls`.
      audio: the result, shape [n_samples].

    Returns:
      The figure (pitch axes, loudness axes, spectrogram axes in `fig.axes[:3]`).
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize)
    grid = fig.add_gridspec(2, 2, width_ratios=(1, 1.4), hspace=0.55, wspace=0.18)
    pitch_ax, loud_ax, spec_ax = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    transfer_controls(source, adjusted, statistics, axes=[pitch_ax, loud_ax])
    pitch_ax.set_xlabel("")
    pitch_ax.set_title("control curves (model input)", fontsize=10)
    # a 1024-point STFT with a 20 ms hop: half the cost of the default, so a slider's picture follows quickly
    spectrogram(audio, sample_rate, ax=spec_ax, f0_hz=np.where(adjusted.on, adjusted.f0_hz, 0),
                frame_rate=source.frame_rate, max_hz=max_hz, f0_label="adjusted f0", n_fft=1024,
                hop_length=sample_rate // 50)
    spec_ax.set_title("result: spectrogram", fontsize=10)
    return fig


def room_decay(ir, sample_rate: int = SAMPLE_RATE, ax=None, label: str = "") -> Axes:
    """An impulse response's level and Schroeder decay curve (dB) against time, with its T30 fit (notebook 10)."""
    from ttlib.audio.room import direct_index, measure_room, schroeder_curve

    ax = _axes(ax)
    h = np.asarray(ir, np.float64).reshape(-1)
    d = direct_index(h)
    m = measure_room(h, sample_rate)
    t = (np.arange(h.size) - d) / sample_rate
    level = 10 * np.log10(np.maximum(h * h, 1e-20) / max(float(np.max(h * h)), 1e-20))
    ax.plot(t, level, color="0.75", lw=0.5, label=f"{label} h(t)^2".strip())
    with np.errstate(divide="ignore"):
        curve = np.full(h.size, -np.inf)
        curve[d:] = schroeder_curve(h[d:], sample_rate)
    ax.plot(t, curve, lw=2, label=f"{label} Schroeder curve".strip())
    decay = m.t30 if np.isfinite(m.t30) else m.t20
    if np.isfinite(decay):
        name = "T30" if np.isfinite(m.t30) else "T20"
        ax.plot(t[d:], -60.0 * t[d:] / decay, "--", lw=1, label=f"{name} = {decay:.2f} s (-60 dB / T)")
    if m.crosspoint_s < h.size / sample_rate:
        ax.axvline(m.crosspoint_s - d / sample_rate, color="k", ls=":", lw=1, label="noise crosspoint")
    ax.set_ylim(-90, 5)
    ax.set_xlabel("time after the direct sound (s)")
    ax.set_ylabel("level (dB)")
    ax.legend(loc="upper right", fontsize="small")
    return ax
