"""ttlib.transfer, the transfer sliders and `python -m ttlib transfer`."""
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from ttlib import data, models, pitch, synth, transfer
from ttlib.core.constants import LOUDNESS_FLOOR_DB
from ttlib.core.units import hz_to_midi
from ttlib.course import widgets

STATS = {"train": {"pitch_midi": {"quantiles": list(np.linspace(52, 86, 101))},
                   "loudness_db_voiced": {"quantiles": list(np.linspace(-40, 10, 101))}}}


def _features(f0_hz, loudness_db, confidence=None, frame_rate=50.0):
    f0_hz = np.asarray(f0_hz, np.float32)
    confidence = np.ones_like(f0_hz) if confidence is None else np.asarray(confidence, np.float32)
    return transfer.SourceFeatures(np.zeros(f0_hz.size * 320, np.float32), f0_hz, confidence,
                                   np.asarray(loudness_db, np.float32), frame_rate)


def test_octave_shift_loudness_mapping_silence_and_autotune():
    n = 200
    f0 = np.full(n, 1760.0 * 2 ** (0.3 / 12))               # A6 + 30 cents: a whistle
    loud = np.linspace(-30, 0, n)
    loud[:20] = -75                                           # quiet start
    conf = np.ones(n)
    conf[-10:] = 0.1                                          # pitchless end
    adjusted = transfer.adjust(_features(f0, loud, conf), STATS)
    assert adjusted.octave_shift == -2                        # MIDI 93.3 -> 69.3, nearest to the median 69
    np.testing.assert_allclose(adjusted.f0_hz[adjusted.on], f0[0] / 4, rtol=1e-5)
    assert not adjusted.on[:20].any() and not adjusted.on[-10:].any()
    assert (adjusted.loudness_db[~adjusted.on] == LOUDNESS_FLOOR_DB).all()
    on_loud = adjusted.loudness_db[adjusted.on]
    assert abs(on_loud.min() - (-40)) < 1.0 and abs(on_loud.max() - 10) < 1.0   # onto the training range
    tuned = transfer.adjust(_features(f0, loud, conf), STATS, transfer.Settings(autotune=1.0))
    midi = hz_to_midi(tuned.f0_hz[tuned.on])
    np.testing.assert_allclose(midi, np.round(midi), atol=1e-4)
    up = transfer.adjust(_features(f0, loud, conf), STATS, transfer.Settings(pitch_shift=12, loudness_shift=-6))
    np.testing.assert_allclose(up.f0_hz[up.on], 2 * adjusted.f0_hz[adjusted.on], rtol=1e-5)
    np.testing.assert_allclose(up.loudness_db[up.on], adjusted.loudness_db[adjusted.on] - 6, atol=1e-4)
    raw = transfer.adjust(_features(f0, loud, conf), STATS, transfer.Settings(auto_adjust=False, quiet_db=None))
    assert raw.octave_shift == 0 and np.allclose(raw.loudness_db, loud)
    with pytest.raises(transfer.TransferError, match="autotune"):
        transfer.Settings(autotune=2).check()
    with pytest.raises(transfer.TransferError, match="statistics.json"):
        transfer.adjust(_features(f0, loud), {"train": {}})


def test_a_short_pitchless_gap_between_two_notes_plays_on_and_a_rest_or_a_long_gap_does_not():
    """Where one note becomes the next CREPE's confidence dips for a frame or two: silencing them cut every
    legato note change (the output fell 30 dB there, `adjustment.BRIDGE_SECONDS`)."""
    n = 100
    f0 = np.r_[np.full(50, 440.0), np.full(50, 494.0)]
    loud = np.full(n, -20.0)
    conf = np.ones(n)
    conf[49:51] = 0.3                                         # 40 ms at the note change
    conf[70:75] = 0.3                                         # 100 ms: longer than BRIDGE_SECONDS (60 ms)
    loud[84:86], conf[84:86] = -75.0, 0.0                     # a short rest: quiet
    conf[92] = 0.2                                            # a dip, but the note ends during it
    loud[93:] = -75.0
    adjusted = transfer.adjust(_features(f0, loud, conf), STATS, transfer.Settings(auto_adjust=False))
    assert adjusted.on[47:53].all()                           # the note change plays on ...
    np.testing.assert_allclose(adjusted.f0_hz[49:51], 440.0, rtol=1e-5)       # ... at the pitch before it
    np.testing.assert_allclose(adjusted.loudness_db[49:51], -20.0, atol=1e-4)  # ... at its own loudness
    assert not adjusted.on[70:75].any() and adjusted.on[69] and adjusted.on[75]
    assert not adjusted.on[84:86].any() and not adjusted.on[92:].any()
    assert adjusted.summary["bridged_frames"] == 2
    assert (adjusted.loudness_db[~adjusted.on] == LOUDNESS_FLOOR_DB).all()
    at_250 = transfer.adjust(_features(np.repeat(f0, 5), np.repeat(loud, 5), np.repeat(conf, 5), frame_rate=250.0),
                             STATS, transfer.Settings(auto_adjust=False))
    assert at_250.summary["bridged_frames"] == 10             # the same 40 ms at 250 frames/s
    kept = transfer.adjust(_features(f0, loud, conf), STATS, transfer.Settings(auto_adjust=False, quiet_db=None))
    assert kept.summary["bridged_frames"] == 0 and np.allclose(kept.loudness_db, np.clip(loud, -80, None))
    np.testing.assert_array_equal(transfer.adjustment.bridges([1, 0, 0, 1, 0, 1], [1, 1, 1, 1, 0, 1], 2),
                                  [False, True, True, False, False, False])


