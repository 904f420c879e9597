"""The room of a transfer: the model's learned one, none, another model's, or an impulse response from a file.

A room is an impulse response h whose direct sound is at sample d. A model's learned
reverb adds a tail to the dry sound (ddsp's `Reverb`), so its room is h = delta + tail
with d = 0; a measured response read from a file starts 2.5 ms before its direct sound
and has unit energy (`ttlib.audio.room.load_impulse_response`). With the wet/dry mix g
(`Settings.reverb_gain`), the output of a dry sound x is

    y(t) = (1 - g) x(t - d) + g (x * h)(t)

so g = 1 is the room as it is, g = 0 the dry sound, and g > 1 more room than there is.
For a model's own room this is x + g (x * tail): the model's output when g = 1.

`resolve_room(spec, model)` turns what a user names into a `Room`:
  "model"            the model's learned room (the default; dry if it learned none)
  "dry"              no room
  a model folder     that model's learned room
  an audio file      a measured or simulated impulse response (any rate, mono or stereo)
  "estimate:REC.wav" the room a recording of the model's instrument was played in, fitted
                     by `ttlib.transfer.room_estimate` (needs the model that plays: a
                     `Synthesizer` resolves it, `Synthesizer.room_for`)
Notebook 10 (acoustics transfer); notebook 07's sliders and `python -m ttlib transfer --room`.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ttlib.audio.io import AUDIO_EXTENSIONS
from ttlib.audio.room import load_impulse_response
from ttlib.core.errors import TransferError
from ttlib.core.units import SAMPLE_RATE
from ttlib.models.autoencoder import reverb_impulse_response
from ttlib.models.checkpoint import LoadedModel, load_model

ROOM_CHOICES = "model, dry, a model folder, an impulse response file (wav, flac, ogg), or estimate:RECORDING.wav"
ESTIMATE_PREFIX = "estimate:"


@dataclass(frozen=True, eq=False)
class Room:
    """An impulse response with its direct sound at sample `direct`, and the name it was chosen by.

    Attributes:
      name: what the user named ("model", "dry", a path).
      ir: the whole response, direct sound included, [n_taps] float64.
      direct: the direct sound's sample.
    """

    name: str
    ir: np.ndarray
    direct: int = 0

    @property
    def is_dry(self) -> bool:
        return self.ir.size == 1 and self.direct == 0 and self.ir[0] == 1.0

    @property
    def tail(self) -> np.ndarray:
        """h minus the direct sound's unit impulse: what the room adds to the dry sound delayed by `direct`."""
        tail = self.ir.copy()
        tail[self.direct] -= 1.0
        return tail

    def delay(self, audio) -> np.ndarray:
        """`audio` delayed by `direct` samples, same length."""
        audio = np.asarray(audio, np.float32)
        if self.direct == 0:
            return audio
        out = np.zeros_like(audio)
        out[self.direct:] = audio[:audio.size - self.direct]
        return out

    def wet(self, audio) -> np.ndarray:
        """(audio * h)(t) - audio(t - direct), cut to the audio's length (float32): the room's addition."""
        if self.is_dry:
            return np.zeros(np.asarray(audio).size, np.float32)
        from scipy.signal import oaconvolve

        audio = np.asarray(audio, np.float64)
        return oaconvolve(audio, self.tail)[:audio.size].astype(np.float32)


def dry_room() -> Room:
    """No room: h = delta."""
    return Room("dry", np.ones(1))


def model_room(loaded: LoadedModel, name: str = "model") -> Room:
    """A model's learned room, delta + its reverb's tail (the dry room if the model has no reverb)."""
    tail = reverb_impulse_response(loaded.model)
    if tail is None:
        return Room(name, np.ones(1))
    ir = np.array(tail, np.float64)
    ir[0] = 1.0
    return Room(name, ir)


def resolve_room(spec: str | os.PathLike | Room | None, model: LoadedModel | None = None,
                 sample_rate: int = SAMPLE_RATE) -> Room:
    """The `Room` a user names (see the module's list); `model` is the transfer's own model (for "model").

    Raises:
      TransferError: an unknown name; "model" without a model.
      MissingFileError, AudioError, ModelError: a file or folder that cannot be used.
    """
    if isinstance(spec, Room):
        return spec
    text = "model" if spec is None else str(spec)
    if text == "dry":
        return dry_room()
    if text.startswith(ESTIMATE_PREFIX):
        raise TransferError(f"The room {text!r} is estimated with the model that plays it; resolve it with "
                            "Synthesizer.room_for (the transfer, the sliders and the live mode do).")
    if text == "model":
        if model is None:
            raise TransferError("The room 'model' is the transfer model's own room; give the model.")
        return model_room(model)
    path = Path(text)
    if path.is_dir():
        return model_room(load_model(path), name=text)
    if path.suffix.lower() in AUDIO_EXTENSIONS or path.is_file():
        ir = load_impulse_response(path, sample_rate).astype(np.float64)
        return Room(text, ir, int(np.argmax(np.abs(ir))))
    raise TransferError(f"Unknown room {text!r}: give {ROOM_CHOICES}.")
