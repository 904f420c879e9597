"""Audio: read any file as checked 16 kHz mono, resample, trim, save, and listen.

  io      `load` (with its `AudioReport`), `resample`, `save_wav`, `find_audio_files`
  edit    `split_on_silence`, `trim_silence`, `normalize`
  listen  `play`, `player_table`, `wav_bytes`: the one way to hear a sound
  room    `measure_room` (T20, T30, EDT, DRR, C80), `schroeder_curve`, `load_impulse_response`

Taught in notebook 01 (rooms: notebook 10); every notebook plays its sounds through `play` or `player_table`.
"""
from ttlib.audio.edit import normalize, split_on_silence, trim_silence
from ttlib.audio.io import (
                            AUDIO_EXTENSIONS,
                            AudioReport,
                            AudioWarning,
                            clipped_fraction,
                            find_audio_files,
                            load,
                            resample,
                            save_wav,
)
from ttlib.audio.listen import play, player_table, wav_bytes
from ttlib.core.errors import AudioError

__all__ = ["AUDIO_EXTENSIONS", "AudioError", "AudioReport", "AudioWarning", "clipped_fraction", "find_audio_files",
           "load", "normalize", "play", "player_table", "resample", "save_wav", "split_on_silence", "trim_silence",
           "wav_bytes"]
