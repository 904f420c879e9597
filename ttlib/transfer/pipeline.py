"""A whole transfer: features, adjustment, synthesis; its check; saving it with its settings.

`transfer(audio, model_dir, settings)` runs the three steps (`ttlib.transfer.source`,
`.adjustment`, `.synthesizer`); `check` tracks the output's f0 again and measures how
far it is from the f0 the model was given (cents); `save` writes the WAV and, beside
it, the settings that made it. Notebook 07, the sliders and `python -m ttlib transfer`
all call these.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ttlib.audio.io import save_wav
from ttlib.core.constants import HIGH_PITCH_HZ
from ttlib.core.errors import OutputExistsError
from ttlib.core.units import SAMPLE_RATE, n_frames
from ttlib.models.checkpoint import LoadedModel
from ttlib.pitch.accuracy import F0Error, output_f0_error
from ttlib.transfer.adjustment import Adjusted, Settings, adjust
from ttlib.transfer.source import SourceFeatures, source_features
from ttlib.transfer.synthesizer import Parts, Synthesizer


@dataclass
class Result:
    """A transfer: the audio, its parts, the features before and after adjustment, and how long it took.

    Attributes:
      audio: [n_samples] the output.
      parts: its parts, for re-mixing with other gains.
      source, adjusted: the features before and after adjustment.
      settings: what made it.
      seconds: {"features", "adjust", "synthesis", "total"} wall times (s).
    """

    audio: np.ndarray
    parts: Parts
    source: SourceFeatures
    adjusted: Adjusted
    settings: Settings
    seconds: dict

    def settings_json(self, **extra) -> str:
        """The settings, the adjustment and the source's warnings as JSON (with `extra` fields)."""
        return json.dumps({"settings": asdict(self.settings), "adjustment": self.adjusted.summary,
                           "octaves_down": self.source.octaves_down, "warnings": self.source.warnings, **extra},
                          indent=2)


def transfer(audio, model: str | os.PathLike | LoadedModel | Synthesizer, settings: Settings | None = None,
             source: SourceFeatures | None = None, progress: bool = False) -> Result:
    """Play a source (16 kHz mono, [n_samples]) with a model (a folder, a `LoadedModel` or a `Synthesizer`).

    The output has the source's length, rounded down to whole frames.
    """
    settings = (settings or Settings()).check()
    synth = model if isinstance(model, Synthesizer) else Synthesizer(model)
    times = {}
    t0 = time.perf_counter()
    if source is None:
        source = source_features(audio, synth.frame_rate, progress=progress)
    times["features"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    adjusted = adjust(source, synth.statistics, settings)
    times["adjust"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    frames = min(adjusted.f0_hz.size, n_frames(source.audio.size, synth.hop, whole=True))
    gate = adjusted.on[:frames].astype(np.float32) if settings.quiet_db is not None else None
    parts = synth.render(adjusted.f0_hz[:frames], adjusted.loudness_db[:frames], progress=progress, gate=gate,
                         room=settings.room)
    out = parts.mix(settings.harmonic_gain, settings.noise_gain, settings.reverb_gain)
    times["synthesis"] = time.perf_counter() - t2
    times["total"] = time.perf_counter() - t0
    return Result(out, parts, source, adjusted, settings, times)


def check(result: Result, method: str = "crepe-tiny") -> F0Error:
    """How well the output plays the adjusted f0: CREPE tracks it again, on the playing frames.

    An output whose median f0 is above `HIGH_PITCH_HZ` is analysed an octave down.
    """
    octaves_down = int(np.median(result.adjusted.f0_hz) > HIGH_PITCH_HZ)
    return output_f0_error(result.audio, result.adjusted.f0_hz, result.source.frame_rate,
                           playing=result.adjusted.on, method=method, octaves_down=octaves_down)


def save(result: Result, path: str | os.PathLike, overwrite: bool = False, **extra) -> tuple[Path, Path]:
    """Write the audio as WAV and, next to it, the settings that made it (same name, .json).

    Raises:
      OutputExistsError: either file exists and `overwrite` is False (nothing is written).
    """
    path = Path(path)
    settings_path = path.with_suffix(".json")
    for existing in (path, settings_path):
        if existing.exists() and not overwrite:
            raise OutputExistsError(f"{existing} exists; choose another name or pass overwrite=True (--overwrite).")
    save_wav(path, result.audio, SAMPLE_RATE, overwrite=overwrite)
    settings_path.write_text(result.settings_json(**extra))
    return path, settings_path
