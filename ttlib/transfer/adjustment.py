"""Step 2 of a transfer: the source's f0 and loudness made ready for the model.

The automatic adjustment from the model's training statistics: a whole-octave shift
toward the instrument's median pitch, the source's loudness quantiles mapped onto
the training distribution, quiet or pitchless frames silenced (except the short
pitchless gaps where one note becomes the next, `BRIDGE_SECONDS`), optional autotune
toward the nearest semitone; then the manual pitch and loudness shifts (the sliders).
Notebook 07, section 3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ttlib.core.constants import LOUDNESS_FLOOR_DB, PLAYING_DB
from ttlib.core.errors import TransferError
from ttlib.core.units import SAMPLE_RATE, hz_to_midi, midi_to_hz
from ttlib.data.stats import training_ranges
from ttlib.transfer.source import SourceFeatures

BRIDGE_SECONDS = 0.06
"""Longest gap without a confident pitch that plays on between two playing frames while it stays loud.

Where one note becomes the next, CREPE's confidence dips below `VOICED_CONFIDENCE` for a
frame or two (it hears two pitches at once); silencing those frames cut a gap into every
legato note change, and with it the start of the next note. `benchmarks/note_changes.py`:
the shipped trumpet playing the built-in whistle fell a median 29.7 dB at a legato note
change (2.9 dB bridged); playing the dry built-in trumpet's own features it was 18.9 dB
below the trumpet at its note onsets (1.8 dB bridged; 1.7 dB with the score's f0, which has
no gaps). A bridged gap plays the last confident pitch at its own loudness."""


@dataclass
class Settings:
    """How a source is adjusted and mixed (every slider of the notebook).

    Attributes:
      auto_adjust: shift by whole octaves toward the training data's median pitch and map
        the source's loudness quantiles onto the training data's.
      quiet_db: silence frames more than this many dB below the source's loud passages
        (its 95th-percentile loudness), and frames without a confident pitch (except a gap of
        at most `BRIDGE_SECONDS` between two playing frames, loud all through: a note change):
        the model gets silence's loudness there and its output is gated to zero (the reverb
        still rings out); None: never.
      autotune: 0 (off) to 1 (every frame on the nearest semitone).
      pitch_shift: semitones added after the automatic shift (-48 to 48).
      loudness_shift: dB added after the loudness mapping (-60 to 60).
      harmonic_gain, noise_gain: gains of the parts (1 = as the model made them).
      reverb_gain: the room's wet/dry mix: 0 dry, 1 the room as it is, above 1 more of it
        (`ttlib.transfer.room`).
      room: where it plays: "model" (the room the model learned), "dry", a model folder
        (that model's room) or an impulse response file (`ttlib.transfer.room.resolve_room`).
    """

    auto_adjust: bool = True
    quiet_db: float | None = 30.0
    autotune: float = 0.0
    pitch_shift: float = 0.0
    loudness_shift: float = 0.0
    harmonic_gain: float = 1.0
    noise_gain: float = 1.0
    reverb_gain: float = 1.0
    room: str = "model"

    def check(self) -> Settings:
        """Returns self, or raises TransferError naming the setting out of range."""
        if not 0.0 <= self.autotune <= 1.0:
            raise TransferError(f"autotune must be between 0 and 1, not {self.autotune}.")
        if not -48 <= self.pitch_shift <= 48:
            raise TransferError(f"pitch_shift must be within ±48 semitones, not {self.pitch_shift}.")
        if not -60 <= self.loudness_shift <= 60:
            raise TransferError(f"loudness_shift must be within ±60 dB, not {self.loudness_shift}.")
        if self.quiet_db is not None and self.quiet_db <= 0:
            raise TransferError(f"quiet_db must be positive (dB below the loud passages), not {self.quiet_db}.")
        if min(self.harmonic_gain, self.noise_gain, self.reverb_gain) < 0:
            raise TransferError("Gains must be zero or positive.")
        if not isinstance(self.room, str) or not self.room:
            raise TransferError(f"room must be a name or a path (model, dry, a model folder, an impulse response "
                                f"file), not {self.room!r}.")
        return self


@dataclass
class Adjusted:
    """The model's input after adjustment, [n_frames] each, and what was done.

    Attributes:
      f0_hz, loudness_db: what the model gets.
      octave_shift: whole octaves of the automatic shift.
      on: frames that play (the others are silenced when `quiet_db` is set), bridged gaps included.
      summary: the adjustment in numbers (saved beside a result).
    """

    f0_hz: np.ndarray
    loudness_db: np.ndarray
    octave_shift: int
    on: np.ndarray
    summary: dict


def bridges(on, sounding, max_frames: int) -> np.ndarray:
    """The gaps of at most `max_frames` between two frames of `on` in which every frame is `sounding`:
    [n_frames] bool, True in those gaps."""
    on, sounding = np.asarray(on, bool), np.asarray(sounding, bool)
    out = np.zeros_like(on)
    playing = np.flatnonzero(on)
    for before, after in zip(playing[:-1], playing[1:]):
        if 1 < after - before <= max_frames + 1 and sounding[before + 1:after].all():
            out[before + 1:after] = True
    return out


def adjust(source: SourceFeatures, statistics: dict, settings: Settings | None = None) -> Adjusted:
    """The source's f0 and loudness made ready for the model (see `Settings`)."""
    settings = (settings or Settings()).check()
    ranges = training_ranges(statistics)
    on = source.playing.copy()
    bridged = np.zeros_like(on)
    if settings.quiet_db is not None and on.any():
        loud = np.percentile(source.loudness_db[on], 95)
        sounding = source.loudness_db > loud - settings.quiet_db
        on &= sounding
        bridged = bridges(on, sounding & (source.loudness_db > PLAYING_DB),
                          int(round(BRIDGE_SECONDS * source.frame_rate)))
    midi = hz_to_midi(source.f0_hz)
    octave_shift = 0
    if settings.auto_adjust and on.any():
        octave_shift = int(np.round((ranges["pitch_midi"][50] - np.median(midi[on])) / 12.0))
        midi = midi + 12.0 * octave_shift
    if settings.autotune > 0:
        midi = midi + settings.autotune * (np.round(midi) - midi)
    midi = midi + settings.pitch_shift
    loudness = source.loudness_db.astype(np.float64).copy()
    if settings.auto_adjust and on.sum() >= 2:
        levels = np.linspace(0, 100, ranges["loudness_db"].size)
        source_q = np.percentile(loudness[on], levels)
        source_q = np.maximum.accumulate(source_q + np.arange(source_q.size) * 1e-6)    # strictly increasing
        plays = on | bridged
        loudness[plays] = np.interp(loudness[plays], source_q, ranges["loudness_db"])
    loudness = loudness + settings.loudness_shift
    if settings.quiet_db is not None:
        loudness[~(on | bridged)] = LOUDNESS_FLOOR_DB
    loudness = np.clip(loudness, LOUDNESS_FLOOR_DB, 20.0)
    f0 = midi_to_hz(midi)
    # where the source has no pitch, hold the nearest pitched value (the synthesizer needs some f0; a bridged
    # gap plays the pitch before it)
    if on.any():
        idx = np.where(on, np.arange(on.size), -1)
        idx = np.maximum.accumulate(idx)
        idx[idx < 0] = np.argmax(on)
        f0 = np.where(on, f0, f0[idx])
    f0 = np.clip(f0, 20.0, SAMPLE_RATE / 2 - 1)
    summary = {"octave_shift": octave_shift, "pitch_shift": settings.pitch_shift,
               "autotune": settings.autotune, "loudness_shift": settings.loudness_shift,
               "playing_fraction": float((on | bridged).mean()) if on.size else 0.0,
               "bridged_frames": int(bridged.sum()),
               "median_pitch_midi_before": float(np.median(hz_to_midi(source.f0_hz)[on])) if on.any() else None,
               "median_pitch_midi_after": float(np.median(midi[on])) if on.any() else None,
               "training_median_pitch_midi": float(ranges["pitch_midi"][50])}
    return Adjusted(f0.astype(np.float32), loudness.astype(np.float32), octave_shift, on | bridged, summary)
