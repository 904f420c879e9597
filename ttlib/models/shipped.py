"""The trained models that ship with the course: one per built-in instrument, weights only.

`data/models/INSTRUMENT/` (each of INSTRUMENTS whose model plays it, `PLAYS`: all four) is a model folder
(`ttlib.models.checkpoint`) whose checkpoint holds the weights and the configuration only,
no optimiser state (about 4 MB for `course` instead of 12), so transfer, the sliders,
the live mode and the demo play on a fresh clone at once. Beside it: the training's
run log, losses and held-out curve, and in `run.json`:
  - `held_out`: `evaluate` on the dataset's validation split (its recordings never trained on);
  - `reload_check`: the same measures on RELOAD_SECONDS of a built-in take rendered with seed
    RELOAD_SEED (the training sets use seed 0), which a test renders again and measures
    with the shipped weights: the folder holds the model its figures describe;
  - `shipping`: how long each stage took, which `make models` prints before it starts.

`make models` (`python -m ttlib models train`) makes them again: each instrument's built-in
set (`ttlib.data.build_dataset`), the `course` configuration's 800 steps (the flute's at a lower
learning rate, TRAINING; the saxophone's from the trumpet's weights, STARTS_FROM; `ttlib.models.train`,
resumable: run it again after Ctrl-C), the measures, then `pack`,
which replaces a shipped folder only once the new one is complete.
A shipped folder cannot be resumed (no optimiser state): train a new folder instead.
Notebooks 06 (how they were trained), 07 (the model selector), 09 and 10; the demo app.
"""
from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ttlib.core import paths
from ttlib.core.errors import ConfigError, ModelError
from ttlib.core.io import read_json, replace_folder, write_json
from ttlib.data.examples import Examples
from ttlib.models.checkpoint import (
    MODEL_FILE,
    RUN_FILE,
    LoadedModel,
    checkpoint_manager,
    checkpoint_object,
    find_models,
    latest_checkpoint,
    load_model,
)
from ttlib.models.configs import ModelConfig, get_config

INSTRUMENTS = ("trumpet", "flute", "violin", "saxophone")
"""The instruments shipped, in the order `make models` trains them."""
PLAYS = {"f0_error_cents_median": 10.0, "loudness_error_db": 4.0}
"""What a model must reach on its held-out recordings to be shipped: the resynthesis in tune (median
f0 error in cents) and at the right level (mean loudness error in dB), issue 17's usable model."""
CONFIG = "course"
"""The configuration they are trained with (its `train_steps`: 800)."""
TRAINING = {"flute": {"learning_rate": 3e-4}}
"""What an instrument changes in CONFIG: at `course`'s learning rate (1e-3) the flute's harmonic amplitudes
fell to silence within its first 100 steps (the filtered noise took over its sound, and nothing brings a
silenced harmonic synthesiser back); at 3e-4 they stay. The saxophone's fall silent at 1e-3, 3e-4 and 1e-4."""
STARTS_FROM = {"saxophone": "trumpet"}
"""Instruments trained from another shipped model's weights instead of the seed's (`train`'s `start_from`):
from the trumpet's, the saxophone's harmonics play from the first step (from the seed's they fall silent)."""


def instrument_config(instrument: str) -> ModelConfig:
    """The `ttlib.models.ModelConfig` `instrument` is trained with: CONFIG with its TRAINING changes."""
    import dataclasses

    return dataclasses.replace(get_config(CONFIG), **TRAINING.get(instrument, {})).validate()
RELOAD_SEED = 1
"""Seed of the built-in take the reload check plays (the training sets are rendered with seed 0)."""
RELOAD_SECONDS = 8.0
"""Length of that take (two 4-s examples)."""
COPIED = ("config.json", "statistics.json", "losses.csv", "validation.csv")
"""Files a packed folder copies from the trained one (besides the checkpoint, model.json and run.json)."""


def shipped_dir() -> Path:
    """`data/models/` of the course checkout: the shipped models' home."""
    return paths.REPO / "data" / "models"


def shipped_models(root: str | os.PathLike | None = None) -> dict[str, Path]:
    """{instrument: folder} of the complete shipped models in `root` (default `shipped_dir()`)."""
    return find_models(shipped_dir() if root is None else root, depth=1)


