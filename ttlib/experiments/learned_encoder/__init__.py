"""The learned-encoder experiment (notebook 08): a DDSP decoder conditioned on a latent z taken from
CREPE's pretrained convolutional layers instead of on f0 and loudness.

  config    `ExperimentConfig`, `FIXES`, `ROWS`, `row_config`, `row_config_by_name`, `FAST_SIZES`
  encoder   `crepe_convolutions`, `crepe_windows`, `encoder_features` (cached per dataset split)
  model     `build_model`: CREPE features -> z -> ddsp's RnnFcDecoder -> f0, harmonics, noise
  losses    `make_loss`: multi-scale spectral or log-mel, plus the silence penalty
  training  the two stages (`train_stage`), through `ttlib.models.loop`
  testset   `transfer_set`: held-out whistling and the same scores played by the built-in trumpet
  runner    `Runner`: plays a trained row (learned or the DDSP baseline)
  measures  `evaluate_run`: spectral loss, f0 and loudness errors on resynthesis and on transfer
  runs      `datasets`, `run` (one row into its folder), `load_row`, `load_runner`, `results_table`
  verdicts  `verdict` (a row against the published one), `conclusions` (notebook 08's, from the table)

`python -m ttlib experiment learned-encoder ...` runs the same rows into the same folders.
"""
from ttlib.core.errors import ExperimentError
from ttlib.experiments.learned_encoder.config import (
                                                     FAST_SIZES,
                                                     FIXES,
                                                     ROWS,
                                                     ExperimentConfig,
                                                     row_config,
                                                     row_config_by_name,
)
from ttlib.experiments.learned_encoder.encoder import (
                                                     cached_encoder_features,
                                                     crepe_convolutions,
                                                     crepe_windows,
                                                     encoder_features,
)
from ttlib.experiments.learned_encoder.losses import make_loss, mel_loss, silence_loss
from ttlib.experiments.learned_encoder.measures import METRICS_VERSION, evaluate_run, output_measures
from ttlib.experiments.learned_encoder.model import build_model
from ttlib.experiments.learned_encoder.runner import Runner
from ttlib.experiments.learned_encoder.runs import (
                                                     TABLE_COLUMNS,
                                                     datasets,
                                                     default_root,
                                                     load_row,
                                                     load_runner,
                                                     results_table,
                                                     run,
)
from ttlib.experiments.learned_encoder.testset import TransferSet, transfer_set
from ttlib.experiments.learned_encoder.verdicts import LOWER_IS_BETTER, conclusions, verdict

__all__ = ["FAST_SIZES", "FIXES", "LOWER_IS_BETTER", "METRICS_VERSION", "ROWS", "TABLE_COLUMNS", "ExperimentConfig",
           "ExperimentError", "Runner", "TransferSet", "build_model", "cached_encoder_features",
           "crepe_convolutions", "crepe_windows", "datasets", "default_root", "encoder_features", "evaluate_run",
           "load_row", "load_runner", "make_loss", "mel_loss", "output_measures", "results_table", "row_config",
           "row_config_by_name", "run", "silence_loss", "transfer_set", "conclusions", "verdict"]
