"""The models shipped in data/models/: weights only, and they measure as their run logs say; `make models`."""
import json
import subprocess
import sys

import pytest

from ttlib.core.errors import ModelError
from ttlib.models import load_model, shipped, train
from ttlib.models.checkpoint import RUN_FILE, latest_checkpoint

SHIPPED = shipped.shipped_models()


def _variables(folder):
    import tensorflow as tf

    return [name for name, _ in tf.train.list_variables(latest_checkpoint(folder))]


def test_the_shipped_models_are_trained_weights_only_and_play_their_instruments():
    assert set(SHIPPED) == set(shipped.INSTRUMENTS)   # all four; notebooks 07, 09, 10 play the trumpet
    for name, folder in SHIPPED.items():
        run = json.loads((folder / RUN_FILE).read_text())
        assert shipped.is_weights_only(folder) and run["instrument"] == name and run["config_name"] == "course"
        assert run["step"] == run["config"]["train_steps"] == 800
        assert run["config"]["learning_rate"] == shipped.instrument_config(name).learning_rate   # its TRAINING
        assert run.get("started_from", {}).get("model") == shipped.STARTS_FROM.get(name)
        names = _variables(folder)
        assert any(n.startswith("model/") for n in names) and not any(n.startswith("optimizer") for n in names)
        size = sum(p.stat().st_size for p in (folder / "checkpoints").iterdir())
        assert size < 6e6, f"{name}: {size / 1e6:.1f} MB of checkpoint"
        assert shipped.shortfalls(run["held_out"]) == [], name      # in tune and at the right level, held out


def test_a_model_that_does_not_play_is_named_with_what_it_misses():
    assert shipped.shortfalls({"f0_error_cents_median": 2.5, "loudness_error_db": 1.3}) == []
    missed = shipped.shortfalls({"f0_error_cents_median": 286.0, "loudness_error_db": float("nan")})
    assert missed == ["f0_error_cents_median 286 (at most 10)", "loudness_error_db nan (at most 4)"]
    assert shipped.shortfalls({}, require={}) == []


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_model_reloads_and_measures_what_its_run_log_recorded(name):
    folder = SHIPPED[name]
    recorded = json.loads((folder / RUN_FILE).read_text())["reload_check"]
    assert recorded["seed"] == shipped.RELOAD_SEED and recorded["seconds"] == shipped.RELOAD_SECONDS
    measured = shipped.reload_check(load_model(folder), name)["metrics"]
    want = recorded["metrics"]
    assert measured["n_examples"] == want["n_examples"] == 2
    assert measured["spectral_loss"] == pytest.approx(want["spectral_loss"], rel=0.01)
    assert measured["f0_error_cents_median"] == pytest.approx(want["f0_error_cents_median"], abs=1.0)
    assert measured["loudness_error_db"] == pytest.approx(want["loudness_error_db"], abs=0.1)
    assert measured["output_voiced_fraction"] == pytest.approx(want["output_voiced_fraction"], abs=0.02)


def test_a_shipped_model_is_played_by_name_and_cannot_be_resumed(tmp_path, small_dataset):
    folder = SHIPPED["trumpet"]
    assert shipped.model_folder("trumpet") == folder
    assert shipped.model_folder(str(tmp_path)) == tmp_path            # a path stays a path
    assert shipped.model_or_shipped(tmp_path / "none", log=lambda _: None) == folder
    choices = shipped.model_choices()
    assert [choices[f"{n} (shipped)"] for n in SHIPPED] == [f.resolve() for f in SHIPPED.values()]
    with pytest.raises(ModelError, match="weights of a trained model only.*new folder"):
        train(small_dataset, folder, resume=True, progress=False)
    done = subprocess.run([sys.executable, "-m", "ttlib", "evaluate", "--model", "trumpet"], capture_output=True,
                          text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "data build --source builtin:trumpet" in done.stderr
    listed = subprocess.run([sys.executable, "-m", "ttlib", "models", "list"], capture_output=True, text=True).stdout
    lines = {line.split()[0]: line for line in listed.splitlines() if line.startswith("  ")}
    for name in SHIPPED:                              # how each was trained, and the figures its run log holds
        config = shipped.instrument_config(name)
        start = f" from {shipped.STARTS_FROM[name]}'s step 800" if name in shipped.STARTS_FROM else ""
        assert f"course at learning rate {config.learning_rate:g}{start}, step 800: held-out" in lines[name]


def test_make_models_builds_trains_measures_and_packs_without_touching_the_shipped(tmp_path):
    before = {n: (f / RUN_FILE).read_bytes() for n, f in SHIPPED.items()}
    out = tmp_path / "models"
    lines = []
    made = shipped.make_models(["trumpet"], work_dir=tmp_path / "work", out_root=out, steps=2, minutes=1.5,
                               held_out_examples=2, require={}, progress=False, log=lines.append)
    folder = made["trumpet"]
    assert folder == out / "trumpet" and shipped.shipped_models(out) == {"trumpet": folder}
    run = json.loads((folder / RUN_FILE).read_text())
    assert run["step"] == 2 and "path" not in run["data"] and run["data"]["source"] == "builtin:trumpet"
    assert set(run["shipping"]) == {"data_seconds", "train_seconds", "measure_seconds"}
    assert run["reload_check"]["metrics"]["n_examples"] == 2 and run["held_out"]["n_examples"] == 2
    assert not any(n.startswith("optimizer") for n in _variables(folder))
    assert load_model(folder).step == 2
    assert shipped.expected_seconds(["trumpet"], out) == pytest.approx(sum(run["shipping"].values()))
    assert any("done in" in line for line in lines)
    assert {n: (f / RUN_FILE).read_bytes() for n, f in SHIPPED.items()} == before
    # the training run stays in the work folder, resumable; the packed one replaces nothing half-made
    assert latest_checkpoint(tmp_path / "work" / "models" / "trumpet").endswith("ckpt-2")
    assert not list(out.glob(".*"))
