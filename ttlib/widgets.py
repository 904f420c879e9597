"""Widgets for the notebooks (ipywidgets): choose a sound and a method, see and hear the result.

Each builder returns the widget and its `update()` function, so that a notebook run
without a browser (papermill, the tests) can call `update()` in code and check what it drew.

Pictures and sounds go into `Image` and `Audio` widgets, not into an `Output`
widget: a large display inside an `Output` widget makes nbclient (papermill's
executor, 0.10) wait for its cell time-out, so the notebooks would stall under test.
"""
from __future__ import annotations

import io

import numpy as np

from ttlib import SAMPLE_RATE


def wav_bytes(samples, sample_rate: int = SAMPLE_RATE) -> bytes:
    """A normalised 16-bit WAV file of mono `samples` (shape [n_samples]), as bytes."""
    import soundfile

    from ttlib.audio import normalize

    buffer = io.BytesIO()
    soundfile.write(buffer, normalize(samples), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def png_bytes(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def pitch_explorer(sources: dict, methods=("yin", "pyin", "crepe-tiny"), frame_rate: float = 100.0,
                   fmin: float = 60.0, fmax: float = 2000.0, max_hz: float = 5000.0):
    """Pick a sound and an f0 tracker; see its spectrogram with the f0 and hear the sound.

    Args:
      sources: {name: mono audio at 16 kHz, shape [n_samples]}.
      methods: tracker names of `ttlib.pitch.METHODS`; "crepe-...+octave" analyses an octave down.

    Returns:
      (widget, update): `update(source, method)` redraws and returns the `PitchTrack`.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from ttlib import pitch, plots

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
        result = pitch.track(samples, name, SAMPLE_RATE, frame_rate, fmin, fmax,
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
