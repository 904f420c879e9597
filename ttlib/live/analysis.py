"""Causal analysis of one frame: CREPE tiny f0 and confidence, ddsp's loudness, and the octave-down switch.

Frame k of a stream is centred on input sample c = k x hop - 256 (`CENTRE_DELAY`) and
analysed exactly as the offline features are (`ttlib.data.features`, CREPE's
`center=True`) as soon as the input reaches c + 512 (half of CREPE's window):

    CREPE:     x[c - 512 : c + 512]  normalised to zero mean and unit variance
    loudness:  x[c - 256 : c + 256]  ddsp's A-weighted power in dB (512-point FFT)

No Viterbi smoothing (it needs the future): f0 is CREPE's weighted average of the
bins around the peak, as `crepe.predict(viterbi=False)` computes it.

Whistles go above CREPE's ~2 kHz ceiling. Offline the course analyses such a source
an octave down as a whole; live that decision must be made per frame, before the
note is known. `OctaveSwitch` makes it from the frame's strongest spectral peak with
hysteresis: above `HIGH_PITCH_HZ` (1.5 kHz) it switches to the octave-down analysis,
below `LOW_SWITCH_HZ` (1 kHz) back. Between the two, both analyses read the same
f0 (CREPE covers 32 Hz to 2 kHz either way), so a switch makes no jump in pitch.
The octave-down frame is the 512 samples around the centre played at half speed: the
same resampler CREPE itself uses (resampy's `kaiser_best`, up by 2), applied as its
exact impulse response so one frame costs microseconds, not milliseconds.

Notebook 09 (realtime) teaches this; `ttlib.live.engine` and `ttlib.live.offline` use it.
"""
from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np

from ttlib.core.constants import HIGH_PITCH_HZ
from ttlib.core.units import FRAME_LENGTH, SAMPLE_RATE
from ttlib.data.features import LOUDNESS_N_FFT
from ttlib.pitch.crepe_tracker import CENTS_OF_FIRST_BIN

HALF = FRAME_LENGTH // 2
"""Samples of input after a frame's centre that its analysis needs (CREPE's half window, 32 ms)."""
CENTRE_DELAY = LOUDNESS_N_FFT // 2
"""Frame k is centred on input sample k x hop - 256, not k x hop. A centred window hears a note
coming half a window early: the loudness of the frame centred at c rises as soon as the note enters
c - 256 .. c + 256, and the gate opens with it. Centring a frame 256 samples before the time it is
played at puts the output's onsets where the input's are (measured in tests/test_live.py)."""
LOW_SWITCH_HZ = 1000.0
"""Below this spectral peak the octave-down analysis switches back to the normal one."""
RESAMPLE_CONTEXT = 64
"""Input samples on each side that resampy's `kaiser_best` filter reads when it doubles the rate."""
PEAK_RANGE_HZ = (60.0, 4000.0)
"""Where `spectral_peak_hz` looks for the strongest peak."""


