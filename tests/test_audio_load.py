"""ttlib.audio: the formats people have, and every kind of bad input."""
import numpy as np
import pytest
import soundfile

from ttlib import audio
from ttlib.pitch import cents, track


def _tone(seconds=1.0, rate=16000, f0=440.0, amplitude=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * f0 * t)).astype(np.float32)


@pytest.mark.parametrize("ext", ["wav", "flac", "ogg", "mp3"])
@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_formats_and_sample_rates_become_16k_mono(tmp_path, ext, rate):
    path = tmp_path / f"tone.{ext}"
    soundfile.write(str(path), _tone(1.0, rate), rate)
    samples, report = audio.load(path, with_report=True)
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(samples.size - 16000) <= 1200        # mp3 decoders add a little padding
    assert report.sample_rate_in == rate and report.channels == 1
    f0 = track(samples, "yin", frame_rate=100).f0_hz[10:-10]
    assert abs(np.median(cents(f0, 440.0))) < 5, "resampling must keep the pitch"


def test_resampling_does_not_alias(tmp_path):
    rate = 48000
    t = np.arange(rate) / rate
    high = (0.5 * np.sin(2 * np.pi * 12000 * t)).astype(np.float32)   # above 8 kHz: must vanish, not fold to 4 kHz
    soundfile.write(str(tmp_path / "high.wav"), high, rate)
    samples = audio.load(tmp_path / "high.wav", quiet=True)
    assert np.sqrt(np.mean(samples[2000:-2000] ** 2)) < 1e-3


def test_multichannel_is_mixed_down_and_reported(tmp_path):
    data = np.stack([_tone(), _tone(), np.zeros(16000, np.float32)], axis=1)
    soundfile.write(str(tmp_path / "three.wav"), data, 16000)
    samples, report = audio.load(tmp_path / "three.wav", with_report=True)
    assert report.channels == 3 and any("mixed down" in n for n in report.notes)
    np.testing.assert_allclose(samples, data.mean(axis=1), atol=1e-4)   # 16-bit file


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(audio.AudioError, match=r"empty\.wav: the file is empty"):
        audio.load(tmp_path / "empty.wav")


def test_not_audio(tmp_path):
    (tmp_path / "notes.wav").write_text("this is a shopping list, not a recording\n" * 20)
    with pytest.raises(audio.AudioError, match=r"notes\.wav: not an audio file.*wav, flac, ogg or mp3"):
        audio.load(tmp_path / "notes.wav")


def test_missing_file(tmp_path):
    from ttlib import TtlibError

    with pytest.raises(FileNotFoundError, match="no such file") as caught:
        audio.load(tmp_path / "nowhere.wav")
    assert isinstance(caught.value, TtlibError)        # one base for every mistake a user can make


def test_shorter_than_one_frame(tmp_path):
    soundfile.write(str(tmp_path / "blip.wav"), _tone(0.03), 16000)
    with pytest.raises(audio.AudioError, match=r"blip\.wav: 30 ms long, shorter than one analysis frame \(64 ms\)"):
        audio.load(tmp_path / "blip.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_infinite_samples(tmp_path, bad):
    samples = _tone()
    samples[8000] = bad
    soundfile.write(str(tmp_path / "broken.wav"), samples, 16000, subtype="FLOAT")
    with pytest.raises(audio.AudioError, match=r"broken\.wav: 1 samples are NaN or infinite \(the first at 0\.500 s\)"):
        audio.load(tmp_path / "broken.wav")


def test_clipping_and_dc_offset_are_reported(tmp_path):
    clipped = np.clip(_tone(amplitude=2.0), -1, 1) + 0.0
    soundfile.write(str(tmp_path / "loud.wav"), clipped, 16000, subtype="FLOAT")
    with pytest.warns(audio.AudioWarning, match="clipped"):
        _, report = audio.load(tmp_path / "loud.wav", with_report=True)
    assert report.clipped_fraction > 0.1

    offset = _tone() + 0.2
    soundfile.write(str(tmp_path / "offset.wav"), offset, 16000, subtype="FLOAT")
    with pytest.warns(audio.AudioWarning, match=r"DC offset of \+0\.200 removed"):
        samples = audio.load(tmp_path / "offset.wav")
    assert abs(samples.mean()) < 1e-3


def test_a_full_scale_sine_is_not_called_clipped(tmp_path):
    soundfile.write(str(tmp_path / "sine.wav"), _tone(amplitude=1.0), 16000, subtype="FLOAT")
    _, report = audio.load(tmp_path / "sine.wav", with_report=True)
    assert report.clipped_fraction == 0.0


def test_silence_is_reported_not_refused(tmp_path):
    soundfile.write(str(tmp_path / "quiet.wav"), np.zeros(16000, np.float32), 16000)
    with pytest.warns(audio.AudioWarning, match="silent"):
        samples, report = audio.load(tmp_path / "quiet.wav", with_report=True)
    assert report.silent and not samples.any()


def test_split_and_trim_silence():
    gap = np.zeros(16000, np.float32)
    signal = np.concatenate([gap, _tone(1.0), gap, _tone(0.5), gap])
    spans = audio.split_on_silence(signal)
    assert len(spans) == 2
    assert abs(spans[0][0] - 16000) < 600 and abs(spans[1][1] - 56000) < 600
    trimmed = audio.trim_silence(signal)
    assert abs(trimmed.size - 40000) < 1200
    assert audio.split_on_silence(gap) == [] and audio.trim_silence(gap).size == 0


def test_find_audio_files_is_recursive(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/one.wav", "a/b/two.FLAC", "a/readme.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in audio.find_audio_files(tmp_path)] == ["two.FLAC", "one.wav"]
