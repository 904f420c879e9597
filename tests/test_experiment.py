"""The learned-encoder experiment (notebook 08): configurations, encoder, losses, a whole run, the CLI."""
import json

import numpy as np
import pytest
import soundfile

from ttlib import cli, models
from ttlib.core.units import cents
from ttlib.experiments import learned_encoder as experiment
from ttlib.experiments.learned_encoder import row_command


def test_rows_and_commands_round_trip():
    for name in experiment.ROWS:
        cfg = experiment.row_config_by_name(name)
        assert cfg.name == name
        command = row_command(cfg)
        args = cli.build_parser().parse_args(command.split()[3:])
        again = experiment.row_config(args.fix, harmonic_only=args.harmonic_only, baseline=args.baseline,
                                      fine_tune=args.fine_tune_encoder, crepe_f0=args.crepe_f0,
                                      whistle_steps=args.whistle_steps, trumpet_steps=args.trumpet_steps)
        assert again == cfg, command
    assert experiment.row_config_by_name("crepe-f0").f0_input
    assert row_command(experiment.row_config_by_name("crepe-f0"), seed=2) == \
        "python -m ttlib experiment learned-encoder --crepe-f0 --seed 2"
    assert experiment.row_config(["loudness-skip"], crepe_f0=True).name == "loudness-skip+crepe-f0"
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
    with pytest.raises(experiment.ExperimentError, match="f0_input"):
        experiment.ExperimentConfig(conditioning="f0-loudness", f0_input=True).validate()
    # a run.json written before a field existed reads with the field's default
    old = experiment.row_config().to_dict()
    del old["f0_input"]
    assert experiment.ExperimentConfig.from_dict(old) == experiment.row_config()


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
    return experiment.datasets(fast=True, root=generated, trumpet_source=experiment.TRUMPET_SOURCE)


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
    assert log["code"] == experiment.code_version() and log["metrics_version"] == experiment.METRICS_VERSION
    assert log["data_versions"]["trumpet_source"] == experiment.TRUMPET_SOURCE and log["machine"]["cpus"] >= 1
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
    """What notebook 08 promises: on one machine, the same seed gives the same losses and measures, to the bit."""
    trumpet_dir, whistle_dir = fast_data
    cfg = experiment.row_config(fast=True, whistle_steps=3, trumpet_steps=3)
    runs, measures = [], []
    for name in ("a", "b"):
        metrics = experiment.run(cfg, tmp_path / name, trumpet_dir, whistle_dir, n_eval=2, progress=False)
        lines = (tmp_path / name / "losses.csv").read_text().splitlines()
        runs.append([line.rsplit(",", 1)[0] for line in lines])          # without the elapsed seconds
        measures.append({k: metrics[k] for k in ("transfer", "resynthesis")})
    assert runs[0] == runs[1]
    assert measures[0] == measures[1]
    other = experiment.run(cfg, tmp_path / "seed1", trumpet_dir, whistle_dir, seed=1, n_eval=2, progress=False)
    assert other["transfer"]["spectral_loss"] != measures[0]["transfer"]["spectral_loss"]   # the seed matters
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


def test_cli_runs_seeds_and_prints_the_table_with_verdicts(fast_data, tmp_path, capsys):
    root = str(tmp_path / "runs")
    assert cli.main(["experiment", "learned-encoder", "--baseline", "--fast", "--trumpet-steps", "3",
                     "--n-eval", "2", "--root", root, "--quiet", "--seeds", "2"]) == 0
    for seed in (0, 1):
        assert (experiment.run_dir(root, "ddsp-baseline", seed) / "model" / "model.json").is_file()
    metrics = json.loads((experiment.run_dir(root, "ddsp-baseline", 0) / "metrics.json").read_text())
    assert metrics["resynthesis"]["oscillator_f0_error_cents_median"] == 0.0     # the baseline is given f0
    assert metrics["resynthesis"]["f0_error_cents_median"] < 100                # and plays near it
    assert json.loads((experiment.run_dir(root, "ddsp-baseline", 1) / "run.json").read_text())["command"].endswith(
        "--baseline --trumpet-steps 3 --fast --seed 1")
    assert cli.main(["experiment", "learned-encoder", "--crepe-f0", "--fast", "--whistle-steps", "3",
                     "--trumpet-steps", "3", "--n-eval", "2", "--root", root, "--quiet", "--seeds", "2"]) == 0
    capsys.readouterr()
    assert cli.main(["experiment", "table", "--root", root]) == 0
    out = capsys.readouterr().out
    assert "ddsp-baseline" in out and "crepe-f0" in out and "seeds" in out
    table = experiment.results_table(root)
    assert list(table.index) == [("crepe-f0", 0), ("crepe-f0", 1), ("ddsp-baseline", 0), ("ddsp-baseline", 1)]
    summary = experiment.summarize(table)
    spectral = table["transfer spectral"]
    assert summary.loc["crepe-f0", ("transfer spectral", "max")] == spectral.loc["crepe-f0"].max()
    assert summary.loc["crepe-f0", ("seeds", "n")] == 2
    assert cli.main(["experiment", "table", "--root", root, "--per-seed"]) == 0
    assert "seed" in capsys.readouterr().out
    assert json.loads((experiment.run_dir(root, "crepe-f0", 1) / "run.json").read_text())["command"] == \
        "python -m ttlib experiment learned-encoder --crepe-f0 --whistle-steps 3 --trumpet-steps 3 --fast --seed 1"
    assert cli.main(["experiment", "learned-encoder", "--baseline", "--fix", "log-mel", "--root", root]) == 2
    assert "baseline takes no fixes" in capsys.readouterr().err
    assert cli.main(["experiment", "table", "--root", str(tmp_path / "empty")]) == 2


