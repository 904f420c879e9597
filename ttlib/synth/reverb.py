"""A reverb that can only be a room: fixed white noise under a learned decay per octave band.

ddsp's trainable `Reverb` learns every sample of its impulse response freely. Trained on dry
features of a recording, nothing keeps it a room: it also takes part of the instrument's
timbre (measured with notebook 10 on the course's trumpet model trained with it: its
direct-to-reverberant ratio -7 dB against the data's +20 dB, and the decoder's output before it
12 dB per band from the trumpet; the README's Rooms section). `RoomReverb` has no freedom to
colour what it is given at its start: its impulse response is

    h(t) = g * sum_b n_b(t) * 10^(-3 t / T60_b),        t = 1/sr, 2/sr, ... (h(0) = 0),

white noise n(t) from a fixed seed split into octave bands n_b (their sum is n), one gain g for
all of them and one reverberation time T60_b per band (rooms ring longer low than high, ISO
3382-1's T30 per octave). Early on every band has the same level, so the direct sound keeps the
decoder's timbre; only how long each band rings is learned. The parameters are
g = exp_sigmoid(gain) (ddsp's scaling of its synthesizers' amplitudes) and T60_b = exp(log_t60_b);
`gain` starts at -2 (a direct-to-reverberant ratio near +14 dB: ddsp's own `ExpDecayReverb`
starts at 2.0, a strong room its gain barely left in 1500 steps of the course's training, measured)
and every T60 at 0.5 s (at most half the impulse response's length). The noise is a constant,
not drawn per call (ddsp's `ExpDecayReverb` draws a new one every call), so the impulse response
the live engine, `model_room` and the export read is the one the model trained with, the same in
every process.

Used by the `course` configuration (`ttlib.models.configs`, `reverb="room"`); notebook 04 builds
a decaying-noise room by hand, notebook 06 shows the learned one, notebook 10 measures it.
"""
from __future__ import annotations

import functools

import numpy as np

OCTAVE_EDGES_HZ = (0.0, 177.0, 354.0, 707.0, 1414.0, 2828.0, 5657.0)
"""Lower edges of the bands (Hz): the octaves centred on 125, 250, 500, 1000, 2000 and 4000 Hz (ISO 3382-1's),
the lowest reaching down to 0 Hz, and the rest of the 8 kHz octave up to Nyquist."""

INITIAL_GAIN = -2.0
INITIAL_T60_S = 0.5


def band_noise(n_samples: int, sample_rate: int, seed: int = 0, edges_hz: tuple = OCTAVE_EDGES_HZ) -> np.ndarray:
    """White noise in [-1, 1) from `seed`, split into bands by its spectrum: [bands, n_samples], summing to it."""
    noise = np.random.default_rng(seed).uniform(-1.0, 1.0, n_samples)
    spectrum = np.fft.rfft(noise)
    freqs = np.fft.rfftfreq(n_samples, 1.0 / sample_rate)
    uppers = list(edges_hz[1:]) + [np.inf]
    return np.stack([np.fft.irfft(np.where((freqs >= low) & (freqs < high), spectrum, 0.0), n_samples)
                     for low, high in zip(edges_hz, uppers)])


def room_impulse_response(gain: float, t60_s, n_samples: int, sample_rate: int, seed: int = 0,
                          edges_hz: tuple = OCTAVE_EDGES_HZ) -> np.ndarray:
    """The impulse response of the docstring's equation in numpy (linear gain g, T60 per band): [n_samples]."""
    bands = band_noise(n_samples, sample_rate, seed, edges_hz)
    t = np.arange(n_samples) / sample_rate
    envelopes = 10.0 ** (-3.0 * t[None, :] / np.asarray(t60_s, float).reshape(-1, 1))
    ir = gain * np.sum(bands * envelopes, axis=0)
    ir[0] = 0.0
    return ir


@functools.cache
def room_reverb_class() -> type:
    """`RoomReverb(reverb_length, sample_rate, seed=0, name="reverb")`, a trainable ddsp `Reverb`.

    A function, so that ddsp (and TensorFlow) load only when a model is built.
    """
    import ddsp
    import tensorflow as tf

    class RoomReverb(ddsp.effects.Reverb):
        """ddsp's `Reverb` whose impulse response is a gain and a T60 per octave band on fixed noise."""

        def __init__(self, reverb_length: int = 48000, sample_rate: int = 16000, seed: int = 0,
                     name: str = "reverb"):
            super().__init__(trainable=True, reverb_length=reverb_length, add_dry=True, name=name)
            self.sample_rate = sample_rate
            self.seed = seed
            # a room that fits in the impulse response: at most half its length (tiny's is 0.25 s)
            self.initial_t60_s = min(INITIAL_T60_S, reverb_length / sample_rate / 2)
            self._bands = tf.constant(band_noise(reverb_length, sample_rate, seed), tf.float32)
            self._time = tf.constant(np.arange(reverb_length) / sample_rate, tf.float32)

        def build(self, unused_input_shape):
            self._gain = self.add_weight(name="gain", shape=[1], dtype=tf.float32,
                                         initializer=tf.constant_initializer(INITIAL_GAIN))
            self._log_t60 = self.add_weight(name="log_t60", shape=[len(OCTAVE_EDGES_HZ), 1], dtype=tf.float32,
                                            initializer=tf.constant_initializer(np.log(self.initial_t60_s)))
            self.built = True

        def impulse_response(self):
            """h(t) of the module's docstring, [reverb_length] (its first sample is masked by ddsp's `Reverb`)."""
            envelopes = tf.exp(-3.0 * np.log(10.0) * self._time[tf.newaxis, :] / tf.exp(self._log_t60))
            return ddsp.core.exp_sigmoid(self._gain) * tf.reduce_sum(self._bands * envelopes, axis=0)

        def gain(self) -> float:
            """The linear gain g = exp_sigmoid(gain) of every band at the start."""
            return float(np.asarray(ddsp.core.exp_sigmoid(self._gain)).reshape(-1)[0])

        def t60_s(self) -> np.ndarray:
            """The learned reverberation time of each band (s)."""
            return np.exp(np.asarray(self._log_t60).reshape(-1))

        def get_controls(self, audio, ir=None):
            return {"audio": audio, "ir": self._match_dimensions(audio, self.impulse_response())}

    return RoomReverb
