"""ttlib.synth.harmonic sounds like ddsp's Harmonic (linear amplitudes), joins chunks, and trains the same."""
import ddsp
import numpy as np
import tensorflow as tf

from ttlib import models
from ttlib.synth import harmonic_synthesis


def _controls(batch=2, frames=50, harmonics=20, seed=0):
    rng = np.random.default_rng(seed)
    amps = rng.uniform(0.1, 1.0, size=(batch, frames, 1)).astype(np.float32)
    dist = rng.uniform(0.0, 1.0, size=(batch, frames, harmonics)).astype(np.float32)
    f0 = (300 + np.cumsum(rng.normal(0, 5, size=(batch, frames, 1)), axis=1)).astype(np.float32)
    f0[:, :5] = 900.0                                          # some harmonics above Nyquist
    dist = np.asarray(ddsp.core.normalize_harmonics(dist, f0, 16000))
    return amps, dist, f0


def _reference(amps, dist, f0, n_samples, sample_rate=16000):
    """ddsp's harmonic_synthesis (linear amplitudes) written out in float64 NumPy, sample by sample."""
    frames = f0.shape[1]
    x = np.arange(n_samples) * frames / n_samples                 # tf.compat.v1 resize, align_corners=False
    j = np.floor(x).astype(int)
    a = (x - j)[None, :, None]
    up = lambda v: v[:, j] * (1 - a) + v[:, np.minimum(j + 1, frames - 1)] * a
    k = np.arange(1, dist.shape[-1] + 1)
    freqs, harm = up(f0.astype(np.float64) * k), up((amps * dist).astype(np.float64))
    harm = np.where(freqs < sample_rate / 2, harm, 0.0)
    phases = np.cumsum(2 * np.pi * freqs / sample_rate, axis=1)
    return (harm * np.sin(phases)).sum(-1)


def test_same_samples_as_ddsp_written_in_float64():
    amps, dist, f0 = _controls()
    ours = harmonic_synthesis(amps, dist, f0, n_samples=16000).numpy()
    exact = _reference(amps, dist, f0, 16000)
    # frames 0-5 glide from 900 Hz, where harmonics cross Nyquist: silenced per frame here, per sample in ddsp
    assert np.abs(ours[:, 6 * 320:] - exact[:, 6 * 320:]).max() < 1e-4
    ddsp_float32 = ddsp.core.harmonic_synthesis(f0, amps, harmonic_distribution=dist, n_samples=16000,
                                                amp_resample_method="linear").numpy()
    drift = np.abs(ddsp_float32 - exact)[:, 6 * 320:].max()      # ddsp's float32 cumulative phase drifts
    assert np.abs(ours - exact)[:, 6 * 320:].max() < drift / 10


def test_no_phase_drift_on_long_tones():
    frames = 2500                                              # 10 s
    ones = np.ones((1, frames, 1), np.float32)
    audio = harmonic_synthesis(ones, ones, np.full((1, frames, 1), 300.0, np.float32), 160000).numpy()[0]
    exact = np.sin(2 * np.pi * 300.0 * np.arange(1, 160001) / 16000)
    assert np.abs(audio - exact).max() < 1e-4


def test_chunks_join_with_the_carried_phase_and_a_lookahead_frame():
    amps, dist, f0 = _controls(batch=1, frames=40)
    whole = harmonic_synthesis(amps, dist, f0, 12800).numpy()[0]
    ahead = (amps[:, 20:21], dist[:, 20:21], f0[:, 20:21])
    first, phase = harmonic_synthesis(amps[:, :20], dist[:, :20], f0[:, :20], 6400,
                                                 return_phase=True, lookahead=ahead)
    second = harmonic_synthesis(amps[:, 20:], dist[:, 20:], f0[:, 20:], 6400, initial_phase=phase)
    joined = np.concatenate([first.numpy()[0], second.numpy()[0]])
    assert np.abs(joined - whole).max() < 1e-4


def test_the_float32_phase_for_tflite_keeps_to_about_a_milliradian_over_a_minute():
    """`float32_phase=True` (the exported models', `ttlib.models.export`): no float64 anywhere."""
    rng = np.random.default_rng(0)
    frames = 3000                                                       # 60 s at 50 frames/s
    f0 = (440 * 2 ** (np.cumsum(rng.normal(0, 0.3, frames)) / 12)).clip(100, 1500).astype(np.float32)
    f0 = f0[None, :, None]
    amps, dist = np.full((1, frames, 1), 0.5, np.float32), np.full((1, frames, 20), 1 / 20, np.float32)
    exact, end = harmonic_synthesis(amps, dist, f0, frames * 320, return_phase=True)
    single, end32 = harmonic_synthesis(amps, dist, f0, frames * 320, return_phase=True, float32_phase=True)
    assert end32.dtype == tf.float32
    assert abs(np.angle(np.exp(1j * (float(end[0]) - float(end32[0]))))) < 2e-3          # measured 6.8e-4
    assert np.abs(exact.numpy() - single.numpy()).max() < 0.01                              # measured 0.0034


def test_the_course_model_uses_it_and_its_gradients_match_ddsp():
    cfg = models.get_config("course")
    harmonic = models.build_autoencoder(cfg).processor_group.processors[0]
    assert cfg.fast_harmonic and type(harmonic).__name__ == "FastHarmonic"
    amps, dist, f0 = _controls(batch=1, frames=50, harmonics=10, seed=3)
    amps, dist = tf.Variable(amps), tf.Variable(dist)
    target = tf.constant(np.random.default_rng(1).normal(0, 0.1, size=(1, 16000)).astype(np.float32))
    grads = []
    for synth in (lambda a, d: harmonic_synthesis(a, d, f0, 16000),
                  lambda a, d: ddsp.core.harmonic_synthesis(f0, a, harmonic_distribution=d, n_samples=16000,
                                                            amp_resample_method="linear")):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((synth(amps, dist) - target) ** 2)
        grads.append([g.numpy() for g in tape.gradient(loss, [amps, dist])])
    for ours, theirs in zip(*grads):
        assert np.linalg.norm(ours - theirs) < 0.02 * np.linalg.norm(theirs)
