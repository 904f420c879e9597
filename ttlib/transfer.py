"""Timbre transfer: a source's f0 and loudness, adjusted, played by a trained model.

The steps, each a function the notebook, the widgets and `python -m ttlib transfer` share:

1. `source_features(audio)`: f0 (CREPE tiny; analysed an octave down when the source
   goes above CREPE's ~2 kHz ceiling, as whistles do), its confidence and loudness
   (dB), at the model's frame rate; cached by the audio's hash. Computed once.
2. `adjust(features, statistics, settings)`: the automatic adjustment from the model's
   training statistics (whole-octave shift toward the instrument's pitch, loudness
   quantiles mapped onto the training distribution, quiet or pitchless frames
   silenced, autotune toward the nearest semitone), then the manual pitch and
   loudness shifts.
3. `Synthesizer(model).render(f0_hz, loudness_db)`: the model's decoder and its
   synthesizers, in chunks with GRU warm-up, a carried oscillator phase and
   overlap-added reverb, so long sources use bounded memory and chunk borders make no
   click. It returns the parts (harmonic, noise and their reverberated copies), so the
   gain sliders (`mix`) need no new synthesis.

`transfer(audio, model_dir, settings)` runs all three.

The harmonic part is made by `ttlib.fast_synth` (linear amplitude interpolation), which
is exactly what `course` and `tiny` models were trained with; a `paper` model (trained
with ddsp's window interpolation) sounds very slightly smoother in its own call.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

import ttlib
from ttlib import SAMPLE_RATE

SILENT_DB = -80.0
"""Loudness of silence as ddsp computes it (its 80 dB range below 0 dB)."""
VOICED_CONFIDENCE = 0.5
HIGH_PITCH_HZ = 1500.0
"""Sources whose 95th-percentile pitch is above this are analysed an octave down."""


class TransferError(ValueError):
    """A transfer cannot run; the message says why and what to do."""


# ----------------------------------------------------------------------------- 1. features
@dataclass
class SourceFeatures:
    """A source's features on the model's frame grid.

    Attributes:
      audio: [n_samples] mono at 16 kHz.
      f0_hz, f0_confidence, loudness_db: [n_frames] at `frame_rate`.
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
        return np.arange(self.n_frames) / self.frame_rate

    @property
    def playing(self) -> np.ndarray:
        """Frames with a confident pitch and some sound, [n_frames] bool."""
        return (self.f0_confidence >= VOICED_CONFIDENCE) & (self.loudness_db > SILENT_DB + 10) & (self.f0_hz > 0)


def needs_octave_down(audio, sample_rate: int = SAMPLE_RATE) -> bool:
    """Whether a source reaches above CREPE's range (judged by YIN, which has no ceiling, up to 4 kHz)."""
    from ttlib import pitch

    audio = np.asarray(audio, np.float32).reshape(-1)
    piece = 10 * sample_rate                  # long sources: six 10 s excerpts spread over it
    if audio.size > 6 * piece:
        starts = np.linspace(0, audio.size - piece, 6).astype(int)
        audio = np.concatenate([audio[s:s + piece] for s in starts])
    quick = pitch.track(audio, "yin", sample_rate, frame_rate=50.0, fmin=60.0, fmax=4000.0)
    voiced = quick.f0_hz[quick.voiced]
    return bool(voiced.size >= 5 and np.percentile(voiced, 95) > HIGH_PITCH_HZ)


