"""Timbre transfer: a source's f0 and loudness, adjusted, played by a trained model.

The steps, each a module the notebook, the widgets and `python -m ttlib transfer` share:

  source       1. `source_features(audio)`: f0 (CREPE tiny, an octave down for whistles),
                  confidence and loudness on the model's frame grid, computed once
  adjustment   2. `adjust(features, statistics, Settings(...))`: octave shift, loudness
                  mapping, silencing, autotune, then the sliders' shifts
  synthesizer  3. `Synthesizer(model).render(f0_hz, loudness_db)`: the model's decoder and
                  synthesizers in chunks; the `Parts` re-mix without new synthesis
  room         where it plays: the model's learned room, none, another model's, or an
               impulse response file (`Settings.room`, `resolve_room`)
  room_estimate  a room fitted to a reverberant recording (`fit_room`, `estimate_room`)
  pipeline     `transfer` (all three), `check` (the output's f0 error), `save` (WAV + settings)

Taught in notebook 07; rooms in notebook 10.
"""
from ttlib.core.errors import TransferError
from ttlib.transfer.adjustment import Adjusted, Settings, adjust
from ttlib.transfer.pipeline import Result, check, save, transfer
from ttlib.transfer.room import Room, dry_room, model_room, resolve_room
from ttlib.transfer.source import SourceFeatures, needs_octave_down, source_features
from ttlib.transfer.synthesizer import Parts, Synthesizer

__all__ = ["Adjusted", "Parts", "Result", "Room", "Settings", "SourceFeatures", "Synthesizer", "TransferError",
           "adjust", "check", "dry_room", "model_room", "needs_octave_down", "resolve_room", "save",
           "source_features", "transfer"]
