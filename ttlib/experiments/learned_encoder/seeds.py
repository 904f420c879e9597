"""Several seeds per row: the run folders `<root>/<row>/seed-<n>`, the command of each run, and running them.

Each row of notebook 08's table is trained once per seed (weights, noise and data order);
`run_seeds` runs rows x seeds, reusing every finished run. `row_command` is the command
line that reruns one of them (recorded in its run.json). Folders of the older layout, one
run directly in `<root>/<row>`, are moved into their seed's folder by `migrate_legacy`,
nothing deleted. Notebook 08, sections 2 and 4.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ttlib.core.errors import ExperimentError
from ttlib.core.io import read_json
from ttlib.experiments.learned_encoder.config import ExperimentConfig, row_config
from ttlib.experiments.learned_encoder.runs import default_root, run

SEED_PREFIX = "seed-"
TRUMPET_SOURCE = "builtin:trumpet:gm"
"""The experiment's trumpet: the built-in trumpet with General MIDI's expression alone, a gain (no true
dynamics), as the shipped reference run was made (built-in generator 2), named so since the built-in
default has true dynamics; `--trumpet-source` chooses another (builtin:trumpet, with them; urmp:PATH;
folder:PATH), whose runs go to their own folder."""


def canonical_source(trumpet_source: str) -> str:
    """`trumpet_source` named by what it renders: "builtin:trumpet" (true dynamics, the built-in default) is
    "builtin:trumpet:dynamics", so that its runs and dataset get a folder of their own (`runs.source_tag`
    names "builtin:trumpet" with nothing, as it named the trumpet of before true dynamics)."""
    return "builtin:trumpet:dynamics" if trumpet_source.strip() in ("builtin", "builtin:trumpet") else trumpet_source


def experiment_root(fast: bool = False, trumpet_source: str = TRUMPET_SOURCE) -> Path:
    """Where the rows' runs go by default: `<generated>/experiments/learned-encoder[-fast]` for
    `TRUMPET_SOURCE`, else the source's own folder (`runs.default_root`)."""
    return default_root(fast) if trumpet_source == TRUMPET_SOURCE else default_root(fast, trumpet_source)


def run_dir(root: str | os.PathLike, name: str, seed: int) -> Path:
    """The folder of row `name`'s run with `seed`: `<root>/<name>/seed-<seed>`."""
    return Path(root) / name / f"{SEED_PREFIX}{int(seed)}"


def finished_seeds(root: str | os.PathLike, name: str) -> dict[int, Path]:
    """{seed: folder} of the finished runs (those with a metrics.json) of row `name`, by seed."""
    found = {}
    folder = Path(root) / name
    if folder.is_dir():
        for sub in folder.iterdir():
            tail = sub.name[len(SEED_PREFIX):]
            if sub.name.startswith(SEED_PREFIX) and tail.isdigit() and (sub / "metrics.json").is_file():
                found[int(tail)] = sub
    return dict(sorted(found.items()))


def migrate_legacy(root: str | os.PathLike) -> list[tuple[Path, Path]]:
    """Move runs of the one-seed layout (`<root>/<folder>/metrics.json`) to `<root>/<row>/seed-<n>`.

    The row and seed come from the run's run.json (so the old exercise's
    `published-seed1` becomes `published/seed-1`). A run whose new folder is taken is
    left where it is. Returns the (old, new) folders moved.
    """
    root = Path(root)
    moved = []
    if not root.is_dir():
        return moved
    for old in sorted(p for p in root.iterdir() if (p / "metrics.json").is_file() and (p / "run.json").is_file()):
        log = read_json(old / "run.json", error=ExperimentError)
        name, seed = log.get("name", old.name), int(log.get("seed", 0))
        new = run_dir(root, name, seed)
        if new.exists():
            continue
        if new.parent == old:                       # <root>/published -> <root>/published/seed-0
            new.mkdir()
            for child in list(old.iterdir()):
                if child != new:
                    os.replace(child, new / child.name)
        else:
            new.parent.mkdir(parents=True, exist_ok=True)
            os.replace(old, new)
        moved.append((old, new))
    return moved


def row_command(cfg: ExperimentConfig, seed: int = 0, fast: bool | None = None,
                trumpet_source: str = TRUMPET_SOURCE) -> str:
    """The command line that reruns the row `cfg` with `seed` (`fast`: None tells from the configuration)."""
    fast = cfg.fast if fast is None else fast
    default = row_config(fast=fast)
    parts = ["python -m ttlib experiment learned-encoder"]
    if cfg.conditioning == "f0-loudness":
        parts.append("--baseline")
    else:
        if cfg.loudness_skip:
            parts.append("--fix loudness-skip")
        if cfg.silence_weight:
            parts.append("--fix silence-penalty")
        if cfg.encoder_capacity != default.encoder_capacity:
            parts.append("--fix larger-encoder")
        if cfg.loss == "log-mel":
            parts.append("--fix log-mel")
        if cfg.f0_input:
            parts.append("--crepe-f0")
        if not cfg.noise:
            parts.append("--harmonic-only")
        if cfg.encoder_trainable:
            parts.append("--fine-tune-encoder")
        if cfg.whistle_steps != default.whistle_steps:
            parts.append(f"--whistle-steps {cfg.whistle_steps}")
    if cfg.trumpet_steps != default.trumpet_steps:
        parts.append(f"--trumpet-steps {cfg.trumpet_steps}")
    if fast:
        parts.append("--fast")
    if trumpet_source != TRUMPET_SOURCE:
        parts.append(f"--trumpet-source {trumpet_source}")
    if seed:
        parts.append(f"--seed {seed}")
    return " ".join(parts)


def run_seeds(configs: Iterable[ExperimentConfig], root: str | os.PathLike, trumpet_dir, whistle_dir,
              seeds: Iterable[int] = (0,), n_eval: int = 16, overwrite: bool = False, progress: bool = True,
              trumpet_source: str = TRUMPET_SOURCE, report=None) -> dict[tuple[str, int], dict]:
    """Train and measure every row of `configs` with every seed of `seeds` (row by row), reusing finished runs.

    Args:
      report: called as report(cfg, seed, folder, command) before each run (e.g. to print it).

    Returns:
      {(row name, seed): metrics}.
    """
    migrate_legacy(root)
    out = {}
    for cfg in configs:
        for seed in seeds:
            folder = run_dir(root, cfg.name, seed)
            command = row_command(cfg, seed, trumpet_source=trumpet_source)
            if report is not None:
                report(cfg, seed, folder, command)
            out[cfg.name, int(seed)] = run(cfg, folder, trumpet_dir, whistle_dir, seed=int(seed), n_eval=n_eval,
                                           overwrite=overwrite, progress=progress, command=command)
    return out
