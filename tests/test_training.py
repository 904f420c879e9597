"""ttlib.models (training, the loop, model folders, evaluation) and `python -m ttlib train|evaluate`."""
import gc
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ttlib import data, models
from ttlib.core.io import read_csv, sha256_file
from ttlib.models import checkpoint, training

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def dataset(small_dataset):
    return small_dataset


def _train(dataset, out, **kw):
    kw.setdefault("progress", False)
    kw.setdefault("tensorboard", False)
    kw.setdefault("validation_examples", 2)
    return models.train(dataset, out, kw.pop("config", "tiny"), **kw)


def test_course_is_the_default_and_every_configuration_is_consistent():
    course, paper = models.get_config("course"), models.get_config("paper")
    assert course.n_samples % course.n_frames == 0 and course.n_frames == 200
    assert course.fft_sizes == paper.fft_sizes and course.n_harmonics == paper.n_harmonics
    assert course.rnn_channels < paper.rnn_channels
    for config in models.CONFIGS.values():
        assert config.validate() is config
    with pytest.raises(ValueError, match="frame_rate 33 does not divide the sample rate"):
        course.replace(frame_rate=33)
    with pytest.raises(ValueError, match="whole number of .* frames"):
        course.replace(example_seconds=0.99)
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        course.replace(batch_size=0)


def test_the_batch_of_a_step_depends_only_on_seed_and_step(dataset):
    examples = data.load_examples(dataset, "train")
    a = data.BatchSampler(examples, 1.0, 3, seed=5)
    b = data.BatchSampler(examples, 1.0, 3, seed=5)
    for step in (7, 0, 3):                                    # any order
        assert a.indices(step) == b.indices(step)
        np.testing.assert_array_equal(a.batch(step)["audio"], b.batch(step)["audio"])
    assert a.indices(0) != data.BatchSampler(examples, 1.0, 3, seed=6).indices(0)
    batch = a.batch(2)
    assert batch["audio"].shape == (3, 16000) and batch["f0_hz"].shape == (3, 250)
    # one epoch visits every example once
    n = len(examples)
    seen = [i for step in range(n) for i, _ in data.BatchSampler(examples, 4.0, 1, 0).indices(step)]
    assert sorted(seen) == list(range(n))
    with pytest.raises(ValueError, match="wants 5 s examples"):
        data.BatchSampler(examples, 5.0, 1, 0)


def test_training_writes_a_complete_model_folder_and_run_log(dataset, tmp_path):
    result = _train(dataset, tmp_path / "m", steps=6, checkpoint_every=4, tensorboard=True)
    folder = tmp_path / "m"
    assert result.step == 6 and not result.interrupted and len(result.losses) == 6
    for name in ("config.json", "statistics.json", "model.json", "run.json", "losses.csv", "validation.csv"):
        assert (folder / name).is_file(), name
    assert list((folder / "tensorboard").iterdir()), "no TensorBoard events"
    assert checkpoint.latest_checkpoint(folder).endswith("ckpt-6")
    run = json.loads((folder / "run.json").read_text())
    assert run["seed"] == 0 and run["config_name"] == "tiny" and run["step"] == 6
    assert run["data"]["train_sha256"] == sha256_file(Path(dataset) / "train.tfrecord")
    assert {"ddsp", "tensorflow", "numpy", "python", "ttlib"} <= set(run["versions"])
    assert run["wall_seconds"] > 0 and np.isfinite(run["final"]["validation_spectral_loss"])
    steps, losses = models.read_losses(folder)
    assert steps.tolist() == list(range(1, 7)) and np.isfinite(losses).all()
    assert json.loads((folder / "statistics.json").read_text()) == data.read_statistics(dataset)


def test_same_seed_same_curve_and_a_resumed_run_equals_an_uninterrupted_one(dataset, tmp_path):
    _train(dataset, tmp_path / "a", steps=6)
    _train(dataset, tmp_path / "b", steps=6)
    _train(dataset, tmp_path / "c", steps=3)
    again = _train(dataset, tmp_path / "c", config=None, steps=6, resume=True)
    assert [s for s, _ in again.losses] == [4, 5, 6]
    a, b, c = (models.read_losses(tmp_path / x) for x in "abc")
    np.testing.assert_array_equal(a[0], c[0])
    np.testing.assert_allclose(b[1], a[1], rtol=1e-6)
    np.testing.assert_allclose(c[1], a[1], rtol=1e-6)
    other = _train(dataset, tmp_path / "d", steps=3, seed=1)
    assert not np.allclose([loss for _, loss in other.losses], a[1][:3])
    run = json.loads((tmp_path / "c" / "run.json").read_text())
    assert [(s["from_step"], s["to_step"]) for s in run["sessions"]] == [(0, 3), (3, 6)]


