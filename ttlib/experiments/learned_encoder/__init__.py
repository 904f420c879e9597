"""The learned-encoder experiment (notebook 08): a DDSP decoder conditioned on a latent z taken from
CREPE's pretrained convolutional layers instead of on f0 and loudness.

  config      `ExperimentConfig`, `FIXES`, `ROWS`, `row_config`, `row_config_by_name`, `FAST_SIZES`
  encoder     `crepe_convolutions`, `crepe_windows`, `encoder_features` (cached per dataset split)
  model       `build_model`: CREPE features -> z -> ddsp's RnnFcDecoder -> f0, harmonics, noise
  losses      `make_loss`: multi-scale spectral or log-mel, plus the silence penalty
  training    the two stages (`train_stage`), through `ttlib.models.loop`
  testset     `transfer_set`: held-out whistling and the same scores played by the built-in trumpet
  runner      `Runner`: plays a trained row (learned or the DDSP baseline)
  measures    `evaluate_run`: spectral loss, f0 and loudness errors on resynthesis and on transfer
  runs        `datasets`, `run` (one row, one seed, into its folder), `load_row`, `load_runner`
  provenance  `code_version`: which code made a run
  seeds       `run_dir`, `run_seeds` (rows x seeds), `row_command`, `migrate_legacy`, `TRUMPET_SOURCE`
              (the trumpet the reference was made with), `experiment_root`
  tables      `results_table` (one line per run), `summarize` (mean, min, max over seeds), `formatted`
  verdicts    `effect`, `verdict` (against the seed spread), `conclusions` (notebook 08's, from the runs)
  reference   the reference run shipped in data/reference: `reference_table`, `check_reference`

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
from ttlib.experiments.learned_encoder.provenance import code_version
from ttlib.experiments.learned_encoder.reference import (
                                                     REFERENCE_SEEDS,
                                                     check_fast_run,
                                                     check_reference,
                                                     cpu_kind,
                                                     export_reference,
                                                     fast_check_of,
                                                     record_fast_check,
                                                     reference_info,
                                                     reference_root,
)
from ttlib.experiments.learned_encoder.runner import Runner
from ttlib.experiments.learned_encoder.runs import datasets, default_root, load_row, load_runner, run
from ttlib.experiments.learned_encoder.seeds import (
                                                     TRUMPET_SOURCE,
                                                     experiment_root,
                                                     finished_seeds,
                                                     migrate_legacy,
                                                     row_command,
                                                     run_dir,
                                                     run_seeds,
)
from ttlib.experiments.learned_encoder.tables import (
                                                     TABLE_COLUMNS,
                                                     formatted,
                                                     results_table,
                                                     row_means,
                                                     summarize,
)
from ttlib.experiments.learned_encoder.testset import TransferSet, transfer_set
from ttlib.experiments.learned_encoder.verdicts import LOWER_IS_BETTER, Effect, conclusions, effect, verdict

__all__ = ["FAST_SIZES", "FIXES", "LOWER_IS_BETTER", "METRICS_VERSION", "REFERENCE_SEEDS", "ROWS", "TABLE_COLUMNS",
           "TRUMPET_SOURCE", "Effect", "ExperimentConfig", "ExperimentError", "Runner", "TransferSet", "build_model",
           "cached_encoder_features", "check_fast_run", "check_reference", "code_version", "conclusions", "cpu_kind",
           "crepe_convolutions", "crepe_windows", "datasets", "default_root", "effect", "encoder_features",
           "evaluate_run", "experiment_root", "export_reference", "fast_check_of", "finished_seeds", "formatted",
           "load_row", "load_runner", "make_loss", "mel_loss", "migrate_legacy", "output_measures",
           "record_fast_check", "reference_info", "reference_root", "results_table", "row_command", "row_config",
           "row_config_by_name", "row_means", "run", "run_dir", "run_seeds", "silence_loss", "summarize",
           "transfer_set", "verdict"]
