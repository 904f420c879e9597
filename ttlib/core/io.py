"""Small file helpers: JSON and CSV read and written safely, SHA-256 of files and texts.

Writes go to a temporary name and are renamed into place, so an interrupted write
never leaves half a file.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from ttlib.core.errors import ModelError


def sha256_text(text: str) -> str:
    """SHA-256 of a text (UTF-8), as hex."""
    return hashlib.sha256(text.encode()).hexdigest()


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, as hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` atomically (a temporary file, then a rename); returns the path."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_json(path: str | os.PathLike, value, sort_keys: bool = True) -> Path:
    """Write `value` as indented JSON, atomically; returns the path."""
    return write_text(path, json.dumps(value, indent=2, sort_keys=sort_keys))


def read_json(path: str | os.PathLike, error: type | None = None) -> Any:
    """Read a JSON file; a damaged one raises `error` (a TtlibError class) naming the file.

    Args:
      error: the exception class for invalid JSON (default `ttlib.core.errors.ModelError`).
    """
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise (error or ModelError)(f"{path} is not valid JSON ({exc}); the file is damaged. Restore it from "
                                    "a copy, or make it again (train or build into a new folder).") from None


def read_csv(path: str | os.PathLike) -> list[dict]:
    """The rows of a CSV file with a header, as dicts of strings ([] if there is no file)."""
    if not Path(path).is_file():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def replace_folder(new: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Move folder `new` into place as `target`, replacing what was there."""
    target = Path(target)
    if target.exists():
        shutil.rmtree(target)
    os.replace(new, target)
    return target


def json_safe(value: Any) -> Any:
    """NumPy numbers to Python ones and NaN or infinity to None (JSON null), recursively."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return json_safe(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value
