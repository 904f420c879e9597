"""The command line and the course runner."""
import json
import subprocess
import sys

import pytest

from ttlib import cli, course


def _run(*args):
    return subprocess.run([sys.executable, "-m", "ttlib", *args], capture_output=True, text=True, check=False)


def test_help_lists_the_commands():
    out = _run("--help")
    assert out.returncode == 0
    assert "doctor" in out.stdout and "course" in out.stdout


def test_doctor_passes_on_this_installation():
    out = _run("doctor")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "8 of 8 checks passed" in out.stdout


def test_course_with_an_unknown_notebook_says_which_exist(capsys):
    assert cli.main(["course", "--only", "99", "--out", "unused"]) == 1
    assert "00_check_your_setup.ipynb" in capsys.readouterr().err


def test_record_merges_and_refuses_nan(tmp_path):
    course.record(tmp_path, a=1, b={"x": 2.5})
    course.record(tmp_path, c=[1, 2])
    assert course.read_results(tmp_path) == {"a": 1, "b": {"x": 2.5}, "c": [1, 2]}
    with pytest.raises(ValueError, match="finite"):
        course.record(tmp_path, d={"y": float("nan")})
    assert "d" not in json.loads((tmp_path / "results.json").read_text())


def test_notebooks_are_in_teaching_order():
    names = [p.name for p in course.notebooks()]
    assert names == sorted(names) and names[0] == "00_check_your_setup.ipynb"
