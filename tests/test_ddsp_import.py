"""`python -m ttlib import-ddsp` (`ttlib.models.ddsp_import`): a folder written by ddsp's own trainer here
becomes a course model that plays as ddsp's model does, and its statistics pickle is read as data only."""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ttlib import cli
from ttlib.core.errors import ModelError, OutputExistsError
from ttlib.models import ddsp_import, load_model
from ttlib.models.ddsp_folder import read_ddsp_statistics
from ttlib.models.ddsp_import import import_ddsp

TESTS = Path(__file__).parent
GIN = {"RnnFcDecoder.rnn_channels": 32, "RnnFcDecoder.ch": 32, "RnnFcDecoder.layers_per_stack": 1,
       "batch_size": 2, "train_util.train.num_steps": 3, "train_util.train.steps_per_save": 3,
       "train_util.train.steps_per_summary": 3}
"""ddsp's solo-instrument model made small, trained for 3 steps (the format is the real one; only sizes change)."""


def _ddsp_statistics(dataset: Path, path: Path) -> None:
    """What ddsp's Colab writes (colab_utils.save_dataset_statistics): ddsp's statistics of the data, pickled.

    ddsp's `compute_dataset_statistics` expects ddsp_prepare_tfrecord's centred frames (one more than the
    examples' frames, 1001 per 4 s): the course's frames get their last one repeated to match.
    """
    import tensorflow as tf
    from ddsp.training import data as ddsp_data
    from ddsp.training import postprocessing

    from ttlib.data.dataset import provider

    class Centred(ddsp_data.DataProvider):
        def __init__(self, inner):
            super().__init__(inner.sample_rate, inner.frame_rate)
            self.inner = inner

        def get_dataset(self, shuffle=True):
            pad = lambda ex: {k: v if k == "audio" else tf.concat([v, v[-1:]], 0) for k, v in ex.items()}
            return self.inner.get_dataset(shuffle).map(pad)

    stats = postprocessing.compute_dataset_statistics(Centred(provider(dataset)), power_frame_rate=250)
    with open(path, "wb") as f:
        pickle.dump(stats, f)


@pytest.fixture(scope="module")
def ddsp_folder(small_dataset, tmp_path_factory) -> Path:
    """A training folder written by ddsp's own `ddsp_run` (solo_instrument.gin, gin-configured) on the course's data."""
    save_dir = tmp_path_factory.mktemp("ddsp_run") / "run"
    args = [sys.executable, "-m", "ddsp.training.ddsp_run", "--mode=train", f"--save_dir={save_dir}",
            "--gin_file=models/solo_instrument.gin", "--gin_file=datasets/base.gin",
            "--gin_param=train.data_provider = @data.LegacyTFRecordProvider()",
            f"--gin_param=LegacyTFRecordProvider.file_pattern = '{small_dataset / 'train.tfrecord'}'"]
    args += [f"--gin_param={key} = {value}" for key, value in GIN.items()]
    done = subprocess.run(args, capture_output=True, text=True, timeout=600,
                          env=dict(os.environ, TF_USE_LEGACY_KERAS="1"))
    assert done.returncode == 0, done.stderr[-3000:]
    assert (save_dir / "ckpt-3.index").is_file() and (save_dir / "operative_config-0.gin").is_file()
    _ddsp_statistics(small_dataset, save_dir / "dataset_statistics.pkl")
    return save_dir


