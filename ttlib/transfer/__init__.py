"""Timbre transfer: a source's f0 and loudness, adjusted, played by a trained model.

The steps, each a module the notebook, the widgets and `python -m ttlib transfer` share:

  source       1. `source_features(audio)`: f0 (CREPE tiny, an octave down for whistles),
                  confidence and loudness on the model's frame grid, computed once
  adjustment   2. `adjust(features, statistics, Settings(...))`: octave shift, loudness
                  mapping, silencing, autotune, then the sliders' shifts
  synthesizer  3. `Synthesizer(model).render(f0_hz, loudness_db)`: the model's decoder and
                  synthesizers in chunks; the `Parts` re-mix without new synthesis
  pipeline     `transfer` (all three), `check` (the output's f0 error), `save` (WAV + settings)

Taught in notebook 07.
"""
from ttlib.core.errors import TransferError
from ttlib.transfer.adjustment import Adjusted, Settings, adjust
from ttlib.transfer.pipeline import Result, check, save, transfer
from ttlib.transfer.source import SourceFeatures, needs_octave_down, source_features
from ttlib.transfer.synthesizer import Parts, Synthesizer

__all__ = ["Adjusted", "Parts", "Result", "Settings", "SourceFeatures", "Synthesizer", "TransferError", "adjust",
           "check", "needs_octave_down", "save", "source_features", "transfer"]
