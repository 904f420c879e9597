"""The live engine (`ttlib.live`): each causal piece equals the offline library's, a stream equals the
offline rendering whatever its block size, its latency is what it says, and noise gives silence."""
import numpy as np
import pytest

from ttlib import live
from ttlib.live import analysis
from ttlib.live.reverb import PartitionedConvolver
from ttlib.transfer import Settings

SR = 16000


def whistle(seconds: float = 10.0, seed: int = 0) -> np.ndarray:
    """A whistled phrase: notes with vibrato and glides from 700 Hz to 2.4 kHz (above CREPE's range),
    rests between them, a faint noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = np.full(t.size, 900.0)
    env = np.zeros(t.size)
    start = 0.3
    while start < seconds - 0.8:
        length = rng.uniform(0.4, 1.0)
        a, b = rng.uniform(700, 2400, size=2)
        on = (t >= start) & (t < start + length)
        f0[on] = a * (b / a) ** ((t[on] - start) / length)
        env[on] = np.minimum(1.0, np.minimum(t[on] - start, start + length - t[on]) / 0.03)
        start += length + rng.uniform(0.15, 0.5)
    f0 *= 2 ** (0.3 / 12 * np.sin(2 * np.pi * 5.5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    return (0.25 * env * np.sin(phase) + 10 ** (-70 / 20) * rng.standard_normal(t.size)).astype(np.float32)


def stream_all(stream, audio, block: int, tail: int) -> np.ndarray:
    x = np.concatenate([audio, np.zeros(tail, np.float32)])
    return np.concatenate([stream.process(x[i:i + block]) for i in range(0, x.size, block)])


def test_one_frames_analysis_equals_the_offline_tools():
    import crepe.core
    import ddsp
    import resampy
    import tensorflow as tf

    from ttlib.data.features import loudness_db

    x = whistle(2.0, seed=3)
    hop = 320
    padded = np.concatenate([np.zeros(512, np.float32), x, np.zeros(512, np.float32)])
    offline_loudness = loudness_db(x, SR, 50)
    whole = crepe.core.get_activation(x, SR, "tiny", step_size=20, verbose=0)
    down = crepe.core.get_activation(x, SR // 2, "tiny", step_size=40, verbose=0)
    for k in (10, 37, 60, 88):
        window = padded[k * hop:k * hop + 1024]
        assert abs(analysis.loudness_of_window(window[256:768]) - offline_loudness[k]) < 1e-3
        for octaves_down, reference in ((0, whole), (1, down)):
            activation = analysis.crepe_activation(analysis.crepe_window(window, octaves_down)[None])
            np.testing.assert_allclose(activation[0], reference[k], atol=1e-4)
    piece = np.random.default_rng(0).standard_normal(700)
    np.testing.assert_allclose(analysis.upsample_by_2(piece)[128:-128],
                               resampy.resample(piece, 8000, 16000)[128:-128], atol=1e-5)
    # ddsp's frame-wise noise filter == each hop convolved with its frame's response, cropped as ddsp does
    magnitudes = tf.random.uniform([1, 4, 65], seed=1)
    white = np.random.default_rng(1).uniform(-1, 1, (1, 4 * hop)).astype(np.float32)
    reference = ddsp.core.frequency_filter(white, magnitudes, window_size=0).numpy()[0]
    irs = ddsp.core.frequency_impulse_response(magnitudes, window_size=0).numpy()[0]
    full = np.zeros(5 * hop + 200)
    for k in range(4):
        conv = np.convolve(white[0, k * hop:(k + 1) * hop], irs[k])
        full[k * hop:k * hop + conv.size] += conv
    crop = live.engine.noise_crop(65)
    np.testing.assert_allclose(full[crop:crop + 4 * hop], reference, atol=1e-5)


def test_a_pitchless_frame_after_a_note_plays_on_at_its_pitch_while_loud_for_at_most_the_bridge():
    """The live side of `ttlib.transfer.adjustment.BRIDGE_SECONDS`: a note change, where CREPE's confidence
    dips, plays on; a longer gap plays 60 ms and stops; a quiet frame never plays; no look ahead."""
    from ttlib.live.control import LiveAdjuster

    stats = {"train": {"pitch_midi": {"quantiles": list(np.linspace(52, 86, 101))},
                       "loudness_db_voiced": {"quantiles": list(np.linspace(-40, 10, 101))}}}
    f0 = np.r_[np.full(50, 440.0), np.full(50, 494.0)]
    loud, conf = np.full(100, -20.0), np.ones(100)
    conf[49:51] = 0.3                                         # 40 ms at the note change
    conf[70:75] = 0.3                                         # 100 ms
    loud[84:86], conf[84:86] = -75.0, 0.0                     # a short rest
    adjuster = LiveAdjuster(stats, 50.0, Settings(auto_adjust=False))
    out = [adjuster.step(*frame) for frame in zip(f0, conf, loud)]
    f0_out, loud_out, on = (np.array(v) for v in zip(*out))
    assert on[47:53].all() and np.allclose(f0_out[49:51], 440.0) and np.allclose(loud_out[49:51], -20.0)
    assert on[70:73].all() and not on[73:75].any() and on[75]      # 3 frames (60 ms) of the 5, then silence
    assert not on[84:86].any() and (loud_out[~on] == -80.0).all()
    assert np.allclose(f0_out[51:70], 494.0)                  # the next note's own pitch once it is confident
    plain = LiveAdjuster(stats, 50.0, Settings(auto_adjust=False, quiet_db=None))
    steps = [plain.step(*frame) for frame in zip(f0[:52], conf[:52], loud[:52])]
    assert not steps[49][2] and steps[49][1] == -20.0         # nothing is silenced, so nothing is bridged


def test_partitioned_convolution_equals_direct_convolution():
    from scipy.signal import oaconvolve

    rng = np.random.default_rng(2)
    ir = rng.standard_normal(1234) * np.exp(-np.arange(1234) / 300)
    x = rng.standard_normal(320 * 12)
    conv = PartitionedConvolver(ir, 320)
    y = np.concatenate([conv.process(x[i:i + 320]) for i in range(0, x.size, 320)])
    np.testing.assert_allclose(y, oaconvolve(x, ir)[:x.size], atol=1e-9)
    conv.reset()
    assert np.allclose(conv.process(x[:320]), oaconvolve(x[:320], ir)[:320])


def test_stream_equals_the_offline_rendering_for_any_block_size(course_model):
    x = whistle(10.0)
    reference, features = live.render(x, course_model)
    assert features.octaves_down.any() and not features.octaves_down.all()     # both analyses used
    stream = live.Stream(course_model)
    assert stream.latency_samples <= 0.072 * SR
    L, hop = stream.latency_samples, stream.hop
    outputs = {}
    for block in (64, 320, 1000, 4096):
        stream.reset()
        out = stream_all(stream, x, block, tail=L + 4096)
        assert out.size == x.size + L + 4096
        n = reference.size - hop                       # the offline rendering's last block has no next frame
        assert np.abs(out[:L]).max() == 0.0
        difference = np.abs(out[L:L + n] - reference[:n]).max()
        assert difference <= 1e-4 and difference <= 1e-3 * np.abs(reference).max(), f"block {block}: {difference}"
        outputs[block] = out[:L + n]
    assert np.abs(reference).max() > 1e-3
    for block, out in outputs.items():
        assert np.abs(out - outputs[320]).max() <= 1e-5, block


def test_latency_is_measured_by_the_onsets(course_model):
    x = whistle(6.0, seed=5)
    stream = live.Stream(course_model)
    out = stream_all(stream, x, 512, tail=stream.latency_samples + 1000)

    def onset_strength(audio):
        envelope = np.sqrt(np.convolve(audio.astype(np.float64) ** 2, np.ones(160) / 160, mode="same"))
        level = 20 * np.log10(envelope + 1e-5)
        return np.maximum(np.diff(level, prepend=level[0]), 0.0)

    a, b = onset_strength(x), onset_strength(out)
    lags = np.arange(0, 3000)
    score = [np.dot(a[:a.size - 3000], b[lag:lag + a.size - 3000]) for lag in lags]
    measured = int(lags[int(np.argmax(score))])
    assert abs(measured - stream.latency_samples) <= stream.hop, (measured, stream.latency_samples)


def test_room_noise_gives_silence_and_the_sliders_work_live(course_model):
    rng = np.random.default_rng(0)
    t = np.arange(3 * SR) / SR
    room = (10 ** (-45 / 20) * rng.standard_normal(t.size) + 0.003 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    stream = live.Stream(course_model)
    assert np.abs(stream_all(stream, room, 320, 1000)).max() == 0.0           # gated: no buzz
    stream = live.Stream(course_model, Settings(quiet_db=None))
    assert np.abs(stream_all(stream, room, 320, 1000)).max() > 0              # without the gate, the model plays

    tone = whistle(3.0, seed=2)
    stream = live.Stream(course_model, trace=True)
    stream_all(stream, tone[:SR], 320, 0)
    stream.settings = Settings(pitch_shift=12.0, harmonic_gain=0.0, noise_gain=0.0, reverb_gain=0.0)
    rest = stream_all(stream, tone[SR:], 320, 0)
    frames = stream.frames[55:]
    plain = live.Stream(course_model, trace=True)
    stream_all(plain, tone, 320, 0)
    for shifted, base in zip(frames, plain.frames[55:]):
        if shifted["on"] and base["on"]:
            assert shifted["f0_in"] == pytest.approx(2 * base["f0_in"], rel=1e-4)
    assert np.abs(rest[stream.latency_samples + stream.hop:]).max() == 0.0     # every block made after: silent


def test_whistles_above_crepes_range_switch_analysis_without_a_jump(course_model):
    t = np.arange(3 * SR) / SR
    f0 = 1200 * 2 ** (t / 3)                              # 1.2 kHz -> 2.4 kHz, one octave up
    x = (0.2 * np.sin(2 * np.pi * np.cumsum(f0) / SR)).astype(np.float32)
    stream = live.Stream(course_model, trace=True)
    stream_all(stream, x, 320, 0)
    frames = stream.frames[5:-5]
    heard = np.array([f["f0_hz"] for f in frames])
    true = 1200 * 2 ** (np.arange(5, 5 + len(frames)) / 50 / 3)
    assert np.all(np.abs(1200 * np.log2(heard / true)) < 30)            # within 30 cents, above 2 kHz too
    assert {f["octaves_down"] for f in frames} == {0, 1}
    assert np.abs(np.diff(1200 * np.log2(heard))).max() < 30            # no jump where it switched


def test_a_model_at_another_frame_rate_streams_too(tiny_model):
    x = whistle(2.0, seed=1)
    reference, _ = live.render(x, tiny_model)
    stream = live.Stream(tiny_model)
    assert stream.hop == 64 and stream.latency_samples == 512 - 256 + 63
    out = stream_all(stream, x, 1000, stream.latency_samples + 1000)
    n = reference.size - stream.hop
    assert np.abs(out[stream.latency_samples:stream.latency_samples + n] - reference[:n]).max() <= 1e-4
    nan_block = np.full(500, np.nan, np.float32)
    assert np.isfinite(stream.process(nan_block)).all()


def test_the_microphone_widget_answers_each_chunk_with_the_engines_output(course_model):
    from ttlib.course.live_widget import live_microphone

    widget = live_microphone(live.Stream(course_model), chunk=1280)
    sent = []
    widget.send = lambda content, buffers=None: sent.append((content, buffers))
    x = whistle(1.0, seed=6)
    widget.handle_message(widget, {"type": "start"}, [])
    for i in range(0, x.size, 1280):
        widget.handle_message(widget, {"type": "chunk", "t": float(i)}, [x[i:i + 1280].tobytes()])
    assert [content["t"] for content, _ in sent] == [float(i) for i in range(0, x.size, 1280)]
    played = np.concatenate([np.frombuffer(buffers[0], np.float32) for _, buffers in sent])
    reference = live.Stream(course_model)
    assert np.array_equal(played, stream_all(reference, x, 1280, 0))
    assert widget.engine_latency_ms == pytest.approx(1000 * reference.latency_samples / SR)
    assert widget.compute_ms > 0 and widget.status == "listening"
