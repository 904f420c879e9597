"""Synthesizer knobs: a harmonic + noise + reverb tone re-rendered as the knobs turn (notebook 04).

`render_tone` builds one short note with ddsp's own processors, the signal model of
DDSP: `ddsp.synths.Harmonic` (harmonic k weighted by a spectral tilt in dB per octave),
`ddsp.synths.FilteredNoise` (breath above 500 Hz, at a level relative to the harmonic
part) and `ddsp.effects.Reverb` (an exponentially decaying noise impulse response with
a given T60). `SynthKnobs` puts sliders on those settings and shows the result in an
`Image` widget (spectrogram PNG) and an `Audio` widget, both updated in place; its
`set()` turns the knobs from code, so a notebook run without a browser exercises it.
"""
from __future__ import annotations

import time

import numpy as np

from ttlib.audio.listen import wav_bytes
from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE
from ttlib.course import plots
from ttlib.course.widgets import Progress, png_bytes
from ttlib.synth.tones import tilt_gains

DEFAULTS = {"f0_hz": 262.0, "tilt_db_per_octave": -6.0, "noise_db": -20.0, "t60_s": 1.0}
"""The knobs' starting values."""
FRAME_RATE = 250
"""Control frames per second of the rendered note (Hz)."""


def decaying_ir(t60_s: float, sample_rate: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """Gaussian noise under an envelope 60 dB down at `t60_s`, 1.5 T60 long, energy -6 dB re the dry sound."""
    t = np.arange(max(1, int(1.5 * t60_s * sample_rate))) / sample_rate
    ir = np.random.default_rng(seed).standard_normal(t.size) * 10.0 ** (-3.0 * t / t60_s)
    return (ir * 0.5 / np.sqrt(np.sum(ir ** 2))).astype(np.float32)


def render_tone(f0_hz: float = 262.0, tilt_db_per_octave: float = -6.0, noise_db: float = -20.0,
                t60_s: float = 1.0, seconds: float = 1.0, n_harmonics: int = 40,
                sample_rate: int = SAMPLE_RATE, seed: int = 0) -> np.ndarray:
    """One note from ddsp's harmonic synthesizer, filtered noise and reverb.

    Args:
      f0_hz: the note's fundamental frequency (Hz).
      tilt_db_per_octave: spectral tilt: harmonic k is tilt · log2(k) dB re harmonic 1.
      noise_db: level of the breath noise (flat above 2 kHz, nothing below 500 Hz) re the harmonic part (RMS).
      t60_s: the reverb's decay time (s); 0 leaves the note dry.
      seconds: length of the note; the reverb tail (up to 1.5 s) follows in silence.

    Returns:
      mono audio, shape [n_samples], peak 0.9 at most.
    """
    import ddsp
    import tensorflow as tf

    if f0_hz <= 0 or seconds <= 0 or t60_s < 0:
        raise ConfigError(f"render_tone needs f0_hz > 0, seconds > 0 and t60_s >= 0 (got {f0_hz}, {seconds}, {t60_s}).")
    hop = sample_rate // FRAME_RATE
    tail_s = min(1.5 * t60_s, 1.5)
    n_frames = int(round((seconds + tail_s) * FRAME_RATE))
    t = np.arange(n_frames) / FRAME_RATE
    envelope = np.clip(np.minimum(t / 0.03, (seconds - t) / 0.1), 0.0, 1.0)        # 30 ms attack, 100 ms release
    weights = tilt_gains(n_harmonics, tilt_db_per_octave)
    controls = [tf.constant(x, tf.float32) for x in (0.3 * envelope[None, :, None],
                                                     np.tile(weights[None, None, :], (1, n_frames, 1)),
                                                     np.full((1, n_frames, 1), f0_hz))]
    n_samples = n_frames * hop
    harmonic = ddsp.synths.Harmonic(n_samples=n_samples, sample_rate=sample_rate, scale_fn=None)(*controls)[0].numpy()
    band_hz = np.linspace(0, sample_rate / 2, 65)
    shape = np.clip((band_hz - 500.0) / 1500.0, 0.0, 1.0)
    noise_synth = ddsp.synths.FilteredNoise(n_samples=n_samples, window_size=0, scale_fn=None)
    tf.random.set_seed(seed)
    noise = noise_synth(tf.constant((shape[None, :] * envelope[:, None])[None], tf.float32))[0].numpy()
    noise *= np.std(harmonic) / max(float(np.std(noise)), 1e-12) * 10.0 ** (noise_db / 20.0)
    dry = (harmonic + noise).astype(np.float32)
    if t60_s > 0:
        reverb = ddsp.effects.Reverb(trainable=False, add_dry=True)
        dry = reverb(dry[None], decaying_ir(t60_s, sample_rate, seed)[None])[0].numpy()
    peak = float(np.max(np.abs(dry)))
    return (dry * min(1.0, 0.9 / peak) if peak > 0 else dry).astype(np.float32)


class SynthKnobs:
    """Sliders for f0, spectral tilt, noise level and reverb T60; a spectrogram and a player.

    `widget` is the box to display; `update()` renders with the sliders' values and returns
    the audio; `set(name=value, ...)` turns several knobs and renders once.
    """

    def __init__(self, seconds: float = 1.0, draw: bool = True, **values: float):
        import ipywidgets as widgets

        self.seconds, self.draw = seconds, draw
        start = {**DEFAULTS, **values}
        style = {"description_width": "150px"}
        layout = widgets.Layout(width="480px")

        def slider(name, lo, hi, step, text):
            return widgets.FloatSlider(value=start[name], min=lo, max=hi, step=step, description=text,
                                       continuous_update=False, style=style, layout=layout)

        self.sliders = {"f0_hz": slider("f0_hz", 100.0, 1000.0, 1.0, "f0 (Hz)"),
                        "tilt_db_per_octave": slider("tilt_db_per_octave", -24.0, 0.0, 0.5, "tilt (dB/octave)"),
                        "noise_db": slider("noise_db", -60.0, 0.0, 1.0, "noise re harmonics (dB)"),
                        "t60_s": slider("t60_s", 0.0, 3.0, 0.1, "reverb T60 (s)")}
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.player = widgets.Audio(format="wav", autoplay=False, loop=False)
        self.progress = Progress()
        self.audio = np.zeros(0, np.float32)
        self._quiet = False
        for box in self.sliders.values():
            box.observe(self._changed, names="value")
        self.widget = widgets.VBox([*self.sliders.values(), self.progress.widget, self.picture, self.player])

    @property
    def values(self) -> dict:
        """The knobs' current values."""
        return {name: float(box.value) for name, box in self.sliders.items()}

    def _changed(self, change) -> None:
        if not self._quiet:
            self.update()

    def set(self, **values: float) -> np.ndarray:
        """Turn the named knobs (see DEFAULTS), then render once; returns the audio."""
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise ConfigError(f"Unknown knob(s) {sorted(unknown)}; the knobs are {sorted(self.sliders)}.")
        self._quiet = True
        try:
            for name, value in values.items():
                self.sliders[name].value = value
        finally:
            self._quiet = False
        return self.update()

    def update(self) -> np.ndarray:
        """Render the tone for the current knobs, redraw the spectrogram, refill the player."""
        values = self.values
        started = time.perf_counter()
        self.progress.start(2, "rendering: harmonic + noise + reverb with ddsp ...")
        self.audio = render_tone(seconds=self.seconds, **values)
        self.progress.step("drawing the spectrogram ...")
        if self.draw:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=(10, 3.2))
            plots.spectrogram(self.audio, SAMPLE_RATE, ax=ax)
            ax.set_title(f"f0 {values['f0_hz']:.0f} Hz, tilt {values['tilt_db_per_octave']:+.1f} dB/octave, "
                         f"noise {values['noise_db']:+.0f} dB, T60 {values['t60_s']:.1f} s")
            self.picture.value = png_bytes(fig)
        self.player.value = wav_bytes(self.audio)
        self.progress.done(f"rendered and drawn in {time.perf_counter() - started:.1f} s")
        return self.audio
