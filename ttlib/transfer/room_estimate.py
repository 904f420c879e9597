"""Taking a room from a recording: the model's dry sound for the recording's notes, and a room fitted to it.

The DDSP paper (Engel et al. 2020, section 5.3) separates an instrument from its room:
the decoder makes the dry sound from f0 and loudness, a reverb module adds the room.
Given a recording of an instrument the model knows (a trumpet played in a hall), this
module keeps the decoder frozen and fits only a room to the recording. Notebook 10.

1. The recording's f0 and loudness (`ttlib.transfer.source_features`; frames without a
   confident pitch or far below the loud passages silenced), and from them the model's
   dry output d(t), harmonic + noise. The decoder is frozen, so d is made once.
2. The room h = g delta + r: a direct-sound gain g and a noise-like tail r whose spectral
   density in band b (16 equal-width bands, as ddsp's noise filter) at time t after the
   direct sound is s_b(t) = A_b exp(c(t)) 10^(-6 t / T_b): T_b is band b's reverberation
   time and c(t), smooth, shared by the bands and zero after 80 ms, bends the decay
   (early reflections).
3. The tail's phases are random, so its expected short-time power adds to the dry sound's:

       P_wet[n, b] = g_b^2 P_dry[n - 1, b] + sum_k P_dry[n - k, b] E_b[k],   E_b[k] = sum of s_b over frame k

   (g_b: the direct sound's gain in band b, which also absorbs the model's timbre) with
   frames of 2.5 ms (`STFT_HOP`, DRR's direct window; frame 1 holds the direct sound,
   frame 0 what arrives just before it). Adam fits g_b, A_b, T_b and c to the recording's
   band powers with the Itakura-Saito divergence, P/P' - log(P/P') - 1, whose minimum is
   the expected power (an L1 spectral loss between the recording and one rendering of
   the noise prefers less noise than there is: fitting ddsp's `FilteredNoiseReverb` that
   way made the direct sound 11 dB too loud on a simulated room).
4. The room is rendered as noise band by band with that density (`render_tail`), its
   direct sound scaled to 1 (h / g, g the RMS of g_b), so it is used as any other room
   (`ttlib.transfer.room`).

Measured (12 to 20 s of the built-in trumpet, seed 7, convolved with image-source rooms
of pyroomacoustics): given the true dry sound, `fit_room` recovers the room (a 1.2 s hall:
T30 1.50 s for 1.48 s, DRR -7.4 dB for -7.2 dB; on harmonic tones T30 within 10 % and DRR
within 1.5 dB, tested: a single exponential per band cannot follow a decay that bends). With
the `course` trumpet model's dry output in its place (`estimate_room`), the model plays on
into the reverberant tails of the recording's notes, whose f0 and loudness it is given,
and its level and timbre follow the recording's: the hall came out at T30 1.67 s and DRR
-3.7 dB, and a 0.4 s room far off. Estimating from the model's output is therefore not
offered by the command line yet (issue 15).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ttlib.core.errors import TransferError
from ttlib.core.units import SAMPLE_RATE
from ttlib.transfer.adjustment import Settings, adjust
from ttlib.transfer.room import Room
from ttlib.transfer.source import source_features

MIN_SECONDS = 2.0
"""The shortest recording a room is estimated from (s)."""
MIN_PLAYING = 0.1
"""The smallest share of frames with a confident pitch a recording needs."""
STFT_SIZE, STFT_HOP = 256, 40
"""The short-time power spectra the room is fitted to: 16 ms frames every 2.5 ms."""
PRE_FRAMES = 1
"""Frames of the room before its direct sound (2.5 ms, as a room read from a file)."""
EARLY_FRAMES = 32
"""Frames (80 ms) over which c(t) may bend the decay; after them each band decays exponentially."""
SMOOTHNESS = 10.0
"""Weight of the squared second difference of c(t), the decay's shared bend."""


@dataclass
class RoomEstimate:
    """A room fitted to a recording.

    Attributes:
      room: the room (direct sound at `room.direct`, scaled to 1).
      direct_gain: g, the fitted gain of the model's dry output in the recording.
      band_t60: T_b, the fitted decay time of each band (s).
      losses: the divergence at every step.
      playing: share of the recording's frames the model played.
      seconds: wall time (features, dry output and fit).
    """

    room: Room
    direct_gain: float
    band_t60: np.ndarray
    losses: list = field(default_factory=list)
    playing: float = 0.0
    seconds: float = 0.0


