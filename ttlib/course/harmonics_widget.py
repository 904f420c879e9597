"""The harmonics explorer of notebook 01: reshape a tone's harmonics and hear the result.

A tone is given as harmonic amplitudes A[t, k-1] (k = 1 ... K) on analysis frames and
its f0 per frame. The explorer keeps the first n harmonics, optionally only the odd
ones, tilts the spectrum by a number of dB per octave (harmonic k gains
tilt * log2(k) dB), and can freeze the amplitudes of one instant over the whole tone.
The result is re-rendered by `ttlib.synth.harmonic_synthesis` (ddsp's additive
synthesis) into an `Audio` widget, and its harmonic levels and spectrum are drawn into
an `Image` widget (see `ttlib.course.widgets` for why not an `Output` widget).

`harmonics_explorer` returns the widget and its `update()` function, so that a notebook
run without a browser (papermill, the tests) can set the controls in code.
"""
from __future__ import annotations

import numpy as np

from ttlib.audio.listen import wav_bytes
from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE
from ttlib.course import plots
from ttlib.course.widgets import Progress, png_bytes
from ttlib.synth.tones import tilt_gains

MEASURED = "measured amplitudes"
SYNTHETIC = "synthetic: flat, shaped by the tilt"


def shape_harmonics(amplitudes, n_harmonics: int | None = None, odd_only: bool = False,
                    tilt_db_per_octave: float = 0.0, freeze_frame: int | None = None) -> np.ndarray:
    """The explorer's changes applied to harmonic amplitudes.

    Args:
      amplitudes: [n_frames, K] linear amplitudes of harmonics 1 ... K.
      n_harmonics: keep harmonics 1 ... n_harmonics (None: all K).
      odd_only: silence the even harmonics (2, 4, ...).
      tilt_db_per_octave: harmonic k is multiplied by `tilt_gains`.
      freeze_frame: if given, every sounding frame (any amplitude > 0) takes this frame's amplitudes.

    Returns:
      [n_frames, K] amplitudes.
    """
    out = np.array(amplitudes, dtype=np.float64)
    if out.ndim != 2:
        raise ConfigError(f"amplitudes must be [n_frames, n_harmonics], got shape {out.shape}.")
    total = out.shape[1]
    if n_harmonics is not None:
        out[:, int(n_harmonics):] = 0.0
    if odd_only:
        out[:, 1::2] = 0.0
    out *= tilt_gains(total, tilt_db_per_octave)[None, :]
    if freeze_frame is not None:
        sounding = np.asarray(amplitudes).sum(axis=1) > 0
        out[sounding] = out[int(np.clip(freeze_frame, 0, out.shape[0] - 1))]
    return out


