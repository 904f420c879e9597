"""The whistle-to-trumpet web app of `make demo`: notebook 07's sliders for a projector, served by Voilà.

`DemoApp` is the page: choose the built-in whistle, upload a recording or record one with the
microphone (notebook 09's live widget: you hear the model while you whistle, and Stop makes the
take the sound to transfer), choose a trained model, press "Play it with the model", then slide
(notebook 07's `TransferSliders`: pitch, loudness, automatic adjustment, autotune, room, A/B players,
spectrogram) and download the result with its settings. Large controls and labels, nothing that
needs the code. `app_notebook` writes the one-cell notebook Voilà serves (`python -m ttlib demo`
runs Voilà on it and prints the address); `tests/test_browser.py` drives it in a real, headless
Chromium. Notebooks 07 and 09 teach what it does.
"""
from __future__ import annotations

import base64
import dataclasses
import html
import json
import os
from pathlib import Path

import numpy as np

from ttlib.audio.listen import wav_bytes
from ttlib.core import paths
from ttlib.core.errors import TtlibError
from ttlib.core.units import SAMPLE_RATE
from ttlib.course.widgets import Progress, TransferSliders, upload_widget, uploaded_audio

MODELS_ENV = "TTLIB_DEMO_MODELS"
"""The environment variable through which `python -m ttlib demo --model ...` tells the app its models (JSON list)."""

STYLE = """<style>
.ttlib-demo, .ttlib-demo .widget-label, .ttlib-demo .widget-readout, .ttlib-demo button,
.ttlib-demo select, .ttlib-demo .widget-html-content { font-size: 20px !important; }
.ttlib-demo .widget-label { min-width: 14em; }
.ttlib-demo .widget-checkbox, .ttlib-demo .widget-checkbox label { font-size: 20px !important; width: auto !important; }
.ttlib-demo .widget-checkbox { width: 100% !important; }
.ttlib-demo select { min-width: 16em; }
.ttlib-demo button { height: 2.4em; }
.ttlib-demo h1 { font-size: 40px; margin: 0.2em 0; }
.ttlib-demo a.ttlib-download { font-size: 22px; margin-right: 2em; }
</style>"""


def find_models(extra: list | None = None) -> dict:
    """{label: folder} of the trained models: `extra` folders first, then those under data/generated/models/
    (one level down), then the shipped ones of data/models/ (`ttlib.models.shipped.model_choices`)."""
    from ttlib.models.shipped import model_choices

    found = model_choices(extra or (), [paths.generated_dir() / "models"])
    return {label: str(folder) for label, folder in found.items()}


def _link(data: bytes, name: str, mime: str, text: str) -> str:
    return (f'<a class="ttlib-download" download="{html.escape(name)}" '
            f'href="data:{mime};base64,{base64.b64encode(data).decode()}">{html.escape(text)}</a>')


