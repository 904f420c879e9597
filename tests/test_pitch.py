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


def test_octave_down_reads_a_whistle_above_crepes_ceiling():
    tone = synth.harmonic_tone(2500.0, 1.0, n_harmonics=2)
    plain = pitch.track(tone, "crepe-tiny", frame_rate=100)
    down = pitch.track(tone, "crepe-tiny", frame_rate=100, crepe_octaves_down=1)
    assert down.f0_hz.size == plain.f0_hz.size == 101
    assert abs(np.median(pitch.cents(down.f0_hz[10:-10], 2500.0))) < 20
    assert np.median(plain.confidence) < 0.5 or abs(np.median(pitch.cents(plain.f0_hz, 2500.0))) > 600
    assert pitch.crepe_bin_hz()[-1] == pytest.approx(pitch.CREPE_MAX_HZ, abs=0.01)


def test_quiet_frames_are_unvoiced_whatever_crepe_says():
    tone = synth.harmonic_tone(440.0, 1.0).copy()
    tone[8000:] *= 1e-4                                        # a faint tail, -80 dB below
    gated = pitch.track(tone, "crepe-tiny", frame_rate=100)
    raw = pitch.track(tone, "crepe-tiny", frame_rate=100, silence_db=None)
    assert gated.voiced[:40].all() and not gated.voiced[60:].any()
    assert raw.voiced[60:].mean() > 0.5


def test_pitch_accuracy_counts_like_mir_eval():
    times = np.arange(100) / 100
    ref = np.where(times < 0.5, 440.0, 0.0)
    est = ref.copy()
    est[:10] = 880.0                                           # 10 octave errors
    est[60:70] = 300.0                                         # 10 false alarms
    scores = pitch.pitch_accuracy(times, ref, times, est)
    assert scores["raw_pitch_accuracy"] == pytest.approx(0.8)
    assert scores["raw_chroma_accuracy"] == pytest.approx(1.0)
    assert scores["voicing_false_alarm"] == pytest.approx(0.2)


def test_cli_writes_a_csv_and_never_overwrites(tmp_path):
    import subprocess
    import sys

    import soundfile

    soundfile.write(str(tmp_path / "tone.wav"), synth.harmonic_tone(330.0, 1.0), 16000)
    cmd = [sys.executable, "-m", "ttlib", "pitch", str(tmp_path / "tone.wav"), "--method", "yin",
           "--out", str(tmp_path / "f0.csv")]
    first = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stderr
    table = np.loadtxt(tmp_path / "f0.csv", delimiter=",", skiprows=1)
    assert table.shape == (101, 4) and abs(np.median(table[10:-10, 1]) - 330.0) < 2
    second = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert second.returncode == 2 and "exists" in second.stderr and "Traceback" not in second.stderr
