"""Widgets for the notebooks (ipywidgets): choose a sound and a method, see and hear the result.

`pitch_explorer` is notebooks 01-03's; `TransferSliders`, `upload_widget` and
`uploaded_audio` are notebook 07's.

Each builder returns the widget and its `update()` function, so that a notebook run
without a browser (papermill, the tests) can call `update()` in code and check what it drew.

Pictures and sounds go into `Image` and `Audio` widgets, not into an `Output`
widget: a large display inside an `Output` widget makes nbclient (papermill's
executor, 0.10) wait for its cell time-out, so the notebooks would stall under test.
"""
from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ttlib import transfer
from ttlib.audio.io import load
from ttlib.audio.listen import wav_bytes
from ttlib.core.errors import TtlibError
from ttlib.core.units import SAMPLE_RATE
from ttlib.course import plots
from ttlib.pitch.tracking import track
from ttlib.transfer import Settings

if TYPE_CHECKING:
    import ipywidgets


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def pitch_explorer(sources: dict, methods: tuple = ("yin", "pyin", "crepe-tiny"), frame_rate: float = 100.0,
                   fmin: float = 60.0, fmax: float = 2000.0, max_hz: float = 5000.0) -> tuple:
    """Pick a sound and an f0 tracker; see its spectrogram with the f0 and hear the sound.

    Args:
      sources: {name: mono audio at 16 kHz, shape [n_samples]}.
      methods: tracker names of `ttlib.pitch.METHODS`; "crepe-...+octave" analyses an octave down.

    Returns:
      (widget, update): `update(source, method)` redraws and returns the `PitchTrack`.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    source_box = widgets.Dropdown(options=list(sources), description="sound")
    method_box = widgets.Dropdown(options=list(methods), description="method")
    picture = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
    player = widgets.Audio(format="wav", autoplay=False, loop=False)
    summary = widgets.Label()

    def update(source=None, method=None):
        source = source or source_box.value
        method = method or method_box.value
        name, _, variant = method.partition("+")
        samples = sources[source]
        result = track(samples, name, SAMPLE_RATE, frame_rate, fmin, fmax,
                             crepe_octaves_down=1 if variant == "octave" else 0)
        fig, ax = plt.subplots(figsize=(10, 3.5))
        plots.spectrogram(samples, SAMPLE_RATE, ax=ax, f0_hz=result.f0_hz, frame_rate=frame_rate,
                          voiced=result.voiced, max_hz=max_hz, f0_label=f"f0 ({method})")
        voiced = result.voiced
        text = (f"{source}: {method}, {100 * voiced.mean():.0f}% of frames voiced"
                + (f", median f0 {np.median(result.f0_hz[voiced]):.0f} Hz" if voiced.any() else ""))
        ax.set_title(text)
        picture.value = png_bytes(fig)
        player.value = wav_bytes(samples)
        summary.value = text
        return result

    source_box.observe(lambda change: update(), names="value")
    method_box.observe(lambda change: update(), names="value")
    return widgets.VBox([widgets.HBox([source_box, method_box]), summary, picture, player]), update


class TransferSliders:
    """Sliders over a timbre transfer: move one and hear the new result at once.

    Features are computed once (`source`); a pitch, loudness, autotune or quiet change
    re-runs only the adjustment, the decoder and the synthesizers; a gain change only
    re-mixes the parts. The player is replaced first, then the picture.

    Attributes:
      widget: the whole thing, to display.
      sliders: {"pitch_shift", "loudness_shift", "autotune", "quiet_db", "harmonic_gain",
        "noise_gain", "reverb_gain"} FloatSliders and the "auto_adjust" Checkbox.
      result: the current `ttlib.transfer.Result` (its `audio` is what the player holds).
      latency_s: seconds from the last change to the new player (adjust, decode,
        synthesise, mix, encode), without the picture.
      renders: how many times the model ran.
    """

    def __init__(self, synth, source, settings: Settings | None = None, draw: bool = True,
                 save_dir: str | os.PathLike = "."):
        import ipywidgets as widgets

        self.synth, self.source, self.draw = synth, source, draw
        self.settings = settings or Settings()
        s = self.settings
        slider = lambda value, lo, hi, step, text: widgets.FloatSlider(
            value=value, min=lo, max=hi, step=step, description=text, continuous_update=False,
            style={"description_width": "140px"}, layout=widgets.Layout(width="480px"))
        self.sliders = {
            "pitch_shift": slider(s.pitch_shift, -24, 24, 1, "pitch shift (st)"),
            "loudness_shift": slider(s.loudness_shift, -20, 20, 1, "loudness shift (dB)"),
            "autotune": slider(s.autotune, 0, 1, 0.05, "autotune"),
            "quiet_db": slider(s.quiet_db if s.quiet_db is not None else 0, 0, 60, 1, "silence below (dB)"),
            "harmonic_gain": slider(s.harmonic_gain, 0, 2, 0.05, "harmonic gain"),
            "noise_gain": slider(s.noise_gain, 0, 2, 0.05, "noise gain"),
            "reverb_gain": slider(s.reverb_gain, 0, 2, 0.05, "reverb gain"),
            "auto_adjust": widgets.Checkbox(value=s.auto_adjust, description="automatic octave and loudness"),
        }
        self.player = widgets.Audio(format="wav", autoplay=False, loop=False)
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.status = widgets.Label()
        self.filename = widgets.Text(value="transfer.wav", description="save as")
        self.save_button = widgets.Button(description="save WAV + settings")
        self.save_dir = save_dir
        self.save_button.on_click(lambda _: self._save_clicked())
        self.latency_s, self.renders, self.parts = 0.0, 0, None
        for name, control in self.sliders.items():
            gain = name.endswith("_gain")
            control.observe(lambda change, gain=gain: self.update(remix_only=gain), names="value")
        controls = widgets.VBox(list(self.sliders.values()))
        self.widget = widgets.VBox([controls, self.player, self.status,
                                    widgets.HBox([self.filename, self.save_button]), self.picture])
        self.update()

    def current_settings(self) -> Settings:
        """The `Settings` the sliders show."""
        v = {k: c.value for k, c in self.sliders.items()}
        return Settings(auto_adjust=bool(v["auto_adjust"]), quiet_db=v["quiet_db"] or None,
                                 autotune=v["autotune"], pitch_shift=v["pitch_shift"],
                                 loudness_shift=v["loudness_shift"], harmonic_gain=v["harmonic_gain"],
                                 noise_gain=v["noise_gain"], reverb_gain=v["reverb_gain"])

    def update(self, remix_only: bool = False) -> np.ndarray:
        """Re-render for the sliders' values (what moving one does); returns the new audio."""
        import time

        t0 = time.perf_counter()
        settings = self.current_settings()
        if remix_only and self.parts is not None:
            audio = self.parts.mix(settings.harmonic_gain, settings.noise_gain, settings.reverb_gain)
            self.result = transfer.Result(audio, self.parts, self.source, self.result.adjusted, settings,
                                          {"total": 0.0})
        else:
            self.result = transfer.transfer(self.source.audio, self.synth, settings, source=self.source)
            self.parts = self.result.parts
            self.renders += 1
        self.player.value = wav_bytes(self.result.audio, normalize_level=False)
        self.latency_s = time.perf_counter() - t0
        summary = self.result.adjusted.summary
        self.status.value = (f"{'re-mixed' if remix_only else 're-synthesised'} in {1000 * self.latency_s:.0f} ms; "
                             f"octave shift {summary['octave_shift']:+d}, "
                             f"{100 * summary['playing_fraction']:.0f}% playing")
        if self.draw and not remix_only:
            import matplotlib.pyplot as plt

            fig, axes = plt.subplots(1, 2, figsize=(12, 3))
            plots.transfer_controls(self.source, self.result.adjusted, self.synth.statistics, axes=axes)
            self.picture.value = png_bytes(fig)
        return self.result.audio

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> tuple[Path, Path]:
        """Write the current result as WAV and its settings as JSON beside it."""
        return transfer.save(self.result, path, overwrite=overwrite, model=str(self.synth.loaded.folder))

    def _save_clicked(self):
        try:
            wav, settings = self.save(Path(self.save_dir) / self.filename.value)
            self.status.value = f"saved {wav} and {settings.name}"
        except (TtlibError, OSError) as exc:
            self.status.value = f"not saved: {exc}"


def upload_widget() -> ipywidgets.FileUpload:
    """A file picker for one audio file (wav, flac, ogg, mp3); read it with `uploaded_audio`."""
    import ipywidgets as widgets

    return widgets.FileUpload(accept=".wav,.flac,.ogg,.oga,.mp3,.aiff,.aif,audio/*", multiple=False,
                              description="upload audio")


def uploaded_audio(upload, sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, str] | None:
    """(audio [n_samples], file name) of the file chosen in `upload_widget()`, or None if none yet.

    Decoded by `ttlib.audio.load` (any rate, stereo mixed down; bad files raise `AudioError`).
    """
    import tempfile

    value = upload.value
    if not value:
        return None
    item = value[0] if isinstance(value, (tuple, list)) else next(iter(value.values()))
    name = Path(item["name"]).name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(bytes(item["content"]))
        return load(path, sample_rate), name
