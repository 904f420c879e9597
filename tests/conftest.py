"""Shared test fixtures. Importing ttlib first sets TF_USE_LEGACY_KERAS for every test."""
from pathlib import Path

import pytest

import os

import ttlib  # noqa: F401  (must come before anything imports TensorFlow)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

# librosa's example trumpet, pre-seeded beside a developer's checkout: librosa (and the
# notebooks' kernels, which inherit the environment) read it there instead of downloading.
# Without it, audio.example_trumpet() falls back to the built-in trumpet.
if (SHARED / "librosa_data").is_dir() and "LIBROSA_DATA_DIR" not in os.environ:
    os.environ["LIBROSA_DATA_DIR"] = str(SHARED / "librosa_data")


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


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
    from ttlib import train

    out = tmp_path_factory.mktemp("tiny_model") / "model"
    train.train(small_dataset, out, "tiny", steps=5, progress=False, tensorboard=False, validation_examples=0)
    return out
