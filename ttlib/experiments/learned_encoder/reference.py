"""The reference run shipped with the course: every row of notebook 08's table for 3 seeds, measures only.

`data/reference/learned-encoder/<row>/seed-<n>/` holds each run's run.json, metrics.json and
losses.csv (no weights), made with the default settings by
`python -m ttlib experiment learned-encoder --all-rows --seeds 3` and copied by
`python -m ttlib experiment reference --runs ROOT` (`export_reference`), which also writes
reference.json: the code version (`provenance.code_version`), the measures' version, the
machine, and the fast setting's measures of every row (seed 0, 2 clips), the behaviour of
the lower layers that notebook 08's fast run must reproduce. `check_reference` lists
every way the shipped reference differs from what the shipped code would make; the tests
require it to find nothing. Notebook 08 shows the reference beside the class's own runs.

The fast check holds to the last digits only on the kind of CPU that made it: another
vector instruction set or vendor makes TensorFlow's kernels sum in another order, and a
few training steps carry that far (measured on an AMD AVX2 machine: 116 of its 189
measures differ from the reference's, by 6 % in the median; two runs there agree to the
last digit). `record_fast_check` adds the fast check of the same
code made on another kind of CPU (`cpu_kind()`), and `check_fast_run` compares with
this machine's own when there is one.
"""
from __future__ import annotations

import os
import platform
import shutil
import time
from pathlib import Path

from ttlib.core import paths
from ttlib.core.errors import ExperimentError
from ttlib.core.io import read_json, write_json
from ttlib.data.builtin import GENERATOR_VERSION
from ttlib.data.dataset import DATASET_VERSION
from ttlib.data.features import FEATURES_VERSION
from ttlib.experiments.learned_encoder.config import ROWS, row_config_by_name
from ttlib.experiments.learned_encoder.measures import METRICS_VERSION
from ttlib.experiments.learned_encoder.provenance import code_version
from ttlib.experiments.learned_encoder.runs import load_row, machine
from ttlib.experiments.learned_encoder.seeds import finished_seeds, run_dir

REFERENCE_SEEDS = (0, 1, 2)
"""The seeds of the reference run."""
FAST_CHECK_EVAL = 2
"""Held-out clips of the fast check (notebook 08's FAST setting)."""
INFO_FILE = "reference.json"
COPIED = ("run.json", "metrics.json", "losses.csv")


def reference_root() -> Path:
    """`data/reference/learned-encoder` of the course checkout."""
    return paths.REPO / "data" / "reference" / "learned-encoder"


def reference_info(root: str | os.PathLike | None = None) -> dict | None:
    """reference.json of the shipped reference (None if there is none)."""
    path = Path(root or reference_root()) / INFO_FILE
    return read_json(path, error=ExperimentError) if path.is_file() else None


def cpu_kind() -> str:
    """The kind of CPU, as far as TensorFlow's kernels choose by it: vendor, architecture, widest vector set.

    For example "GenuineIntel x86_64 avx512f" or "AuthenticAMD x86_64 avx2"; elsewhere than
    Linux, the architecture and `platform.processor()`.
    """
    vendor, flags = "", set()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "vendor_id" and not vendor:
                vendor = value.strip()
            elif key.strip() in ("flags", "Features") and not flags:
                flags = set(value.split())
    widest = next((isa for isa in ("avx512f", "avx2", "avx", "sse4_2", "asimd") if isa in flags), "")
    parts = [vendor, platform.machine(), widest] if flags else [platform.machine(), platform.processor()]
    return " ".join(part for part in parts if part)


def fast_check_of(info: dict, cpu: str | None = None) -> tuple[dict, str]:
    """The fast check to compare with on CPU kind `cpu` (default this one's), and where it comes from.

    Returns:
      ({row: fast measures}, description): the check recorded for this kind of CPU, else the
      reference's own (made with the reference, on its machine).
    """
    cpu = cpu or cpu_kind()
    own = info.get("fast_checks", {}).get(cpu)
    if own is not None:
        return own.get("rows", {}), f"the fast check recorded on a {cpu} CPU ({own.get('made', '?')})"
    made_on = info.get("fast_check", {}).get("cpu", "an unrecorded kind of")
    return info.get("fast_check", {}).get("rows", {}), f"the reference's fast check (made on {made_on} CPU)"


