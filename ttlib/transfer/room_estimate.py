"""Taking a room from a recording: the model's dry sound for the recording's notes, and a room fitted to it.

The DDSP paper (Engel et al. 2020, its dereverberation and acoustic transfer experiment)
separates an instrument from its room: the decoder makes the dry sound from f0 and
loudness, a reverb module adds the room. Given a recording of an instrument the model
knows (a trumpet played in a hall), this module keeps the decoder frozen and fits only a
room to the recording. Notebook 10.

1. The recording's f0 and loudness (`ttlib.transfer.source_features`; frames without a
   confident pitch or far below the loud passages silenced), and from them the model's
   dry output d(t), harmonic + noise (`dry_output`).
2. The room h = delta + r: in band b (16 equal-width bands, as ddsp's noise filter) the
   recording is g_b d_b + d_b * r_b, g_b a gain that also takes up how the model's timbre
   differs from the recorded instrument's. The tail's spectral density at time t after
   the direct sound is s_b(t) = A_b exp(c(t)) 10^(-6 t / T_b): a level A_b =
   g_b^2 exp(a_0 + a_1 u_b) whose share against the direct sound is a line in the band
   index u_b, a decay time T_b whose logit is a line in u_b too (rooms ring longer low
   than high), and c(t), smooth and zero after 80 ms, bending the early decay.
3. The tail's phases are random, so its expected short-time power adds to the dry sound's:

       P_wet[n, b] = g_b^2 P_dry[n - 1, b] + sum_k P_dry[n - k, b] E_b[k],   E_b[k] = sum of s_b over frame k

   with frames of 2.5 ms (`STFT_HOP`, DRR's direct window; frame 1 holds the direct sound,
   frame 0 what arrives just before it). Adam fits g_b, a, T and c to the recording's
   band powers with the Itakura-Saito divergence, P/P' - log(P/P') - 1, whose minimum is
   the expected power, from the best of four starting decay times (`fit_room`).
4. The recording's loudness still holds the room: after a note ends it rings on, so the
   model plays on into the tail and the fit sees too little room. With the fitted room
   the recording's band powers are unmixed into direct sound and tail (`direct_share_db`),
   the loudness is lowered by the tail's share, and steps 1 to 3 run again
   (`estimate_room`'s rounds).
5. The room is rendered as noise band by band, band b's tail divided by g_b^2
   (`render_tail`), its direct sound 1, until its decay has fallen 60 dB (at most 10 s);
   it is then used as any other room (`ttlib.transfer.room`). The last round's dry output
   is the recording with its room removed.

Measured: given the true dry sound, the fit recovers the room (tests/test_room.py: T30
within 10 % and DRR within 3 dB on harmonic tones in two simulated rooms; on the built-in
trumpet within 6 % and 1.8 dB in two simulated rooms and a measured hall,
benchmarks/room_estimate.py). With a trained model's dry output in its place the estimate
is only as good as the model's match to the recorded instrument; the figures measured on
the built-in trumpet are in the README (Rooms). The `course` model's is far from it: its
learned reverb took part of the timbre (notebook 10, section 4: its decoder's dry output is
12 dB per band from the dry trumpet, its output in its own room 3 dB).
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

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
DEREVERB_RANGE_DB = 40.0
"""The most the room's share may take off a frame of the recording (dB)."""
SMOOTHNESS = 10.0
"""Weight of the squared second difference of c(t), the decay's shared bend."""
T60_RANGE = (0.05, 12.0)
"""The decay times a band may take (s)."""
MAX_TAIL_SECONDS = 10.0
"""The longest tail rendered (s), as the longest impulse response read from a file."""
DECAY_STARTS = (0.3, 1.0, 3.0, 8.0)
"""The decay times (s) the fit starts from: each runs `PROBE_STEPS`, the best one goes on.

From one start (0.5 s) Adam needed about ten times the steps to reach a 6 s room (the
decay time and the tail's level move together along a narrow valley of the loss)."""
PROBE_STEPS = 200
"""Steps tried from each of `DECAY_STARTS`."""
ROUGH_DIVERGENCE = 0.5
"""A fit that leaves more divergence (`RoomEstimate.divergence`) than this had a dry sound far from the recorded one.

benchmarks/room_estimate.py (20 s of the built-in trumpet in three rooms): the exact dry
trumpet leaves 0.28 in each room, the same with its envelope held to 50 frames/s 0.35 to
0.43 (T30 within 16 %, DRR within 1.9 dB); every fit to the shipped trumpet's dry output left
0.73 to 3.05, and all but one (at the edge: T30 +3 %, DRR +2.0 dB) missed T30 within 15 % or
DRR within 2 dB."""


