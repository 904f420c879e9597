"""ttlib.models: configurations, building, a few training steps, seeds."""
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