def source_features(audio, frame_rate: float = 50.0, octaves_down: int | str = "auto",
                    f0_method: str = "crepe-tiny", cache_dir="default", progress: bool = True) -> SourceFeatures:
    """f0, confidence and loudness of a source (16 kHz mono, [n_samples]) at `frame_rate`.

    Args:
      octaves_down: 0, 1, or "auto" (one octave down when the source goes above
        1.5 kHz, see `needs_octave_down`).
      f0_method: a `ttlib.pitch.METHODS` name; CREPE runs at the frame rate's hop.
      cache_dir: feature cache ("default", a folder, or None).

    Raises:
      TransferError: empty audio, NaN samples.
    """
    from ttlib import features as features_lib

    audio = np.asarray(audio, np.float32).reshape(-1)
    if audio.size == 0:
        raise TransferError("The source has no samples: record or choose some audio first.")
    if not np.isfinite(audio).all():
        raise TransferError("The source contains NaN or infinite samples; load it with ttlib.audio.load, "
                            "which rejects such files with the time of the first bad sample.")
    if octaves_down == "auto":
        octaves_down = int(needs_octave_down(audio)) if f0_method.startswith("crepe") else 0
    step_ms = max(10.0, 1000.0 / frame_rate) if f0_method.startswith("crepe") else None   # CREPE hop, then onto the grid
    feats = features_lib.compute(audio, SAMPLE_RATE, f0_method, frame_rate, fmax=4000.0, crepe_step_ms=step_ms,
                                 cache_dir=cache_dir, progress=progress, label="source features",
                                 crepe_octaves_down=int(octaves_down))
    out = SourceFeatures(audio, feats.f0_hz, feats.f0_confidence, feats.loudness_db, float(frame_rate),
                         int(octaves_down))
    sounding = out.loudness_db > np.percentile(out.loudness_db, 95) - 30.0
    if out.loudness_db.max() <= SILENT_DB + 10:
        out.warnings.append("The source is silent: the transfer will be silent too.")
    elif sounding.sum() >= 10:
        unsure = float(np.mean(out.f0_confidence[sounding] < VOICED_CONFIDENCE))
        if unsure > 0.4:
            out.warnings.append(
                f"CREPE finds no clear single pitch in {100 * unsure:.0f}% of the sounding frames: the source "
                "looks polyphonic (chords, several instruments) or noisy. DDSP transfer is monophonic: it "
                "follows one pitch, so expect a wandering or broken melody. A solo, dry recording works best.")
    return out


# ----------------------------------------------------------------------------- 2. adjustment
@dataclass
class Settings:
    """How a source is adjusted and mixed (every slider of the notebook).

    Attributes:
      auto_adjust: shift by whole octaves toward the training data's median pitch and map
        the source's loudness quantiles onto the training data's.
      quiet_db: silence frames more than this many dB below the source's loud passages
        (its 95th-percentile loudness), and frames without a confident pitch: the model
        gets silence's loudness there and its output is gated to zero (the reverb
        still rings out); None: never.
      autotune: 0 (off) to 1 (every frame on the nearest semitone).
      pitch_shift: semitones added after the automatic shift (-24 to 24).
      loudness_shift: dB added after the loudness mapping (-20 to 20).
      harmonic_gain, noise_gain, reverb_gain: gains of the parts (1 = as the model made them).
    """

    auto_adjust: bool = True
    quiet_db: float | None = 30.0
    autotune: float = 0.0
    pitch_shift: float = 0.0
    loudness_shift: float = 0.0
    harmonic_gain: float = 1.0
    noise_gain: float = 1.0
    reverb_gain: float = 1.0

    def check(self) -> "Settings":
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
        return self


@dataclass
class Adjusted:
    """The model's input after adjustment, [n_frames] each, and what was done."""

    f0_hz: np.ndarray
    loudness_db: np.ndarray
    octave_shift: int
    on: np.ndarray
    summary: dict


def hz_to_midi(f0_hz):
    return 69.0 + 12.0 * np.log2(np.maximum(np.asarray(f0_hz, np.float64), 1e-3) / 440.0)


def midi_to_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, np.float64) - 69.0) / 12.0)


def training_ranges(statistics: dict) -> dict:
    """The training data's pitch (MIDI) and voiced loudness (dB) quantiles, as arrays of 101 levels."""
    train = statistics.get("train", statistics)
    try:
        return {"pitch_midi": np.asarray(train["pitch_midi"]["quantiles"], float),
                "loudness_db": np.asarray(train["loudness_db_voiced"]["quantiles"], float)}
    except (KeyError, TypeError):
        raise TransferError("The model's statistics.json lacks the training data's pitch and loudness quantiles "
                            "(train.pitch_midi / train.loudness_db_voiced); it was not written by ttlib.data. "
                            "Retrain the model on a dataset built with `python -m ttlib data build`.") from None