@dataclass
class RoomEstimate:
    """A room fitted to a recording.

    Attributes:
      room: the room (direct sound at `room.direct`, scaled to 1).
      direct_gain: g, the fitted gain of the model's dry output in the recording.
      band_t60: T_b, the fitted decay time of each band (s).
      losses: the divergence at every step of the start that went on (its probe's, then the rest).
      playing: share of the recording's frames the model played.
      seconds: wall time (features, dry output and fit).
      band_gain: g_b, the direct sound's gain in each band.
      frame_energy: E_b[k], the tail's energy in each 2.5 ms frame, [lags, bands].
      dry: the model's dry output the room was fitted to, [n_samples] (`estimate_room`).
      rounds: the fits made, one per round (`estimate_room`), the last one this.
      divergence: the mean Itakura-Saito divergence left between the recording's band powers and the dry
        sound's played in the fitted room (0: exact). It measures how well the dry sound and a room explain
        the recording together, not the room: a dry sound unlike the recorded one leaves a large divergence
        and a room bent to make up for it (README, Rooms: the figures of benchmarks/room_estimate.py).
    """

    room: Room
    direct_gain: float
    band_t60: np.ndarray
    losses: list = field(default_factory=list)
    playing: float = 0.0
    seconds: float = 0.0
    band_gain: np.ndarray | None = None
    frame_energy: np.ndarray | None = None
    dry: np.ndarray | None = None
    rounds: list = field(default_factory=list)
    divergence: float = float("nan")


def dry_output(recording, synth, correction_db=None) -> tuple[np.ndarray, float]:
    """A `Synthesizer`'s dry output for a recording's f0 and loudness, unshifted: ([n_samples], share playing).

    correction_db: [n_frames] dB added to the recording's loudness (`direct_share_db`: the
    room's share taken out), or None.

    Raises:
      TransferError: shorter than `MIN_SECONDS`, or too few frames with a pitch.
    """
    recording = np.asarray(recording, np.float32).reshape(-1)
    if recording.size < MIN_SECONDS * SAMPLE_RATE:
        raise TransferError(f"The recording is {recording.size / SAMPLE_RATE:.1f} s long; a room is estimated from "
                            f"at least {MIN_SECONDS:.0f} s of playing with its reverberation (ideally 10 s or more).")
    features = source_features(recording, synth.frame_rate, progress=False)
    if correction_db is not None:
        correction = np.zeros(features.n_frames, np.float32)
        k = min(correction.size, np.size(correction_db))
        correction[:k] = np.asarray(correction_db, np.float32)[:k]
        features = replace(features, loudness_db=features.loudness_db + correction)
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
                  progress: bool = False, name: str = "estimate", rounds: int = 3) -> RoomEstimate:
    """Fit a room to a recording (16 kHz mono, [n_samples]) of the instrument of `synth`, a `Synthesizer`.

    Args:
      steps, reverb_seconds, seed: as `fit_room`'s.
      rounds: fits, each on a dry output whose loudness has the previous fit's room taken out (step 4).

    Raises:
      TransferError: a recording too short or without pitch (`dry_output`).
    """
    t0 = time.perf_counter()
    recording = np.asarray(recording, np.float32).reshape(-1)
    correction, fits = None, []
    for _ in range(rounds):
        dry, playing = dry_output(recording, synth, correction)
        target = np.zeros_like(dry)
        target[:min(dry.size, recording.size)] = recording[:dry.size]
        estimate = fit_room(dry, target, steps, reverb_seconds, seed=seed, progress=progress, name=name)
        estimate.dry, estimate.playing = dry, playing
        fits.append(estimate)
        correction = direct_share_db(recording, estimate, synth.frame_rate)
    estimate.rounds, estimate.seconds = fits, time.perf_counter() - t0
    return estimate


