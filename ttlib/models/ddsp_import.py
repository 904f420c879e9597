"""A model trained by ddsp's own trainer, as a course model folder: `python -m ttlib import-ddsp DIR --out MODEL`.

ddsp's solo-instrument autoencoder is the course's model (`ttlib.models.autoencoder` builds ddsp's
own `Autoencoder`), so a ddsp checkpoint's weights fit a course model of the same sizes variable for
variable. `import_ddsp`:
  1. reads the folder's operative gin config into a `ModelConfig` (`ttlib.models.ddsp_folder`),
  2. builds the course's model with it and restores the ddsp checkpoint into it,
  3. checks it plays as ddsp's own model does: ddsp's model is built from the same gin config by
     ddsp's `get_model`, given the same checkpoint and the same f0 and loudness, and the controls
     (harmonic amplitudes and distribution, noise magnitudes), the harmonic audio and the reverb's
     impulse response are compared (`IMPORT_TOLERANCE`);
  4. writes a model folder (config.json, statistics.json, model.json, checkpoints/ckpt-STEP with the
     weights only, and `import.json` saying where it came from) into a temporary folder that is moved
     into place only when complete.
The statistics come from the training data when it is given (`data=`, a course dataset), else from
the folder's `dataset_statistics.pkl`, read without running code from it. Transfer, the sliders,
evaluation, export and the live engine then use the folder as one trained here (notebooks 06, 07).
Fine-tuning an imported model with the course's trainer is not offered (the optimiser's state is
ddsp's); train it on in ddsp, or train a course model.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import ttlib
from ttlib.core.errors import ModelError, OutputExistsError
from ttlib.core.io import new_folder, sha256_file, write_json
from ttlib.models import checkpoint as ckpt
from ttlib.models.autoencoder import build_autoencoder, reverb_impulse_response
from ttlib.models.configs import ModelConfig
from ttlib.models.ddsp_folder import (
    DdspFolder,
    course_statistics,
    ddsp_model_config,
    read_ddsp_folder,
    read_ddsp_statistics,
)

IMPORT_FILE = "import.json"
IMPORT_TOLERANCE = 1e-4
"""Largest difference allowed between the imported model's and ddsp's own controls, harmonic audio and reverb."""


@dataclass
class Imported:
    """What `import_ddsp` wrote: the model folder, its configuration and how closely it matched ddsp's model."""

    folder: Path
    config: ModelConfig
    step: int
    differences: dict
    statistics_source: str


def _probe_inputs(cfg: ModelConfig) -> dict:
    """A glide from A2 to A5 over a swell and a fade: f0 and loudness that exercise the whole decoder."""
    t = np.linspace(0.0, 1.0, cfg.n_frames, dtype=np.float32)
    f0 = 110.0 * 2.0 ** (3.0 * t)
    loudness = -80.0 + 75.0 * np.abs(np.sin(np.pi * t)) ** 0.5
    return {"audio": np.zeros((1, cfg.n_samples), np.float32), "f0_hz": f0[None].astype(np.float32),
            "loudness_db": loudness[None].astype(np.float32)}


def _ddsp_own_model(found: DdspFolder):
    """ddsp's model built by ddsp from the folder's gin config (loudness as given), with its checkpoint."""
    import ddsp.training
    import gin

    gin.clear_config()
    try:
        with gin.unlock_config():
            gin.parse_config_file(str(found.operative_config), skip_unknown=True)
            gin.parse_config("F0LoudnessPreprocessor.compute_loudness = False")
        model = ddsp.training.models.get_model()
    finally:
        gin.clear_config()
    return model


def _compare(ours, theirs, inputs: dict) -> dict:
    """Largest absolute differences between two models' controls, harmonic audio and reverb IR."""
    a, b = ours(inputs, training=False), theirs(inputs, training=False)
    out = {}
    for key in ("amps", "harmonic_distribution", "noise_magnitudes"):
        out[key] = float(np.max(np.abs(np.asarray(a[key]) - np.asarray(b[key]))))
    out["harmonic_audio"] = float(np.max(np.abs(np.asarray(a["harmonic"]["signal"]) -
                                                np.asarray(b["harmonic"]["signal"]))))
    ir_a, ir_b = reverb_impulse_response(ours), reverb_impulse_response(theirs)
    if ir_a is not None:
        out["reverb_ir"] = float(np.max(np.abs(ir_a - ir_b)))
    return out


