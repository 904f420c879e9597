"""Widgets for the notebooks (ipywidgets): choose a sound and a method, see and hear the result.

`pitch_explorer` is notebooks 01-03's; `TransferSliders`, `upload_widget` and
`uploaded_audio` are notebook 07's.

Each builder returns the widget and its `update()` function, so that a notebook run
without a browser (papermill, the tests) can call `update()` in code and check what it drew.
While a widget recomputes, a progress bar and a line of text say what it is doing
(`Progress`): CREPE full on ten seconds takes several seconds on a laptop.

Pictures and sounds go into `Image` and `Audio` widgets, not into an `Output`
widget: a large display inside an `Output` widget makes nbclient (papermill's
executor, 0.10) wait for its cell time-out, so the notebooks would stall under test.
"""
from __future__ import annotations

import io
import os
import time
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
from ttlib.transfer.room import ESTIMATE_PREFIX

if TYPE_CHECKING:
    import ipywidgets


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


class Progress:
    """A progress bar and a status line: `start(steps, text)`, `step(text)`, `done(text)`.

    Each call changes the widgets at once (the browser redraws them while the kernel
    keeps computing), so a slow recomputation shows "computing ..." first.
    """

    def __init__(self):
        import ipywidgets as widgets

        self.bar = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="120px"))
        self.label = widgets.Label()
        self.widget = widgets.HBox([self.bar, self.label])

    def start(self, steps: int, text: str) -> None:
        """Begin `steps` steps; show `text` (what is being computed)."""
        self.bar.max, self.bar.value, self.bar.bar_style = max(1, steps), 0, "info"
        self.label.value = text

    def step(self, text: str) -> None:
        """One step done; show what comes next."""
        self.bar.value = min(self.bar.max, self.bar.value + 1)
        self.label.value = text

    def done(self, text: str) -> None:
        """All steps done; show the outcome."""
        self.bar.value, self.bar.bar_style = self.bar.max, "success"
        self.label.value = text