def direct_share_db(recording, estimate: RoomEstimate, frame_rate: float) -> np.ndarray:
    """How far below the recording's loudness its direct sound lies, by the fitted room: [n_frames] dB <= 0.

    The recording's band powers P are unmixed into the direct sound's, D, by running the
    fitted power model backwards (frame by frame, each frame's tail from the direct
    sound already found): D[n] = P[n] - sum_k E_b[k] D[n - k] / g_b^2 ..., at least
    `-DEREVERB_RANGE_DB` below P. Then the correction is the mean over bands of
    10 log10(D / P), both summed over the 128 ms around each frame (ddsp's loudness
    window). ddsp 3.7's loudness is the dB of the A-weighted mean power over its bins, not
    a mean of dB (`ddsp.spectral_ops.compute_loudness`), so this geometric mean over bands
    only approximates how far the direct sound's loudness lies below the recording's.
    """
    from ttlib.core.units import hop_length

    p = band_power(recording, estimate.frame_energy.shape[1])
    e = np.asarray(estimate.frame_energy, np.float64)
    g2 = np.asarray(estimate.band_gain, np.float64) ** 2
    lags = e.shape[0]
    floor = 10 ** (-DEREVERB_RANGE_DB / 10)
    source = np.zeros_like(p)                           # the dry power at the model's scale, frame m
    direct = np.zeros_like(p)                           # the direct sound in the recording, frame m + 1
    late = e[:1:-1]                                     # E[k] for k = lags-1 .. 2, against source[m+1-k]
    for m in range(p.shape[0] - 1):
        lo = max(0, m + 2 - lags)
        window = source[lo:m]                               # source[j], j = lo .. m-1 (k = m+1-j >= 2)
        tail = np.einsum("kb,kb->b", late[late.shape[0] - window.shape[0]:], window) if m > 0 else 0.0
        wet = p[m + 1]
        direct[m + 1] = np.maximum(wet - tail, floor * wet) * g2 / (g2 + e[0] + e[1])
        source[m] = direct[m + 1] / g2
    hop = hop_length(SAMPLE_RATE, frame_rate)
    count = recording.size // hop + 1
    centres = (np.arange(count) * hop - STFT_SIZE // 2) / STFT_HOP
    half = 1024 / STFT_HOP
    cum_d = np.concatenate([np.zeros((1, p.shape[1])), np.cumsum(direct, axis=0)])
    cum_p = np.concatenate([np.zeros((1, p.shape[1])), np.cumsum(p, axis=0)])
    lo = np.clip(np.round(centres - half), 0, p.shape[0]).astype(int)
    hi = np.clip(np.round(centres + half), 1, p.shape[0]).astype(int)
    hi = np.maximum(hi, lo + 1)
    tiny = 1e-12 * max(p.max(), 1e-30)
    ratio = (cum_d[hi] - cum_d[lo] + tiny) / (cum_p[hi] - cum_p[lo] + tiny)
    return np.minimum(10 * np.log10(np.clip(ratio, floor, None)).mean(axis=1), 0.0).astype(np.float32)


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
      steps: Adam steps on the band powers (each one convolution along time per band), after
        `PROBE_STEPS` from each of `DECAY_STARTS` (the best start goes on).
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
    # each start: half of each band's power direct, half from a tail of decay time t (sum_k E_b[k] ~ A_b t / (6 ln 10))
    ratio = np.clip(p_target.mean(axis=0) / np.maximum(p_dry.mean(axis=0), 1e-30), 1e-8, 1e8)[None, :]
    log_gain = tf.Variable(np.zeros([1, n_bands], np.float32))    # the direct sound's gain per band
    # The tail's level against the direct sound is a line in the band index u, and so is the logit of its decay
    # time: band by band, a tail and a direct sound that both follow a held note are interchangeable, and free
    # per-band levels and times wandered (30 dB of tail in some bands, none in others, and a weak band's long
    # decay set the broadband T30); one decay time for all bands could not follow a real hall's (the Sports
    # Centre's falls from 6.7 s at 400-800 Hz to 3.7 s above 3.2 kHz, and the fit then found 4.6 s for a 5.9 s T30).
    u = tf.constant(((np.arange(n_bands) - (n_bands - 1) / 2) / max(n_bands - 1, 1))[None, :], tf.float32)
    share = tf.Variable(np.zeros(2, np.float32))
    # T_b = T_min + (T_max - T_min) sigmoid(theta_0 + theta_1 u_b): bounded, never a flat tail
    theta = tf.Variable(np.zeros(2, np.float32))

    def t60():
        return T60_RANGE[0] + (T60_RANGE[1] - T60_RANGE[0]) * tf.sigmoid(theta[0] + theta[1] * u)

    def log_a():
        return 2.0 * log_gain + share[0] + share[1] * u

    early = min(lags, EARLY_FRAMES)
    bend_early = tf.Variable(np.zeros([early, 1], np.float32))
    variables = [log_gain, share, theta, bend_early]
    optimizer = tf.keras.optimizers.Adam(learning_rate)
    optimizer.build(variables)

    def frame_energy(count, after):
        bend = tf.concat([bend_early, tf.zeros([count - early, 1])], axis=0)
        rate = 6.0 * float(np.log(10.0)) / (t60() * SAMPLE_RATE)              # s_b ~ exp(-rate t), t in samples
        per_frame = (1.0 - tf.exp(-rate * STFT_HOP)) / (1.0 - tf.exp(-rate))
        return tf.exp(log_a() + bend - rate * after) * per_frame                # E_b[k]: [lags, bands]

    def divergence():
        e = tf.signal.rfft(tf.transpose(frame_energy(lags, after)), [size])
        reverb = tf.transpose(tf.signal.irfft(dry_spectrum * e, [size]))[:n]
        model = tf.exp(2.0 * log_gain) * p_direct + tf.maximum(reverb, 0.0)
        ratio = target_t / (model + floor)
        return tf.reduce_sum(weight * (ratio - tf.math.log(ratio) - 1.0)) / tf.reduce_sum(weight)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = divergence()
            loss += SMOOTHNESS * tf.reduce_mean(tf.square(bend_early[2:] - 2 * bend_early[1:-1] + bend_early[:-2]))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    tf.random.set_seed(seed)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps + PROBE_STEPS * len(DECAY_STARTS), desc="fitting the room", unit="step", leave=False)

    def run(count: int) -> list:
        """`count` steps; the variables end at the lowest loss seen (Adam can climb out of the valley, or
        overflow to NaN when the dry sound is far from the recording's), and a NaN ends the run."""
        out, best = [], (np.inf, None)
        for _ in range(count):
            out.append(float(step()))
            if bar is not None:
                bar.update(1)
            if not np.isfinite(out[-1]):
                break
            if out[-1] < best[0]:
                best = (out[-1], [v.numpy() for v in variables])
        if best[1] is not None and not out[-1] <= best[0]:
            for v, value in zip(variables, best[1]):
                v.assign(value)
        return out

    def start(t: float) -> None:
        log_gain.assign((0.5 * np.log(ratio / 2)).astype(np.float32))
        share.assign(np.array([float(np.log(6 * np.log(10) / (t * SAMPLE_RATE))), 0.0], np.float32))
        theta.assign(np.array([np.log((t - T60_RANGE[0]) / (T60_RANGE[1] - t)), 0.0], np.float32))
        bend_early.assign(tf.zeros_like(bend_early))
        for v in optimizer.variables:
            v.assign(tf.zeros_like(v))

    trials = []                                    # (loss at the probe's end, its losses, its state), per start
    for t in DECAY_STARTS:
        start(t)
        probe = run(PROBE_STEPS)
        trials.append((float(np.nanmin(probe + [np.inf])), probe,
                       [v.numpy() for v in variables + optimizer.variables]))
    _, losses, state = min(trials, key=lambda trial: trial[0])
    for v, value in zip(variables + optimizer.variables, state):
        v.assign(value)
    losses = losses + run(steps)
    if bar is not None:
        bar.close()
    gains = np.exp(log_gain.numpy()).reshape(-1)
    gain = float(np.sqrt(np.mean(gains ** 2)))
    energy = frame_energy(lags, after).numpy()
    band_t60 = t60().numpy().reshape(-1)
    # the tail is rendered until its slowest band has decayed by 60 dB (the fit saw `reverb_seconds` of it)
    count = int(np.ceil(np.clip(1.1 * band_t60.max(), reverb_seconds, MAX_TAIL_SECONDS) * SAMPLE_RATE / STFT_HOP))
    longer = frame_energy(count, tf.constant((np.maximum(np.arange(count) - PRE_FRAMES, 0) * STFT_HOP)[:, None],
                                             tf.float32)).numpy()
    # band b of the recording is g_b x_b + x_b * r_b: the room's tail in band b is r_b / g_b (g_b also takes up
    # how the model's timbre differs from the recorded instrument's, which is not the room's)
    ir = render_tail(longer / (gains[None, :] ** 2 * STFT_HOP), seed)
    direct = PRE_FRAMES * STFT_HOP
    ir[direct] = 1.0
    return RoomEstimate(Room(name, ir, direct), gain, band_t60, losses, seconds=time.perf_counter() - t0,
                        band_gain=gains, frame_energy=energy, divergence=float(divergence()))


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