def _restore(model, prefix: str, what: str, partial: bool) -> None:
    import tensorflow as tf

    try:
        status = tf.train.Checkpoint(model=model).read(prefix)
        if not partial:
            status.assert_existing_objects_matched()
        status.expect_partial()
    except (AssertionError, ValueError, tf.errors.OpError) as exc:
        raise ModelError(f"The checkpoint {prefix} does not fit {what} ({str(exc).splitlines()[0][:300]}): the "
                         "operative config and the checkpoint come from different runs.") from None


def import_ddsp(ddsp_dir: str | os.PathLike, out_dir: str | os.PathLike, data: str | os.PathLike | None = None,
                overwrite: bool = False, tolerance: float = IMPORT_TOLERANCE) -> Imported:
    """Turn a ddsp training folder into a course model folder (see the module's docstring).

    Args:
      ddsp_dir: the folder ddsp's trainer saved into (operative_config-N.gin, ckpt-STEP.*).
      out_dir: the course model folder to write.
      data: a course dataset (`python -m ttlib data build`) whose statistics to use; None: the
        folder's `dataset_statistics.pkl`.
      overwrite: replace an existing `out_dir`.
      tolerance: largest difference allowed from ddsp's own model (controls, harmonic audio, reverb).

    Raises:
      ModelError: not a ddsp folder, another architecture, a checkpoint that does not fit, statistics
        that are missing or not data, or a model that does not play as ddsp's does.
      OutputExistsError: `out_dir` exists and not `overwrite`. Nothing is written on any error.
    """
    from ttlib.data.dataset import dataset_fingerprint, read_statistics

    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise OutputExistsError(f"{out_dir} exists; choose another --out or pass --overwrite to replace it.")
    found = read_ddsp_folder(ddsp_dir)
    if Path(ddsp_dir).resolve() == out_dir.resolve():
        raise ModelError("--out must be another folder than the ddsp folder (it is read, never changed).")
    cfg = ddsp_model_config(found.operative_config)
    if data is not None:
        statistics, source = read_statistics(data), f"dataset {Path(data)}"
        dataset = {"path": str(Path(data).resolve()), **dataset_fingerprint(data)}
    elif found.statistics is not None:
        source = str(found.statistics)
        statistics, dataset = course_statistics(read_ddsp_statistics(found.statistics), source), {"path": None}
    else:
        raise ModelError(f"{found.path} has no {found.statistics or 'dataset_statistics.pkl'}: give the model's "
                         "training data as a course dataset (--data DATASET, built with `python -m ttlib data "
                         "build`) so transfer can map pitch and loudness onto the instrument.")

    ours = build_autoencoder(cfg)
    inputs = _probe_inputs(cfg)
    ours(inputs, training=False)
    _restore(ours, found.checkpoint, f"a {cfg.rnn_channels}-unit model of {found.operative_config.name}", True)
    theirs = _ddsp_own_model(found)
    theirs(inputs, training=False)
    _restore(theirs, found.checkpoint, f"ddsp's model of {found.operative_config.name}", False)
    differences = _compare(ours, theirs, inputs)
    worst = max(differences, key=lambda k: np.nan_to_num(differences[k], nan=np.inf))
    if not differences[worst] <= tolerance:
        raise ModelError(f"The imported model does not play as ddsp's own model of {found.path} does ({worst} "
                         f"differs by {differences[worst]:.3g} > {tolerance:g}); nothing was written.")

    with new_folder(out_dir, replace=True) as tmp:
        ckpt.write_model_files(tmp, cfg, statistics, {**dataset, "imported_from_ddsp": str(found.path.resolve())},
                               found.step)
        ckpt.checkpoint_manager(ckpt.checkpoint_object(ours, config=cfg), tmp, max_to_keep=1).save(
            checkpoint_number=found.step)
        shutil.copy2(found.operative_config, tmp / f"ddsp_{found.operative_config.name}")
        write_json(tmp / IMPORT_FILE, {
            "from": str(found.path.resolve()), "checkpoint": Path(found.checkpoint).name, "step": found.step,
            "operative_config": found.operative_config.name, "statistics": source,
            "checkpoint_index_sha256": sha256_file(found.checkpoint + ".index"),
            "differences_from_ddsp": differences, "tolerance": tolerance, "ttlib": ttlib.__version__,
            "note": "weights only: the optimiser's state stays in the ddsp folder"})
        ckpt.check_model_folder(tmp)
    return Imported(out_dir, cfg, found.step, differences, source)
