"""The live engine's sound computed offline, from the course's offline tools: what a stream must equal.

`render(audio, model)` makes, for a whole recording at once, what `Stream` makes block
by block, but with the offline library wherever one exists:

  - loudness: `ttlib.data.features.loudness_db` (ddsp's `compute_loudness`, centred frames);
  - f0: `crepe.core.get_activation` over the whole recording (centred frames, CREPE's own
    resampling for the octave-down analysis), with CREPE's peak-weighted average, no Viterbi;
  - synthesis: `ttlib.transfer.Synthesizer.render` (the decoder over the whole sequence, the
    harmonic and noise synthesizers, `scipy.signal.oaconvolve` for the room) and `Parts.mix`.

Only the per-frame decisions (the octave-down switch, the live adjustment) are the
engine's own code, run over the frames in order. A stream fed the same recording (and
then silence) outputs this, delayed by `Stream.latency_samples`, to float rounding;
tests/test_live.py checks it for several block sizes. Notebook 09 compares it with the
offline transfer of notebook 07 (centred, Viterbi, whole-source adjustment).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ttlib.core.constants import PLAYING_DB
from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE
from ttlib.data.features import loudness_db
from ttlib.live.analysis import CENTRE_DELAY, HALF, OctaveSwitch, f0_from_activation, spectral_peak_hz
from ttlib.live.control import LiveAdjuster
from ttlib.models.checkpoint import LoadedModel, load_model
from ttlib.transfer.adjustment import Settings
from ttlib.transfer.synthesizer import Synthesizer


@dataclass
class CausalFeatures:
    """Frame-wise features of a recording as the live engine sees them, [n_frames] each."""

    f0_hz: np.ndarray
    confidence: np.ndarray
    loudness_db: np.ndarray
    octaves_down: np.ndarray


def causal_features(audio, frame_rate: float, capacity: str = "tiny") -> CausalFeatures:
    """Features of frames centred on k hop - `CENTRE_DELAY` for k = 0, 1, ... up to the end (the input
    padded with zeros on both sides): the offline features of the input delayed by `CENTRE_DELAY`."""
    import crepe.core

    audio = np.concatenate([np.zeros(CENTRE_DELAY, np.float32), np.asarray(audio, np.float32).reshape(-1)])
    hop = int(round(SAMPLE_RATE / frame_rate))
    loudness = loudness_db(audio, SAMPLE_RATE, frame_rate)
    count = loudness.size
    padded = np.concatenate([np.zeros(HALF, np.float32), audio, np.zeros(HALF + hop, np.float32)])
    switch, modes = OctaveSwitch(), np.zeros(count, int)
    for k in range(count):
        modes[k] = switch.update(spectral_peak_hz(padded[k * hop:k * hop + FRAME_LENGTH]), loudness[k])
    step_ms = 1000.0 * hop / SAMPLE_RATE
    activation = crepe.core.get_activation(audio, SAMPLE_RATE, capacity, center=True, step_size=step_ms, verbose=0)
    if modes.any():
        down = crepe.core.get_activation(audio, SAMPLE_RATE // 2, capacity, center=True, step_size=2 * step_ms,
                                         verbose=0)
        activation = np.where(modes[:, None] == 1, down[:count], activation[:count])
    f0, confidence = f0_from_activation(activation[:count], modes)
    quiet = loudness <= PLAYING_DB                        # frames that never play: the engine skips CREPE there
    f0[quiet], confidence[quiet] = 0.0, 0.0
    return CausalFeatures(f0, confidence, loudness, modes)


def adjust_frames(features: CausalFeatures, statistics: dict, frame_rate: float, settings: Settings | None = None,
                  history_seconds: float = 10.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The live adjustment run over the frames in order: (f0_hz, loudness_db, on) for the model."""
    adjuster = LiveAdjuster(statistics, frame_rate, settings, history_seconds)
    rows = [adjuster.step(float(f), float(c), float(ld))
            for f, c, ld in zip(features.f0_hz, features.confidence, features.loudness_db)]
    f0, loudness, on = (np.array(column) for column in zip(*rows))
    return f0.astype(np.float32), loudness.astype(np.float32), on.astype(bool)


def render(audio, model: str | os.PathLike | LoadedModel, settings: Settings | None = None, seed: int = 0,
           history_seconds: float = 10.0, capacity: str = "tiny") -> tuple[np.ndarray, CausalFeatures]:
    """What the live engine plays for `audio` (16 kHz mono), made offline: (output [n_frames x hop], features).

    Sample i of the output is sample i + latency_samples of a `Stream` with the same
    arguments fed `audio` followed by silence.
    """
    settings = (settings or Settings()).check()
    synth = Synthesizer(model if isinstance(model, LoadedModel) else load_model(model), seed=seed)
    features = causal_features(audio, synth.frame_rate, capacity)
    f0, loudness, on = adjust_frames(features, synth.statistics, synth.frame_rate, settings, history_seconds)
    gate = on.astype(np.float32) if settings.quiet_db is not None else None
    parts = synth.render(f0, loudness, gate=gate, room=settings.room)
    return parts.mix(settings.harmonic_gain, settings.noise_gain, settings.reverb_gain), features