def model_choices(folders: tuple | list = (), roots: tuple | list = ()) -> dict[str, Path]:
    """{label: folder} for a model selector: the `folders` given (checked; damaged ones left out), the models
    in each of `roots` (`find_models`, one level down), then the shipped ones labelled "NAME (shipped)";
    each folder once. Notebook 07's selector and the demo app's (`ttlib.course.demo.find_models`)."""
    from ttlib.models.checkpoint import check_model_folder

    found: dict[str, Path] = {}

    def add(name: str, folder: Path) -> None:
        folder = folder.resolve()
        if folder not in found.values():
            found[name if name not in found else str(folder)] = folder

    for folder in map(Path, folders):
        try:
            check_model_folder(folder)
        except (ModelError, OSError):
            continue
        add(folder.name, folder)
    for root in roots:
        for name, folder in find_models(root, depth=1).items():
            add(name, folder)
    for name, folder in shipped_models().items():
        add(f"{name} (shipped)", folder)
    return found


def model_folder(value: str | os.PathLike) -> Path:
    """A model folder given on the command line: a path, or the name of a shipped instrument
    ("trumpet" is `data/models/trumpet` unless a folder `trumpet` exists here)."""
    path = Path(value)
    if not path.exists() and str(value) in INSTRUMENTS and (shipped_dir() / str(value)).is_dir():
        return shipped_dir() / str(value)
    return path


def model_help() -> str:
    """The help of a `--model` option (`model_folder`), naming the shipped models there are (from their
    folders' names: the command line starts without TensorFlow)."""
    names = sorted(path.parent.name for path in shipped_dir().glob(f"*/{MODEL_FILE}"))
    return f"a model folder, or the name of a model shipped in data/models/ ({', '.join(names) or 'none'})"


def model_or_shipped(model_dir: str | os.PathLike, instrument: str = "trumpet", log: Callable = print) -> Path:
    """`model_dir` if it exists, else the shipped `instrument` (saying so): notebooks 07, 09 and 10 play
    notebook 06's model when it has been trained and the course's own before.

    Raises:
      ModelError: neither exists.
    """
    if Path(model_dir).is_dir():
        return Path(model_dir)
    shipped = shipped_models().get(instrument)
    if shipped is None:
        raise ModelError(f"No model at {model_dir} and no shipped {instrument} in {shipped_dir()}: run notebook 06 "
                         "(it trains one there), or `make models`, or set MODEL_DIR to a model folder.")
    log(f"No model at {model_dir} yet (notebook 06 trains one there): playing the course's shipped {instrument}, "
        f"{shipped}.")
    return shipped


def is_weights_only(folder: str | os.PathLike) -> bool:
    """True for a folder `pack` wrote (its model.json says so)."""
    path = Path(folder) / MODEL_FILE
    return path.is_file() and bool(read_json(path).get("weights_only"))


