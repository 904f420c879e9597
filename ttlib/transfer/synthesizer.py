"""Step 3 of a transfer: a trained model's decoder and synthesizers, for any length, in chunks.

`Synthesizer(model_dir).render(f0_hz, loudness_db)` runs the model's decoder and its
synthesizers in chunks with GRU warm-up, cross-faded controls, a carried oscillator
phase and overlap-added reverb, so long sources use bounded memory and chunk borders
make no click. It returns the parts (harmonic, noise and what the room adds to each),
so the gain sliders (`Parts.mix`) and another room (`Parts.with_room`, a `Room` of
`ttlib.transfer.room`) need no new synthesis. Notebook 07, section 4; rooms: notebook 10.

The harmonic part is made by `ttlib.synth.harmonic` (linear amplitude interpolation),
which is exactly what `course` and `tiny` models were trained with; a `paper` model
(trained with ddsp's window interpolation) sounds very slightly smoother in its own call.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ttlib.core.errors import TransferError
from ttlib.core.units import SAMPLE_RATE, hop_length
from ttlib.models.autoencoder import decode_controls, processors
from ttlib.models.checkpoint import LoadedModel, load_model
from ttlib.synth.harmonic import harmonic_synthesis
from ttlib.transfer.room import ESTIMATE_PREFIX, Room, model_room, resolve_room


@dataclass
class Parts:
    """A rendering's parts, [n_samples] each, and its room: mixed by `mix` with any gains.

    Attributes:
      harmonic, noise: the dry parts as synthesised.
      harmonic_reverb, noise_reverb: what the room adds to each (`Room.wet`).
      room: the room they were made with.
    """

    harmonic: np.ndarray
    noise: np.ndarray
    harmonic_reverb: np.ndarray
    noise_reverb: np.ndarray
    room: Room | None = None

    def mix(self, harmonic_gain: float = 1.0, noise_gain: float = 1.0, reverb_gain: float = 1.0) -> np.ndarray:
        """g_h (H' + g_r W_H) + g_n (N' + g_r W_N), H' and N' the dry parts delayed to the room's direct sound.

        With the room h: (1 - g_r) x(t - d) + g_r (x * h)(t) for each part x, the model's
        output when every gain is 1 and the room is the model's.
        """
        delay = self.room.delay if self.room is not None else np.asarray
        out = harmonic_gain * (delay(self.harmonic) + reverb_gain * self.harmonic_reverb)
        out += noise_gain * (delay(self.noise) + reverb_gain * self.noise_reverb)
        return out.astype(np.float32)

    def with_room(self, room: Room) -> Parts:
        """The same dry parts in another room (a convolution each; no synthesis)."""
        return Parts(self.harmonic, self.noise, room.wet(self.harmonic), room.wet(self.noise), room)


class Synthesizer:
    """A trained model's decoder and synthesizers, for any length, in chunks.

    Args:
      model_dir: a model folder (see `ttlib.models.checkpoint`), or a `LoadedModel`.
      chunk_seconds: frames are decoded and synthesised this many seconds at a time.
      warmup_seconds: the decoder's GRU first reads this much of the preceding input
        (its state then matches an uninterrupted run closely).
      blend_seconds: controls of consecutive chunks are cross-faded over this long.
      seed: seed of the noise.

    Attributes:
      room: the model's own `Room`; `room_for(spec)` resolves (and keeps) the others.
    """

    def __init__(self, model_dir: str | os.PathLike | LoadedModel, chunk_seconds: float = 20.0,
                 warmup_seconds: float = 2.0, blend_seconds: float = 0.2, seed: int = 0):
        loaded = model_dir if isinstance(model_dir, LoadedModel) else load_model(model_dir)
        if loaded.config.z_dims:
            raise TransferError(f"{loaded.folder}: models with a timbre encoder (z_dims={loaded.config.z_dims}) "
                                "take z from the source's own audio; transfer supports f0-and-loudness models "
                                "(z_dims=0), like the course's default.")
        self.loaded, self.config, self.statistics = loaded, loaded.config, loaded.statistics
        self.frame_rate = float(self.config.frame_rate)
        self.hop = hop_length(SAMPLE_RATE, self.frame_rate)
        self.chunk_frames = max(1, int(round(chunk_seconds * self.frame_rate)))
        self.warmup_frames = int(round(warmup_seconds * self.frame_rate))
        self.blend_frames = min(self.chunk_frames, max(1, int(round(blend_seconds * self.frame_rate))))
        self.seed = seed
        parts = processors(loaded.model)
        self.harmonic, self.noise = parts["harmonic"], parts["filtered_noise"]
        self.room = model_room(loaded)
        self._rooms = {"model": self.room}
        self._decode = None

    def room_for(self, spec: str | os.PathLike | Room | None) -> Room:
        """The `Room` named by `spec` (None: "model"), resolved once and kept."""
        if isinstance(spec, Room):
            return spec
        key = "model" if spec is None else str(spec)
        if key not in self._rooms and key.startswith(ESTIMATE_PREFIX):
            from ttlib.transfer.room_estimate import estimated_room

            self._rooms[key] = estimated_room(key[len(ESTIMATE_PREFIX):], self, progress=True)
        if key not in self._rooms:
            self._rooms[key] = resolve_room(key, self.loaded)
        return self._rooms[key]

    # -- decoder
    def controls(self, f0_hz, loudness_db) -> dict:
        """Decoder outputs for [n_frames] inputs, in overlapping chunks: amplitudes [n, 1],
        harmonic distribution [n, H], noise magnitudes [n, bands] (after ddsp's scaling)."""
        import tensorflow as tf

        f0_hz = np.asarray(f0_hz, np.float32).reshape(-1)
        loudness_db = np.asarray(loudness_db, np.float32).reshape(-1)
        if self._decode is None:
            model = self.loaded.model

            def decode(f0, ld):
                return tuple(x[0] for x in decode_controls(model, f0[None, :, None], ld[None, :, None]))

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
    def render(self, f0_hz, loudness_db, progress: bool = False, gate=None,
               room: str | os.PathLike | Room | None = None) -> Parts:
        """The model's parts for [n_frames] inputs at the model's frame rate: [n_frames * hop] samples each.

        gate: optional [n_frames] in [0, 1] multiplying the harmonic and noise parts before
        the reverb (interpolated between frames, so it ramps instead of clicking); 0 where
        the source is silenced makes the output silent there, whatever the model does
        at -80 dB.
        room: the room of this rendering (`Settings.room`'s choices, or a `Room`; default the model's).
        """
        import ddsp

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
            audio, phase = harmonic_synthesis(
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
        room = self.room if room is None else self.room_for(room)
        return Parts(harmonic, noise, room.wet(harmonic), room.wet(noise), room)
