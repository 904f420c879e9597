"""Shared test fixtures. Importing ttlib first sets TF_USE_LEGACY_KERAS for every test."""
from pathlib import Path

import pytest

import ttlib  # noqa: F401  (must come before anything imports TensorFlow)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


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
