"""Models: configurations, the DDSP autoencoder, model folders, the training loop, evaluation.

  configs     `ModelConfig`, `CONFIGS` (`paper`, `course`, `tiny`), `get_config`
  autoencoder `build_autoencoder`, `multiscale_spectral_loss`, `count_parameters`, the reverb's IR
  checkpoint  the model folder: `load_model`, `check_model_folder`, `LoadedModel`
  loop        `run_loop`, the one training loop (steps, logs, checkpoints, Ctrl-C); `set_seed`
  training    `train` (a dataset into a model folder, resumable), `read_losses`, `read_validation`
  evaluation  `resynthesize`, `evaluate` (spectral loss, f0 and loudness errors), `spectral_loss`, `held_out_loss`
  export      `export`: a model as a SavedModel and a TFLite file (f0 and loudness in, controls and audio out)
  distribute  `make_strategy` (default, mirrored, multiworker, tpu), `split_cpu`: training on several devices
  ddsp_folder a training folder of ddsp's own trainer: its gin config as a `ModelConfig`, its statistics as data
  shipped     the models shipped in data/models/: `shipped_models`, `model_choices` (selectors), `model_or_shipped`,
              `make_models` (make models)
  ddsp_import `import_ddsp`: such a folder as a course model folder, checked to play as ddsp's own model

Synthesizers are built by hand in notebook 04; notebook 06 trains, resumes, loads and measures.
"""
from ttlib.core.errors import ModelError
from ttlib.models.autoencoder import (
                                      build_autoencoder,
                                      count_parameters,
                                      multiscale_spectral_loss,
                                      processors,
                                      reverb_impulse_response,
)
from ttlib.models.checkpoint import LoadedModel, check_model_folder, find_models, latest_checkpoint, load_model
from ttlib.models.configs import CONFIGS, ModelConfig, get_config
from ttlib.models.evaluation import PARTS, evaluate, held_out_loss, resynthesize, spectral_loss
from ttlib.models.loop import LoopResult, run_loop, set_seed
from ttlib.models.shipped import model_choices, model_or_shipped, shipped_models
from ttlib.models.training import (
                                      TrainResult,
                                      make_trainer,
                                      read_losses,
                                      read_validation,
                                      synthetic_batch,
                                      train,
                                      train_steps,
                                      versions,
)

__all__ = ["CONFIGS", "PARTS", "LoadedModel", "LoopResult", "ModelConfig", "ModelError", "TrainResult",
           "build_autoencoder", "check_model_folder", "count_parameters", "evaluate", "find_models", "get_config",
           "held_out_loss", "latest_checkpoint", "load_model", "make_trainer", "model_choices", "model_or_shipped",
           "multiscale_spectral_loss", "processors", "read_losses", "read_validation", "resynthesize",
           "reverb_impulse_response", "run_loop", "set_seed", "shipped_models", "spectral_loss", "synthetic_batch",
           "train", "train_steps", "versions"]
