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
