"""Reading a training folder of ddsp's own trainer: its gin configuration, checkpoint and statistics.

A model trained with ddsp's `ddsp_run` (or ddsp's `train_autoencoder` Colab, which runs it) is a folder of
  operative_config-N.gin     every gin binding the run used: the architecture and all its sizes
  ckpt-STEP.index, .data-*   a TensorFlow checkpoint of `model` (ddsp's Autoencoder) and `optimizer`
  dataset_statistics.pkl     optional (the Colab writes it): the training data's pitch and loudness
                             statistics, a pickled dict from ddsp's `compute_dataset_statistics`

`read_ddsp_folder` finds them, `ddsp_model_config` turns the gin bindings into the course's `ModelConfig`
(or says which binding the course's model cannot express), and `read_ddsp_statistics` reads the pickle
with a restricted unpickler: pickles can run any code when loaded, so only data is admitted (NumPy
arrays and scalars, lists, tuples, dicts, strings, numbers) and the quantile transform ddsp stores,
rebuilt as a plain record of its fields without importing its class; anything else is refused.
`course_statistics` turns them into the course's `statistics.json`. `ttlib.models.ddsp_import` uses
all four; notebook 06 explains the model folder they end up in.
"""
from __future__ import annotations

import io
import os
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from ttlib.core.errors import ModelError
from ttlib.core.units import SAMPLE_RATE
from ttlib.data.stats import QUANTILE_LEVELS
from ttlib.models.configs import ModelConfig

STATISTICS_PICKLE = "dataset_statistics.pkl"

BEHAVIOUR = {
    "RnnFcDecoder.rnn_type": "gru", "RnnFcDecoder.input_keys": ("ld_scaled", "f0_scaled"),
    "RnnFcDecoder.stateless": False, "Harmonic.normalize_below_nyquist": True, "Harmonic.scale_fn": "exp_sigmoid",
    "FilteredNoise.window_size": 0, "FilteredNoise.scale_fn": "exp_sigmoid", "FilteredNoise.initial_bias": -5.0,
    "exp_sigmoid.exponent": 10.0, "exp_sigmoid.max_value": 2.0, "exp_sigmoid.threshold": 1e-7,
    "Reverb.trainable": True, "Reverb.add_dry": True,
}
"""gin bindings the course's model fixes: a ddsp folder that binds another value cannot be imported as is."""

ARCHITECTURE = {"get_model.model": "Autoencoder", "Autoencoder.preprocessor": "F0LoudnessPreprocessor",
                "Autoencoder.encoder": None, "Autoencoder.decoder": "RnnFcDecoder",
                "Autoencoder.processor_group": "ProcessorGroup"}
"""The parts of ddsp's solo-instrument model (models/solo_instrument.gin), which the course's model is."""

DAG = (("Harmonic", ["amps", "harmonic_distribution", "f0_hz"]), ("FilteredNoise", ["noise_magnitudes"]),
       ("Add", ["filtered_noise/signal", "harmonic/signal"]), ("Reverb", ["add/signal"]))
"""The solo-instrument processor group: harmonic plus filtered noise, then (optionally) the learned reverb."""


@dataclass
class DdspFolder:
    """The files of a ddsp training folder.

    Attributes:
      path: the folder.
      operative_config: the newest `operative_config-N.gin`.
      checkpoint: the newest checkpoint's prefix (`.../ckpt-STEP`).
      statistics: `dataset_statistics.pkl`, or None when the folder has none.
    """

    path: Path
    operative_config: Path
    checkpoint: str
    statistics: Path | None

    @property
    def step(self) -> int:
        return int(self.checkpoint.rsplit("-", 1)[-1])


def _newest(paths: list[Path], pattern: str) -> Path | None:
    numbered = [(int(m.group(1)), p) for p in paths if (m := re.fullmatch(pattern, p.name))]
    return max(numbered)[1] if numbered else None