class DemoApp:
    """The app's page (`widget`), its parts by name, and `play()` / `download_links()` for code and tests.

    Args:
      models: {label: model folder}; None: `find_models()`.
      whistle_seconds: length of the built-in whistle offered as the first source.
    """

    def __init__(self, models: dict | None = None, whistle_seconds: float = 8.0):
        import ipywidgets as widgets

        self.models = find_models() if models is None else dict(models)
        self.whistle_seconds = whistle_seconds
        self.sources = {}                          # label -> audio [n_samples] at 16 kHz
        self.sliders = None
        self.synths = {}
        self.title = widgets.HTML(STYLE + "<h1>Whistle → trumpet</h1>")
        self.source = widgets.Dropdown(options=["the built-in whistle"], description="sound",
                                       layout=widgets.Layout(width="640px"))
        self.upload = upload_widget()
        self.upload.description = "upload a recording"
        self.upload.layout = widgets.Layout(width="300px")
        self.upload.observe(lambda _: self._uploaded(), names="value")
        self.model = widgets.Dropdown(options=list(self.models), description="model",
                                      layout=widgets.Layout(width="640px"))
        self.model.observe(lambda _: self._model_changed(), names="value")
        self.record_button = widgets.Button(description="🎤 record with the microphone",
                                            layout=widgets.Layout(width="320px"))
        self.record_button.on_click(lambda _: self.open_microphone())
        self.microphone = None
        self.streams = {}                          # model folder -> its live engine
        self.microphone_box = widgets.VBox([self.record_button])
        self.play_button = widgets.Button(description="Play it with the model", button_style="primary",
                                          layout=widgets.Layout(width="320px"))
        self.play_button.on_click(lambda _: self.play())
        self.progress = Progress()
        self.message = widgets.HTML()
        self.downloads = widgets.HTML()
        self.controls = widgets.VBox()
        self.widget = widgets.VBox([self.title, widgets.HBox([self.source, self.upload]), self.model,
                                    self.microphone_box, self.play_button, self.progress.widget, self.message,
                                    self.controls, self.downloads])
        self.widget.add_class("ttlib-demo")
        if not self.models:
            self.play_button.disabled = self.record_button.disabled = True
            self.message.value = ("<b>No trained model yet</b> (and the shipped ones of data/models/ are missing). "
                                  "Train one with <code>make run</code> (or notebook 06, or <code>python -m ttlib "
                                  "train</code>), or the shipped ones with <code>make models</code>, then reload "
                                  "this page.")

    def _uploaded(self) -> None:
        try:
            got = uploaded_audio(self.upload)
        except (TtlibError, OSError) as exc:
            self.message.value = f"<b>That file cannot be used:</b> {html.escape(str(exc))}"
            return
        if got is None:
            return
        audio, name = got
        self.sources[name] = audio
        self.source.options = list(self.source.options) + [name] if name not in self.source.options \
            else self.source.options
        self.source.value = name
        self.message.value = html.escape(f"uploaded {name}: {audio.size / SAMPLE_RATE:.1f} s")

    def _stream(self):
        """The live engine of the chosen model (made once per model)."""
        from ttlib.live import Stream

        folder = self.models[self.model.value]
        if folder not in self.streams:
            self.progress.start(1, f"loading {self.model.value} for live playing ...")
            self.streams[folder] = Stream(folder)
        return self.streams[folder]

    def open_microphone(self) -> None:
        """Show the microphone widget (what the record button does), playing the chosen model live."""
        from ttlib.course.live_widget import live_microphone

        self.message.value = ""
        try:
            stream = self._stream()
            if self.microphone is None:
                self.microphone = live_microphone(stream)
                self.microphone.observe(lambda _: self._recorded(), names="takes")
            else:
                self.microphone.use(stream)
        except (TtlibError, OSError) as exc:
            self.progress.done("")
            self.message.value = f"<b>The microphone cannot play this model:</b> {html.escape(str(exc))}"
            return
        self.progress.done("press Start, allow the microphone, whistle: Stop makes your take the sound")
        self.microphone_box.children = [self.microphone]

    def _model_changed(self) -> None:
        if self.microphone is not None:
            self.open_microphone()

    def _recorded(self) -> None:
        audio, _ = self.microphone.take()
        name = f"your recording {self.microphone.takes} ({audio.size / SAMPLE_RATE:.1f} s)"
        self.sources[name] = audio
        self.source.options = list(self.source.options) + [name]
        self.source.value = name
        self.message.value = html.escape(f"{name}: press Play it with the model to transfer it and use the sliders")

    def _source_audio(self) -> np.ndarray:
        label = self.source.value
        if label not in self.sources:
            from ttlib.data.builtin import clip

            self.progress.start(1, "rendering the built-in whistle (a few seconds the first time) ...")
            self.sources[label] = clip("whistle", seconds=self.whistle_seconds).audio
        return self.sources[label]

    def play(self) -> np.ndarray | None:
        """Analyse the chosen sound and play it with the chosen model (what the button does); the result."""
        from ttlib.transfer import Synthesizer, source_features

        self.message.value = ""
        try:
            audio = self._source_audio()
            folder = self.models[self.model.value]
            if folder not in self.synths:
                self.progress.start(1, f"loading the model {self.model.value} ...")
                self.synths[folder] = Synthesizer(folder)
            synth = self.synths[folder]
            self.progress.start(1, "analysing the sound: pitch (CREPE) and loudness ...")
            features = source_features(audio, synth.frame_rate)
            self.sliders = TransferSliders(synth, features, save_dir=".")
        except (TtlibError, OSError) as exc:
            self.progress.done("")
            self.message.value = f"<b>Could not play it:</b> {html.escape(str(exc))}"
            return None
        self.sliders.player.observe(lambda _: self._refresh_downloads(), names="value")
        for server_side in (self.sliders.filename, self.sliders.save_button):   # the page downloads instead
            server_side.layout.display = "none"
        self.controls.children = [self.sliders.widget]
        self._refresh_downloads()
        self.progress.done(f"played with {self.model.value}: move the sliders")
        return self.sliders.result.audio

    def download_links(self) -> tuple[bytes, dict]:
        """(WAV bytes, settings) of the current result, as the download links hold them."""
        result = self.sliders.result
        settings = {"source": self.source.value, "model": self.models[self.model.value],
                    **dataclasses.asdict(result.settings)}
        return wav_bytes(result.audio, normalize_level=False), settings

    def _refresh_downloads(self) -> None:
        wav, settings = self.download_links()
        stem = Path(str(self.source.value)).stem.replace(" ", "-")
        self.downloads.value = (_link(wav, f"{stem}-as-{self.model.value}.wav", "audio/wav", "⬇ download the sound")
                                + _link(json.dumps(settings, indent=2).encode(), f"{stem}-as-{self.model.value}.json",
                                        "application/json", "⬇ its settings"))


