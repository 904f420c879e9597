"""The command line and the course runner."""
import json
import subprocess
import sys

import pytest
import soundfile

from ttlib import cli, course, synth


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


def test_course_with_an_unknown_notebook_says_which_exist(capsys, tmp_path):
    assert cli.main(["course", "--only", "99", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "00_check_your_setup.ipynb" in err and err.startswith("error: ") and err.count("\n") == 1


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


def _mistakes(tmp_path):
    """One user mistake for every command: (argv, words the one-line message must contain)."""
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "letter.wav").write_text("not audio " * 100)
    (tmp_path / "taken.csv").write_text("mine")
    soundfile.write(str(tmp_path / "tone.wav"), synth.sine(440.0, 0.5), 16000)
    (tmp_path / "dataset").mkdir()
    (tmp_path / "dataset" / "thesis.tex").write_text("precious")
    return [
        (["course", "--only", "99", "--out", str(tmp_path / "o")], "No notebook matches"),
        (["data", "build", "--source", "youtube:x", "--out", str(tmp_path / "d")], "Unknown source"),
        (["data", "build", "--source", "builtin:tuba", "--out", str(tmp_path / "d")], "'tuba'"),
        (["data", "build", "--source", "builtin", "--out", str(tmp_path / "dataset")], "not a dataset folder"),
        (["data", "info", str(tmp_path)], "not a dataset folder"),
        (["pitch", str(tmp_path / "nowhere.wav"), "--out", str(tmp_path / "f0.csv")], "no such file"),
        (["pitch", str(tmp_path / "empty.wav"), "--out", str(tmp_path / "f0.csv")], "empty"),
        (["pitch", str(tmp_path / "letter.wav"), "--out", str(tmp_path / "f0.csv")], "not an audio file"),
        (["pitch", str(tmp_path / "letter.wav"), "--out", str(tmp_path / "taken.csv")], "exists"),
        (["pitch", str(tmp_path / "tone.wav"), "--method", "crepe", "--out", str(tmp_path / "f.csv")],
         "Unknown pitch method 'crepe'"),
        (["pitch", str(tmp_path / "tone.wav"), "--frame-rate", "300", "--out", str(tmp_path / "f.csv")],
         "does not divide"),
        (["train", "--data", str(tmp_path), "--out", str(tmp_path / "m")], "not a dataset folder"),
        (["evaluate", "--model", str(tmp_path / "none")], "No model folder"),
        (["transfer", str(tmp_path / "letter.wav"), "--model", str(tmp_path / "none"), "--out",
          str(tmp_path / "t.wav")], "not an audio file"),
        (["transfer", str(tmp_path / "letter.wav"), "--model", str(tmp_path), "--out", str(tmp_path / "taken.csv")],
         "exists"),
        (["experiment", "learned-encoder", "--baseline", "--fix", "log-mel"], "baseline takes no fixes"),
        (["experiment", "learned-encoder", "--all-rows", "--baseline"], "--all-rows runs the table's rows"),
        (["experiment", "table", "--root", str(tmp_path / "no-runs")], "No finished runs"),
    ]


def test_every_commands_user_mistakes_give_one_line_and_status_2(tmp_path, capsys):
    """`python -m ttlib` catches ttlib.TtlibError once: one line saying what to do, status 2, no traceback."""
    for argv, words in _mistakes(tmp_path):
        status = cli.main(argv)
        err = capsys.readouterr().err
        assert status == 2, (argv, err)
        assert err.startswith("error: ") and err.count("\n") == 1 and words in err, (argv, err)
    assert (tmp_path / "taken.csv").read_text() == "mine"                      # nothing was overwritten
    assert (tmp_path / "dataset" / "thesis.tex").read_text() == "precious"


def test_a_mistake_in_a_fresh_process_shows_no_traceback(tmp_path):
    out = _run("pitch", str(tmp_path / "nowhere.wav"), "--out", str(tmp_path / "f0.csv"))
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().startswith("error: ") and "no such file" in out.stderr
