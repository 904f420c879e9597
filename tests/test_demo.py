"""`make demo`'s app from the kernel's side (`ttlib.course.demo`) and its command line's mistakes;
`tests/test_browser.py` drives it in a real browser."""
from __future__ import annotations

import datetime
import socket

import numpy as np

from ttlib import cli
from ttlib.course import live_widget
from ttlib.course.demo import DemoApp, app_notebook, find_models


def test_the_app_plays_the_built_in_whistle_and_offers_what_it_made(playing_model):
    app = DemoApp({"mine": str(playing_model)}, whistle_seconds=3.0)
    assert app.model.options == ("mine",) and not app.play_button.disabled
    audio = app.play()
    assert audio is not None and audio.size == 3 * 16000 and np.isfinite(audio).all()
    assert "move the sliders" in app.progress.label.value
    wav, settings = app.download_links()
    assert wav[:4] == b"RIFF" and settings["source"] == "the built-in whistle" and settings["pitch_shift"] == 0
    app.sliders.sliders["pitch_shift"].value = 7             # what the browser does: the links follow
    assert "data:audio/wav;base64," in app.downloads.value and app.download_links()[1]["pitch_shift"] == 7


def test_mistakes_are_said_on_the_page(tmp_path):
    empty = DemoApp({})
    assert empty.play_button.disabled and "No trained model yet" in empty.message.value
    app = DemoApp({"mine": str(tmp_path / "nowhere")})
    app.upload.value = ({"name": "<i>notes.wav", "content": memoryview(b"not audio at all"), "type": "audio/wav",
                         "size": 16, "last_modified": datetime.datetime.now()},)
    assert "cannot be used" in app.message.value and "&lt;i&gt;notes" in app.message.value   # the name is text
    app.sources["the built-in whistle"] = np.zeros(16000, np.float32)
    assert app.play() is None and "Could not play it" in app.message.value
    assert str(tmp_path.resolve()) not in find_models([tmp_path]).values()   # not a model folder: not offered
    notebook = app_notebook(tmp_path / "app")
    assert notebook.is_file() and (tmp_path / "app" / "jupyter" / "voila" / "templates" / "ttlib-demo").is_dir()


def test_the_command_lines_mistakes_are_one_line(playing_model, tmp_path, capsys):
    assert cli.main(["demo", "--model", str(tmp_path / "nowhere")]) == 2
    assert "No model folder" in capsys.readouterr().err
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["demo", "--model", str(playing_model), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and f"Port {port} is in use" in err


def test_a_take_on_the_microphone_becomes_the_sound_to_transfer(playing_model, monkeypatch):
    app = DemoApp({"mine": str(playing_model)}, whistle_seconds=3.0)
    app.open_microphone()
    assert app.microphone_box.children == (app.microphone,) and app.microphone.status == "model: ready"
    x = (0.2 * np.sin(2 * np.pi * 1200.0 * np.arange(32000) / 16000)).astype(np.float32)
    played = app.microphone.feed(x)                          # what the page sends while one whistles, then Stop
    assert app.source.value == "your recording 1 (2.0 s)" and "press Play it with the model" in app.message.value
    taken, heard = app.microphone.take()
    assert np.array_equal(taken, x) and np.array_equal(heard, played)
    assert app.play() is not None and app.download_links()[1]["source"] == "your recording 1 (2.0 s)"
    monkeypatch.setattr(live_widget, "MAX_TAKE_SECONDS", 0.2)     # a take longer than the kernel keeps
    assert app.microphone.feed(x).size == x.size                   # all of it is played ...
    assert app.microphone.take()[0].size == 2 * 1280 and app.source.value.startswith("your recording 2 (0.2 s)")  # kept
    app.model.options = ["mine", "again"]                       # another model: the widget plays it from now on
    app.models["again"] = str(playing_model)
    app.model.value = "again"
    assert app.microphone.status == "model: ready" and len(app.streams) == 1     # the same folder, one engine


def test_the_app_offers_the_given_models_then_the_generated_then_the_shipped_ones(tiny_model, tmp_path, monkeypatch):
    import shutil

    from ttlib.models.shipped import shipped_models

    monkeypatch.setenv("TTLIB_GENERATED", str(tmp_path / "generated"))
    for name in ("violin", "trumpet", "broken"):
        shutil.copytree(tiny_model, tmp_path / "generated" / "models" / name)
    (tmp_path / "generated" / "models" / "broken" / "statistics.json").write_text("{}")   # damaged: left out
    found = find_models([tiny_model, tmp_path / "generated" / "models" / "trumpet"])
    shipped = [f"{name} (shipped)" for name in shipped_models()]
    assert list(found) == [tiny_model.name, "trumpet", "violin", *shipped]  # given first, each folder once
    assert found["violin"] == str((tmp_path / "generated" / "models" / "violin").resolve())
    assert found["trumpet (shipped)"] == str(shipped_models()["trumpet"].resolve())