def crepe_window(history: np.ndarray, octaves_down: int) -> np.ndarray:
    """The 1024 samples CREPE reads for a frame, normalised as `crepe.core.get_activation` does.

    Args:
      history: the input from centre - 512 to centre + 512 ([1024]).
      octaves_down: 0, or 1 (the centre 512 samples, with `RESAMPLE_CONTEXT` on each side,
        resampled up by 2: the sound an octave lower).
    """
    if octaves_down:
        c = HALF
        piece = history[c - HALF // 2 - RESAMPLE_CONTEXT:c + HALF // 2 + RESAMPLE_CONTEXT].astype(np.float64)
        frame = upsample_by_2(piece)[2 * RESAMPLE_CONTEXT:2 * RESAMPLE_CONTEXT + FRAME_LENGTH].astype(np.float32)
    else:
        frame = np.array(history, np.float32)
    frame = frame - np.mean(frame)
    return (frame / np.clip(np.std(frame), 1e-8, None)).astype(np.float32)


@functools.cache
def _half_band_response() -> np.ndarray:
    """resampy's 8 -> 16 kHz `kaiser_best` response to one input sample (its output is linear and
    shift-invariant for a ratio of 2, so this response is the whole filter)."""
    import resampy

    impulse = np.zeros(2 * RESAMPLE_CONTEXT + 1, np.float32)
    impulse[RESAMPLE_CONTEXT] = 1.0
    return resampy.resample(impulse, SAMPLE_RATE // 2, SAMPLE_RATE).astype(np.float64)


def upsample_by_2(piece: np.ndarray) -> np.ndarray:
    """`resampy.resample(piece, 8000, 16000)` (to float rounding), [n] -> [2n]; the first and last
    2 x RESAMPLE_CONTEXT outputs lack context and are not used."""
    h = _half_band_response()
    stuffed = np.zeros(2 * piece.size, np.float64)
    stuffed[::2] = piece
    return np.convolve(stuffed, h)[2 * RESAMPLE_CONTEXT:2 * RESAMPLE_CONTEXT + stuffed.size]


def f0_from_activation(activation: np.ndarray, octaves_down) -> tuple[np.ndarray, np.ndarray]:
    """CREPE's f0 (Hz) and confidence from activations [n, 360], without Viterbi, as `crepe.predict`
    computes them (weighted average of the 9 bins around the peak); doubled where analysed an octave down."""
    activation = np.atleast_2d(np.asarray(activation, np.float64))
    peak = np.argmax(activation, axis=1)
    cents_of_bin = CENTS_OF_FIRST_BIN + 20.0 * np.arange(activation.shape[1])
    f0 = np.empty(activation.shape[0])
    for i, center in enumerate(peak):
        lo, hi = max(0, center - 4), min(activation.shape[1], center + 5)
        weights = activation[i, lo:hi]
        f0[i] = 10.0 * 2.0 ** (np.sum(weights * cents_of_bin[lo:hi]) / np.sum(weights) / 1200.0)
    f0 = np.nan_to_num(f0) * 2.0 ** np.asarray(octaves_down, float)
    return f0.astype(np.float32), activation.max(axis=1).astype(np.float32)


@functools.cache
def crepe_frame_function(capacity: str = "tiny") -> Callable:
    """A compiled function: normalised frames [n, 1024] -> CREPE's activations [n, 360].

    The model is `crepe.core.build_and_load_model` (the registry's weights, see
    `ttlib.pitch.crepe_weights`); compiled once for any n (one frame live, all frames offline).
    """
    import crepe.core
    import tensorflow as tf

    model = crepe.core.build_and_load_model(capacity)
    function = tf.function(lambda frames: model(frames, training=False),
                           input_signature=[tf.TensorSpec([None, FRAME_LENGTH], tf.float32)])
    return function.get_concrete_function()


def crepe_activation(frames: np.ndarray, capacity: str = "tiny") -> np.ndarray:
    """CREPE's activations of normalised frames [n, 1024] -> [n, 360]."""
    import tensorflow as tf

    frames = tf.constant(np.asarray(frames, np.float32).reshape(-1, FRAME_LENGTH))
    return crepe_frame_function(capacity)(frames).numpy()


@functools.cache
def _a_weighting() -> np.ndarray:
    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)           # log10(0) at 0 Hz
        db = librosa.A_weighting(librosa.fft_frequencies(sr=SAMPLE_RATE, n_fft=LOUDNESS_N_FFT))
    return 10.0 ** (db / 10.0)


def loudness_of_window(window: np.ndarray) -> float:
    """ddsp's `compute_loudness` of one 512-sample window (dB; NumPy path, Hann window, A-weighted
    mean power, 80 dB range below 0 dB), equal to `ttlib.data.features.loudness_db`'s frame there."""
    from scipy.signal import get_window

    hann = get_window("hann", LOUDNESS_N_FFT)                      # librosa's (periodic) Hann, as ddsp's stft_np
    power = np.abs(np.fft.rfft(np.asarray(window, np.float32) * hann.astype(np.float32))) ** 2
    mean = float(np.mean(power * _a_weighting()))
    return max(10.0 * np.log10(max(mean, 1e-20)), -80.0)


def spectral_peak_hz(history: np.ndarray) -> float:
    """Frequency (Hz) of the strongest peak of the frame's Hann-windowed spectrum between 60 Hz and 4 kHz,
    refined by a parabola through the log magnitudes (a whistle's pitch, a harmonic of other sounds)."""
    spectrum = np.abs(np.fft.rfft(np.asarray(history, np.float64) * np.hanning(FRAME_LENGTH)))
    lo, hi = (int(f * FRAME_LENGTH / SAMPLE_RATE) for f in PEAK_RANGE_HZ)
    i = lo + int(np.argmax(spectrum[lo:hi]))
    a, b, c = np.log(spectrum[i - 1:i + 2] + 1e-12)
    offset = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) < 0 else 0.0
    return float((i + offset) * SAMPLE_RATE / FRAME_LENGTH)


class OctaveSwitch:
    """Chooses each frame's analysis (0: as heard, 1: an octave down) from its spectral peak, with hysteresis.

    Only sounding frames (loudness above `level_db`) can switch, so silence keeps the last choice.
    """

    def __init__(self, level_db: float = -60.0):
        self.level_db = level_db
        self.octaves_down = 0

    def reset(self) -> None:
        self.octaves_down = 0

    def update(self, peak_hz: float, loudness_db: float) -> int:
        if loudness_db > self.level_db:
            if peak_hz > HIGH_PITCH_HZ:
                self.octaves_down = 1
            elif peak_hz < LOW_SWITCH_HZ:
                self.octaves_down = 0
        return self.octaves_down