def record_fast_check(fast_runs_root: str | os.PathLike, root: str | os.PathLike | None = None,
                      command: str | None = None) -> str:
    """Record the fast runs of this code on this machine as the fast check of its kind of CPU.

    The runs must be this code's (`code_version()`), every row's fast setting, seed 0 and
    `FAST_CHECK_EVAL` clips: `python -m ttlib experiment learned-encoder --all-rows --fast
    --n-eval 2 --root FAST_RUNS`. The reference's own runs and fast check are not touched.

    Returns:
      The CPU kind recorded (`cpu_kind()`).

    Raises:
      ExperimentError: there is no reference, or a run is missing or was made by other code or settings.
    """
    root = Path(root or reference_root())
    info = reference_info(root)
    if info is None:
        raise ExperimentError(f"No reference run in {root}: a fast check is recorded beside a reference.")
    if info.get("code") != code_version():
        raise ExperimentError(f"The reference in {root} was made by code {info.get('code')}, not this code "
                              f"({code_version()}): a fast check of this code would not check it.")
    _refuse("Cannot record the fast check", [
        p for name in ROWS
        for p in _problems_of(run_dir(fast_runs_root, name, 0), name, 0, fast=True, n_eval=FAST_CHECK_EVAL)])
    cpu = cpu_kind()
    rows = {name: fast_measures(load_row(run_dir(fast_runs_root, name, 0))[2]) for name in ROWS}
    info.setdefault("fast_checks", {})[cpu] = {
        "seed": 0, "n_eval": FAST_CHECK_EVAL, "rows": rows, "made": time.strftime("%Y-%m-%d"), "machine": machine(),
        "command": command or "python -m ttlib experiment learned-encoder --all-rows --fast --n-eval 2"}
    write_json(root / INFO_FILE, info)
    return cpu


def fast_measures(metrics: dict) -> dict:
    """What the fast check compares: the transfer and resynthesis measures of a run."""
    return {part: {k: v for k, v in metrics[part].items() if isinstance(v, (int, float)) or v is None}
            for part in ("transfer", "resynthesis")}


def export_reference(runs_root: str | os.PathLike, fast_runs_root: str | os.PathLike,
                     out: str | os.PathLike | None = None, command: str | None = None) -> Path:
    """Copy the measures of every row x `REFERENCE_SEEDS` from `runs_root` into `out` (default `reference_root()`).

    Args:
      runs_root: finished default-setting runs (`--all-rows --seeds 3`).
      fast_runs_root: finished fast-setting runs of every row, seed 0, `FAST_CHECK_EVAL` clips.
      command: how the runs were made (recorded).

    Raises:
      ExperimentError: a run is missing, or was made by other code or settings.
    """
    out = Path(out or reference_root())
    problems = []
    for name in ROWS:
        for seed in REFERENCE_SEEDS:
            problems += _problems_of(run_dir(runs_root, name, seed), name, seed, fast=False)
        problems += _problems_of(run_dir(fast_runs_root, name, 0), name, 0, fast=True, n_eval=FAST_CHECK_EVAL)
    _refuse("Cannot export the reference", problems)
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    fast_check, logs = {}, []
    for name in ROWS:
        for seed in REFERENCE_SEEDS:
            target = run_dir(staging, name, seed)
            target.mkdir(parents=True)
            for file in COPIED:
                shutil.copy2(run_dir(runs_root, name, seed) / file, target / file)
            logs.append(read_json(target / "run.json"))
        fast_check[name] = fast_measures(load_row(run_dir(fast_runs_root, name, 0))[2])
    write_json(staging / INFO_FILE, {
        "code": code_version(), "metrics_version": METRICS_VERSION, "rows": list(ROWS), "seeds": list(REFERENCE_SEEDS),
        "made": time.strftime("%Y-%m-%d"), "machine": logs[0].get("machine", machine()),
        "versions": logs[0].get("versions"), "data_versions": logs[0].get("data_versions"),
        "data": logs[0].get("data"), "train_minutes": round(sum(log["wall_seconds"] for log in logs) / 60.0, 1),
        "command": command or "python -m ttlib experiment learned-encoder --all-rows --seeds 3",
        "fast_check": {"seed": 0, "n_eval": FAST_CHECK_EVAL, "rows": fast_check, "cpu": cpu_kind()}})
    if out.exists():
        shutil.rmtree(out)
    os.replace(staging, out)
    return out


def _refuse(what: str, problems: list[str]) -> None:
    """Raise ExperimentError naming the first problems (of runs), if there are any."""
    if problems:
        raise ExperimentError(f"{what}: " + "; ".join(problems[:8]) +
                              (f" (and {len(problems) - 8} more)" if len(problems) > 8 else ""))