TEMPLATE = "ttlib-demo"
"""The Voilà template the app is served with: Voilà's `lab` template without its two stylesheets from a CDN."""

_CDN = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5/css/"
_TEMPLATE_INDEX = ("{%- extends 'voila/templates/lab/index.html.j2' -%}\n"
                   "{# Voila's lab template links FontAwesome from a CDN: offline (a classroom) that is two\n"
                   "   console errors, and ipywidgets bundles the icons it draws. The links are emptied. #}\n"
                   "{%- block notebook_css -%}\n"
                   f"{{{{ super() | replace('{_CDN}all.min.css', 'data:text/css,') "
                   f"| replace('{_CDN}v4-shims.min.css', 'data:text/css,') }}}}\n"
                   "{%- endblock notebook_css -%}\n")


def app_notebook(folder: str | os.PathLike) -> Path:
    """Write the one-cell notebook Voilà serves (the app reads its models from `MODELS_ENV`), and beside it
    `jupyter/voila/templates/ttlib-demo/` (give `folder/jupyter` in JUPYTER_PATH and `--template=ttlib-demo`);
    the notebook's path."""
    import nbformat

    template = Path(folder) / "jupyter" / "voila" / "templates" / TEMPLATE
    template.mkdir(parents=True, exist_ok=True)
    (template / "index.html.j2").write_text(_TEMPLATE_INDEX)
    (template / "conf.json").write_text(json.dumps({"base_template": "lab"}))

    cell = nbformat.v4.new_code_cell(
        "import json, os\n"
        "import ttlib\n"
        "from ttlib.course.demo import DemoApp, MODELS_ENV, find_models\n"
        "app = DemoApp(find_models(json.loads(os.environ.get(MODELS_ENV, '[]'))))\n"
        "app.widget")
    notebook = nbformat.v4.new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3",
                                                                              "display_name": "Python 3"}})
    path = Path(folder) / "whistle_to_trumpet.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path