def render(amplitudes, f0_hz, frame_rate: float, n_samples: int | None = None,
           sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Additive synthesis of harmonic amplitudes [n_frames, K] over f0 [n_frames] (Hz), float32 [n_samples]."""
    from ttlib.synth import harmonic_synthesis

    amplitudes = np.asarray(amplitudes, np.float32)
    hop = int(round(sample_rate / frame_rate))
    n_frames = amplitudes.shape[0]
    audio = harmonic_synthesis(np.ones((1, n_frames, 1), np.float32), amplitudes[None],
                               np.asarray(f0_hz, np.float32).reshape(1, n_frames, 1), n_frames * hop, sample_rate)
    audio = np.asarray(audio[0], np.float32)
    if n_samples is not None:
        audio = np.pad(audio, (0, max(0, n_samples - audio.size)))[:n_samples]
    return audio


def harmonic_centroid(levels) -> float:
    """Amplitude-weighted mean harmonic number of one frame's amplitudes [K]: spectral centroid / f0."""
    levels = np.asarray(levels, dtype=np.float64)
    k = np.arange(1, levels.size + 1)
    return float((k * levels).sum() / max(levels.sum(), 1e-12))


def harmonics_explorer(amplitudes, f0_hz, frame_rate: float, sample_rate: int = SAMPLE_RATE,
                       max_hz: float = 8000.0) -> tuple:
    """Sliders over a tone's harmonics: how many, odd only, spectral tilt, freeze one instant.

    Args:
      amplitudes: [n_frames, K] measured linear amplitudes of harmonics 1 ... K (0 where silent).
      f0_hz: [n_frames] f0 (Hz) of the same frames, 0 where unvoiced.
      frame_rate: frames per second (Hz).
      max_hz: highest frequency drawn in the spectrum.

    Returns:
      (widget, update): `update(**values)` sets any of the controls "source", "n_harmonics",
      "odd_only", "tilt_db_per_octave", "freeze", "instant_s", re-renders and returns a dict:
      "audio" (float32), "levels_db" (the shown instant's harmonic levels, dB re its strongest),
      "centroid_harmonics" (that instant's spectral centroid / f0), "frame" (its index).
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    measured = np.asarray(amplitudes, dtype=np.float64)
    f0_hz = np.asarray(f0_hz, dtype=np.float64)
    n_frames, total = measured.shape
    if f0_hz.size != n_frames:
        raise ConfigError(f"f0_hz has {f0_hz.size} frames, amplitudes {n_frames}.")
    # the synthetic tone: the same loudness (sum of amplitudes) spread evenly over the harmonics
    synthetic = np.repeat(measured.sum(axis=1, keepdims=True) / total, total, axis=1)
    sources = {MEASURED: measured, SYNTHETIC: synthetic}
    loudest = int(np.argmax(measured.sum(axis=1)))
    n_samples = int(round(n_frames * sample_rate / frame_rate))
    style = {"description_width": "150px"}
    layout = widgets.Layout(width="460px")
    controls = {
        "source": widgets.Dropdown(options=list(sources), description="amplitudes", style=style, layout=layout),
        "n_harmonics": widgets.IntSlider(value=total, min=1, max=total, description="number of harmonics",
                                         continuous_update=False, style=style, layout=layout),
        "odd_only": widgets.Checkbox(value=False, description="odd harmonics only"),
        "tilt_db_per_octave": widgets.FloatSlider(value=0.0, min=-24.0, max=12.0, step=1.0,
                                                  description="tilt (dB/octave)", continuous_update=False,
                                                  style=style, layout=layout),
        "freeze": widgets.Checkbox(value=False, description="freeze the amplitudes of one instant"),
        "instant_s": widgets.FloatSlider(value=round(loudest / frame_rate, 2), min=0.0,
                                         max=round((n_frames - 1) / frame_rate, 2), step=0.01,
                                         description="instant (s)", continuous_update=False,
                                         style=style, layout=layout),
    }
    picture = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
    player = widgets.Audio(format="wav", autoplay=False, loop=False)
    progress = Progress()
    busy = {"setting": False}

    def update(**values) -> dict:
        busy["setting"] = True              # setting several controls redraws once, not once per control
        try:
            for name, value in values.items():
                if name not in controls:
                    raise ConfigError(f"Unknown control {name!r}; choose from {', '.join(controls)}.")
                controls[name].value = value
        finally:
            busy["setting"] = False
        v = {name: control.value for name, control in controls.items()}
        progress.start(1, "rendering ...")
        frame = int(np.clip(round(v["instant_s"] * frame_rate), 0, n_frames - 1))
        shaped = shape_harmonics(sources[v["source"]], v["n_harmonics"], v["odd_only"], v["tilt_db_per_octave"],
                                 frame if v["freeze"] else None)
        audio = render(shaped, f0_hz, frame_rate, n_samples, sample_rate)
        levels = shaped[frame]
        levels_db = 20 * np.log10(np.maximum(levels, 1e-9) / max(levels.max(), 1e-9))
        centroid = harmonic_centroid(levels)
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3))
        ax1.bar(np.arange(1, total + 1), levels_db + 80, bottom=-80, width=0.6)
        ax1.set(xlabel="harmonic number k", ylabel="level (dB re strongest)", ylim=(-80, 3),
                title=f"harmonics at {frame / frame_rate:.2f} s: centroid = {centroid:.2f} x f0")
        start = frame * n_samples // n_frames
        excerpt = audio[max(0, start - int(0.15 * sample_rate)):start + int(0.15 * sample_rate)]
        plots.magnitude_spectrum(excerpt, sample_rate, ax=ax2, max_hz=max_hz)
        ax2.set_title(f"spectrum of the rendered tone (f0 {f0_hz[frame]:.0f} Hz)")
        picture.value = png_bytes(fig)
        player.value = wav_bytes(audio)
        progress.done(f"{v['source']}: {v['n_harmonics']} harmonics{' (odd only)' if v['odd_only'] else ''}, "
                        f"tilt {v['tilt_db_per_octave']:+.0f} dB/octave"
                        f"{', frozen at %.2f s' % (frame / frame_rate) if v['freeze'] else ''}; "
                      f"centroid {centroid:.2f} x f0")
        return {"audio": audio, "levels_db": levels_db, "centroid_harmonics": centroid, "frame": frame}

    for control in controls.values():
        control.observe(lambda change: None if busy["setting"] else update(), names="value")
    box = widgets.VBox([widgets.HBox([widgets.VBox([controls["source"], controls["n_harmonics"],
                                                    controls["tilt_db_per_octave"]]),
                                      widgets.VBox([controls["odd_only"], controls["freeze"],
                                                    controls["instant_s"]])]),
                        progress.widget, player, picture])
    return box, update
