"""The streaming engine: a trained model played block by block, any block size in, the same size out.

`Stream(model_dir).process(block)` takes the next samples of a 16 kHz mono input (a
microphone, a file read in pieces) and returns as many samples of output. Each time
the input passes a frame's centre + 512 samples, frame k is made (one hop, 20 ms for
the `course` model):

  1. analysis (`ttlib.live.analysis`): ddsp's loudness, the octave-down switch, CREPE
     tiny on one window through a compiled function (no Viterbi; skipped for frames at or
     below `PLAYING_DB`, which never play);
  2. the live adjustment and the sliders (`ttlib.live.control`), with the gate;
  3. one step of the decoder: ddsp's own stateless `RnnFcDecoder` (the GRU state
     passed in and out, as ddsp exports models for DDSP-VST), with the trained weights;
  4. the block between frames k-1 and k: harmonics with the oscillator phase carried
     (`ttlib.synth.harmonic`, the next frame as lookahead), filtered noise with the
     filter's overlap carried, the gate, the gains, and the learned room by
     partitioned convolution with its tail carried (`ttlib.live.reverb`).

Latency. Frame k is centred on input sample k hop - 256 (`analysis.CENTRE_DELAY`), so it
needs the input up to k hop + 256, and the block it completes ends at k hop; with blocks
of any size the output is a constant `latency_samples` = 512 - 256 + hop - 1 behind the
input (35.9 ms for a 320-sample hop; DDSP-VST declares 64 ms), to which the sound device
adds its own buffers. The output is exactly the offline rendering of the same causal
features (`ttlib.live.offline.render`) delayed by `latency_samples`, whatever the block
size (tested to 1e-4), and its onsets come that long after the input's (tested).

Notebook 09 (realtime) builds it step by step; `python -m ttlib live` and the
microphone widget run it.
"""
from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from ttlib.core.constants import PLAYING_DB
from ttlib.core.errors import TransferError
from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE
from ttlib.data.features import LOUDNESS_N_FFT
from ttlib.live.analysis import (
    CENTRE_DELAY,
    HALF,
    OctaveSwitch,
    crepe_activation,
    crepe_window,
    f0_from_activation,
    loudness_of_window,
    spectral_peak_hz,
)
from ttlib.live.control import LiveAdjuster
from ttlib.live.reverb import PartitionedConvolver
from ttlib.models.checkpoint import LoadedModel, load_model
from ttlib.synth.harmonic import harmonic_synthesis
from ttlib.transfer.adjustment import Settings
from ttlib.transfer.synthesizer import Synthesizer


def noise_crop(n_noise_bands: int) -> int:
    """Samples ddsp's `frequency_filter` (window_size=0, padding 'same') drops from the front of the
    convolution to compensate the filter's group delay: (ir_size - 1) // 2 - 1, ir_size = 2 (bands - 1)."""
    return (2 * (n_noise_bands - 1) - 1) // 2 - 1


