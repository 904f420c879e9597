"""The learned-encoder experiment (notebook 08): configurations, encoder, losses, a whole run, the CLI."""
import json

import numpy as np
import pytest
import soundfile

from ttlib import cli, models
from ttlib.cli.experiment import row_command
from ttlib.core.units import cents
from ttlib.experiments import learned_encoder as experiment


def test_rows_and_commands_round_trip():
    for name in experiment.ROWS:
        cfg = experiment.row_config_by_name(name)
        assert cfg.name == name
        command = row_command(cfg)
        args = cli.build_parser().parse_args(command.split()[3:])
        again = experiment.row_config(args.fix, harmonic_only=args.harmonic_only, baseline=args.baseline,
                                      fine_tune=args.fine_tune_encoder, whistle_steps=args.whistle_steps,
                                      trumpet_steps=args.trumpet_steps)
        assert again == cfg, command
    cfg = experiment.row_config(["all"])
    assert cfg.name == "all-fixes" and cfg.loudness_skip and cfg.silence_weight > 0
    assert cfg.encoder_capacity == "small" and cfg.loss == "log-mel"
    assert experiment.ExperimentConfig.from_dict(cfg.to_dict()) == cfg


def test_bad_settings_are_refused():
    with pytest.raises(experiment.ExperimentError, match="Unknown fix"):
        experiment.row_config(["louder"])
    with pytest.raises(experiment.ExperimentError, match="baseline takes no fixes"):
        experiment.row_config(["log-mel"], baseline=True)
    with pytest.raises(experiment.ExperimentError, match="Unknown row"):
        experiment.row_config_by_name("nope")
    with pytest.raises(experiment.ExperimentError, match="loss"):
        experiment.ExperimentConfig(loss="l2").validate()


def test_encoder_features_ignore_level_and_match_crepe_by_hand():
    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    loud = experiment.encoder_features(tone[None], "tiny", 50)
    quiet = experiment.encoder_features(0.001 * tone[None], "tiny", 50)
    assert loud.shape == (1, 50, 256)
    assert np.abs(loud - quiet).max() <= 1e-3 * np.abs(loud).max()     # CREPE normalises every window
    # CREPE's own classifier reads 440 Hz from the same features
    import crepe.core

    activation = crepe.core.build_and_load_model("tiny").get_layer("classifier")(loud[0, 5:-5]).numpy()
    from ttlib import pitch

    f0 = pitch.crepe_bin_hz()[activation.argmax(axis=1)]
    assert np.all(np.abs(1200 * np.log2(f0 / 440.0)) < 30)


def test_fine_tuning_does_not_touch_the_pitch_tracker():
    import crepe.core

    copy = experiment.crepe_convolutions("tiny")
    original = crepe.core.build_and_load_model("tiny").get_layer("conv1").get_weights()[0].copy()
    copy.get_layer("conv1").kernel.assign_add(np.ones_like(original))
    assert np.array_equal(crepe.core.build_and_load_model("tiny").get_layer("conv1").get_weights()[0], original)


def test_silence_penalty_and_mel_loss():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    target = tf.constant(0.3 * rng.standard_normal((2, 16000)), tf.float32)
    assert float(experiment.silence_loss(target, target, 320)) == 0.0
    silent = float(experiment.silence_loss(target, target * 0.0, 320))
    quieter = float(experiment.silence_loss(target, target * 0.1, 320))      # 20 dB down: (20 - 6) / 10
    assert silent > 5.0 and quieter == pytest.approx(1.4, abs=0.05)
    mel = experiment.mel_loss((1024, 256, 64))
    assert float(mel(target, target)) == pytest.approx(0.0, abs=1e-6)
    assert float(mel(target, target * 0.5)) > float(mel(target, target * 0.9)) > 0


@pytest.fixture(scope="module")
def fast_data(generated):
    return experiment.datasets(fast=True, root=generated)


