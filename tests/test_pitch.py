"""ttlib.pitch: YIN by hand against librosa, one function for every method."""
import librosa
import numpy as np
import pytest

from ttlib import pitch, synth


def test_yin_matches_librosa_on_a_harmonic_tone():
    tone = np.concatenate([synth.harmonic_tone(f, 0.5, n_harmonics=8) for f in (196.0, 330.0, 523.0)])
    ours, aperiodicity = pitch.yin(tone, 16000, frame_rate=100, fmin=60, fmax=1000, frame_length=1024)
    ref = librosa.yin(tone, fmin=60, fmax=1000, sr=16000, frame_length=1024, hop_length=160, center=True)
    assert ours.shape == ref.shape
    steady = np.r_[5:45, 55:95, 105:145]
    assert np.median(np.abs(pitch.cents(ours[steady], ref[steady]))) < 3
    assert np.all(aperiodicity[steady] < 0.1)


def test_yin_on_noise_is_aperiodic():
    noise = np.random.default_rng(0).normal(size=16000).astype(np.float32)
    _, aperiodicity = pitch.yin(noise, 16000, frame_rate=100)
    assert np.median(aperiodicity) > 0.3


@pytest.mark.parametrize("method", ["yin", "pyin", "crepe-tiny"])
def test_every_method_returns_the_same_grid(method):
    tone = synth.harmonic_tone(262.0, 1.0)
    result = pitch.track(tone, method, frame_rate=250)
    assert result.f0_hz.shape == result.confidence.shape == result.voiced.shape == (16000 // 64 + 1,)
    assert result.method == method and result.frame_rate == 250
    assert abs(np.median(pitch.cents(result.f0_hz[result.voiced], 262.0))) < 15
    assert result.voiced.mean() > 0.8
    np.testing.assert_allclose(result.times_s[:3], [0.0, 0.004, 0.008])


def test_crepe_regrid_from_10ms_matches_running_at_the_grid():
    tone = synth.harmonic_tone(440.0, 1.0)
    direct = pitch.track(tone, "crepe-tiny", frame_rate=100)
    regrid = pitch.track(tone, "crepe-tiny", frame_rate=250, crepe_step_ms=10)
    assert regrid.f0_hz.size == 251
    assert np.max(np.abs(pitch.cents(regrid.f0_hz[::5][5:-5], direct.f0_hz[::2][5:-5]))) < 2


def test_silence_is_unvoiced():
    result = pitch.track(np.zeros(16000, np.float32), "yin", frame_rate=100)
    assert not result.voiced.any()
    assert np.all(result.f0_mir_eval_hz <= 0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="Unknown pitch method 'crepe'.*crepe-tiny"):
        pitch.track(np.zeros(16000), "crepe")
    with pytest.raises(ValueError, match="frame_rate 300 Hz does not divide"):
        pitch.track(np.zeros(16000), "yin", frame_rate=300)


def test_yin_on_real_singing_agrees_with_the_annotation(shared_data):
    import mir_eval

    from ttlib import audio

    samples = audio.load(shared_data / "vocadito_1_singing.wav")
    truth = np.loadtxt(shared_data / "vocadito_1_singing_f0.csv", delimiter=",")
    result = pitch.track(samples, "yin", frame_rate=100, fmin=60, fmax=1000)
    ref_v, ref_c, est_v, est_c = mir_eval.melody.to_cent_voicing(truth[:, 0], truth[:, 1], result.times_s,
                                                                 result.f0_mir_eval_hz)
    assert mir_eval.melody.raw_pitch_accuracy(ref_v, ref_c, est_v, est_c) > 0.9