def read_ddsp_folder(folder: str | os.PathLike) -> DdspFolder:
    """The operative config, newest checkpoint and statistics of a ddsp training folder (checked, nothing read).

    Raises:
      ModelError: not a folder, no `operative_config-N.gin`, or no checkpoint.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelError(f"No folder at {folder}: give the folder ddsp's trainer saved into (ddsp_run's "
                         "--save_dir, or the Colab's SAVE_DIR, unzipped).")
    files = list(folder.iterdir())
    gin_file = _newest(files, r"operative_config-(-?\d+)\.gin")
    if gin_file is None:
        raise ModelError(f"{folder} is not a ddsp training folder: it has no operative_config-N.gin (ddsp_run "
                         "writes one at the start of training; it says which model the checkpoint holds).")
    index = _newest(files, r"ckpt-(\d+)\.index")
    if index is None or not any(f.name.startswith(index.name[:-len(".index")] + ".data-") for f in files):
        raise ModelError(f"{folder} has no complete checkpoint (ckpt-STEP.index with its ckpt-STEP.data-* files): "
                         "training never saved one, or it was copied without them.")
    stats = folder / STATISTICS_PICKLE
    return DdspFolder(folder, gin_file, str(index)[:-len(".index")], stats if stats.is_file() else None)


def _name(value) -> object:
    """A gin reference as its configurable's name (`@decoders.RnnFcDecoder()` -> 'RnnFcDecoder')."""
    key = getattr(value, "config_key", None)
    return key[-1].split(".")[-1] if key else value


def read_bindings(operative_config: str | os.PathLike, names: list[str]) -> dict:
    """The values of gin bindings `names` in a ddsp operative config (macros resolved; unbound ones left out).

    gin's own parser reads the file with ddsp's configurables registered, as ddsp's
    `parse_operative_config` does; the global gin state is cleared afterwards.
    """
    import ddsp.training  # noqa: F401  (registers ddsp's configurables with gin)
    import gin

    gin.clear_config()
    try:
        with gin.unlock_config():
            gin.parse_config_file(str(operative_config), skip_unknown=True)
        values = {}
        for name in names:
            try:
                value = gin.query_parameter(name)
            except ValueError:
                continue
            if getattr(value, "config_key", ("", ""))[-1] == "gin.macro":
                value = gin.query_parameter("%" + value.config_key[0])
            values[name] = value
        return values
    except Exception as exc:  # gin raises many kinds for a file it cannot parse
        raise ModelError(f"{operative_config} cannot be read as a gin configuration ({type(exc).__name__}: "
                         f"{(str(exc).splitlines() or [''])[0][:200]}).") from None
    finally:
        gin.clear_config()


SIZES = ["Harmonic.sample_rate", "Harmonic.n_samples", "FilteredNoise.n_samples", "F0LoudnessPreprocessor.time_steps",
         "F0LoudnessPreprocessor.frame_rate", "RnnFcDecoder.rnn_channels", "RnnFcDecoder.ch",
         "RnnFcDecoder.layers_per_stack", "RnnFcDecoder.output_splits", "Harmonic.amp_resample_method",
         "Reverb.reverb_length", "SpectralLoss.fft_sizes", "Trainer.learning_rate", "train.batch_size",
         "train.num_steps", "ProcessorGroup.dag"]


