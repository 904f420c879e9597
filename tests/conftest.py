"""Shared test fixtures. Importing ttlib first sets TF_USE_LEGACY_KERAS for every test.

Tests never write into the repository: before any test runs, ttlib's cache and its
generated data (`TTLIB_CACHE`, `TTLIB_GENERATED`) point into a temporary folder (or into
`$TTLIB_TEST_DATA`, to keep renderings and features between runs on a developer's
machine), notebooks get their data folders there too, and at the end of the session a
check fails the run if any file of the checkout was added or changed.
"""
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import ttlib  # noqa: F401  (must come before anything imports TensorFlow)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
IGNORED = {".git", ".venv", ".venv-lock", ".pytest_cache", ".ruff_cache", "__pycache__", "ttlib.egg-info"}

_KEEP = os.environ.get("TTLIB_TEST_DATA")
TEST_DATA = Path(_KEEP) if _KEEP else Path(tempfile.mkdtemp(prefix="ttlib-tests-"))
os.environ["TTLIB_CACHE"] = str(TEST_DATA / "cache")
os.environ["TTLIB_GENERATED"] = str(TEST_DATA / "generated")

# librosa's example trumpet, pre-seeded beside a developer's checkout: librosa (and the
# notebooks' kernels, which inherit the environment) read it there instead of downloading.
# Without it, ttlib.data.builtin.example_trumpet() falls back to the built-in trumpet.
if (SHARED / "librosa_data").is_dir() and "LIBROSA_DATA_DIR" not in os.environ:
    os.environ["LIBROSA_DATA_DIR"] = str(SHARED / "librosa_data")


def _checkout_files() -> dict:
    """{relative path: (size, mtime)} of every file of the checkout, ignoring tool folders."""
    found = {}
    for folder, dirs, files in os.walk(REPO):
        dirs[:] = [d for d in dirs if d not in IGNORED]
        for name in files:
            path = Path(folder) / name
            try:
                stat = path.stat()
            except OSError:
                continue
            found[str(path.relative_to(REPO))] = (stat.st_size, stat.st_mtime_ns)
    return found


_BEFORE = _checkout_files()


def pytest_sessionfinish(session, exitstatus):
    after = _checkout_files()
    changed = sorted(p for p, v in after.items() if _BEFORE.get(p) != v)
    if changed:
        print(f"\nTests wrote into the repository (they must use a temporary folder): {changed[:20]}")
        session.exitstatus = 1
    if not _KEEP:
        shutil.rmtree(TEST_DATA, ignore_errors=True)


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def generated() -> Path:
    """The session's stand-in for `data/generated/` (what `ttlib.core.paths.generated_dir()` gives)."""
    return Path(os.environ["TTLIB_GENERATED"])


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data/real when present (a developer's machine); tests using it skip otherwise."""
    path = SHARED / "data" / "real"
    if not path.is_dir():
        pytest.skip("../shared/data is not here (a fresh clone): skipping the real-recording test")
    return path


@pytest.fixture(scope="session")
def small_dataset(tmp_path_factory):
    """Three 9 s melodies of harmonic tones, f0 by YIN: 4 s examples, one recording held out."""
    import numpy as np
    import soundfile

    from ttlib import data, synth

    root = tmp_path_factory.mktemp("small_dataset")
    folder = root / "audio"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for k in range(3):
        notes = rng.uniform(200, 700, size=6)
        tones = [synth.harmonic_tone(f, 1.5, amplitude=float(rng.uniform(0.1, 0.4)), n_harmonics=12) for f in notes]
        soundfile.write(str(folder / f"take{k}.wav"), np.concatenate(tones), 16000)
    return data.build_dataset(f"folder:{folder}", root / "dataset", f0_method="yin", cache_dir=None, progress=False)


@pytest.fixture(scope="session")
def tiny_model(small_dataset, tmp_path_factory):
    """A tiny model trained for 5 steps on `small_dataset` (a model folder)."""
    from ttlib import models

    out = tmp_path_factory.mktemp("tiny_model") / "model"
    models.train(small_dataset, out, "tiny", steps=5, progress=False, tensorboard=False, validation_examples=0)
    return out


@pytest.fixture(scope="session")
def playing_model(small_dataset, tmp_path_factory):
    """A tiny model trained for 150 steps (about 20 s): unlike the few-step fixtures it is heard (about -34 dB
    on a whistle) and plays the f0 it is given, so what is measured on its output is the transfer's doing."""
    from ttlib import models

    out = tmp_path_factory.mktemp("playing_model") / "model"
    models.train(small_dataset, out, "tiny", steps=150, progress=False, tensorboard=False, validation_examples=0)
    return out


@pytest.fixture(scope="session")
def course_model(small_dataset, tmp_path_factory):
    """A model of the `course` configuration (50 frames/s, the 3 s room), trained for 2 steps (the live tests)."""
    from ttlib import models

    out = tmp_path_factory.mktemp("course_model") / "model"
    models.train(small_dataset, out, "course", steps=2, progress=False, tensorboard=False, validation_examples=0)
    return out


def pytest_collection_modifyitems(session, config, items):
    """The notebooks run in the background from the first test (`notebook_runs`): the waits for their results
    go after the other tests, and the tests that play in real time after those waits (`notebook_lanes.order`)."""
    from notebook_lanes import order

    items.sort(key=order)                             # a stable sort: each group keeps its order


@pytest.fixture(scope="session", autouse=True)
def notebook_runs(request, generated, tmp_path_factory) -> dict:
    """{notebook stem: Future of its run} for the notebooks this session selected, started before the first
    test in two lanes (`notebook_lanes.Lanes`); each notebook's test waits for its own."""
    from notebook_lanes import RUN_TEST, Lanes

    stems = {item.callspec.params["notebook"].stem for item in request.session.items
             if item.originalname == RUN_TEST}
    # pytest makes its base temporary folder on first use, and two lanes' threads may race to make it: a CI run
    # lost a lane (its thread ended before making its first folder, and the session waited for ever); made first
    tmp_path_factory.getbasetemp()
    lanes = Lanes(stems, generated, tmp_path_factory.mktemp)
    yield lanes.runs
    lanes.stop()
