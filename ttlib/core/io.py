"""Small file helpers: JSON and CSV read and written safely, SHA-256 of files and texts.

Writes go to a temporary name of the writer's own and are renamed into place
(`atomic_file`, `new_folder`), so an interrupted write never leaves half a file and two
writers of one file (two notebooks, two test lanes, two processes of a pipeline) never
write into each other's: the last to finish wins, whole.
"""
from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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


def _own_name(target: Path, suffix: str) -> Path:
    """A name beside `target` that no other writer uses (hidden; ends in `suffix`)."""
    return target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part{suffix}")


@contextmanager
def atomic_file(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """A temporary path of this writer's own beside `path`, moved into place as `path` when the block ends.

    If the block raises, the temporary file is removed and `path` is left as it was.

    Args:
      suffix: the temporary name's ending, for writers that add or need one (".npz" for
        `numpy.savez`, ".h5").

    Example:
      with atomic_file(out / "features.npz", ".npz") as tmp:
          np.savez(tmp, f0_hz=f0)
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _own_name(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def new_folder(target: str | os.PathLike, replace: bool = False) -> Iterator[Path]:
    """An empty folder of this writer's own beside `target`, moved into place as `target` when the block ends.

    If the block raises, the folder is removed and `target` is left as it was.

    Args:
      replace: replace a `target` that exists (`replace_folder`); if False, a `target`
        that exists when the block ends (a concurrent writer of the same content finished
        first) is kept and this writer's folder removed.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _own_name(target, "")
    tmp.mkdir()
    try:
        yield tmp
        if replace:
            replace_folder(tmp, target)
        elif not target.exists():
            try:
                os.replace(tmp, target)
            except OSError:                                   # another writer's folder moved in just before
                if not target.is_dir():
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write `text` atomically (`atomic_file`); returns the path."""
    path = Path(path)
    with atomic_file(path) as tmp:
        tmp.write_text(text)
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
