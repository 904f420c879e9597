"""Step 1 of a transfer: a source's f0, confidence and loudness, computed once.

f0 by CREPE tiny, analysed an octave down when the source goes above CREPE's ~2 kHz
ceiling (as whistles do; judged by YIN, which has no ceiling), loudness as ddsp
computes it, on the model's frame grid; cached by the audio's hash
(`ttlib.data.features`). What looks wrong (silence, polyphony, noise) is reported.
Notebook 07, section 2.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ttlib.core.constants import HIGH_PITCH_HZ, PLAYING_DB, VOICED_CONFIDENCE
from ttlib.core.errors import TransferError
from ttlib.core.units import SAMPLE_RATE, frame_times
from ttlib.data.features import compute as compute_features
from ttlib.pitch.tracking import track


@dataclass
class SourceFeatures:
    """A source's features on the model's frame grid.

    Attributes:
      audio: [n_samples] mono at 16 kHz.
      f0_hz, f0_confidence, loudness_db: [n_frames] at `frame_rate`.
      frame_rate: frames per second (Hz).
      octaves_down: how many octaves down CREPE analysed the source.
      warnings: what looked wrong (polyphony, noise, silence) and what it means.
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    f0_confidence: np.ndarray
    loudness_db: np.ndarray
    frame_rate: float
    octaves_down: int = 0
    warnings: list = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.f0_hz.size)

    @property
    def times_s(self) -> np.ndarray:
        return frame_times(self.n_frames, self.frame_rate)

    @property
    def playing(self) -> np.ndarray:
        """Frames with a confident pitch and some sound, [n_frames] bool."""
        return (self.f0_confidence >= VOICED_CONFIDENCE) & (self.loudness_db > PLAYING_DB) & (self.f0_hz > 0)


def needs_octave_down(audio, sample_rate: int = SAMPLE_RATE) -> bool:
    """Whether a source reaches above CREPE's range (judged by YIN, which has no ceiling, up to 4 kHz)."""
    audio = np.asarray(audio, np.float32).reshape(-1)
    piece = 10 * sample_rate                  # long sources: six 10 s excerpts spread over it
    if audio.size > 6 * piece:
        starts = np.linspace(0, audio.size - piece, 6).astype(int)
        audio = np.concatenate([audio[s:s + piece] for s in starts])
    quick = track(audio, "yin", sample_rate, frame_rate=50.0, fmin=60.0, fmax=4000.0)
    voiced = quick.f0_hz[quick.voiced]
    return bool(voiced.size >= 5 and np.percentile(voiced, 95) > HIGH_PITCH_HZ)


def source_features(audio, frame_rate: float = 50.0, octaves_down: int | str = "auto",
                    f0_method: str = "crepe-tiny", cache_dir: str | os.PathLike | None = "default",
                    progress: bool = True) -> SourceFeatures:
    """f0, confidence and loudness of a source (16 kHz mono, [n_samples]) at `frame_rate`.

    Args:
      octaves_down: 0, 1, or "auto" (one octave down when the source goes above
        1.5 kHz, see `needs_octave_down`).
      f0_method: a `ttlib.pitch.METHODS` name; CREPE runs at the frame rate's hop.
      cache_dir: feature cache ("default", a folder, or None).

    Raises:
      TransferError: empty audio, NaN samples.
    """
    audio = np.asarray(audio, np.float32).reshape(-1)
    if audio.size == 0:
        raise TransferError("The source has no samples: record or choose some audio first.")
    if not np.isfinite(audio).all():
        raise TransferError("The source contains NaN or infinite samples; load it with ttlib.audio.load, "
                            "which rejects such files with the time of the first bad sample.")
    if octaves_down == "auto":
        octaves_down = int(needs_octave_down(audio)) if f0_method.startswith("crepe") else 0
    # CREPE runs at a 10 ms hop (or the grid's, if coarser), then is put onto the grid
    step_ms = max(10.0, 1000.0 / frame_rate) if f0_method.startswith("crepe") else None
    feats = compute_features(audio, SAMPLE_RATE, f0_method, frame_rate, fmax=4000.0, crepe_step_ms=step_ms,
                             cache_dir=cache_dir, progress=progress, label="source features",
                             crepe_octaves_down=int(octaves_down))
    out = SourceFeatures(audio, feats.f0_hz, feats.f0_confidence, feats.loudness_db, float(frame_rate),
                         int(octaves_down))
    sounding = out.loudness_db > np.percentile(out.loudness_db, 95) - 30.0
    if out.loudness_db.max() <= PLAYING_DB:
        out.warnings.append("The source is silent: the transfer will be silent too.")
    elif sounding.sum() >= 10:
        unsure = float(np.mean(out.f0_confidence[sounding] < VOICED_CONFIDENCE))
        if unsure > 0.4:
            out.warnings.append(
                f"CREPE finds no clear single pitch in {100 * unsure:.0f}% of the sounding frames: the source "
                "looks polyphonic (chords, several instruments) or noisy. DDSP transfer is monophonic: it "
                "follows one pitch, so expect a wandering or broken melody. A solo, dry recording works best.")
    return out