def test_the_hypothesis_row_plays_the_given_f0(fast_data, tmp_path):
    trumpet_dir, whistle_dir = fast_data
    cfg = experiment.row_config(crepe_f0=True, fast=True, whistle_steps=3, trumpet_steps=3)
    metrics = experiment.run(cfg, tmp_path / cfg.name, trumpet_dir, whistle_dir, n_eval=2, progress=False)
    model = experiment.load_runner(tmp_path / cfg.name).model
    assert "f0_logit" not in dict(model.decoder.output_splits)             # it does not guess f0 ...
    assert "f0_scaled" in model.decoder.input_keys                          # ... it reads CREPE's
    # resynthesis: the oscillator plays the dataset's CREPE f0 exactly, as the baseline's does
    assert metrics["resynthesis"]["oscillator_f0_error_cents_median"] == pytest.approx(0.0, abs=1e-3)
    # transfer: the whistle's f0 moved into the trumpet's register, off only by the tracker's error
    assert metrics["transfer"]["oscillator_f0_error_cents_median"] < 50.0


def test_old_single_seed_folders_move_into_seed_folders(tmp_path):
    root = tmp_path / "runs"
    for folder, name, seed in (("published", "published", 0), ("published-seed1", "published", 1)):
        (root / folder / "weights").mkdir(parents=True)
        (root / folder / "run.json").write_text(json.dumps({"name": name, "seed": seed}))
        (root / folder / "metrics.json").write_text("{}")
        (root / folder / "weights" / "model.index").write_text("w")
    moved = experiment.migrate_legacy(root)
    assert len(moved) == 2
    assert experiment.finished_seeds(root, "published") == {0: root / "published" / "seed-0",
                                                            1: root / "published" / "seed-1"}
    assert (root / "published" / "seed-0" / "weights" / "model.index").read_text() == "w"      # nothing lost
    assert not (root / "published-seed1").exists() and not (root / "published" / "metrics.json").exists()
    assert experiment.migrate_legacy(root) == []


