"""Where the course keeps what it makes: generated data and caches.

Both default to folders of the course checkout when ttlib runs from one (it is
installed editable by `make setup`), so a notebook, the command line and a test see
the same files wherever they are started from; elsewhere they go to the user's home.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
"""The course checkout ttlib lives in (its `notebooks/` and `data/` are here)."""


def _repo_data() -> Path | None:
    data = REPO / "data"
    return data if data.is_dir() and os.access(data, os.W_OK) else None


def cache_dir() -> Path:
    """`$TTLIB_CACHE`, else `data/cache/` of the checkout, else `~/.cache/ttlib`."""
    if os.environ.get("TTLIB_CACHE"):
        return Path(os.environ["TTLIB_CACHE"]).expanduser()
    data = _repo_data()
    return data / "cache" if data is not None else Path.home() / ".cache" / "ttlib"


def generated_dir() -> Path:
    """`$TTLIB_GENERATED`, else `data/generated/` of the checkout, else `~/.local/share/ttlib`.

    Datasets, trained models and experiment runs go here by default.
    """
    if os.environ.get("TTLIB_GENERATED"):
        return Path(os.environ["TTLIB_GENERATED"]).expanduser()
    data = _repo_data()
    return data / "generated" if data is not None else Path.home() / ".local" / "share" / "ttlib"


def notebooks_dir() -> Path:
    """The checkout's `notebooks/` folder."""
    return REPO / "notebooks"