def _problems_of(folder: Path, name: str, seed: int, fast: bool, n_eval: int | None = None) -> list[str]:
    """How the run in `folder` differs from row `name`'s default run with `seed` made by this code."""
    if not (folder / "metrics.json").is_file():
        return [f"{folder}: no finished run"]
    cfg, log, metrics = load_row(folder)
    problems = []
    if cfg.to_dict() != row_config_by_name(name, fast=fast).to_dict():
        problems.append(f"{folder}: not the default settings of row {name!r}")
    if log.get("seed") != seed:
        problems.append(f"{folder}: seed {log.get('seed')}, not {seed}")
    if n_eval is not None and log.get("n_eval") != n_eval:
        problems.append(f"{folder}: {log.get('n_eval')} held-out clips, not {n_eval}")
    if log.get("code") != code_version():
        problems.append(f"{folder}: made by code {log.get('code')}, not this code ({code_version()})")
    if metrics.get("metrics_version") != METRICS_VERSION:
        problems.append(f"{folder}: measures version {metrics.get('metrics_version')}, not {METRICS_VERSION}")
    return problems


def check_reference(root: str | os.PathLike | None = None) -> list[str]:
    """Every way the shipped reference differs from what this code makes (empty: it is this code's).

    Checks that every row of `ROWS` has every seed of `REFERENCE_SEEDS`, each made with the
    row's default settings by code of this `code_version()` and measured with this
    `METRICS_VERSION`, from datasets of the versions this code builds, and that
    reference.json records the fast check of every row.
    """
    root = Path(root or reference_root())
    info = reference_info(root)
    if info is None:
        return [f"no reference run in {root} (make one: see ttlib.experiments.learned_encoder.reference)"]
    problems = []
    if info.get("code") != code_version():
        problems.append(f"reference.json: code {info.get('code')}, this code is {code_version()}")
    if info.get("metrics_version") != METRICS_VERSION:
        problems.append(f"reference.json: measures version {info.get('metrics_version')}, not {METRICS_VERSION}")
    missing = [r for r in ROWS if r not in info.get("fast_check", {}).get("rows", {})]
    if missing:
        problems.append(f"reference.json: no fast check of {', '.join(missing)}")
    now = {"builtin_generator": GENERATOR_VERSION, "features": FEATURES_VERSION, "dataset": DATASET_VERSION}
    for name in ROWS:
        seeds = finished_seeds(root, name)
        for seed in REFERENCE_SEEDS:
            if seed not in seeds:
                problems.append(f"{name}: seed {seed} missing")
                continue
            problems += _problems_of(seeds[seed], name, seed, fast=False)
            versions = read_json(seeds[seed] / "run.json").get("data_versions", {})
            if {k: versions.get(k) for k in now} != now:
                problems.append(f"{name}/seed-{seed}: data versions {versions}, this code builds {now}")
    return problems


def check_fast_run(runs: dict, rtol: float = 1e-3, atol: float = 1e-3, root: str | os.PathLike | None = None) -> list:
    """How a fast run of the rows differs from the fast check of this kind of CPU (`fast_check_of`).

    Args:
      runs: {row: metrics.json of the row's fast run with seed 0 and `FAST_CHECK_EVAL` clips}.
      rtol, atol: tolerance of each measure (NaN must meet NaN).

    Returns:
      ["row: part measure: reference x, this run y", ...] (empty: they agree; a missing
      reference or row is a difference too); when there are differences, the last line says
      which check they were measured against.
    """
    import math

    info = reference_info(root)
    if info is None:
        return [f"no reference run in {root or reference_root()}"]
    expected, source = fast_check_of(info)
    problems = []
    for name, metrics in runs.items():
        if name not in expected:
            problems.append(f"{name}: the reference has no fast check of this row")
            continue
        got = fast_measures(metrics)
        for part, values in expected[name].items():
            for key, want in values.items():
                have = got.get(part, {}).get(key)
                want_nan = want is None or (isinstance(want, float) and math.isnan(want))
                have_nan = have is None or (isinstance(have, float) and math.isnan(have))
                if want_nan != have_nan or (not want_nan and abs(have - want) > atol + rtol * abs(want)):
                    problems.append(f"{name}: {part} {key}: reference {want}, this run {have}")
    if problems:
        problems.append(f"(compared with {source}; this machine's CPU is {cpu_kind()}: another kind sums in "
                        "another order, see ttlib.experiments.learned_encoder.reference)")
    return problems