def reload_examples(instrument: str, frame_rate: float = 250.0) -> Examples:
    """The reload check's held-out examples: RELOAD_SECONDS of the built-in `instrument` rendered with
    RELOAD_SEED, cut into 4-s examples with CREPE-tiny features as the datasets have (`ttlib.data.Examples`)."""
    from ttlib.core.units import SAMPLE_RATE, hop_length
    from ttlib.data import builtin, features

    clip = builtin.clip(instrument, RELOAD_SECONDS, frame_rate=frame_rate, seed=RELOAD_SEED)
    found = features.compute(clip.audio, SAMPLE_RATE, "crepe-tiny", frame_rate, progress=False)
    hop, n = hop_length(SAMPLE_RATE, frame_rate), int(RELOAD_SECONDS // 4)
    frames = int(4 * frame_rate)
    cut = lambda x, i, size: np.stack([np.asarray(x)[j * size:(j + 1) * size] for j in i])
    index = range(n)
    return Examples(audio=cut(clip.audio, index, frames * hop).astype(np.float32),
                    f0_hz=cut(found.f0_hz, index, frames), f0_confidence=cut(found.f0_confidence, index, frames),
                    loudness_db=cut(found.loudness_db, index, frames), recording_id=[f"{instrument}-reload"] * n,
                    frame_rate=frame_rate, sample_rate=SAMPLE_RATE, f0_hz_truth=cut(clip.f0_hz, index, frames))


def reload_check(loaded: LoadedModel, instrument: str) -> dict:
    """`ttlib.models.evaluate` of `loaded` on `reload_examples(instrument)` (what `run.json` records)."""
    from ttlib.models.evaluation import evaluate

    metrics = evaluate(loaded, reload_examples(instrument), max_examples=None)
    metrics.pop("seconds", None)
    return {"instrument": instrument, "seed": RELOAD_SEED, "seconds": RELOAD_SECONDS, "metrics": metrics}


def pack(model_dir: str | os.PathLike, out_dir: str | os.PathLike, instrument: str, held_out: dict,
         overwrite: bool = False) -> Path:
    """Write the trained model in `model_dir` as a shipped, weights-only folder `out_dir`.

    The checkpoint keeps the model and its configuration (no optimiser); config.json,
    statistics.json, the loss curves and the run log come along, the run log with the
    `held_out` figures given and the `reload_check` measured here.
    The new folder is written beside `out_dir` and moved in place when complete.

    Raises:
      ModelError: `model_dir` is not a complete model folder.
      OutputExistsError: `out_dir` exists and not `overwrite`.
    """
    from ttlib.core.errors import OutputExistsError

    if instrument not in INSTRUMENTS:
        raise ConfigError(f"Unknown shipped instrument {instrument!r}; choose one of {', '.join(INSTRUMENTS)}.")
    model_dir, out_dir = Path(model_dir), Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise OutputExistsError(f"{out_dir} exists; pass overwrite=True to replace it.")
    loaded = load_model(model_dir)
    staging = out_dir.with_name(f".{out_dir.name}.packing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    manager = checkpoint_manager(checkpoint_object(loaded.model, config=loaded.config), staging, max_to_keep=1)
    manager.save(checkpoint_number=loaded.step)
    for name in COPIED:
        if (model_dir / name).is_file():
            shutil.copy2(model_dir / name, staging / name)
    info = read_json(model_dir / MODEL_FILE)
    info["dataset"] = {k: v for k, v in info.get("dataset", {}).items() if k != "path"}   # a path of that machine
    info["weights_only"] = True
    write_json(staging / MODEL_FILE, info)
    run_log = read_json(model_dir / RUN_FILE) if (model_dir / RUN_FILE).is_file() else {}
    run_log.get("data", {}).pop("path", None)
    run_log.update(instrument=instrument, held_out=held_out, reload_check=reload_check(loaded, instrument),
                   packed=time.strftime("%Y-%m-%d %H:%M:%S"))
    write_json(staging / RUN_FILE, run_log)
    load_model(staging)                                    # the packed folder loads, or nothing is replaced
    replace_folder(staging, out_dir)
    return out_dir


def expected_seconds(instruments: tuple | list, root: str | os.PathLike | None = None) -> float | None:
    """How long making `instruments` takes, from the shipped models' run logs (`shipping`, s): an
    instrument without one counts as their mean; None when no shipped folder says."""
    took = {}
    for run in Path(root or shipped_dir()).glob(f"*/{RUN_FILE}"):
        stages = read_json(run).get("shipping", {})
        if stages:
            took[run.parent.name] = sum(float(v) for k, v in stages.items() if k.endswith("_seconds"))
    if not took:
        return None
    mean = sum(took.values()) / len(took)
    return sum(took.get(name, mean) for name in instruments)


def _set_aside_if_stale(model_dir: Path, data_dir: Path, log) -> None:
    """Move a run trained on other data than `data_dir` (the built-in sound changed) to `NAME.stale-DATE`."""
    from ttlib.data.dataset import dataset_fingerprint

    if not (model_dir / MODEL_FILE).is_file():
        return
    trained_on = read_json(model_dir / MODEL_FILE).get("dataset", {}).get("train_sha256")
    if trained_on != dataset_fingerprint(data_dir)["train_sha256"]:
        aside = model_dir.with_name(f"{model_dir.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
        model_dir.rename(aside)
        log(f"{model_dir} was trained on other data (the built-in set changed since): moved to {aside}")


def _start_folder(name: str, out_root: Path) -> Path:
    """The model `name` starts from (STARTS_FROM): the one made into `out_root`, else the shipped one."""
    start = STARTS_FROM[name]
    for folder in (out_root / start, shipped_dir() / start):
        if (folder / MODEL_FILE).is_file():
            return folder
    raise ModelError(f"The {name} starts from the {start} model, and neither {out_root} nor {shipped_dir()} has "
                     f"one: make it first (python -m ttlib models train {start} {name}).")


def shortfalls(held_out: dict, require: dict | None = None) -> list[str]:
    """The measures of `held_out` (`evaluate`'s) that miss `require` (default `PLAYS`), as text; [] when none."""
    require = PLAYS if require is None else require
    return [f"{key} {held_out.get(key, float('nan')):.3g} (at most {limit:g})" for key, limit in require.items()
            if not held_out.get(key, float("nan")) <= limit]


def make_models(instruments: tuple | list = INSTRUMENTS, work_dir: str | os.PathLike | None = None,
                out_root: str | os.PathLike | None = None, steps: int | None = None, minutes: float | None = None,
                held_out_examples: int = 32, require: dict | None = None, progress: bool = True,
                log: Callable = print) -> dict[str, Path]:
    """Build, train, measure and pack each of `instruments` (what `make models` runs).

    Each instrument's built-in set goes to `work_dir/data/INSTRUMENT` and its training run to
    `work_dir/models/INSTRUMENT` (default `work_dir`: `data/generated/shipping`), both reused
    when up to date: run again after an interruption and it continues where it stopped.
    `steps` and `minutes` (of built-in audio) default to the configuration's and the built-in set's;
    `held_out_examples` of the validation split are measured (`evaluate`'s default, 32), and a model
    that misses `require` (default `PLAYS`) is not packed: the shipped folder stays as it was.
    Returns {instrument: packed folder} of those packed.
    """
    from ttlib.data import build_dataset, load_examples
    from ttlib.data.dataset import read_manifest
    from ttlib.models.evaluation import evaluate
    from ttlib.models.training import train

    unknown = [i for i in instruments if i not in INSTRUMENTS]
    if unknown:
        raise ConfigError(f"Unknown shipped instrument {unknown[0]!r}; choose from {', '.join(INSTRUMENTS)}.")
    work = Path(work_dir) if work_dir is not None else paths.generated_dir() / "shipping"
    out_root = Path(out_root) if out_root is not None else shipped_dir()
    made = {}
    for name in instruments:
        data_dir, model_dir = work / "data" / name, work / "models" / name
        start = time.perf_counter()
        log(f"{name}: the built-in set ({data_dir})")
        # make models' own folder: a set of an older built-in sound is replaced
        build_dataset(f"builtin:{name}", data_dir, minutes=minutes, progress=progress, overwrite=True)
        data_s = time.perf_counter() - start
        built_s = float(read_manifest(data_dir).get("build_seconds", data_s))   # also when the set was reused
        changes = "".join(f", {k}={v:g}" for k, v in TRAINING.get(name, {}).items())
        changes += f", from the {STARTS_FROM[name]}'s weights" if name in STARTS_FROM else ""
        log(f"{name}: training {CONFIG!r}{changes} ({model_dir}; Ctrl-C stops, the next run continues)")
        if is_weights_only(model_dir):
            raise ModelError(f"{model_dir} is a shipped, weights-only model: choose another work folder.")
        _set_aside_if_stale(model_dir, data_dir, log)
        begins = not (model_dir.is_dir() and latest_checkpoint(model_dir))       # a run in progress goes on
        start_from = _start_folder(name, out_root) if name in STARTS_FROM and begins else None
        result = train(data_dir, model_dir, instrument_config(name), steps=steps, resume=True, progress=progress,
                       start_from=start_from)
        if result.interrupted:
            raise KeyboardInterrupt
        log(f"{name}: measuring on the held-out recordings and packing into {out_root / name}")
        measured = time.perf_counter()
        held_out = evaluate(load_model(model_dir), load_examples(data_dir, "validation"),
                            max_examples=held_out_examples)
        missing = shortfalls(held_out, require)
        if missing:
            log(f"{name}: not packed, it does not play its instrument on the held-out recordings: "
                f"{'; '.join(missing)}. {out_root / name} is left as it was; the run stays in {model_dir}.")
            continue
        made[name] = pack(model_dir, out_root / name, name, held_out, overwrite=True)
        run_path = made[name] / RUN_FILE
        run = read_json(run_path)
        run["shipping"] = {"data_seconds": round(built_s, 1), "train_seconds": round(float(run["wall_seconds"]), 1),
                           "measure_seconds": round(time.perf_counter() - measured, 1)}
        write_json(run_path, run)
        figures = ", ".join(f"{k} {held_out[k]:.3g}" for k in ("spectral_loss", "f0_error_cents_median",
                                                                "loudness_error_db"))
        log(f"{name}: done in {time.perf_counter() - start:.0f} s; held out: {figures}")
    return made
