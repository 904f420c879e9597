"""ttlib.models: configurations, building, a few training steps, seeds."""
import json

import numpy as np
import pytest

from ttlib import models


def test_configurations_round_trip_through_json():
    for config in models.CONFIGS.values():
        assert models.ModelConfig.from_json(config.to_json()) == config
    assert models.CONFIGS["paper"].n_frames == 1000 and models.CONFIGS["paper"].n_samples == 64000


def test_unknown_configuration_is_named():
    with pytest.raises(ValueError, match="'huge'.*paper.*tiny"):
        models.get_config("huge")
    with pytest.raises(ValueError, match="Unknown model configuration fields"):
        models.ModelConfig.from_json('{"name": "x", "fft_sizes": [64], "rnn_units": 3}')


def test_synthetic_batch_shapes():
    cfg = models.get_config("tiny")
    batch = models.synthetic_batch(cfg)
    assert batch["audio"].shape == (cfg.batch_size, cfg.n_samples)
    assert batch["f0_hz"].shape == batch["loudness_db"].shape == (cfg.batch_size, cfg.n_frames)
    assert all(np.isfinite(v).all() for v in batch.values())


def _losses(seed, steps=3):
    models.set_seed(seed)
    model = models.build_autoencoder("tiny")
    trainer = models.make_trainer(model, "tiny")
    return models.train_steps(trainer, models.synthetic_batch("tiny", seed=seed), steps), model


def test_tiny_autoencoder_learns_and_the_seed_reproduces_the_losses():
    first, model = _losses(seed=1)
    again, _ = _losses(seed=1)
    assert all(np.isfinite(first))
    assert first[-1] < first[0], f"the loss did not fall: {first}"
    np.testing.assert_allclose(again, first, rtol=1e-5)
    assert 1_000 < models.count_parameters(model) < 100_000


def test_a_timbre_code_z_works_at_every_configuration_frame_count():
    """ddsp's MFCC encoder knows only some z frame counts; `course` has 200 frames per clip (notebook 06, ex. 1)."""
    from ttlib.models.autoencoder import z_time_steps

    assert [z_time_steps(n) for n in (63, 125, 200, 250, 1000, 2000)] == [63, 125, 250, 250, 1000, 1000]
    cfg = models.get_config("course").replace(z_dims=4, batch_size=1, rnn_channels=8, mlp_channels=8)
    assert cfg.n_frames == 200
    model = models.build_autoencoder(cfg)
    batch = {k: v[:1] for k, v in models.synthetic_batch(cfg).items()}
    out = model(batch, training=False)
    assert out["z"].shape == (1, cfg.n_frames, 4)                  # resampled to the control frames


def test_the_course_room_is_its_equation_the_same_in_every_build_and_measures_as_set():
    """`RoomReverb` (course, tiny): a gain and a T60 per octave on fixed noise, nothing else to learn."""
    import tensorflow as tf

    from ttlib.audio.room import measure_room
    from ttlib.synth.reverb import OCTAVE_EDGES_HZ, band_noise, room_impulse_response

    bands = band_noise(16000, 16000)
    assert bands.shape == (len(OCTAVE_EDGES_HZ), 16000)
    np.testing.assert_allclose(bands.sum(axis=0), np.random.default_rng(0).uniform(-1, 1, 16000), atol=1e-9)

    cfg = models.get_config("course").replace(batch_size=1, rnn_channels=8, mlp_channels=8, reverb_seconds=2.0)
    built = []
    for _ in range(2):
        model = models.build_autoencoder(cfg)
        model({k: v[:1] for k, v in models.synthetic_batch(cfg).items()}, training=False)
        built.append(model)
    room = models.processors(built[0])["reverb"]
    assert sorted(v.name.split("/")[-1] for v in built[0].trainable_variables if "reverb" in v.name) == \
        ["gain:0", "log_t60:0"]
    first, second = (models.reverb_impulse_response(m) for m in built)
    assert np.array_equal(first, second) and np.array_equal(first, models.reverb_impulse_response(built[0]))

    t60 = np.array([1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7])           # longer low than high, as rooms ring
    room._log_t60.assign(np.log(t60).reshape(-1, 1))
    room._gain.assign(tf.constant([0.0]))
    ir = models.reverb_impulse_response(built[0])
    np.testing.assert_allclose(ir, room_impulse_response(room.gain(), t60, ir.size, 16000), atol=1e-6)
    np.testing.assert_allclose(room.t60_s(), t60, rtol=1e-5)
    measured = measure_room(np.concatenate([[1.0], ir[1:]]), 16000)
    assert 0.7 < measured.t30 < 1.6                                # a mixture of the bands' decays
    one = room_impulse_response(0.05, [1.0] * len(t60), 32000, 16000)
    one[0] = 1.0                                                    # with the dry signal
    assert abs(measure_room(one, 16000).t30 - 1.0) < 0.05


def test_a_configuration_says_which_reverb_and_old_folders_keep_theirs():
    assert models.get_config("course").reverb == models.get_config("tiny").reverb == "room"
    assert models.get_config("paper").reverb == "learned"
    old = json.loads(models.get_config("course").to_json())
    del old["reverb"]                                   # a model folder written before the field existed
    assert models.ModelConfig.from_json(json.dumps(old)).reverb == "learned"
    with pytest.raises(ValueError, match="reverb must be learned or room"):
        models.get_config("tiny").replace(reverb="hall")