def dry_output(recording, synth) -> tuple[np.ndarray, float]:
    """A `Synthesizer`'s dry output for a recording's f0 and loudness, unshifted: ([n_samples], share playing).

    Raises:
      TransferError: shorter than `MIN_SECONDS`, or too few frames with a pitch.
    """
    recording = np.asarray(recording, np.float32).reshape(-1)
    if recording.size < MIN_SECONDS * SAMPLE_RATE:
        raise TransferError(f"The recording is {recording.size / SAMPLE_RATE:.1f} s long; a room is estimated from "
                            f"at least {MIN_SECONDS:.0f} s of playing with its reverberation (ideally 10 s or more).")
    features = source_features(recording, synth.frame_rate, progress=False)
    adjusted = adjust(features, synth.statistics, Settings(auto_adjust=False))
    playing = float(np.mean(adjusted.on))
    if playing < MIN_PLAYING:
        raise TransferError(f"Only {100 * playing:.0f}% of the recording has a pitch the model can play; a room is "
                            "estimated from a recording of the model's instrument playing notes.")
    n = min(adjusted.f0_hz.size, recording.size // synth.hop)
    parts = synth.render(adjusted.f0_hz[:n], adjusted.loudness_db[:n], gate=adjusted.on[:n].astype(np.float32),
                         room="dry")
    return parts.harmonic + parts.noise, playing


def estimate_room(recording, synth, steps: int = 1500, reverb_seconds: float = 3.0, seed: int = 0,
                  progress: bool = False, name: str = "estimate") -> RoomEstimate:
    """Fit a room to a recording (16 kHz mono, [n_samples]) of the instrument of `synth`, a `Synthesizer`.

    Args:
      steps, reverb_seconds, seed: as `fit_room`'s.

    Raises:
      TransferError: a recording too short or without pitch (`dry_output`).
    """
    t0 = time.perf_counter()
    dry, playing = dry_output(recording, synth)
    recording = np.asarray(recording, np.float32).reshape(-1)[:dry.size]
    target = np.zeros_like(dry)
    target[:recording.size] = recording
    estimate = fit_room(dry, target, steps, reverb_seconds, seed=seed, progress=progress, name=name)
    estimate.playing, estimate.seconds = playing, time.perf_counter() - t0
    return estimate


def band_power(audio, n_bands: int) -> np.ndarray:
    """Short-time power in `n_bands` equal-width bands from 0 Hz to Nyquist: [frames, bands].

    Hann-windowed frames of `STFT_SIZE` samples every `STFT_HOP`; a band's power is the
    mean |X(f)|^2 of its FFT bins.
    """
    from scipy.signal import stft

    _, _, spectrum = stft(np.asarray(audio, np.float64), nperseg=STFT_SIZE, noverlap=STFT_SIZE - STFT_HOP,
                          boundary=None, padded=True, scaling="spectrum")
    power = np.abs(spectrum.T) ** 2                                   # [frames, bins]
    edges = np.linspace(0, power.shape[1], n_bands + 1).round().astype(int)
    return np.stack([power[:, a:b].mean(axis=1) for a, b in zip(edges[:-1], edges[1:])], axis=1)


def fit_room(dry, target, steps: int = 1500, reverb_seconds: float = 3.0, learning_rate: float = 0.05,
             n_bands: int = 16, seed: int = 0, progress: bool = False, name: str = "estimate") -> RoomEstimate:
    """The room h = g delta + r that makes `dry` sound like `target` ([n_samples] each): steps 2 to 4.

    Args:
      steps: Adam steps on the band powers (each one convolution along time per band).
      reverb_seconds: length of the tail r.
      n_bands: bands of the tail (equal widths).
      seed: of the rendered tail's noise.
    """
    import tensorflow as tf

    t0 = time.perf_counter()
    p_dry, p_target = band_power(dry, n_bands), band_power(target, n_bands)
    n = min(p_dry.shape[0], p_target.shape[0])
    p_dry, p_target = p_dry[:n], p_target[:n]
    floor = 1e-8 * p_target.max()
    lags = min(n, int(np.ceil(reverb_seconds * SAMPLE_RATE / STFT_HOP)))
    size = 1 << int(np.ceil(np.log2(n + lags)))
    dry_spectrum = tf.constant(np.fft.rfft(p_dry, size, axis=0).T.astype(np.complex64))        # [bands, bins]
    p_direct = tf.constant(np.concatenate([np.zeros((PRE_FRAMES, n_bands)), p_dry])[:n], tf.float32)
    target_t = tf.constant(p_target + floor, tf.float32)
    weight = tf.constant((p_target > floor).astype(np.float32))
    after = tf.constant((np.maximum(np.arange(lags) - PRE_FRAMES, 0) * STFT_HOP)[:, None], tf.float32)
    level = float(np.log(max(p_target.mean() / max(p_dry.mean(), 1e-20), 1e-6) * 1e-3))
    log_gain = tf.Variable(np.zeros([1, n_bands], np.float32))          # the direct sound's gain per band
    log_a = tf.Variable(np.full([1, n_bands], level, np.float32))
    log_t60 = tf.Variable(np.full([1, n_bands], np.log(0.5), np.float32))
    early = min(lags, EARLY_FRAMES)
    bend_early = tf.Variable(np.zeros([early, 1], np.float32))
    variables = [log_gain, log_a, log_t60, bend_early]
    optimizer = tf.keras.optimizers.Adam(learning_rate)

    def frame_energy():
        bend = tf.concat([bend_early, tf.zeros([lags - early, 1])], axis=0)
        rate = 6.0 * float(np.log(10.0)) / (tf.exp(log_t60) * SAMPLE_RATE)     # s_b ~ exp(-rate t), t in samples
        per_frame = (1.0 - tf.exp(-rate * STFT_HOP)) / (1.0 - tf.exp(-rate))
        return tf.exp(log_a + bend - rate * after) * per_frame                  # E_b[k]: [lags, bands]

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            e = tf.signal.rfft(tf.transpose(frame_energy()), [size])
            reverb = tf.transpose(tf.signal.irfft(dry_spectrum * e, [size]))[:n]
            model = tf.exp(2.0 * log_gain) * p_direct + tf.maximum(reverb, 0.0)
            ratio = target_t / (model + floor)
            loss = tf.reduce_sum(weight * (ratio - tf.math.log(ratio) - 1.0)) / tf.reduce_sum(weight)
            loss += SMOOTHNESS * tf.reduce_mean(tf.square(bend_early[2:] - 2 * bend_early[1:-1] + bend_early[:-2]))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    tf.random.set_seed(seed)
    losses = []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="fitting the room", unit="step", leave=False)
    for _ in range(steps):
        losses.append(float(step()))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    gains = np.exp(log_gain.numpy()).reshape(-1)
    gain = float(np.sqrt(np.mean(gains ** 2)))
    ir = render_tail(frame_energy().numpy() / STFT_HOP, seed) / gain
    direct = PRE_FRAMES * STFT_HOP
    ir[direct] = 1.0
    return RoomEstimate(Room(name, ir, direct), gain, np.exp(log_t60.numpy()).reshape(-1), losses,
                        seconds=time.perf_counter() - t0)


def render_tail(density, seed: int = 0) -> np.ndarray:
    """Noise whose spectral density in band b during frame k (`STFT_HOP` samples) is density[k, b]: [n_samples].

    Band b's noise is white Gaussian noise band-passed (in the frequency domain) to the
    b-th of the equal-width bands: its density there is 1 (white noise of variance 1 has
    density 1 everywhere), its variance 1/bands. Each is scaled by the square root of
    its density, frame by frame.
    """
    density = np.maximum(np.asarray(density, np.float64), 0.0)
    lags, bands = density.shape
    n = lags * STFT_HOP
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    edges = np.linspace(0, spectrum.size, bands + 1).round().astype(int)
    out = np.zeros(n)
    for b in range(bands):
        part = np.zeros_like(spectrum)
        part[edges[b]:edges[b + 1]] = spectrum[edges[b]:edges[b + 1]]
        out += np.fft.irfft(part, n) * np.sqrt(np.repeat(density[:, b], STFT_HOP))
    return out
