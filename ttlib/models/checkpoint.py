"""A saved model is one folder; this module writes it, checks it and loads it.

Layout of a model folder (what `ttlib.models.training.train` writes):
  config.json       the `ModelConfig` it was trained with
  statistics.json   the training data's pitch and loudness statistics (a copy of the dataset's)
  model.json        what ties them together: the configuration's name, the SHA-256 of
                    config.json and statistics.json, the dataset it came from, the last step
  checkpoints/      TensorFlow checkpoints `ckpt-STEP` (model, optimiser, noise generator,
                    and the configuration's JSON inside the checkpoint itself)
  run.json          the run log: seeds, versions, data hash, sessions, wall time, metrics
  losses.csv        step, training loss, elapsed seconds; validation.csv likewise
  tensorboard/      TensorBoard event files (`tensorboard --logdir MODEL_DIR/tensorboard`)

`load_model(folder)` checks that the files belong together and says what is wrong if not.
Notebook 06 saves, stops, resumes and loads models; notebook 07 plays them.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ttlib
from ttlib.core.errors import ConfigError, ModelError
from ttlib.core.io import read_json, sha256_text, write_json, write_text
from ttlib.models.autoencoder import build_autoencoder
from ttlib.models.configs import ModelConfig

if TYPE_CHECKING:
    import tensorflow as tf

CONFIG_FILE = "config.json"
STATISTICS_FILE = "statistics.json"
MODEL_FILE = "model.json"
RUN_FILE = "run.json"
CHECKPOINT_DIR = "checkpoints"
FOLDER_VERSION = 1


def checkpoint_object(model, optimizer=None, config: ModelConfig | None = None) -> tf.train.Checkpoint:
    """The `tf.train.Checkpoint` of a model folder: model, optimiser and the configuration's JSON."""
    import tensorflow as tf

    items = {"model": model}
    if optimizer is not None:
        items["optimizer"] = optimizer
    if config is not None:
        items["config_json"] = tf.Variable(config.to_json(), trainable=False, dtype=tf.string)
    return tf.train.Checkpoint(**items)


def checkpoint_manager(checkpoint, folder: str | os.PathLike, max_to_keep: int = 3) -> tf.train.CheckpointManager:
    """The manager that saves `checkpoint` as `folder/checkpoints/ckpt-STEP`, keeping the newest few."""
    import tensorflow as tf

    return tf.train.CheckpointManager(checkpoint, str(Path(folder) / CHECKPOINT_DIR), max_to_keep=max_to_keep)


def latest_checkpoint(folder: str | os.PathLike) -> str | None:
    """Path prefix of the newest checkpoint in a model folder, or None."""
    import tensorflow as tf

    return tf.train.latest_checkpoint(str(Path(folder) / CHECKPOINT_DIR))


def checkpoint_step(prefix: str) -> int:
    """The step in a checkpoint prefix `.../ckpt-STEP`."""
    return int(str(prefix).rsplit("-", 1)[-1])


def write_model_files(folder: str | os.PathLike, config: ModelConfig, statistics: dict, dataset: dict,
                      step: int) -> None:
    """Write config.json, statistics.json and model.json (the link between them) into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config_text = config.to_json()
    stats_text = json.dumps(statistics, indent=2, sort_keys=True)
    for name, text in ((CONFIG_FILE, config_text), (STATISTICS_FILE, stats_text)):
        write_text(folder / name, text)
    write_json(folder / MODEL_FILE, {
        "version": FOLDER_VERSION, "config_name": config.name, "config_sha256": sha256_text(config_text),
        "statistics_sha256": sha256_text(stats_text), "dataset": dataset, "step": int(step),
        "ttlib": ttlib.__version__})


@dataclass
class ModelFolder:
    """What a checked model folder holds (before any TensorFlow object is built)."""

    path: Path
    config: ModelConfig
    statistics: dict
    info: dict
    checkpoint: str

    @property
    def step(self) -> int:
        return checkpoint_step(self.checkpoint)


def find_models(root: str | os.PathLike, depth: int = 2) -> dict[str, Path]:
    """The trained model folders in `root` and up to `depth` levels below it, {name: folder}, by name.

    The name is the folder's path relative to `root` (its own name for `root` itself); folders
    `check_model_folder` refuses (incomplete, damaged) are left out. Notebook 07's model selector
    and the demo app's (`ttlib.course.demo.find_models`).
    """
    root = Path(root)
    if not root.is_dir():
        return {}
    candidates = [root] + [p for level in range(1, depth + 1) for p in sorted(root.glob("/".join(["*"] * level)))]
    found = {}
    for folder in candidates:
        if not (folder / MODEL_FILE).is_file():
            continue
        try:
            check_model_folder(folder)
        except ModelError:
            continue
        found[folder.name if folder == root else str(folder.relative_to(root))] = folder
    return dict(sorted(found.items()))


def check_model_folder(folder: str | os.PathLike) -> ModelFolder:
    """Check that a model folder is complete and that its files belong together.

    Raises:
      ModelError: naming the missing, damaged or mismatched file and what to do.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"No model folder at {folder}. Train one with `python -m ttlib train --data DATASET "
                         f"--out {folder}` (or notebook 06), or give the folder a trained model was saved in.")
    missing = [n for n in (CONFIG_FILE, STATISTICS_FILE, MODEL_FILE) if not (folder / n).is_file()]
    if missing:
        raise ModelError(f"{folder} is not a complete model folder: {', '.join(missing)} missing. A model folder "
                         "holds config.json, statistics.json, model.json and checkpoints/ "
                         "(see ttlib.models.checkpoint).")
    info = read_json(folder / MODEL_FILE)
    config_text = (folder / CONFIG_FILE).read_text()
    stats_text = (folder / STATISTICS_FILE).read_text()
    if sha256_text(config_text) != info.get("config_sha256"):
        raise ModelError(f"{folder / CONFIG_FILE} is not the configuration this model was trained with "
                         "(it was edited or copied from another model). Restore it, or train a new model "
                         "with the configuration you want.")
    if sha256_text(stats_text) != info.get("statistics_sha256"):
        raise ModelError(f"{folder / STATISTICS_FILE} is not the statistics of this model's training data "
                         f"(dataset {info.get('dataset', {}).get('path')}). Restore it: transfer's automatic "
                         "adjustment would map pitch and loudness onto the wrong instrument.")
    try:
        config = ModelConfig.from_json(config_text)
    except (ConfigError, ValueError, TypeError, KeyError) as exc:
        raise ModelError(f"{folder / CONFIG_FILE} is not a valid model configuration: {exc}") from None
    statistics = json.loads(stats_text)
    prefix = latest_checkpoint(folder)
    if prefix is None:
        raise ModelError(f"{folder} has no checkpoint in {CHECKPOINT_DIR}/: training never saved one "
                         "(or the folder was copied without it). Train with "
                         f"`python -m ttlib train ... --out {folder} --resume`.")
    saved_config = _config_in_checkpoint(prefix)
    if saved_config is not None and saved_config != config_text:
        raise ModelError(f"The checkpoint {prefix} was trained with another configuration than {CONFIG_FILE} "
                         f"says ({_config_difference(saved_config, config_text)}). Put back the model's own "
                         f"{CONFIG_FILE} or use the folder the checkpoint came from.")
    return ModelFolder(folder, config, statistics, info, prefix)