def pitch_explorer(sources: dict, methods: tuple = ("yin", "pyin", "crepe-tiny"), frame_rate: float = 100.0,
                   fmin: float = 60.0, fmax: float = 2000.0, max_hz: float = 5000.0) -> tuple:
    """Pick a sound and an f0 tracker; see its spectrogram with the f0 and hear the sound.

    While it tracks and draws, the menus are disabled and a progress bar says so
    ("computing f0 with crepe-full ..."); then it shows how long that took.

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
    progress = Progress()

    def update(source=None, method=None):
        source = source or source_box.value
        method = method or method_box.value
        name, _, variant = method.partition("+")
        samples = sources[source]
        t0 = time.perf_counter()
        source_box.disabled = method_box.disabled = True
        progress.start(2, f"computing f0 of {source!r} with {method} ({samples.size / SAMPLE_RATE:.0f} s of sound) ...")
        try:
            result = track(samples, name, SAMPLE_RATE, frame_rate, fmin, fmax,
                           crepe_octaves_down=1 if variant == "octave" else 0)
            tracked = time.perf_counter() - t0
            progress.step("drawing the spectrogram ...")
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
            progress.done(f"f0 in {tracked:.1f} s, picture in {time.perf_counter() - t0 - tracked:.1f} s")
        finally:
            source_box.disabled = method_box.disabled = False
        return result

    source_box.observe(lambda change: update(), names="value")
    method_box.observe(lambda change: update(), names="value")
    return widgets.VBox([widgets.HBox([source_box, method_box]), progress.widget, summary, picture, player]), update


RESYNTHESIS_NOTE = ("<b>Re-synthesis</b>: these change the model's input (f0 and loudness), "
                    "so the decoder and the synthesizers run again.")
REMIX_NOTE = ("<b>Re-mix</b>: these only scale the parts already made (harmonic, noise, and the "
              "room's addition to both) or put them in another room: no model runs, so the change is quick.")


class TransferSliders:
    """Sliders over a timbre transfer, in two groups that cost differently.

    Features are computed once (`source`). The re-synthesis controls (pitch shift,
    loudness shift, autotune, the automatic adjustment, silencing quiet frames)
    re-run the adjustment, the decoder and the synthesizers; the re-mix controls
    (harmonic and noise gains, the room and its wet/dry mix) only re-mix the parts (another
    room: one convolution). A and B players hold
    the source and the result; the picture shows the control curves beside the
    result's spectrogram; the status line shows the render latency.

    Attributes:
      widget: the whole thing, to display.
      sliders: every control by name: the Dropdown "model" (the trained models to play with: the
        source's features are kept, computed again only for a model of another frame rate), the
        FloatSliders "pitch_shift", "loudness_shift",
        "autotune", "quiet_db" (dB below the loud passages), "harmonic_gain", "noise_gain",
        "reverb_gain" (the room's wet/dry mix), the Dropdown "room" (the model's room, dry,
        and `rooms`), and the Checkboxes "auto_adjust" and "silence_quiet" (off: nothing
        is silenced and the "quiet_db" slider is disabled).
      RESYNTHESIS, REMIX: the names of the controls in each group.
      result: the current `ttlib.transfer.Result` (its `audio` is what player B holds).
      latency_s: seconds from the last change to the new player (adjust, decode,
        synthesise, mix, encode; a re-mix: mix and encode), without the picture.
      renders: how many times the model ran.
      last_action: "re-synthesised" or "re-mixed".
    """

    RESYNTHESIS = ("model", "pitch_shift", "loudness_shift", "autotune", "auto_adjust", "silence_quiet", "quiet_db")
    REMIX = ("harmonic_gain", "noise_gain", "room", "reverb_gain")

    def __init__(self, synth, source, settings: Settings | None = None, draw: bool = True,
                 save_dir: str | os.PathLike = ".", rooms: dict | None = None, models: dict | None = None):
        """rooms: more rooms for the room selector, {label: `Settings.room` choice} (files, model folders).
        models: the models of the model selector, {label: model folder} (`ttlib.models.find_models`);
        `synth`'s own is always one of them."""
        import ipywidgets as widgets

        self.synth, self.source, self.draw = synth, source, draw
        self.settings = settings or Settings()
        s = self.settings
        quiet_on = s.quiet_db is not None

        def slider(value, lo, hi, step, text, **extra):
            return widgets.FloatSlider(value=value, min=lo, max=hi, step=step, description=text,
                                       continuous_update=False, style={"description_width": "150px"},
                                       layout=widgets.Layout(width="470px"), **extra)

        self._synths = {str(Path(synth.loaded.folder).resolve()): synth}
        model_options = [(str(label), str(Path(folder).resolve())) for label, folder in (models or {}).items()]
        if str(Path(synth.loaded.folder).resolve()) not in [value for _, value in model_options]:
            model_options.insert(0, (Path(synth.loaded.folder).name, str(Path(synth.loaded.folder).resolve())))
        self.sliders = {
            "model": widgets.Dropdown(options=model_options, value=str(Path(synth.loaded.folder).resolve()),
                                      description="model", style={"description_width": "150px"},
                                      layout=widgets.Layout(width="470px",       # shown with a choice only
                                                            display=None if len(model_options) > 1 else "none")),
            "pitch_shift": slider(s.pitch_shift, -24, 24, 1, "pitch shift (semitones)"),
            "loudness_shift": slider(s.loudness_shift, -20, 20, 1, "loudness shift (dB)"),
            "autotune": slider(s.autotune, 0, 1, 0.05, "autotune (0 off, 1 full)"),
            "auto_adjust": widgets.Checkbox(value=s.auto_adjust, indent=False,
                                            description="automatic octave shift and loudness mapping"),
            "silence_quiet": widgets.Checkbox(value=quiet_on, indent=False,
                                              description="silence quiet and pitchless frames"),
            "quiet_db": slider(s.quiet_db if quiet_on else 30.0, 1, 60, 1, "quiet: dB below loud parts",
                               disabled=not quiet_on),
            "harmonic_gain": slider(s.harmonic_gain, 0, 2, 0.05, "harmonic gain"),
            "noise_gain": slider(s.noise_gain, 0, 2, 0.05, "noise gain"),
            "room": widgets.Dropdown(options=self._room_options(s.room, rooms), value=s.room, description="room",
                                     style={"description_width": "150px"}, layout=widgets.Layout(width="470px")),
            "reverb_gain": slider(s.reverb_gain, 0, 2, 0.05, "room mix (0 dry, 1 as is)"),
        }
        self.source_player = widgets.Audio(value=wav_bytes(source.audio), format="wav", autoplay=False, loop=False)
        self.player = widgets.Audio(format="wav", autoplay=False, loop=False)
        self.picture = widgets.Image(format="png", layout=widgets.Layout(width="100%"))
        self.progress = Progress()
        self.status = self.progress.label
        self.filename = widgets.Text(value="transfer.wav", description="save as")
        self.save_button = widgets.Button(description="save WAV + settings")
        self.save_dir = save_dir
        self.save_button.on_click(lambda _: self._save_clicked())
        self.latency_s, self.renders, self.parts, self.last_action = 0.0, 0, None, ""
        self._holding = False
        self.sliders["silence_quiet"].observe(self._quiet_toggled, names="value")
        for name, control in self.sliders.items():
            control.observe(lambda change, remix=name in self.REMIX: self.update(remix_only=remix), names="value")

        def group(note, names):
            return widgets.VBox([widgets.HTML(note)] + [self.sliders[n] for n in names],
                                layout=widgets.Layout(border="1px solid #ccc", padding="4px", margin="2px"))

        def labelled(text, player):
            return widgets.VBox([widgets.HTML(text), player])

        self.widget = widgets.VBox([
            widgets.HBox([group(RESYNTHESIS_NOTE, self.RESYNTHESIS), group(REMIX_NOTE, self.REMIX)]),
            widgets.HBox([labelled("<b>A</b>: the source", self.source_player),
                          labelled("<b>B</b>: the transfer", self.player)]),
            self.progress.widget, self.picture, widgets.HBox([self.filename, self.save_button])])
        self.update()

    @staticmethod
    def _room_options(current: str, rooms: dict | None) -> list:
        options = [("the model's own room", "model"), ("dry (no room)", "dry")]
        options += [(str(label), str(spec)) for label, spec in (rooms or {}).items()]
        if current not in [value for _, value in options]:
            options.append((current, current))
        return options

    def _quiet_toggled(self, change) -> None:
        self.sliders["quiet_db"].disabled = not change["new"]

    def current_settings(self) -> Settings:
        """The `Settings` the controls show (`quiet_db` None when "silence quiet ..." is off)."""
        v = {k: c.value for k, c in self.sliders.items()}
        return Settings(auto_adjust=bool(v["auto_adjust"]),
                        quiet_db=float(v["quiet_db"]) if v["silence_quiet"] else None,
                        autotune=v["autotune"], pitch_shift=v["pitch_shift"],
                        loudness_shift=v["loudness_shift"], harmonic_gain=v["harmonic_gain"],
                        noise_gain=v["noise_gain"], reverb_gain=v["reverb_gain"], room=v["room"])

    def update(self, remix_only: bool = False) -> np.ndarray:
        """Re-render for the controls' values (what moving one does); returns the new audio.

        remix_only: only re-mix the parts with the gains (if there are parts yet).
        """
        if self._holding:                                     # a control set back after a refused change
            return self.result.audio
        t0 = time.perf_counter()
        if not remix_only and self.sliders["model"].value not in self._synths:
            self.progress.start(1, "computing: loading the model ...")
            try:
                self._synths[self.sliders["model"].value] = transfer.Synthesizer(self.sliders["model"].value)
            except (TtlibError, OSError) as exc:              # a damaged folder: say so, keep the last model
                self._holding = True
                self.sliders["model"].value = str(Path(self.synth.loaded.folder).resolve())
                self._holding = False
                self.progress.done(f"model not changed: {exc}")
                return self.result.audio
        synth = self._synths.get(self.sliders["model"].value, self.synth)
        if synth is not self.synth:
            if synth.frame_rate != self.synth.frame_rate:   # the source's features on the new model's frames
                self.source = transfer.source_features(self.source.audio, synth.frame_rate,
                                                       octaves_down=self.source.octaves_down, progress=False)
            self.synth = synth
        settings = self.current_settings()
        remix = remix_only and self.parts is not None
        self.progress.start(2 if self.draw else 1, "computing: " + ("re-mixing the parts ..." if remix else
                                                               "re-running the decoder and the synthesizers ..."))
        if remix and (self.parts.room is None or self.parts.room.name != settings.room):
            if settings.room.startswith(ESTIMATE_PREFIX):         # a fit of a minute or so, then kept in the cache
                self.progress.start(1, f"computing: estimating the room of {settings.room[len(ESTIMATE_PREFIX):]} "
                                       "(about a minute the first time, at once after) ...")
            try:
                room = self.synth.room_for(settings.room)
            except (TtlibError, OSError) as exc:               # a room file that cannot be used: say so, keep the last
                self.sliders["room"].value = self.parts.room.name if self.parts.room is not None else "model"
                self.progress.done(f"room not changed: {exc}")
                return self.result.audio
            self.parts = self.parts.with_room(room)
        if remix:
            audio = self.parts.mix(settings.harmonic_gain, settings.noise_gain, settings.reverb_gain)
            self.result = transfer.Result(audio, self.parts, self.source, self.result.adjusted, settings,
                                          {"mix": time.perf_counter() - t0})
        else:
            self.result = transfer.transfer(self.source.audio, self.synth, settings, source=self.source)
            self.parts = self.result.parts
            self.renders += 1
        self.player.value = wav_bytes(self.result.audio, normalize_level=False)
        self.latency_s = time.perf_counter() - t0
        self.last_action = "re-mixed" if remix else "re-synthesised"
        summary = self.result.adjusted.summary
        text = (f"{self.last_action} in {1000 * self.latency_s:.0f} ms "
                f"({self.source.audio.size / SAMPLE_RATE:.1f} s of sound); octave shift {summary['octave_shift']:+d}, "
                f"{100 * summary['playing_fraction']:.0f}% of frames playing")
        if self.draw:
            self.progress.step(text + "; drawing ...")
            fig = plots.transfer_view(self.source, self.result.adjusted, self.synth.statistics, self.result.audio)
            self.picture.value = png_bytes(fig)
            text += f"; picture {1000 * (time.perf_counter() - t0 - self.latency_s):.0f} ms"
        self.progress.done(text)
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
