"""The bottom layer: units and their one convention, thresholds, errors, paths, small file helpers.

Nothing here imports another part of ttlib; every other part may import it.

  units      samples, frames, Hz, MIDI and cents: the one place each is computed
  constants  the thresholds the course uses everywhere (voicing, playing, silence)
  errors     `TtlibError`, the one base of every error a user can cause and fix
  paths      where generated data and caches go
  io         JSON, CSV and hashes, written atomically
"""
