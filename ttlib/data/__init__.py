"""Data: features, the built-in performances, sources, datasets, and the batches training reads.

  features   `compute` (f0 + confidence + loudness, cached), `loudness_db` (ddsp's A-weighted)
  soundfont  General MIDI soundfonts and FluidSynth rendering
  score      the built-in performances' scores, composed from a seed, and their exact f0
  builtin    `build` (render and cache the built-in set), `recordings`, `clip`, `example_trumpet`
  sources    `Item`s from the built-in set, URMP or a folder of recordings
  stats      `statistics` (pitch and loudness distributions), `training_ranges`
  dataset    `build_dataset`, `read_manifest`, `read_statistics`, `provider` (ddsp's reader)
  pipeline   the dataset builder's feature step as an Apache Beam pipeline (`build_dataset(runner=...)`)
  examples   `Examples` in memory, `load_examples`, `read_examples` (dicts, with recording_id),
             `BatchSampler`, `validation_batch`

Taught in notebook 05; features from notebook 04 on.
"""
from ttlib.core.errors import DatasetError
from ttlib.data.dataset import (
                                SPLITS,
                                build_dataset,
                                dataset_fingerprint,
                                provider,
                                read_manifest,
                                read_statistics,
                                split_recordings,
                                tf_example,
                                windows,
)
from ttlib.data.examples import BatchSampler, Examples, load_examples, read_examples, validation_batch
from ttlib.data.sources import Item, parse_source
from ttlib.data.stats import statistics, training_ranges

__all__ = ["SPLITS", "BatchSampler", "DatasetError", "Examples", "Item", "build_dataset", "dataset_fingerprint",
           "load_examples", "parse_source", "provider", "read_examples", "read_manifest", "read_statistics",
           "split_recordings", "statistics", "tf_example", "training_ranges", "validation_batch", "windows"]
