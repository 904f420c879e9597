"""Running the course: execute the notebooks with papermill and record their figures.

Every notebook has a cell tagged `parameters` with at least
  FAST = False          # True: the small, quick setting the tests use
  OUTPUT_DIR = "../output/NN_topic"   # where its audio, figures and results go
and records the figures that matter with `record(OUTPUT_DIR, name=value, ...)`,
which writes `OUTPUT_DIR/results.json`. `make run` and the tests both go through
`execute()`, so what the tests check is what a class runs. Notebooks 00-08 call `record`.
"""
from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

from ttlib.core import paths
from ttlib.core.errors import ConfigError, MissingFileError, NotebookError
from ttlib.core.io import write_text

NOTEBOOK_DIR = paths.notebooks_dir()
RESULTS_FILE = "results.json"


def notebooks(folder: str | os.PathLike = NOTEBOOK_DIR) -> list[Path]:
    """The course's notebooks `NN_topic.ipynb`, in teaching order."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(f"No notebooks folder at {folder}: run this from a checkout of the course "
                                "(ttlib is installed editable from it by `make setup`).")
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))


def record(output_dir: str | os.PathLike, **values) -> dict:
    """Merge `values` into `output_dir/results.json` and return everything recorded so far.

    Values must be JSON-serialisable numbers, strings, lists or dicts; NumPy
    scalars are converted. NaN and infinity are refused: a figure a test checks
    must be a real number.
    """
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    path = output_dir / RESULTS_FILE
    results = json.loads(path.read_text()) if path.is_file() else {}
    for key, value in values.items():
        value = _plain(value)
        _check_finite(key, value)
        results[key] = value
    write_text(path, json.dumps(results, indent=2, sort_keys=True))
    return results


def read_results(output_dir: str | os.PathLike) -> dict:
    """What a notebook recorded with `record` (an empty dict if nothing)."""
    path = Path(output_dir) / RESULTS_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def execute(notebook: str | os.PathLike, out_dir: str | os.PathLike, fast: bool = False,
            parameters: dict | None = None, timeout_s: float | None = None,
            progress: bool = True) -> dict:
    """Execute one notebook in a fresh kernel with the notebooks folder as working directory.

    Args:
      notebook: path of `NN_topic.ipynb`.
      out_dir: the run's output folder; the executed notebook is written to
        `out_dir/NN_topic.ipynb` and its files to `out_dir/NN_topic/`.
      fast: inject `FAST=True` (the tests' setting).
      parameters: further parameters to inject (UPPER_CASE names of the parameters cell).
      timeout_s: per-cell time limit in seconds (None: no limit).

    Returns:
      {"notebook", "executed", "output_dir", "seconds", "results"}.

    Raises:
      papermill.PapermillExecutionError: a cell failed; the executed copy shows where.
    """
    import papermill

    notebook = Path(notebook).resolve()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    nb_output_dir = out_dir / notebook.stem
    executed = out_dir / notebook.name
    params = {"FAST": bool(fast), "OUTPUT_DIR": str(nb_output_dir)}
    params.update(parameters or {})
    start = time.perf_counter()
    papermill.execute_notebook(
        str(notebook), str(executed), parameters=params, cwd=str(notebook.parent),
        kernel_name="python3", progress_bar=progress, execution_timeout=timeout_s,
        request_save_on_cell_execute=True,
    )
    return {"notebook": str(notebook), "executed": str(executed), "output_dir": str(nb_output_dir),
            "seconds": time.perf_counter() - start, "results": read_results(nb_output_dir)}


def run_course(out_dir: str | os.PathLike, fast: bool = False, only: list[str] | None = None) -> list[dict]:
    """Execute the notebooks in order (all, or those whose names start with one of `only`).

    Writes `out_dir/summary.json` with each notebook's time and recorded figures.
    Stops at the first notebook that fails, naming it and its executed copy.
    """
    out_dir = Path(out_dir)
    chosen = [nb for nb in notebooks() if not only or any(nb.name.startswith(o) for o in only)]
    if not chosen:
        raise ConfigError(f"No notebook matches {only}; there are: {[nb.name for nb in notebooks()]}")
    runs = []
    for nb in chosen:
        print(f"== {nb.name} ({'fast' if fast else 'full'} setting)", flush=True)
        try:
            run = execute(nb, out_dir, fast=fast)
        except Exception as exc:
            raise NotebookError(f"{nb.name} failed: {exc.__class__.__name__}. The executed copy in "
                                f"{out_dir / nb.name} shows the failing cell.") from exc
        print(f"   done in {run['seconds']:.0f} s; recorded {sorted(run['results'])}", flush=True)
        runs.append(run)
        (out_dir / "summary.json").write_text(json.dumps(runs, indent=2))
    return runs


def _plain(value):
    """NumPy scalars and arrays to Python numbers and lists."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _check_finite(key, value):
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"record(): {key} is {value}; only finite numbers can be recorded.")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(f"{key}.{k}", v)
    elif isinstance(value, list):
        for v in value:
            _check_finite(key, v)
