"""The dataset builder as an Apache Beam pipeline (`ttlib.data.pipeline`): the DirectRunner, in this process or
in worker processes, writes the same files as the in-process builder, byte for byte, and mistakes are one line."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ttlib import cli, data
from ttlib.core.errors import DatasetError
from ttlib.data import pipeline

FILES = ("train.tfrecord", "validation.tfrecord", "statistics.json")
BUILT_DIFFERENTLY = {"built", "build_seconds", "features_by"}
"""The manifest's entries that say when and how a dataset was built; every other entry must be equal."""


def same_dataset(a: Path, b: Path) -> None:
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    ma, mb = (json.loads((d / "manifest.json").read_text()) for d in (a, b))
    assert {k for k in ma if ma[k] != mb.get(k)} <= BUILT_DIFFERENTLY and set(ma) == set(mb)


@pytest.fixture(scope="module")
def audio_folder(small_dataset) -> Path:
    return small_dataset.parent / "audio"          # the recordings `small_dataset` was built from (YIN, no cache)


def test_the_direct_runner_writes_the_same_files(small_dataset, audio_folder, tmp_path):
    out = data.build_dataset(f"folder:{audio_folder}", tmp_path / "beam", f0_method="yin", cache_dir=None,
                             progress=False, runner="direct")
    same_dataset(small_dataset, out)
    assert data.read_manifest(out)["features_by"] == "Apache Beam, DirectRunner"
    assert not (tmp_path / "beam.staging").exists() and not (tmp_path / "beam.partial").exists()


def test_worker_processes_and_another_python_write_the_same_files(small_dataset, audio_folder, tmp_path):
    """Two DirectRunner worker processes compute the features; another Python process builds without Beam
    (a protobuf map's entries are serialized in an order that changes between processes unless told not to)."""
    args = [sys.executable, "-m", "ttlib", "data", "build", "--source", f"folder:{audio_folder}", "--f0-method", "yin",
            "--quiet"]
    for name, extra in (("workers", ["--runner", "direct",
                                     "--pipeline-options=--direct_num_workers=2,--direct_running_mode=multi_processing"]),
                        ("plain", [])):
        done = subprocess.run(args + ["--out", str(tmp_path / name), "--cache", str(tmp_path / "cache")] + extra,
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        same_dataset(small_dataset, tmp_path / name)


def test_mistakes_are_named_before_any_work(audio_folder, tmp_path, capsys):
    for kwargs, words in (({"runner": "SpeedyRunner"}, "Unknown Beam runner"),
                          ({"runner": "direct", "pipeline_options": "project=p"}, "flags such as --project"),
                          ({"runner": "DataflowRunner"}, "--staging gs://")):
        with pytest.raises(DatasetError, match=words):
            data.build_dataset(f"folder:{audio_folder}", tmp_path / "out", f0_method="yin", cache_dir=None,
                               progress=False, **kwargs)
    assert not list(tmp_path.iterdir())
    status = cli.main(["data", "build", "--source", f"folder:{audio_folder}", "--out", str(tmp_path / "out"),
                       "--runner", "DataflowRunner", "--quiet"])
    err = capsys.readouterr().err
    assert status == 2 and err.startswith("error: ") and err.count("\n") == 1 and "gs://" in err


def test_a_worker_that_fails_is_one_line_and_nothing_is_written_or_lost(audio_folder, tmp_path, monkeypatch):
    def broken(item, *args):
        raise RuntimeError(f"no f0 for {item.recording_id}")

    monkeypatch.setattr(pipeline, "recording_features", broken)
    with pytest.raises(DatasetError, match=r"The Beam pipeline \(DirectRunner\) failed: .*no f0 for"):
        data.build_dataset(f"folder:{audio_folder}", tmp_path / "out", f0_method="yin", cache_dir=None,
                           progress=False, runner="direct")
    assert not (tmp_path / "out").exists() and not (tmp_path / "out.staging").exists()
    mine = tmp_path / "mine"                                  # a --staging folder that holds the user's files
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    monkeypatch.undo()
    data.build_dataset(f"folder:{audio_folder}", tmp_path / "out", f0_method="yin", cache_dir=None,
                       progress=False, runner="direct", staging=str(mine))
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"] and (mine / "thesis.tex").read_text() == "precious"