def ddsp_model_config(operative_config: str | os.PathLike, name: str = "imported-ddsp") -> ModelConfig:
    """The course's `ModelConfig` of the model a ddsp operative config describes.

    Raises:
      ModelError: the config is another architecture than ddsp's solo-instrument autoencoder (an
        encoder, another decoder or synthesizer, the DDSP-VST model), or binds a setting the course's
        model fixes (`BEHAVIOUR`); the message names the binding.
    """
    b = read_bindings(operative_config, list(ARCHITECTURE) + list(BEHAVIOUR) + SIZES)
    where = Path(operative_config).name
    for key, wanted in ARCHITECTURE.items():
        got = _name(b.get(key, wanted))
        if got != wanted:
            raise ModelError(f"{where} sets {key} = {got}; the course imports ddsp's solo-instrument autoencoder "
                             f"({key} = {wanted}, models/solo_instrument.gin) and no other architecture.")
    dag = [(_name(ref), list(inputs)) for ref, inputs in b.get("ProcessorGroup.dag", [])]
    if [tuple(x) for x in dag] not in ([tuple(x) for x in DAG], [tuple(x) for x in DAG[:3]]):
        raise ModelError(f"{where} has the processor group {[p for p, _ in dag]}; the course's model is "
                         "Harmonic + FilteredNoise -> Add -> Reverb (optional), as models/solo_instrument.gin.")
    for key, wanted in BEHAVIOUR.items():
        got = _name(b[key]) if key in b else wanted
        if isinstance(wanted, tuple):
            got = tuple(got)
        if got != wanted and not (isinstance(wanted, float) and np.isclose(float(got), wanted)):
            raise ModelError(f"{where} sets {key} = {got!r}; the course's model has {wanted!r} and cannot "
                             "play this model as ddsp does.")
    splits = tuple((str(k), int(n)) for k, n in b.get("RnnFcDecoder.output_splits", ()))
    if [k for k, _ in splits] != ["amps", "harmonic_distribution", "noise_magnitudes"]:
        raise ModelError(f"{where}: the decoder's outputs are {splits}; the course's model needs amps, "
                         "harmonic_distribution and noise_magnitudes, in that order.")
    sample_rate = int(b.get("Harmonic.sample_rate", SAMPLE_RATE))
    n_samples, time_steps = int(b.get("Harmonic.n_samples", 64000)), int(b.get("F0LoudnessPreprocessor.time_steps",
                                                                                  1000))
    if sample_rate != SAMPLE_RATE or n_samples != int(b.get("FilteredNoise.n_samples", n_samples)):
        raise ModelError(f"{where}: audio at {sample_rate} Hz ({n_samples} samples); the course's models run "
                         f"at {SAMPLE_RATE} Hz with one length for all synthesizers.")
    seconds = n_samples / sample_rate
    has_reverb = len(dag) == len(DAG)
    try:
        return ModelConfig(
            name=name, sample_rate=sample_rate, frame_rate=int(round(time_steps / seconds)), example_seconds=seconds,
            rnn_channels=int(b.get("RnnFcDecoder.rnn_channels", 512)), mlp_channels=int(b.get("RnnFcDecoder.ch", 512)),
            mlp_layers=int(b.get("RnnFcDecoder.layers_per_stack", 3)), n_harmonics=splits[1][1],
            n_noise_bands=splits[2][1],
            reverb_seconds=int(b.get("Reverb.reverb_length", 48000)) / sample_rate if has_reverb else 0.0,
            fft_sizes=tuple(int(n) for n in b.get("SpectralLoss.fft_sizes", (2048, 1024, 512, 256, 128, 64))),
            learning_rate=float(b.get("Trainer.learning_rate", 3e-4)), batch_size=int(b.get("train.batch_size", 32)),
            train_steps=int(b.get("train.num_steps", 30000)),
            amp_resample_method=str(b.get("Harmonic.amp_resample_method", "window"))).validate()
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{where} describes a model the course cannot build: {exc}") from None


class _Record:
    """A pickled object's fields, kept as data (its class is never imported, its constructor never run)."""

    def __setstate__(self, state) -> None:
        self.__dict__.update(state if isinstance(state, dict) else {"state": state})


def _numpy_globals() -> dict:
    """The functions NumPy's own pickles of arrays and scalars call, as NumPy's `__reduce__` names them,
    under the module names of NumPy 1 (`numpy.core`) and 2 (`numpy._core`)."""
    reconstruct = np.zeros(1).__reduce__()[0]
    scalar = np.float64(0).__reduce__()[0]
    frombuffer = np.zeros(1).__reduce_ex__(5)[0]
    found = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for module in ("numpy.core", "numpy._core"):
        found[(f"{module}.multiarray", reconstruct.__name__)] = reconstruct
        found[(f"{module}.multiarray", scalar.__name__)] = scalar
        found[(f"{module}.numeric", frombuffer.__name__)] = frombuffer
    return found


def _record(*_args) -> _Record:
    return _Record()


RECORD_CLASSES = {("ddsp.training.postprocessing", "QuantileTransformer"),
                  ("sklearn.preprocessing._data", "QuantileTransformer"),
                  ("sklearn.preprocessing.data", "QuantileTransformer")}
"""Classes whose pickled instances are read as `_Record`s: the quantile transforms ddsp's statistics hold."""

RECORD_FACTORIES = ({("numpy.random._pickle", f"__{kind}_ctor") for kind in ("randomstate", "bit_generator",
                                                                                 "generator")}
                    | {(f"numpy.random._{name.lower()}", name) for name in ("MT19937", "PCG64", "PCG64DXSM", "Philox",
                                                                            "SFC64")}
                    | {("numpy.random.bit_generator", n) for n in ("SeedSequence", "__pyx_unpickle_SeedSequence")})