def test_nothing_is_overwritten_and_mismatches_are_explained(dataset, tmp_path):
    _train(dataset, tmp_path / "m", steps=2)
    with pytest.raises(models.ModelError, match="already holds a trained model .*--resume"):
        _train(dataset, tmp_path / "m", steps=2)
    with pytest.raises(models.ModelError, match="same one"):
        _train(dataset, tmp_path / "m", config="course", steps=4, resume=True)
    (tmp_path / "user").mkdir()
    (tmp_path / "user" / "notes.txt").write_text("mine")
    with pytest.raises(models.ModelError, match="other files"):
        _train(dataset, tmp_path / "user", steps=2)
    assert (tmp_path / "user" / "notes.txt").read_text() == "mine"
    other = data.build_dataset(f"folder:{Path(dataset).parent / 'audio'}", tmp_path / "other", f0_method="yin",
                               example_seconds=2, cache_dir=None, progress=False)
    with pytest.raises(models.ModelError, match="another training set"):
        _train(other, tmp_path / "m", config=None, steps=4, resume=True)


def test_a_run_can_start_from_another_models_weights(dataset, playing_model, tmp_path, capsys, caplog):
    """Fine-tuning: the first step of a run started from a trained model is where that model ended, not where
    the seed's weights start (the playing model's own first step, the same seed, batch and configuration)."""
    result = _train(dataset, tmp_path / "tuned", steps=1, start_from=playing_model)
    fresh_first = float(read_csv(Path(playing_model) / training.LOSSES_FILE)[0]["loss"])
    trained_last = float(read_csv(Path(playing_model) / training.LOSSES_FILE)[-1]["loss"])
    assert result.losses[0][1] < 0.8 * fresh_first and result.losses[0][1] < 1.5 * trained_last
    run = json.loads((tmp_path / "tuned" / checkpoint.RUN_FILE).read_text())
    assert run["started_from"]["model"] == Path(playing_model).name and run["started_from"]["step"] == 150
    assert models.load_model(tmp_path / "tuned").step == 1
    shipped = Path(__file__).resolve().parents[1] / "data" / "models" / "trumpet"   # a course model: not tiny
    with pytest.raises(models.ModelError, match="Cannot start from .*another architecture"):
        _train(dataset, tmp_path / "other", steps=1, start_from=shipped)
    with pytest.raises(models.ModelError, match="Cannot start from .*no model folder there.*models list"):
        _train(dataset, tmp_path / "other", steps=1, start_from=tmp_path / "nowhere")
    assert not (tmp_path / "other").exists()
    capsys.readouterr()
    _train(dataset, tmp_path / "tuned", steps=2, resume=True, start_from=playing_model)   # a run's own weights go on
    assert "resumes its own run from step 1" in capsys.readouterr().out
    assert models.load_model(tmp_path / "tuned").step == 2
    with caplog.at_level("WARNING", logger="tensorflow"):     # finished: no optimiser slot is left unrestored
        _train(dataset, tmp_path / "tuned", steps=2, resume=True)
        gc.collect()
    assert "already trained to step 2 (asked for 2); nothing to do" in capsys.readouterr().out
    assert not [r for r in caplog.records if "optimizer" in r.getMessage()]


