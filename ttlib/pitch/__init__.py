"""Pitch: f0 trackers behind one function, CREPE's weights, and how right an f0 is.

  yin_tracker    `yin`: YIN in NumPy, the reference of notebook 02
  crepe_tracker  `crepe_f0_hz`, `crepe_bin_hz`, CREPE's range (notebook 03)
  crepe_weights  CREPE's weights from the package registry, converted and checked
  tracking       `track(audio, method)` -> `PitchTrack`; `METHODS`; `frame_level_db`
  accuracy       `pitch_accuracy` (mir_eval), `output_f0_error` (an output re-tracked, in cents),
                 `busiest_window` (notebook 03)
"""
from ttlib.core.units import cents
from ttlib.pitch.accuracy import F0Error, busiest_window, output_f0_error, pitch_accuracy
from ttlib.pitch.crepe_tracker import CAPACITIES, CREPE_MAX_HZ, CREPE_MIN_HZ, crepe_bin_hz, crepe_f0_hz
from ttlib.pitch.tracking import DEFAULT_VOICING, METHODS, PitchTrack, check_method, frame_level_db, track
from ttlib.pitch.yin_tracker import frame_length_for, yin

__all__ = ["CAPACITIES", "CREPE_MAX_HZ", "CREPE_MIN_HZ", "DEFAULT_VOICING", "F0Error", "METHODS",
           "PitchTrack", "busiest_window", "cents", "check_method",
           "crepe_bin_hz", "crepe_f0_hz", "frame_length_for", "frame_level_db",
           "output_f0_error", "pitch_accuracy", "track", "yin"]