def test_source_features_fix_whistles_and_warn_about_silence_noise_and_bad_samples():
    tone = synth.harmonic_tone(2600.0, 2.0, amplitude=0.3, n_harmonics=3)     # above CREPE's ceiling
    feats = transfer.source_features(tone, cache_dir=None, progress=False)
    assert feats.octaves_down == 1
    assert abs(1200 * np.log2(np.median(feats.f0_hz[feats.playing]) / 2600.0)) < 30
    plain = transfer.source_features(tone, octaves_down=0, cache_dir=None, progress=False)
    assert abs(1200 * np.log2(np.median(plain.f0_hz) / 2600.0)) > 100      # the problem
    assert "silent" in transfer.source_features(np.zeros(32000, np.float32), cache_dir=None,
                                                progress=False).warnings[0]
    noise = np.random.default_rng(0).normal(0, 0.2, 48000).astype(np.float32)
    chord = sum(synth.harmonic_tone(f, 3.0, amplitude=0.2) for f in (261.6, 329.6, 392.0, 493.9))
    for audio in (noise, chord):
        warnings = transfer.source_features(audio, cache_dir=None, progress=False).warnings
        assert warnings and "monophonic" in warnings[0]
    with pytest.raises(transfer.TransferError, match="NaN"):
        transfer.source_features(np.array([0.0, np.nan] * 1000, np.float32), cache_dir=None)
    with pytest.raises(transfer.TransferError, match="no samples"):
        transfer.source_features(np.zeros(0, np.float32), cache_dir=None)


def test_rendering_equals_the_models_own_output(tiny_model, small_dataset):
    loaded = models.load_model(tiny_model)
    held_out = data.load_examples(small_dataset, "validation", 1)
    batch = data.validation_batch(held_out, loaded.seconds, 1)
    own = models.resynthesize(loaded.model, batch)
    parts = transfer.Synthesizer(loaded).render(batch["f0_hz"][0], batch["loudness_db"][0])
    np.testing.assert_allclose(parts.harmonic, own["harmonic"][0], atol=1e-5)
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))
    assert abs(rms(parts.mix()) / rms(own["resynthesis"][0]) - 1) < 0.05     # the noise differs, not its level
    assert rms(parts.mix(reverb_gain=0)) > 0 and rms(parts.mix(0, 0, 0)) == 0