def test_the_reference_check_finds_what_differs(fast_data, tmp_path, capsys):
    """check_reference compares a reference folder with this code; here a fake one made from a fast run."""
    trumpet_dir, whistle_dir = fast_data
    cfg = experiment.row_config(fast=True, whistle_steps=2, trumpet_steps=2)
    experiment.run(cfg, tmp_path / "one", trumpet_dir, whistle_dir, n_eval=2, progress=False)
    ref = tmp_path / "reference"
    fast_check = {}
    for name in experiment.ROWS:
        for seed in experiment.REFERENCE_SEEDS:
            folder = experiment.run_dir(ref, name, seed)
            folder.mkdir(parents=True)
            log = json.loads((tmp_path / "one" / "run.json").read_text())
            log.update(config=experiment.row_config_by_name(name).to_dict(), seed=seed, name=name)
            (folder / "run.json").write_text(json.dumps(log))
            (folder / "metrics.json").write_text((tmp_path / "one" / "metrics.json").read_text())
        fast_check[name] = experiment.reference.fast_measures(
            json.loads((tmp_path / "one" / "metrics.json").read_text()))
    info = {"code": experiment.code_version(), "metrics_version": experiment.METRICS_VERSION,
            "rows": list(experiment.ROWS), "seeds": list(experiment.REFERENCE_SEEDS),
            "fast_check": {"seed": 0, "n_eval": 2, "rows": fast_check}}
    (ref / "reference.json").write_text(json.dumps(info))
    assert experiment.check_reference(ref) == []
    assert cli.main(["experiment", "reference", "--out", str(ref)]) == 0
    assert "matches this code" in capsys.readouterr().out
    # the fast check: the same measures pass, a changed one is named
    one = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert experiment.check_fast_run({"published": one}, root=ref) == []
    one["transfer"]["spectral_loss"] *= 1.01
    assert experiment.check_fast_run({"published": one}, root=ref)[0].startswith("published: transfer spectral_loss")
    assert "the reference's fast check" in experiment.check_fast_run({"published": one}, root=ref)[-1]
    # another kind of CPU records its own fast check (this code's fast runs), and it is used on that kind
    fast_runs = tmp_path / "fast-runs"
    with pytest.raises(experiment.ExperimentError, match="no finished run"):
        experiment.record_fast_check(fast_runs, root=ref)
    for name in experiment.ROWS:
        folder = experiment.run_dir(fast_runs, name, 0)
        folder.mkdir(parents=True)
        log = json.loads((tmp_path / "one" / "run.json").read_text())
        log.update(config=experiment.row_config_by_name(name, fast=True).to_dict(), seed=0, name=name, n_eval=2)
        (folder / "run.json").write_text(json.dumps(log))
        (folder / "metrics.json").write_text(json.dumps(one))
    assert cli.main(["experiment", "reference", "--out", str(ref), "--fast-runs", str(fast_runs), "--this-cpu"]) == 0
    assert experiment.cpu_kind() in capsys.readouterr().out
    recorded = json.loads((ref / "reference.json").read_text())
    assert recorded["fast_check"] == info["fast_check"]                        # the reference's own is kept
    assert experiment.check_fast_run({"published": one}, root=ref) == []       # this CPU's is the one compared
    assert experiment.fast_check_of(recorded, cpu="another CPU")[0] == fast_check
    assert experiment.check_reference(ref) == []
    # a missing seed, another code version, another row's settings: each named
    import shutil

    shutil.rmtree(experiment.run_dir(ref, "log-mel", 2))
    log_file = experiment.run_dir(ref, "published", 1) / "run.json"
    log = json.loads(log_file.read_text())
    log["code"] = "0" * 16
    log_file.write_text(json.dumps(log))
    log_file = experiment.run_dir(ref, "crepe-f0", 0) / "run.json"
    log = json.loads(log_file.read_text())
    log["config"] = experiment.row_config_by_name("published").to_dict()
    log_file.write_text(json.dumps(log))
    problems = experiment.check_reference(ref)
    assert any("log-mel: seed 2 missing" in p for p in problems)
    assert any("published" in p and "made by code 0000" in p for p in problems)
    assert any("crepe-f0" in p and "not the default settings" in p for p in problems)
    assert cli.main(["experiment", "reference", "--out", str(ref)]) == 1
    assert "not made by this code" in capsys.readouterr().out
    assert experiment.check_reference(tmp_path / "none")[0].startswith("no reference run")


def test_the_shipped_reference_was_made_by_the_code_that_ships():
    """data/reference/learned-encoder: every row x 3 seeds, made by this code_version, these measures and data
    versions, with the fast check of every row (issue 19). After a change to the experiment's modules this fails:
    remake the reference (README, *The reference run*)."""
    assert experiment.check_reference() == []
    info = experiment.reference_info()
    assert info["seeds"] == [0, 1, 2] and info["rows"] == list(experiment.ROWS)
    table = experiment.results_table(experiment.reference_root())
    assert len(table) == 3 * len(experiment.ROWS)


def test_the_experiment_runs_on_a_folder_of_recordings(tmp_path):
    """AUDIO_DIR / --trumpet-source folder:PATH: the trumpet data comes from the folder, the runs go elsewhere."""
    from ttlib import audio
    from ttlib.data import builtin

    recordings = tmp_path / "my trumpet"
    recordings.mkdir()
    for i in range(3):
        clip = builtin.clip("trumpet", 10.0, seed=i)
        audio.save_wav(recordings / f"take{i}.wav", clip.audio)
    source = f"folder:{recordings}"
    tag = experiment.runs.source_tag(source)
    assert tag.startswith("folder-") and experiment.runs.source_tag("builtin:trumpet") == ""
    assert experiment.default_root(True, source).name == f"learned-encoder-{tag}-fast"
    trumpet_dir, whistle_dir = experiment.datasets(fast=True, root=tmp_path / "gen", trumpet_source=source)
    assert trumpet_dir.name == f"trumpet-experiment-{tag}-fast"
    assert json.loads((trumpet_dir / "manifest.json").read_text())["params"]["source"] == source
    assert experiment.runs.data_versions(trumpet_dir, whistle_dir)["trumpet_source"] == source


def test_the_built_in_default_trumpet_gets_runs_of_its_own():
    """builtin:trumpet has true dynamics now: its runs and dataset must not land beside the pinned gm trumpet's."""
    from ttlib.experiments.learned_encoder.seeds import canonical_source

    assert canonical_source("builtin:trumpet") == canonical_source("builtin") == "builtin:trumpet:dynamics"
    assert canonical_source(experiment.TRUMPET_SOURCE) == experiment.TRUMPET_SOURCE
    sources = ("builtin:trumpet", experiment.TRUMPET_SOURCE)
    roots = {experiment.experiment_root(False, canonical_source(s)) for s in sources}
    assert len(roots) == 2
    assert experiment.runs.source_tag(canonical_source("builtin:trumpet")) != experiment.runs.source_tag(
        experiment.TRUMPET_SOURCE)
