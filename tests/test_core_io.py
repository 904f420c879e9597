"""ttlib.core.io: files and folders written whole, by one writer each, or not at all."""
from __future__ import annotations

import json
import threading

import numpy as np
import pytest

from ttlib.core.io import atomic_file, new_folder, read_json, write_json


def test_concurrent_writers_of_one_file_never_mix_and_leave_nothing_behind(tmp_path):
    path = tmp_path / "run.json"
    errors = []

    def writer(number: int) -> None:
        try:
            for step in range(40):
                write_json(path, {"writer": number, "step": step, "padding": "x" * (1000 * number)})
        except Exception as exc:                      # a shared temporary name fails here (FileNotFoundError)
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    value = read_json(path)
    assert value["padding"] == "x" * (1000 * value["writer"]) and value["step"] == 39
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_failed_write_leaves_the_old_file_as_it_was(tmp_path):
    path = tmp_path / "features.npz"
    with atomic_file(path, ".npz") as tmp:
        np.savez(tmp, f0_hz=np.ones(3))
    assert np.load(path)["f0_hz"].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(RuntimeError):
        with atomic_file(path, ".npz") as tmp:
            np.savez(tmp, f0_hz=np.zeros(3))
            raise RuntimeError("interrupted")
    assert np.load(path)["f0_hz"].tolist() == [1.0, 1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["features.npz"]


def test_a_new_folder_appears_whole_the_first_writer_wins_unless_asked_to_replace(tmp_path):
    target = tmp_path / "cache" / "trumpet-abc"
    with new_folder(target) as first:
        (first / "manifest.json").write_text(json.dumps({"by": "first"}))
        assert not target.exists()
        with new_folder(target) as second:                # a concurrent build of the same content
            (second / "manifest.json").write_text(json.dumps({"by": "second"}))
        assert read_json(target / "manifest.json") == {"by": "second"}
    assert read_json(target / "manifest.json") == {"by": "second"}    # kept; the later one removed
    with pytest.raises(KeyboardInterrupt):
        with new_folder(target, replace=True) as third:
            (third / "manifest.json").write_text(json.dumps({"by": "third"}))
            raise KeyboardInterrupt
    assert read_json(target / "manifest.json") == {"by": "second"}
    with new_folder(target, replace=True) as fourth:
        (fourth / "manifest.json").write_text(json.dumps({"by": "fourth"}))
    assert read_json(target / "manifest.json") == {"by": "fourth"}
    assert [p.name for p in target.parent.iterdir()] == ["trumpet-abc"]