def test_loading_checks_that_the_files_belong_together(dataset, tmp_path):
    _train(dataset, tmp_path / "m", steps=2)
    loaded = checkpoint.load_model(tmp_path / "m")
    assert loaded.step == 2 and loaded.config == models.get_config("tiny")
    longer = checkpoint.load_model(tmp_path / "m", seconds=3.0)
    assert longer.model.processor_group.processors[0].n_samples == 48000

    with pytest.raises(models.ModelError, match="No model folder"):
        checkpoint.load_model(tmp_path / "nowhere")
    import shutil

    def copy(name):
        shutil.copytree(tmp_path / "m", tmp_path / name)
        return tmp_path / name

    edited = copy("edited")
    text = (edited / "config.json").read_text()
    (edited / "config.json").write_text(text.replace('"rnn_channels": 32', '"rnn_channels": 64'))
    with pytest.raises(models.ModelError, match="not the configuration this model was trained with"):
        checkpoint.load_model(edited)
    stats = copy("stats")
    (stats / "statistics.json").write_text("{}")
    with pytest.raises(models.ModelError, match="statistics"):
        checkpoint.load_model(stats)
    # a consistent folder whose checkpoint belongs to another configuration
    swapped = copy("swapped")
    cfg = models.get_config("tiny").replace(rnn_channels=64)
    checkpoint.write_model_files(swapped, cfg, json.loads((swapped / "statistics.json").read_text()), {}, 2)
    with pytest.raises(models.ModelError, match="another configuration"):
        checkpoint.load_model(swapped)
    damaged = copy("damaged")
    data_file = next((damaged / "checkpoints").glob("ckpt-2.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(models.ModelError, match="damaged|cannot be read|does not fit"):
        checkpoint.load_model(damaged)
    empty = copy("empty")
    shutil.rmtree(empty / "checkpoints")
    with pytest.raises(models.ModelError, match="no checkpoint"):
        checkpoint.load_model(empty)


def test_resynthesis_parts_and_measures(dataset, tmp_path):
    _train(dataset, tmp_path / "m", steps=3)
    loaded = checkpoint.load_model(tmp_path / "m")
    held_out = data.load_examples(dataset, "validation")
    batch = data.validation_batch(held_out, loaded.seconds, 2)
    parts = models.resynthesize(loaded.model, batch)
    assert set(parts) == set(models.PARTS) and parts["resynthesis"].shape == (2, 16000)
    np.testing.assert_allclose(parts["dry"], parts["harmonic"] + parts["noise"], atol=1e-5)
    again = models.resynthesize(loaded.model, batch)              # the noise generator is put back
    np.testing.assert_array_equal(again["noise"], parts["noise"])
    metrics = models.evaluate(loaded, held_out, max_examples=2)
    for key in ("spectral_loss", "loudness_error_db"):
        assert np.isfinite(metrics[key]) and metrics[key] > 0
    assert metrics["n_examples"] == 2


def _python(*args, **kw):
    return subprocess.run([sys.executable, "-m", "ttlib", *args], capture_output=True, text=True, **kw)


def test_cli_trains_stops_on_ctrl_c_and_resumes_without_losing_steps(dataset, tmp_path):
    out = tmp_path / "cli"
    proc = subprocess.Popen([sys.executable, "-m", "ttlib", "train", "--data", str(dataset), "--out", str(out),
                             "--config", "tiny", "--steps", "500", "--checkpoint-every", "1000", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if len(read_csv(out / training.LOSSES_FILE)) >= 3:
            break
        time.sleep(0.5)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Training stopped at step" in stdout
    stopped = checkpoint.checkpoint_step(checkpoint.latest_checkpoint(out))
    assert stopped >= 3
    assert models.read_losses(out)[0].tolist() == list(range(1, stopped + 1))

    again = _python("train", "--data", str(dataset), "--out", str(out), "--steps", str(stopped + 2), "--quiet")
    assert again.returncode == 2 and "already holds a trained model" in again.stderr
    again = _python("train", "--data", str(dataset), "--out", str(out), "--steps", str(stopped + 2),
                    "--resume", "--quiet")
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"step {stopped + 2}" in again.stdout
    assert models.read_losses(out)[0].tolist() == list(range(1, stopped + 3))

    scores = _python("evaluate", "--model", str(out), "--max-examples", "2", "--quiet")
    assert scores.returncode == 0, scores.stderr[-2000:]
    assert json.loads(scores.stdout[scores.stdout.index("{"):])["step"] == stopped + 2
    missing = _python("evaluate", "--model", str(tmp_path / "none"))
    assert missing.returncode == 2 and "No model folder" in missing.stderr and "Traceback" not in missing.stderr


def test_the_optional_timbre_code_z_trains_and_loads(dataset, tmp_path):
    cfg = models.get_config("tiny").replace(name="tiny-z", z_dims=4)
    result = _train(dataset, tmp_path / "z", config=cfg, steps=2)
    assert result.step == 2 and all(np.isfinite(loss) for _, loss in result.losses)
    loaded = checkpoint.load_model(tmp_path / "z")
    assert loaded.config.z_dims == 4 and loaded.model.encoder is not None
    from ttlib import transfer

    with pytest.raises(transfer.TransferError, match="z_dims"):
        transfer.Synthesizer(loaded)
