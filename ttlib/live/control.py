"""The live adjustment: notebook 07's automatic adjustment and sliders, decided frame by frame from the past.

Offline (`ttlib.transfer.adjustment.adjust`) looks at the whole source: its loud
level, its median pitch, its loudness quantiles. Live there is only the past, so
`LiveAdjuster` keeps the last `history_seconds` of playing frames and decides each new
frame from them:

  - **gate**: a frame plays when CREPE is confident (>= `VOICED_CONFIDENCE`), it is
    above `PLAYING_DB`, and (with `quiet_db`) within `quiet_db` of the recent loud
    level (95th percentile of the history). Room noise and breath give silence, not
    the model's buzz at -80 dB. A frame without a confident pitch right after playing ones
    plays on at the last pitch while it stays loud, for at most `BRIDGE_SECONDS` (where
    one note becomes the next CREPE's confidence dips for a frame or two). Offline bridges
    such a gap only when a note follows it; live the next frame is not known yet, so a
    note that fades out pitchless but loud plays up to 60 ms longer;
  - **octave shift** (auto_adjust): whole octaves toward the training data's median
    pitch, from the median of the recent playing frames, chosen at each note's first
    frame and held until the note ends (a melody is never split mid-note);
  - **loudness** (auto_adjust): the recent playing frames' quantiles mapped onto the
    training data's (as offline) once there are `MIN_FRAMES_FOR_QUANTILES`; before
    that, the loud level is moved onto the training data's 95th percentile;
  - then autotune and the pitch and loudness sliders, exactly as offline.

A frame that does not play gets silence's loudness and holds the last played f0 (the
synthesizer needs one). Notebook 09 (realtime) compares it with the offline adjustment.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from ttlib.core.constants import LOUDNESS_FLOOR_DB, PLAYING_DB, VOICED_CONFIDENCE
from ttlib.core.units import SAMPLE_RATE, hz_to_midi, midi_to_hz
from ttlib.data.stats import training_ranges
from ttlib.transfer.adjustment import BRIDGE_SECONDS, Settings

MIN_FRAMES_FOR_QUANTILES = 25
"""Playing frames of history needed before the loudness quantiles are mapped (0.5 s at 50 frames/s)."""


class LiveAdjuster:
    """Frame-by-frame adjustment of f0 and loudness for a model (see the module's docstring).

    Args:
      statistics: the model's `statistics.json` (its training data's quantiles).
      frame_rate: frames per second.
      settings: a `ttlib.transfer.Settings`; it may be replaced or changed between frames
        (the sliders).
      history_seconds: how much of the past the automatic adjustment looks at.
    """

    def __init__(self, statistics: dict, frame_rate: float, settings: Settings | None = None,
                 history_seconds: float = 10.0):
        ranges = training_ranges(statistics)
        self.train_median_midi = float(ranges["pitch_midi"][50])
        self.train_loudness_q = ranges["loudness_db"]
        self.levels = np.linspace(0, 100, self.train_loudness_q.size)
        self.settings = (settings or Settings()).check()
        self.history_frames = max(1, int(round(history_seconds * frame_rate)))
        self.bridge_frames = int(round(BRIDGE_SECONDS * frame_rate))
        self.reset()

    def reset(self) -> None:
        """Forget the past (a new performance)."""
        self.loudness_history = deque(maxlen=self.history_frames)
        self.pitch_history = deque(maxlen=self.history_frames)
        self.octave_shift = 0
        self.was_on = False
        self.last_f0 = None
        self.held = 0

    def step(self, f0_hz: float, confidence: float, loudness_db: float) -> tuple[float, float, bool]:
        """One frame: (f0 for the model in Hz, loudness for the model in dB, whether it plays)."""
        s = self.settings
        playing = confidence >= VOICED_CONFIDENCE and loudness_db > PLAYING_DB and f0_hz > 0
        midi = float(hz_to_midi(f0_hz)) if f0_hz > 0 else float("nan")
        if playing:
            self.loudness_history.append(float(loudness_db))
            self.pitch_history.append(midi)
        loud = loudness_db > PLAYING_DB and (s.quiet_db is None or not self.loudness_history
                                             or loudness_db > np.percentile(self.loudness_history, 95) - s.quiet_db)
        on = playing and loud
        bridging = (s.quiet_db is not None and not playing and loud and self.was_on
                    and self.held < self.bridge_frames and self.last_f0 is not None)
        self.held = self.held + 1 if bridging else 0
        if on and not self.was_on and s.auto_adjust:
            self.octave_shift = int(np.round((self.train_median_midi - np.median(self.pitch_history)) / 12.0))
        self.was_on = on
        if not s.auto_adjust:
            self.octave_shift = 0
        loudness = float(loudness_db)
        if on or bridging:
            if s.auto_adjust:
                loudness = self._map_loudness(loudness)
            loudness += s.loudness_shift
        if on:
            midi += 12.0 * self.octave_shift
            if s.autotune > 0:
                midi += s.autotune * (np.round(midi) - midi)
            midi += s.pitch_shift
            self.last_f0 = float(np.clip(midi_to_hz(midi), 20.0, SAMPLE_RATE / 2 - 1))
        elif bridging:
            on = self.was_on = True                       # the last pitch plays on (and the note goes on)
        else:
            loudness = LOUDNESS_FLOOR_DB if s.quiet_db is not None else loudness + s.loudness_shift
        loudness = float(np.clip(loudness, LOUDNESS_FLOOR_DB, 20.0))
        f0 = self.last_f0 if self.last_f0 is not None else float(midi_to_hz(self.train_median_midi))
        return f0, loudness, bool(on)

    def _map_loudness(self, loudness: float) -> float:
        history = np.asarray(self.loudness_history)
        if history.size >= MIN_FRAMES_FOR_QUANTILES:
            source_q = np.percentile(history, self.levels)
            source_q = np.maximum.accumulate(source_q + np.arange(source_q.size) * 1e-6)   # strictly increasing
            return float(np.interp(loudness, source_q, self.train_loudness_q))
        return loudness + float(np.percentile(self.train_loudness_q, 95) - np.percentile(history, 95))