def adjust(source: SourceFeatures, statistics: dict, settings: Settings | None = None) -> Adjusted:
    """The source's f0 and loudness made ready for the model (see `Settings`)."""
    settings = (settings or Settings()).check()
    ranges = training_ranges(statistics)
    on = source.playing.copy()
    if settings.quiet_db is not None and on.any():
        loud = np.percentile(source.loudness_db[on], 95)
        on &= source.loudness_db > loud - settings.quiet_db
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
        loudness[on] = np.interp(loudness[on], source_q, ranges["loudness_db"])
    loudness = loudness + settings.loudness_shift
    if settings.quiet_db is not None:
        loudness[~on] = SILENT_DB
    loudness = np.clip(loudness, SILENT_DB, 20.0)
    f0 = midi_to_hz(midi)
    # where the source has no pitch, hold the nearest pitched value (the synthesizer needs some f0)
    if on.any():
        idx = np.where(on, np.arange(on.size), -1)
        idx = np.maximum.accumulate(idx)
        first = np.argmax(on)
        idx[idx < 0] = first
        f0 = np.where(on, f0, f0[idx])
    f0 = np.clip(f0, 20.0, SAMPLE_RATE / 2 - 1)
    summary = {"octave_shift": octave_shift, "pitch_shift": settings.pitch_shift,
               "autotune": settings.autotune, "loudness_shift": settings.loudness_shift,
               "playing_fraction": float(on.mean()) if on.size else 0.0,
               "median_pitch_midi_before": float(np.median(hz_to_midi(source.f0_hz)[on])) if on.any() else None,
               "median_pitch_midi_after": float(np.median(midi[on])) if on.any() else None,
               "training_median_pitch_midi": float(ranges["pitch_midi"][50])}
    return Adjusted(f0.astype(np.float32), loudness.astype(np.float32), octave_shift, on, summary)


# ----------------------------------------------------------------------------- 3. synthesis
@dataclass
class Parts:
    """A rendering's parts, [n_samples] each: mixed by `mix` with any gains."""

    harmonic: np.ndarray
    noise: np.ndarray
    harmonic_reverb: np.ndarray
    noise_reverb: np.ndarray

    def mix(self, harmonic_gain: float = 1.0, noise_gain: float = 1.0, reverb_gain: float = 1.0) -> np.ndarray:
        """g_h (H + g_r H*ir) + g_n (N + g_r N*ir): the model's output when every gain is 1."""
        out = harmonic_gain * (self.harmonic + reverb_gain * self.harmonic_reverb)
        out += noise_gain * (self.noise + reverb_gain * self.noise_reverb)
        return out.astype(np.float32)