def test_a_fast_run_trains_measures_and_is_reused(fast_data, tmp_path, capsys):
    trumpet_dir, whistle_dir = fast_data
    cfg = experiment.row_config(["loudness-skip"], fast=True, whistle_steps=3, trumpet_steps=3)
    out = tmp_path / cfg.name
    metrics = experiment.run(cfg, out, trumpet_dir, whistle_dir, n_eval=2, progress=False, command=row_command(cfg))
    for kind in ("resynthesis", "transfer"):
        m = metrics[kind]
        assert m["clips"] == 2 and m["frames_playing"] > 0
        assert m["spectral_loss"] > 0 and m["loudness_error_db"] > 0
        assert 0 <= m["silent_where_playing"] <= 1 and 0 <= m["output_voiced_fraction"] <= 1
    log = json.loads((out / "run.json").read_text())
    assert len(log["transfer_clips"]) == 2
    assert log["command"].startswith("python -m ttlib experiment learned-encoder --fix loudness-skip")
    rows = (out / "losses.csv").read_text().splitlines()
    assert rows[0].startswith("stage,step,loss") and len(rows) == 1 + 3 + 3
    assert not out.with_name(out.name + ".partial").exists()
    # the same call reads the run back without training
    again = experiment.run(cfg, out, trumpet_dir, whistle_dir, n_eval=2, progress=False)
    assert again == metrics and metrics["metrics_version"] == experiment.METRICS_VERSION
    # a run measured by an older ttlib is measured again from its weights, not retrained
    old = dict(metrics, metrics_version=1)
    del old["transfer"]["f0_error_any_octave_cents_median"]
    (out / "metrics.json").write_text(json.dumps(old))
    losses_before = (out / "losses.csv").read_text()
    again = experiment.run(cfg, out, trumpet_dir, whistle_dir, n_eval=2, progress=True)
    assert "measuring again" in capsys.readouterr().out
    assert again["metrics_version"] == experiment.METRICS_VERSION
    assert again["transfer"]["spectral_loss"] == pytest.approx(metrics["transfer"]["spectral_loss"], rel=1e-4)
    assert "f0_error_any_octave_cents_median" in again["transfer"]
    assert (out / "losses.csv").read_text() == losses_before
    metrics = again
    # the saved weights give the same transfer, and the measures can be recomputed from it
    runner = experiment.load_runner(out)
    tset = experiment.transfer_set(whistle_dir, json.loads((trumpet_dir / "statistics.json").read_text()),
                                   cfg.example_seconds, cfg.frame_rate, max_clips=2)
    played = runner.transfer(tset)
    assert models.spectral_loss(tset.target, played["audio"]) == pytest.approx(
        metrics["transfer"]["spectral_loss"], rel=1e-4)
    saved, _ = soundfile.read(str(out / "transfer_audio_0.wav"), dtype="float32")
    np.testing.assert_allclose(saved, played["audio"][0], atol=1e-5)
    moved = tset.f0_hz * 2.0 ** tset.octave_shift
    on = (tset.f0_hz > 0) & (tset.loudness_db > -70.0)
    by_hand = np.median(np.abs(cents(played["f0_hz"][on], moved[on])))
    assert by_hand == pytest.approx(metrics["transfer"]["oscillator_f0_error_cents_median"], rel=1e-4)
    # another configuration into the same folder is refused, nothing overwritten
    with pytest.raises(experiment.ExperimentError, match="another configuration"):
        experiment.run(cfg.replace(z_dims=4), out, trumpet_dir, whistle_dir, n_eval=2, progress=False)
    assert json.loads((out / "metrics.json").read_text()) == metrics


def test_same_seed_same_numbers_and_damaged_weights(fast_data, tmp_path):
    trumpet_dir, whistle_dir = fast_data
    cfg = experiment.row_config(fast=True, whistle_steps=3, trumpet_steps=3)
    runs = []
    for name in ("a", "b"):
        experiment.run(cfg, tmp_path / name, trumpet_dir, whistle_dir, n_eval=2, progress=False)
        lines = (tmp_path / name / "losses.csv").read_text().splitlines()
        runs.append([line.rsplit(",", 1)[0] for line in lines])          # without the elapsed seconds
    assert runs[0] == runs[1]
    for f in (tmp_path / "a" / "weights").glob("*.data-*"):
        f.write_bytes(f.read_bytes()[:100])
    with pytest.raises(experiment.ExperimentError, match="cannot be loaded"):
        experiment.load_runner(tmp_path / "a")


def test_an_interrupted_run_starts_again(fast_data, tmp_path, capsys):
    trumpet_dir, whistle_dir = fast_data
    cfg = experiment.row_config(fast=True, whistle_steps=2, trumpet_steps=2)
    out = tmp_path / cfg.name
    partial = tmp_path / (cfg.name + ".partial")
    partial.mkdir()
    (partial / "losses.csv").write_text("half written")
    experiment.run(cfg, out, trumpet_dir, whistle_dir, n_eval=2, progress=True)
    assert "interrupted run" in capsys.readouterr().out
    assert (out / "metrics.json").is_file() and not partial.exists()


def test_cli_runs_the_baseline_and_prints_the_table(fast_data, tmp_path, capsys):
    root = str(tmp_path / "runs")
    assert cli.main(["experiment", "learned-encoder", "--baseline", "--fast", "--trumpet-steps", "3",
                     "--n-eval", "2", "--root", root, "--quiet"]) == 0
    assert (tmp_path / "runs" / "ddsp-baseline" / "model" / "model.json").is_file()
    metrics = json.loads((tmp_path / "runs" / "ddsp-baseline" / "metrics.json").read_text())
    assert metrics["resynthesis"]["oscillator_f0_error_cents_median"] == 0.0     # the baseline is given f0
    assert metrics["resynthesis"]["f0_error_cents_median"] < 100                # and plays near it
    assert cli.main(["experiment", "table", "--root", root]) == 0
    out = capsys.readouterr().out
    assert "ddsp-baseline" in out and "--baseline --trumpet-steps 3 --fast" in out
    assert cli.main(["experiment", "learned-encoder", "--baseline", "--fix", "log-mel", "--root", root]) == 2
    assert "baseline takes no fixes" in capsys.readouterr().err
    assert cli.main(["experiment", "table", "--root", str(tmp_path / "empty")]) == 2
