"""ttlib.data.features: the grid, ddsp's loudness (also in chunks), and the cache."""
import numpy as np
import pytest

from ttlib import pitch, synth
from ttlib.data import features


def test_features_on_the_shared_grid(tmp_path):
    tone = synth.harmonic_tone(330.0, 1.0)
    result = features.compute(tone, f0_method="yin", frame_rate=250, cache_dir=tmp_path)
    assert result.n_frames == 16000 // 64 + 1
    assert result.f0_hz.shape == result.f0_confidence.shape == result.loudness_db.shape
    assert abs(np.median(pitch.cents(result.f0_hz[10:-10], 330.0))) < 5
    assert result.loudness_db[10:-10].min() > -30 and result.loudness_db.max() <= 10


def test_loudness_is_ddsps_and_falls_with_level():
    import ddsp

    tone = synth.sine(440.0, 0.5, amplitude=0.5)
    ours = features.loudness_db(tone, frame_rate=250)
    reference = ddsp.spectral_ops.compute_loudness(tone, sample_rate=16000, frame_rate=250, use_tf=True,
                                                   padding="center").numpy()
    np.testing.assert_allclose(ours, reference, atol=1e-3)
    quieter = features.loudness_db(tone * 0.1, frame_rate=250)
    assert abs(np.median(ours - quieter) - 20.0) < 0.5


def test_second_call_comes_from_the_cache(tmp_path, monkeypatch):
    tone = synth.harmonic_tone(220.0, 0.5)
    first = features.compute(tone, f0_method="yin", cache_dir=tmp_path)
    assert len(list((tmp_path / "features").glob("*.npz"))) == 1

    def must_not_run(*args, **kwargs):
        raise AssertionError("the cache should have answered")

    monkeypatch.setattr(features, "track", must_not_run)
    again = features.compute(tone, f0_method="yin", cache_dir=tmp_path)
    np.testing.assert_array_equal(again.f0_hz, first.f0_hz)
    np.testing.assert_array_equal(again.loudness_db, first.loudness_db)
    with pytest.raises(AssertionError, match="cache"):          # a changed parameter recomputes
        features.compute(tone, f0_method="yin", fmax=1500.0, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="cache"):          # so does changed audio
        features.compute(tone * 0.5, f0_method="yin", cache_dir=tmp_path)


def test_a_damaged_cache_entry_is_recomputed(tmp_path):
    tone = synth.harmonic_tone(220.0, 0.5)
    features.compute(tone, f0_method="yin", cache_dir=tmp_path)
    entry = next((tmp_path / "features").glob("*.npz"))
    entry.write_bytes(b"not an npz")
    result = features.compute(tone, f0_method="yin", cache_dir=tmp_path)
    assert result.n_frames == 8000 // 64 + 1
    assert np.load(entry)["f0_hz"].shape == (result.n_frames,)


def test_chunked_tracking_equals_one_pass(tmp_path):
    tone = np.concatenate([synth.harmonic_tone(f, 1.0) for f in (200.0, 300.0, 400.0)])
    chunked = features.compute(tone, f0_method="yin", cache_dir=None, chunk_s=0.7, progress=False)
    whole = pitch.track(tone, "yin", frame_rate=250)
    np.testing.assert_allclose(chunked.f0_hz, whole.f0_hz, rtol=1e-5)


def test_chunked_loudness_equals_one_pass():
    rng = np.random.default_rng(4)
    parts = [synth.harmonic_tone(f, 1.0, amplitude=float(a)) for f, a in zip(rng.uniform(150, 900, 9),
                                                                            rng.uniform(0.01, 0.5, 9))]
    audio = np.concatenate(parts + [np.zeros(4000, np.float32)])
    whole = features.loudness_db(audio, frame_rate=250, chunk_s=1000.0)
    for chunk_s in (1.0, 2.3):                    # chunk borders inside notes and on their joins
        chunked = features.loudness_db(audio, frame_rate=250, chunk_s=chunk_s)
        assert chunked.shape == whole.shape == (audio.size // 64 + 1,)
        np.testing.assert_allclose(chunked, whole, atol=1e-3)
    assert whole.max() - whole.min() > 30         # the level really varies (a test that can fail)