class Synthesizer:
    """A trained model's decoder and synthesizers, for any length, in chunks.

    Args:
      model_dir: a model folder (see `ttlib.checkpoint`), or a `LoadedModel`.
      chunk_seconds: frames are decoded and synthesised this many seconds at a time.
      warmup_seconds: the decoder's GRU first reads this much of the preceding input
        (its state then matches an uninterrupted run closely).
      blend_seconds: controls of consecutive chunks are cross-faded over this long.
      seed: seed of the noise.
    """

    def __init__(self, model_dir, chunk_seconds: float = 20.0, warmup_seconds: float = 2.0,
                 blend_seconds: float = 0.2, seed: int = 0):
        from ttlib import checkpoint

        loaded = model_dir if isinstance(model_dir, checkpoint.LoadedModel) else checkpoint.load_model(model_dir)
        if loaded.config.z_dims:
            raise TransferError(f"{loaded.folder}: models with a timbre encoder (z_dims={loaded.config.z_dims}) "
                                "take z from the source's own audio; transfer supports f0-and-loudness models "
                                "(z_dims=0), like the course's default.")
        self.loaded, self.config, self.statistics = loaded, loaded.config, loaded.statistics
        self.frame_rate = float(self.config.frame_rate)
        self.hop = int(round(SAMPLE_RATE / self.frame_rate))
        self.chunk_frames = max(1, int(round(chunk_seconds * self.frame_rate)))
        self.warmup_frames = int(round(warmup_seconds * self.frame_rate))
        self.blend_frames = min(self.chunk_frames, max(1, int(round(blend_seconds * self.frame_rate))))
        self.seed = seed
        processors = {p.name: p for p in loaded.model.processor_group.processors}
        self.harmonic, self.noise = processors["harmonic"], processors["filtered_noise"]
        self.ir = None
        if "reverb" in processors:
            ir = np.array(processors["reverb"]._ir.numpy(), np.float64).reshape(-1)   # the learned impulse response
            ir[0] = 0.0                                        # as ddsp's Reverb: the dry path is added separately
            self.ir = ir
        self._decode = None

    # -- decoder
    def controls(self, f0_hz, loudness_db) -> dict:
        """Decoder outputs for [n_frames] inputs, in overlapping chunks: amplitudes [n, 1],
        harmonic distribution [n, H], noise magnitudes [n, bands] (after ddsp's scaling)."""
        import tensorflow as tf
        from ddsp.training.preprocessing import scale_db, scale_f0_hz

        f0_hz = np.asarray(f0_hz, np.float32).reshape(-1)
        loudness_db = np.asarray(loudness_db, np.float32).reshape(-1)
        if self._decode is None:
            decoder = self.loaded.model.decoder

            def decode(f0, ld):
                f0 = f0[None, :, None]
                outputs = decoder({"f0_scaled": scale_f0_hz(f0), "ld_scaled": scale_db(ld[None, :, None])}, training=False)
                harmonic = self.harmonic.get_controls(outputs["amps"], outputs["harmonic_distribution"], f0)
                noise = self.noise.get_controls(outputs["noise_magnitudes"])
                return harmonic["amplitudes"][0], harmonic["harmonic_distribution"][0], noise["magnitudes"][0]

            self._decode = tf.function(decode, reduce_retracing=True)
        n = f0_hz.size
        out = None
        for start in range(0, n, self.chunk_frames):
            stop = min(n, start + self.chunk_frames)
            lo = max(0, start - self.warmup_frames)
            hi = min(n, stop + self.blend_frames)
            parts = [np.asarray(x) for x in self._decode(tf.constant(f0_hz[lo:hi]), tf.constant(loudness_db[lo:hi]))]
            if out is None:
                out = [np.zeros((n, p.shape[-1]), np.float32) for p in parts]
            for total, part in zip(out, parts):
                piece = part[start - lo:hi - lo]                       # frames [start, hi)
                if start > 0:                                          # fade in over the previous chunk's tail
                    k = min(self.blend_frames, piece.shape[0])
                    w = (np.arange(1, k + 1) / (k + 1))[:, None]
                    piece = piece.copy()
                    piece[:k] = w * piece[:k] + (1 - w) * total[start:start + k]
                total[start:hi] = piece
        return {"amplitudes": out[0], "harmonic_distribution": out[1], "noise_magnitudes": out[2]}

    # -- synthesizers
    def render(self, f0_hz, loudness_db, progress: bool = False, gate=None) -> Parts:
        """The model's parts for [n_frames] inputs at the model's frame rate: [n_frames * hop] samples each.

        gate: optional [n_frames] in [0, 1] multiplying the harmonic and noise parts before
        the reverb (interpolated between frames, so it ramps instead of clicking); 0 where
        the source is silenced makes the output silent there, whatever the model does
        at -80 dB.
        """
        import ddsp

        from ttlib import fast_synth

        f0_hz = np.asarray(f0_hz, np.float32).reshape(-1)
        n = f0_hz.size
        if n < 2:
            raise TransferError("The source is shorter than two frames of the model; give at least 40 ms.")
        c = self.controls(f0_hz, loudness_db)
        n_samples = n * self.hop
        harmonic = np.zeros(n_samples, np.float32)
        noise = np.zeros(n_samples, np.float32)
        rng = np.random.default_rng(self.seed)
        phase = None
        starts = range(0, n, self.chunk_frames)
        bar = None
        if progress and len(starts) > 1:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(starts), desc="synthesis", unit="chunk", leave=False)
        for start in starts:
            stop = min(n, start + self.chunk_frames)
            sl = slice(start, stop)
            ahead = None
            if stop < n:
                ahead = (c["amplitudes"][None, stop:stop + 1], c["harmonic_distribution"][None, stop:stop + 1],
                         f0_hz[None, stop:stop + 1, None])
            audio, phase = fast_synth.harmonic_synthesis(
                c["amplitudes"][None, sl], c["harmonic_distribution"][None, sl], f0_hz[None, sl, None],
                (stop - start) * self.hop, SAMPLE_RATE, initial_phase=phase, return_phase=True, lookahead=ahead)
            harmonic[start * self.hop:stop * self.hop] = np.asarray(audio)[0]
            white = rng.uniform(-1.0, 1.0, size=(1, (stop - start) * self.hop)).astype(np.float32)
            filtered = ddsp.core.frequency_filter(white, c["noise_magnitudes"][None, sl], window_size=0)
            noise[start * self.hop:stop * self.hop] = np.asarray(filtered)[0]
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
        if gate is not None:
            envelope = np.interp(np.arange(n_samples) / self.hop, np.arange(n), np.asarray(gate, np.float64))
            harmonic *= envelope.astype(np.float32)
            noise *= envelope.astype(np.float32)
        return Parts(harmonic, noise, self._reverb(harmonic), self._reverb(noise))

    def _reverb(self, audio) -> np.ndarray:
        """The wet signal, audio * ir, cut to the audio's length, by overlap-add in chunks."""
        if self.ir is None:
            return np.zeros_like(audio)
        from scipy.signal import oaconvolve

        return oaconvolve(audio.astype(np.float64), self.ir)[:audio.size].astype(np.float32)


