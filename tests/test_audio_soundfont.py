"""ttlib.audio, ttlib.synth, ttlib.data.soundfont."""
import numpy as np
import pretty_midi
import pytest
import soundfile

from ttlib import audio, synth
from ttlib.data import soundfont


def test_normalize_scales_to_the_peak_and_keeps_silence():
    np.testing.assert_allclose(np.abs(audio.normalize([0.1, -0.2])).max(), 0.9)
    assert not audio.normalize(np.zeros(10)).any()
    with pytest.raises(ValueError, match="NaN"):
        audio.normalize([0.0, np.nan])


def test_player_table_has_one_row_per_sound():
    html = audio.player_table({"sine": synth.sine(seconds=0.1), "<b>": np.zeros(160)}).data
    assert html.count("<tr>") == 3 and "&lt;b&gt;" in html and html.count("<audio") == 2


def test_save_wav_never_overwrites_unless_asked(tmp_path):
    path = audio.save_wav(tmp_path / "a" / "tone.wav", synth.sine(seconds=0.1))
    data, rate = soundfile.read(path)
    assert rate == 16000 and data.shape == (1600,)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        audio.save_wav(path, np.zeros(10))
    audio.save_wav(path, np.zeros(10), overwrite=True)
    assert soundfile.info(str(path)).frames == 10
    with pytest.raises(ValueError, match="NaN"):
        audio.save_wav(tmp_path / "bad.wav", [np.inf])


def test_harmonic_tone_has_its_energy_at_the_harmonics():
    tone = synth.harmonic_tone(500.0, seconds=1.0, n_harmonics=5)
    spectrum = np.abs(np.fft.rfft(tone))
    peaks = sorted(np.argsort(spectrum)[-5:])
    assert peaks == [500, 1000, 1500, 2000, 2500]


def test_fallback_soundfont_is_pretty_midis_and_says_so():
    with pytest.warns(soundfont.FallbackSoundfontWarning, match="fluid-soundfont-gm"):
        path = soundfont.find_soundfont(candidates=("/nonexistent/FluidR3_GM.sf2",))
    assert path.name == "TimGM6mb.sf2" and path.is_file()


def test_a_missing_chosen_soundfont_is_an_error(monkeypatch):
    monkeypatch.setenv("TTLIB_SOUNDFONT", "/nowhere/x.sf2")
    with pytest.raises(FileNotFoundError, match="TTLIB_SOUNDFONT"):
        soundfont.find_soundfont()


@pytest.mark.parametrize("use_fallback", [False, True])
def test_render_a_trumpet_note(use_fallback, monkeypatch):
    midi = pretty_midi.PrettyMIDI()
    trumpet = pretty_midi.Instrument(program=56)
    trumpet.notes.append(pretty_midi.Note(velocity=100, pitch=69, start=0.0, end=0.5))
    midi.instruments.append(trumpet)
    if use_fallback:
        monkeypatch.setenv("TTLIB_SOUNDFONT", str(soundfont.pretty_midi_soundfont()))
    rendered = soundfont.render_midi(midi)
    assert rendered.dtype == np.float32 and rendered.ndim == 1
    assert rendered.size >= 0.5 * soundfont.RENDER_SAMPLE_RATE
    assert np.sqrt(np.mean(rendered ** 2)) > 1e-3