def test_chunks_join_without_clicks_and_silence_gives_silence(tiny_model):
    rng = np.random.default_rng(1)
    frames = 250 * 6                                            # 6 s at the tiny model's 250 frames/s
    f0 = np.repeat(rng.uniform(200, 500, 12), frames // 12).astype(np.float32)
    loud = np.full(frames, -20.0, np.float32)
    whole = transfer.Synthesizer(tiny_model, chunk_seconds=100).render(f0, loud)
    chunked_synth = transfer.Synthesizer(tiny_model, chunk_seconds=1.0, warmup_seconds=1.0)
    chunked = chunked_synth.render(f0, loud)
    rel = np.sqrt(np.mean((chunked.harmonic - whole.harmonic) ** 2) / np.mean(whole.harmonic ** 2))
    assert rel < 0.05, rel
    step = np.abs(np.diff(chunked.harmonic))
    borders = np.arange(chunked_synth.chunk_frames, frames, chunked_synth.chunk_frames) * chunked_synth.hop
    assert step[borders - 1].max() < 1.5 * np.percentile(step, 99.9)
    silent = transfer.transfer(np.zeros(32000, np.float32), chunked_synth)
    assert np.abs(silent.audio).max() < 1e-3


def test_sliders_shift_the_output_an_octave_and_gains_only_remix(tiny_model):
    synth_ = transfer.Synthesizer(tiny_model)
    source = transfer.source_features(synth.harmonic_tone(330.0, 2.0, amplitude=0.3), synth_.frame_rate,
                                      cache_dir=None, progress=False)
    sliders = widgets.TransferSliders(synth_, source, draw=False)
    before = sliders.result.audio.copy()
    sliders.sliders["pitch_shift"].value = 12.0
    after = sliders.result.audio
    f_before = pitch.track(before, "crepe-tiny", frame_rate=50.0)
    f_after = pitch.track(after, "crepe-tiny", frame_rate=50.0)
    ok = f_before.voiced & f_after.voiced
    assert ok.sum() > 20
    assert abs(np.median(1200 * np.log2(f_after.f0_hz[ok] / f_before.f0_hz[ok])) - 1200) < 20
    renders = sliders.renders
    sliders.sliders["noise_gain"].value = 0.0
    assert sliders.renders == renders
    np.testing.assert_allclose(sliders.result.audio, sliders.parts.mix(1.0, 0.0, 1.0))
    assert sliders.player.value[:4] == b"RIFF" and sliders.last_action == "re-mixed"
    assert sliders.current_settings().quiet_db == 30.0                 # silencing: an explicit box, on by default
    sliders.sliders["silence_quiet"].value = False
    assert sliders.current_settings().quiet_db is None and sliders.sliders["quiet_db"].disabled
    assert sliders.renders == renders + 1 and sliders.last_action == "re-synthesised"


def test_cli_transfers_a_stereo_file_at_another_rate(tiny_model, tmp_path):
    tone = synth.harmonic_tone(1800.0, 3.0, amplitude=0.3, sample_rate=44100)
    source = tmp_path / "whistle.wav"
    soundfile.write(str(source), np.stack([tone, 0.5 * tone], axis=1), 44100)
    out = tmp_path / "out.wav"
    run = lambda *extra: subprocess.run([sys.executable, "-m", "ttlib", "transfer", str(source), "--model",
                                         str(tiny_model), "--out", str(out), "--no-progress", *extra],
                                        capture_output=True, text=True)
    done = run("--check", "--pitch-shift", "2")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "stereo" in done.stdout and "cents from the adjusted f0" in done.stdout
    written, rate = soundfile.read(str(out))
    assert rate == 16000 and written.ndim == 1 and abs(written.size - 48000) <= 320
    settings = json.loads(out.with_suffix(".json").read_text())
    assert settings["settings"]["pitch_shift"] == 2 and settings["f0_error_cents_median"] < 50
    again = run()
    assert again.returncode == 2 and "exists" in again.stderr
    missing = subprocess.run([sys.executable, "-m", "ttlib", "transfer", str(source), "--model", str(tmp_path / "none"),
                              "--out", str(tmp_path / "x.wav")], capture_output=True, text=True)
    assert missing.returncode == 2 and "No model folder" in missing.stderr and "Traceback" not in missing.stderr


def test_the_model_selector_finds_models_and_plays_the_chosen_one(tiny_model, playing_model, tmp_path):
    import shutil

    from ttlib import models

    root = tmp_path / "models"
    shutil.copytree(tiny_model, root / "trumpet")
    shutil.copytree(tiny_model, root / "broken")
    (root / "broken" / "statistics.json").write_text("{}")           # no longer the model's own
    (root / "empty").mkdir()
    assert list(models.find_models(root)) == ["trumpet"]
    assert models.find_models(tmp_path / "nowhere") == {}

    synth_ = transfer.Synthesizer(tiny_model)
    source = transfer.source_features(synth.harmonic_tone(330.0, 2.0, amplitude=0.3), synth_.frame_rate,
                                      cache_dir=None, progress=False)
    sliders = widgets.TransferSliders(synth_, source, draw=False,
                                      models={"tiny": tiny_model, "playing": playing_model, "broken": root / "broken"})
    assert widgets.TransferSliders(synth_, source, draw=False).sliders["model"].layout.display == "none"
    assert sliders.sliders["model"].layout.display is None                  # a choice: shown
    first = sliders.result.audio.copy()
    sliders.sliders["model"].value = str(playing_model.resolve())
    assert sliders.synth.loaded.folder.resolve() == playing_model.resolve() and sliders.last_action == "re-synthesised"
    assert not np.allclose(sliders.result.audio, first)
    sliders.sliders["model"].value = str((root / "broken").resolve())    # refused: the last model plays on
    assert sliders.sliders["model"].value == str(playing_model.resolve())
    assert sliders.status.value.startswith("model not changed") and "statistics" in sliders.status.value
    assert sliders.synth.loaded.folder.resolve() == playing_model.resolve()
    sliders.sliders["model"].value = str(tiny_model.resolve())
    np.testing.assert_allclose(sliders.result.audio, first, atol=1e-6)