def _config_in_checkpoint(prefix: str) -> str | None:
    import tensorflow as tf

    key = "config_json/.ATTRIBUTES/VARIABLE_VALUE"
    try:
        reader = tf.train.load_checkpoint(prefix)
        if key not in reader.get_variable_to_shape_map():
            return None
        value = reader.get_tensor(key)
    except Exception as exc:
        raise ModelError(f"The checkpoint {prefix} cannot be read ({type(exc).__name__}: "
                         f"{(str(exc).splitlines() or [''])[0][:200]}). It is damaged or incomplete: delete it "
                         "(the folder keeps the previous ones) or train again.") from None
    return value.decode() if isinstance(value, bytes) else str(value)


def _config_difference(a: str, b: str) -> str:
    a, b = json.loads(a), json.loads(b)
    diffs = [f"{k}: {a.get(k)} vs {b.get(k)}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
    return "; ".join(diffs[:5]) or "formatting"


@dataclass
class LoadedModel:
    """A trained model ready to run, with what it was trained on.

    Attributes:
      model: the ddsp Autoencoder, built for `seconds` of audio.
      config: its `ModelConfig`.
      statistics: the training data's statistics (see `ttlib.data.stats`).
      folder: the model folder.
      step: the training step of the checkpoint.
      seconds: the audio length the model's synthesizers make (s).
    """

    model: object
    config: ModelConfig
    statistics: dict
    folder: Path
    step: int
    seconds: float


def load_model(folder: str | os.PathLike, seconds: float | None = None, checkpoint: str | None = None) -> LoadedModel:
    """Load a trained model from its folder, checked (see `check_model_folder`).

    Args:
      folder: the model folder.
      seconds: audio length to build the synthesizers for (s); None: the training
        example length. Must be a whole number of control frames.
      checkpoint: a specific checkpoint prefix; None: the newest.

    Raises:
      ModelError: the folder is missing, incomplete, mismatched or its checkpoint does not fit.
    """
    import numpy as np
    import tensorflow as tf

    found = check_model_folder(folder)
    prefix = checkpoint or found.checkpoint
    cfg = found.config
    seconds = cfg.example_seconds if seconds is None else float(seconds)
    try:
        sized = cfg.replace(example_seconds=seconds)
        model = build_autoencoder(sized)
    except ConfigError as exc:
        raise ModelError(f"Cannot build the model for {seconds} s: {exc}") from None
    dummy = {"audio": np.zeros((1, sized.n_samples), np.float32),
             "f0_hz": np.full((1, sized.n_frames), 220.0, np.float32),
             "loudness_db": np.full((1, sized.n_frames), -60.0, np.float32)}
    model(dummy, training=False)
    try:
        status = checkpoint_object(model).restore(prefix)
        status.assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
        raise ModelError(f"The checkpoint {prefix} does not fit the configuration in {found.path / CONFIG_FILE} "
                         f"({str(exc).splitlines()[0][:300]}). The files come from different models.") from None
    status.expect_partial()
    return LoadedModel(model, cfg, found.statistics, found.path, checkpoint_step(prefix), seconds)