class Stream:
    """A model played live (see the module's docstring).

    Args:
      model: a model folder or a `LoadedModel` (f0-and-loudness models, like `course`).
      settings: the sliders (`ttlib.transfer.Settings`); `stream.settings` may be changed between blocks.
      seed: seed of the noise (the same sequence as `Synthesizer(seed=seed)` offline).
      history_seconds: the past the automatic adjustment looks at.
      capacity: CREPE's capacity (tiny by default: the one that keeps up on a CPU).
      trace: keep every frame's features (`self.frames`) for plots.
      forget: states to throw away at every frame, to hear what carrying them does (notebook 09):
        any of "gru" (the decoder's memory), "phase" (the oscillator's), "room" (the reverb's tail).

    Attributes:
      latency_samples: output sample n is the offline rendering's sample n - latency_samples.
      hop: samples per frame; frame_rate: frames per second.
      hop_seconds: compute time of the recent frames (s), for the load shown live.
    """

    def __init__(self, model: str | os.PathLike | LoadedModel, settings: Settings | None = None, seed: int = 0,
                 history_seconds: float = 10.0, capacity: str = "tiny", trace: bool = False, forget: tuple = ()):
        self.synth = Synthesizer(model if isinstance(model, LoadedModel) else load_model(model), seed=seed)
        self.config, self.hop, self.frame_rate = self.synth.config, self.synth.hop, self.synth.frame_rate
        self.crop = noise_crop(self.config.n_noise_bands)
        if self.crop > self.hop:
            raise TransferError(f"{self.synth.loaded.folder}: its noise filter ({self.config.n_noise_bands} bands) "
                                f"is longer than its hop ({self.hop} samples); live mode needs fewer bands or a "
                                "lower frame rate.")
        self.seed, self.capacity, self.trace = seed, capacity, trace
        unknown = set(forget) - {"gru", "phase", "room"}
        if unknown:
            raise TransferError(f"forget takes 'gru', 'phase' and 'room', not {sorted(unknown)}.")
        self.forget = tuple(forget)
        self.latency_samples = HALF - CENTRE_DELAY + self.hop - 1
        self.adjuster = LiveAdjuster(self.synth.statistics, self.frame_rate, settings, history_seconds)
        self.switch = OctaveSwitch()
        self.set_room(self.settings.room)
        self._step = self._compile()
        self.reset()

    def set_room(self, room) -> None:
        """Play in `room` (`Settings.room`'s choices, or a `Room`) from the next block on: its tail starts
        empty, and the dry path's delay becomes the room's. Setting `settings` with another room calls it."""
        self.room = self.synth.room_for(room)
        self.reverb = None if self.room.is_dry else PartitionedConvolver(self.room.tail, self.hop)
        self.dry_delay = np.zeros(self.room.direct)

    @property
    def settings(self) -> Settings:
        return self.adjuster.settings

    @settings.setter
    def settings(self, value: Settings) -> None:
        self.adjuster.settings = value.check()
        if value.room != self.room.name:
            self.set_room(value.room)

    # -- the model, one frame at a time
    def _compile(self) -> Callable:
        import ddsp
        import tensorflow as tf
        from ddsp.training import decoders
        from ddsp.training.preprocessing import scale_db, scale_f0_hz

        cfg, trained = self.config, self.synth.loaded.model.decoder
        decoder = decoders.RnnFcDecoder(
            rnn_channels=cfg.rnn_channels, rnn_type="gru", ch=cfg.mlp_channels, layers_per_stack=cfg.mlp_layers,
            stateless=True, input_keys=("ld_scaled", "f0_scaled"),
            output_splits=(("amps", 1), ("harmonic_distribution", cfg.n_harmonics),
                           ("noise_magnitudes", cfg.n_noise_bands)))
        zeros = tf.zeros([1, 1, 1])
        decoder({"ld_scaled": zeros, "f0_scaled": zeros, "state": tf.zeros([1, cfg.rnn_channels])})
        decoder.set_weights(trained.get_weights())
        harmonic, noise = self.synth.harmonic, self.synth.noise

        hop, spec = self.hop, tf.TensorSpec
        signature = [spec([], tf.float32), spec([], tf.float32), spec([1, cfg.rnn_channels], tf.float32),
                     spec([1, 1, 1], tf.float32), spec([1, 1, cfg.n_harmonics], tf.float32),
                     spec([1, 1, 1], tf.float32), spec([1], tf.float64)]

        @tf.function(input_signature=signature, jit_compile=True)
        def step(f0_hz, loudness_db, state, amps, dist, f0_previous, phase):
            """Frame k's controls from its f0 and loudness, and the block from frame k-1 (amps, dist,
            f0_previous) to frame k, starting at the oscillator's `phase`."""
            f0 = tf.reshape(f0_hz, [1, 1, 1])
            out = decoder({"f0_scaled": scale_f0_hz(f0), "ld_scaled": scale_db(tf.reshape(loudness_db, [1, 1, 1])),
                           "state": state})
            h = harmonic.get_controls(out["amps"], out["harmonic_distribution"], f0)
            magnitudes = noise.get_controls(out["noise_magnitudes"])["magnitudes"]
            ir = ddsp.core.frequency_impulse_response(magnitudes, window_size=0)
            audio, end_phase = harmonic_synthesis(amps, dist, f0_previous, hop, SAMPLE_RATE, initial_phase=phase,
                                                  return_phase=True,
                                                  lookahead=(h["amplitudes"], h["harmonic_distribution"], f0))
            return h["amplitudes"], h["harmonic_distribution"], ir[0, 0], out["state"], audio[0], end_phase

        return step.get_concrete_function()

    def warm_up(self) -> None:
        """Run every compiled function once (CREPE both ways, the decoder step), then `reset`: the first
        real block then takes its usual few milliseconds instead of the ~1 s that compiling takes."""
        t = np.arange(4 * self.hop + FRAME_LENGTH) / SAMPLE_RATE
        for f0 in (440.0, 2400.0):
            self.process((0.1 * np.sin(2 * np.pi * f0 * t)).astype(np.float32))
        self.reset()

    def reset(self) -> None:
        """A new performance: silence in, every carried state (GRU, phase, noise, room, adjustment) cleared."""
        self.adjuster.reset()
        self.switch.reset()
        if self.reverb is not None:
            self.reverb.reset()
        self.dry_delay[:] = 0.0
        self.rng = np.random.default_rng(self.seed)
        self.state = np.zeros([1, self.config.rnn_channels], np.float32)
        self.phase = np.zeros([1], np.float64)
        self.frame = 0                                     # the next frame to make
        self.received = 0                                  # input samples so far
        self.input = np.zeros(HALF + CENTRE_DELAY, np.float32)      # input from sample `input_start` on
        self.input_start = -HALF - CENTRE_DELAY
        self.previous = None                               # frame k-1: (amps, dist, f0, gate)
        self.noise = np.zeros(0, np.float64)               # filtered noise from sample `noise_start` on
        self.noise_start = self.crop                   # block 0's noise starts here (ddsp's 'same' crop)
        self.output = deque([np.zeros(self.latency_samples, np.float32)])
        self.buffered = self.latency_samples
        self.hop_seconds = deque(maxlen=500)
        self.frames = []
        self.last = {}

    def process(self, block) -> np.ndarray:
        """The next len(block) samples of output for the next len(block) samples of input (16 kHz mono)."""
        block = np.asarray(block, np.float32).reshape(-1)
        if block.size and not np.isfinite(block).all():
            block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
        self.input = np.concatenate([self.input, block])
        self.received += block.size
        while self.received >= self.frame * self.hop - CENTRE_DELAY + HALF:
            self._make_frame()
        return self._take(block.size)

    def _take(self, count: int) -> np.ndarray:
        out = np.empty(count, np.float32)
        filled = 0
        while filled < count:
            piece = self.output[0]
            n = min(count - filled, piece.size)
            out[filled:filled + n] = piece[:n]
            filled += n
            if n == piece.size:
                self.output.popleft()
            else:
                self.output[0] = piece[n:]
        self.buffered -= count
        return out

    def _make_frame(self) -> None:
        import tensorflow as tf

        t0 = time.perf_counter()
        k, hop = self.frame, self.hop
        start = k * hop - CENTRE_DELAY - HALF - self.input_start
        window = self.input[start:start + FRAME_LENGTH]
        loudness = loudness_of_window(window[HALF - LOUDNESS_N_FFT // 2:HALF + LOUDNESS_N_FFT // 2])
        octaves_down = self.switch.update(spectral_peak_hz(window), loudness)
        f0 = confidence = 0.0                                # a frame this quiet never plays: no CREPE
        if loudness > PLAYING_DB:
            activation = crepe_activation(crepe_window(window, octaves_down)[None], self.capacity)
            f0, confidence = (float(v[0]) for v in f0_from_activation(activation, octaves_down))
        f0_in, loudness_in, on = self.adjuster.step(f0, confidence, loudness)
        previous = self.previous or (np.zeros([1, 1, 1], np.float32),
                                     np.zeros([1, 1, self.config.n_harmonics], np.float32),
                                     np.ones([1, 1, 1], np.float32), 0.0)
        amps, dist, ir, state, harmonic, phase = (
            t.numpy() for t in self._step(tf.constant(f0_in, tf.float32), tf.constant(loudness_in, tf.float32),
                                          tf.constant(self.state), tf.constant(previous[0]),
                                          tf.constant(previous[1]), tf.constant(previous[2]),
                                          tf.constant(self.phase)))
        self.state = state if "gru" not in self.forget else np.zeros_like(state)
        gate = float(on) if self.settings.quiet_db is not None else 1.0
        current = (amps, dist, np.full([1, 1, 1], f0_in, np.float32), gate)
        # filtered noise: this frame's hop of white noise through this frame's filter, overlap-added
        white = self.rng.uniform(-1.0, 1.0, size=(1, hop)).astype(np.float32)[0]
        filtered = np.convolve(white.astype(np.float64), ir.astype(np.float64))
        offset = k * hop - self.noise_start
        end = offset + filtered.size
        if end > self.noise.size:
            self.noise = np.concatenate([self.noise, np.zeros(end - self.noise.size)])
        skip = max(0, -offset)
        self.noise[offset + skip:end] += filtered[skip:]
        if self.previous is not None:
            self.phase = phase if "phase" not in self.forget else np.zeros_like(phase)
            self._render(self.previous, current, harmonic)
        self.previous = current
        self.frame += 1
        keep = self.frame * hop - CENTRE_DELAY - HALF - self.input_start     # input no frame reads again
        if keep > 0:
            self.input = self.input[keep:]
            self.input_start += keep
        self.hop_seconds.append(time.perf_counter() - t0)
        self.last = {"f0_hz": f0, "confidence": confidence, "loudness_db": loudness, "octaves_down": octaves_down,
                     "f0_in": f0_in, "loudness_in": loudness_in, "on": on}
        if self.trace:
            self.frames.append(self.last)

    def _render(self, previous, current, harmonic) -> None:
        """The block from the previous frame to this one: its harmonics, noise, gate, gains and room."""
        hop, s = self.hop, self.settings
        noise = self.noise[:hop].astype(np.float32)
        self.noise = self.noise[hop:]
        self.noise_start += hop
        alpha = np.arange(hop, dtype=np.float64) / hop
        envelope = (previous[3] + (current[3] - previous[3]) * alpha).astype(np.float32)
        dry = (s.harmonic_gain * (harmonic * envelope) + s.noise_gain * (noise * envelope)).astype(np.float64)
        if self.reverb is not None and "room" in self.forget:
            self.reverb.reset()
        delayed = dry
        if self.dry_delay.size:                              # the dry sound, delayed to the room's direct sound
            line = np.concatenate([self.dry_delay, dry])
            delayed, self.dry_delay = line[:hop], line[hop:]
        out = delayed + s.reverb_gain * self.reverb.process(dry) if self.reverb is not None else delayed
        self.output.append(out.astype(np.float32))
        self.buffered += hop