ESTIMATE_VERSION = 4
"""Bump when the estimate changes, so rooms estimated before are estimated again."""
ESTIMATE_STEPS, ESTIMATE_ROUNDS = 1500, 3
"""The fit `estimated_room` makes (`estimate_room`'s steps and rounds)."""


def estimated_room(path: str | os.PathLike, synth, progress: bool = False) -> Room:
    """The room of the recording at `path`, estimated with `synth` (`estimate_room`), kept in the cache.

    `--room estimate:REC.wav` and the sliders' room selector come here. The estimate takes
    about a minute for 20 s of recording, so it is kept under the cache folder
    (`rooms/estimated/<hash>.wav`), keyed by the recording's samples, the model's folder
    and step, and `ESTIMATE_VERSION`.

    Raises:
      MissingFileError, AudioError: the recording cannot be read.
      TransferError: too short, or too few frames with a pitch.
    """
    import hashlib
    import json

    from ttlib.audio.io import load, save_wav
    from ttlib.core.io import sha256_text
    from ttlib.core.paths import cache_dir

    recording = load(path, SAMPLE_RATE, quiet=True)
    loaded = synth.loaded
    key = sha256_text(json.dumps({"audio": hashlib.sha256(recording.tobytes()).hexdigest(), "version": ESTIMATE_VERSION,
                                  "model": str(Path(loaded.folder).resolve()), "step": int(loaded.step),
                                  "steps": ESTIMATE_STEPS, "rounds": ESTIMATE_ROUNDS}))[:16]
    cached = cache_dir() / "rooms" / "estimated" / f"{key}.wav"
    name = f"estimate:{path}"
    if cached.is_file():
        import soundfile

        ir, _ = soundfile.read(cached, dtype="float64")
        return Room(name, ir, PRE_FRAMES * STFT_HOP)
    room = estimate_room(recording, synth, ESTIMATE_STEPS, rounds=ESTIMATE_ROUNDS, progress=progress, name=name).room
    save_wav(cached, room.ir, SAMPLE_RATE, overwrite=True)
    return room