# ----------------------------------------------------------------------------- all together
@dataclass
class Result:
    """A transfer: the audio, its parts, the features before and after adjustment, and how long it took."""

    audio: np.ndarray
    parts: Parts
    source: SourceFeatures
    adjusted: Adjusted
    settings: Settings
    seconds: dict

    def settings_json(self, **extra) -> str:
        return json.dumps({"settings": asdict(self.settings), "adjustment": self.adjusted.summary,
                           "octaves_down": self.source.octaves_down, "warnings": self.source.warnings, **extra},
                          indent=2)


def transfer(audio, model, settings: Settings | None = None, source: SourceFeatures | None = None,
             progress: bool = False) -> Result:
    """Play a source (16 kHz mono, [n_samples]) with a model (a folder or a `Synthesizer`).

    The output has the source's length, rounded down to whole frames.
    """
    settings = (settings or Settings()).check()
    synth = model if isinstance(model, Synthesizer) else Synthesizer(model)
    times = {}
    t0 = time.perf_counter()
    if source is None:
        source = source_features(audio, synth.frame_rate, progress=progress)
    times["features"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    adjusted = adjust(source, synth.statistics, settings)
    times["adjust"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    frames = min(adjusted.f0_hz.size, source.audio.size // synth.hop)
    gate = adjusted.on[:frames].astype(np.float32) if settings.quiet_db is not None else None
    parts = synth.render(adjusted.f0_hz[:frames], adjusted.loudness_db[:frames], progress=progress, gate=gate)
    out = parts.mix(settings.harmonic_gain, settings.noise_gain, settings.reverb_gain)
    times["synthesis"] = time.perf_counter() - t2
    times["total"] = time.perf_counter() - t0
    return Result(out, parts, source, adjusted, settings, times)


def save(result: Result, path, overwrite: bool = False, **extra) -> tuple[Path, Path]:
    """Write the audio as WAV and, next to it, the settings that made it (same name, .json)."""
    from ttlib import audio as audio_lib

    path = Path(path)
    settings_path = path.with_suffix(".json")
    if settings_path.exists() and not overwrite:
        raise FileExistsError(f"{settings_path} exists; choose another name or pass overwrite=True (--overwrite).")
    audio_lib.save_wav(path, result.audio, SAMPLE_RATE, overwrite=overwrite)
    settings_path.write_text(result.settings_json(**extra))
    return path, settings_path