@pytest.fixture(scope="module")
def imported(ddsp_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("imported") / "model"
    return import_ddsp(ddsp_folder, out)


def copy_of(folder: Path, tmp_path: Path, statistics: bool = False) -> Path:
    """The ddsp folder's gin config and checkpoint (and statistics) in a folder a test may change."""
    out = tmp_path / "ddsp"
    out.mkdir()
    for f in folder.iterdir():
        if f.name.startswith(("ckpt-", "operative_config", "checkpoint")) or (statistics and f.suffix == ".pkl"):
            shutil.copy2(f, out / f.name)
    return out


def test_a_ddsp_folder_becomes_a_model_that_plays_as_ddsps_own(imported, ddsp_folder, small_dataset):
    cfg = imported.config
    sizes = (cfg.rnn_channels, cfg.mlp_channels, cfg.mlp_layers, cfg.n_harmonics, cfg.n_noise_bands)
    assert sizes == (32, 32, 1, 60, 65)
    timing = (cfg.frame_rate, cfg.example_seconds, cfg.reverb_seconds, cfg.amp_resample_method)
    assert timing == (250, 4.0, 3.0, "window")
    assert cfg.batch_size == 2 and imported.step == 3
    # ddsp's model built by ddsp from the gin config and the course's model give the same controls, audio and room
    assert set(imported.differences) == {"amps", "harmonic_distribution", "noise_magnitudes", "harmonic_audio",
                                         "reverb_ir"}
    assert max(imported.differences.values()) <= 1e-4
    loaded = load_model(imported.folder, seconds=2.0)
    assert loaded.step == 3 and loaded.seconds == 2.0
    info = json.loads((imported.folder / "import.json").read_text())
    assert info["from"] == str(ddsp_folder.resolve()) and info["checkpoint"] == "ckpt-3"
    assert (imported.folder / "ddsp_operative_config-0.gin").read_text() == \
        (ddsp_folder / "operative_config-0.gin").read_text()
    # ddsp's statistics, mapped: the loudness quantiles are ddsp's, the pitch's a normal fit to its mean and spread
    ours = json.loads((small_dataset / "statistics.json").read_text())["train"]
    got = json.loads((imported.folder / "statistics.json").read_text())
    assert got["approximations"] and got["source"].endswith("dataset_statistics.pkl")
    for key, tolerance in (("loudness_db_voiced", 1.5), ("pitch_midi", 2.5)):
        for level in (25, 50, 75):
            assert abs(got["train"][key]["quantiles"][level] - ours[key]["quantiles"][level]) < tolerance, (key, level)


def test_the_imported_model_plays_in_transfer_live_and_evaluation(imported, small_dataset, capsys):
    sys.path.insert(0, str(TESTS))
    from test_live import stream_all, whistle

    from ttlib import live, transfer

    x = whistle(2.0, seed=1)
    result = transfer.transfer(x, imported.folder)
    assert result.audio.size == 32000 and np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0
    reference, _ = live.render(x, imported.folder)
    stream = live.Stream(imported.folder)
    out = stream_all(stream, x, 1000, stream.latency_samples + 1000)
    n = reference.size - stream.hop
    assert np.abs(out[stream.latency_samples:stream.latency_samples + n] - reference[:n]).max() <= 1e-4
    assert cli.main(["evaluate", "--model", str(imported.folder), "--quiet"]) == 2
    assert "--data DATASET" in capsys.readouterr().err
    assert cli.main(["evaluate", "--model", str(imported.folder), "--data", str(small_dataset), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["step"] == 3
    status = cli.main(["train", "--data", str(small_dataset), "--out", str(imported.folder), "--resume"])
    assert status == 2 and "imported from ddsp" in capsys.readouterr().err


def test_statistics_come_from_a_dataset_when_given(ddsp_folder, small_dataset, tmp_path, capsys):
    folder = copy_of(ddsp_folder, tmp_path)                 # no dataset_statistics.pkl
    assert cli.main(["import-ddsp", str(folder), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--data DATASET" in err and not (tmp_path / "m").exists()
    assert cli.main(["import-ddsp", str(folder), "--out", str(tmp_path / "m"), "--data", str(small_dataset)]) == 0
    assert "statistics from dataset" in capsys.readouterr().out
    assert json.loads((tmp_path / "m" / "statistics.json").read_text()) == \
        json.loads((small_dataset / "statistics.json").read_text())
    with pytest.raises(OutputExistsError):
        import_ddsp(folder, tmp_path / "m", data=small_dataset)
    assert import_ddsp(folder, tmp_path / "m", data=small_dataset, overwrite=True).step == 3


def test_a_pickle_that_would_run_code_is_refused(ddsp_folder, tmp_path):
    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'pwned'}",))

    folder = copy_of(ddsp_folder, tmp_path)
    stats = read_ddsp_statistics(ddsp_folder / "dataset_statistics.pkl")   # the real one is data and reads
    assert stats["quantile_transform"].quantiles_.shape[1] == 1
    stats["quantile_transform"] = Payload()
    (folder / "dataset_statistics.pkl").write_bytes(pickle.dumps(stats))
    with pytest.raises(ModelError, match=r"system, which is not data: refused"):
        import_ddsp(folder, tmp_path / "m")
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "m").exists()
    for content, words in ((b"not a pickle", "not a readable pickle"), (pickle.dumps([1, 2]), "not ddsp's dict"),
                           (pickle.dumps({"mean_pitch": 60.0}), "lacks a statistic")):
        (folder / "dataset_statistics.pkl").write_bytes(content)
        with pytest.raises(ModelError, match=words):
            import_ddsp(folder, tmp_path / "m")
    assert not (tmp_path / "m").exists() and not list(tmp_path.glob(".m-*"))


def test_bad_folders_are_named_and_nothing_is_written(ddsp_folder, tmp_path, monkeypatch):
    out = tmp_path / "m"
    with pytest.raises(ModelError, match="No folder"):
        import_ddsp(tmp_path / "nowhere", out)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no operative_config"):
        import_ddsp(empty, out)
    shutil.copy2(ddsp_folder / "operative_config-0.gin", empty)
    with pytest.raises(ModelError, match="no complete checkpoint"):
        import_ddsp(empty, out)
    folder = copy_of(ddsp_folder, tmp_path, statistics=True)
    gin_file = folder / "operative_config-0.gin"
    original = gin_file.read_text()
    for edit, words in (("Autoencoder.encoder = @encoders.MfccTimeDistributedRnnEncoder()", "solo-instrument"),
                        ("FilteredNoise.initial_bias = -3.0", "FilteredNoise.initial_bias"),
                        ("RnnFcDecoder.rnn_type = 'lstm'", "RnnFcDecoder.rnn_type"),
                        ("RnnFcDecoder.rnn_channels = 64", "does not fit")):
        gin_file.write_text(original + "\n" + edit + "\n")
        with pytest.raises(ModelError, match=words):
            import_ddsp(folder, out)
    gin_file.write_text(original)
    # the check that the import plays as ddsp's model does is not a formality: unrestored weights fail it
    monkeypatch.setattr(ddsp_import, "_restore", lambda model, prefix, what, partial: None if partial else
                        __import__("tensorflow").train.Checkpoint(model=model).read(prefix).expect_partial())
    with pytest.raises(ModelError, match="does not play as ddsp's own model"):
        import_ddsp(folder, out)
    assert not out.exists() and not list(tmp_path.glob(".m-*"))