"""NumPy's random-state constructors (a transform keeps its generator): read as `_Record`s, never built."""


class _NotData(pickle.UnpicklingError):
    """A pickle names a global (a function or class) that is not admitted."""


class _DataUnpickler(pickle.Unpickler):
    """An unpickler that admits data only (Python's documented way: override `find_class`)."""

    allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.allowed:
            return self.allowed[(module, name)]
        if (module, name) in RECORD_CLASSES:
            return _Record
        if (module, name) in RECORD_FACTORIES:
            return _record
        raise _NotData(f"{module}.{name}")


def read_ddsp_statistics(path: str | os.PathLike) -> dict:
    """ddsp's `dataset_statistics.pkl`, read without running code from it.

    Raises:
      ModelError: the file is not a pickle of a dict, or it holds anything but data (the message
        names what it holds, and nothing from it was run).
    """
    path = Path(path)
    try:
        value = _DataUnpickler(io.BytesIO(path.read_bytes())).load()
    except _NotData as exc:
        raise ModelError(f"{path} holds {exc}, which is not data: refused, since loading it would run code. "
                         "Give the training data instead (--data DATASET) to compute the statistics.") from None
    except Exception as exc:  # a truncated or non-pickle file raises many kinds
        raise ModelError(f"{path} is not a readable pickle ({type(exc).__name__}): give --data DATASET instead.") \
            from None
    if not isinstance(value, dict):
        raise ModelError(f"{path} holds a {type(value).__name__}, not ddsp's dict of dataset statistics.")
    return value


def course_statistics(ddsp_stats: dict, source: str) -> dict:
    """ddsp's dataset statistics as the course's `statistics.json` (what transfer's adjustment reads).

    Voiced loudness quantiles come from ddsp's quantile transform (fitted on the frames where a note
    plays, up to 1000 quantiles), read at the course's 101 levels. ddsp keeps only the pitch's mean,
    spread and range, so its quantiles are those of a normal distribution with that mean and spread,
    clipped to the range: the median (which the automatic adjustment uses) is ddsp's mean, as in ddsp's
    own timbre-transfer Colab. `approximations` says so in the file.

    Raises:
      ModelError: a statistic the course needs is missing.
    """
    try:
        mean, std = float(ddsp_stats["mean_pitch_note"]), float(ddsp_stats["std_pitch_note"])
        low, high = float(ddsp_stats["min_pitch_note"]), float(ddsp_stats["max_pitch_note"])
        transform = ddsp_stats["quantile_transform"]
        refs = np.asarray(transform.references_, float).reshape(-1)
        loud_q = np.asarray(transform.quantiles_, float).reshape(len(refs), -1)[:, 0]
        loud_mean, loud_std = float(ddsp_stats["mean_loudness_note"]), float(ddsp_stats["std_loudness_note"])
        all_mean, all_std = float(ddsp_stats["mean_loudness"]), float(ddsp_stats["std_loudness"])
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise ModelError(f"{source} lacks a statistic the course needs ({exc}); give --data DATASET instead.") \
            from None
    levels = QUANTILE_LEVELS / 100.0
    normal = NormalDist(mean, max(std, 1e-6))
    pitch_q = [low] + [min(max(normal.inv_cdf(q), low), high) for q in levels[1:-1]] + [high]
    train = {"confidence_threshold": None, "quantile_levels_percent": QUANTILE_LEVELS.tolist(),
             "pitch_midi": {"mean": mean, "std": std, "min": low, "max": high, "quantiles": pitch_q},
             "loudness_db_voiced": {"mean": loud_mean, "std": loud_std,
                                    "quantiles": np.interp(levels, refs, loud_q).tolist()},
             "loudness_db": {"mean": all_mean, "std": all_std}}
    return {"train": train, "source": source,
            "approximations": ["pitch_midi quantiles: a normal distribution with ddsp's note-pitch mean and std, "
                               "clipped to its min and max (ddsp keeps no pitch quantiles)",
                               "loudness_db_voiced quantiles: ddsp's quantile transform of note-on loudness, "
                               "interpolated at 101 levels"]}
