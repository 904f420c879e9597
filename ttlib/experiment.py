"""The learned-encoder experiment (notebook 08): conditioning a DDSP decoder on a latent z
taken from CREPE's pretrained convolutional layers instead of on f0 and loudness.

The published set-up (Guyomard, "Applications of Deep Learning in Timbre Transfer",
MIT 6.S898 blog, 2023), as far as it is described, and our choices where it is silent:

  encoder   CREPE's six pretrained convolutional layers (`capacity` tiny; the classifier
            dropped) read a 1024-sample window around every control frame, normalised to
            zero mean and unit variance as CREPE wants; a dense layer maps the flattened
            features to z (16 numbers per frame). The convolutions are frozen (default)
            or fine-tuned in the first stage (`encoder_trainable`).
  decoder   ddsp's `RnnFcDecoder` (dense layers with layer normalisation, a GRU, dense
            layers) reads z and outputs the harmonic oscillator's f0 (a sigmoid between
            `f0_range_midi`), its amplitude and harmonic distribution, and, with
            `noise`, the filtered noise's magnitudes. Nothing tells it f0 or loudness.
  training  16 kHz, random 4 s clips, batch 16, the multi-scale spectral loss (linear
            plus log magnitudes; or `loss="log-mel"`). Stage 1: the whole autoencoder on
            the built-in whistling. Stage 2: the encoder frozen, the decoder trained on
            (continues from stage 1 on) the built-in trumpet.

The proposed fixes, each a field of `ExperimentConfig` (`FIXES` lists them):
  loudness_skip    the decoder also gets the input's loudness (ddsp's A-weighted
                   loudness, scaled like ddsp's `ld_scaled`): an explicit power skip;
  silence_penalty  a loss term that punishes the output for being quieter than the
                   target where the target plays (dB of frame power, see `silence_loss`);
  larger_encoder   CREPE `small` (twice the filters) and a 32-number z;
  log_mel          a multi-scale log-mel loss instead of linear-plus-log magnitudes.
The DDSP baseline (`conditioning="f0-loudness"`) is notebook 06's model (the `course`
sizes, no reverb like the others) trained on the same trumpet data for as many steps
as the decoder of stage 2.

Every run writes one folder (see `run`): run.json (configuration, seed, versions,
command line, wall time), losses.csv, the weights, metrics.json (see `evaluate_run`)
and example WAVs. `python -m ttlib experiment learned-encoder ...` writes the same.
"""
from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import ttlib  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
from ttlib import SAMPLE_RATE

FIXES = ("loudness-skip", "silence-penalty", "larger-encoder", "log-mel")
"""The fixes the author proposed (plus the log-mel loss), by their command-line names."""
ROWS = ("published-harmonic", "published", "loudness-skip", "silence-penalty", "larger-encoder", "log-mel",
        "all-fixes", "ddsp-baseline")
"""The rows of notebook 08's results table, in order (`row_config` builds each)."""
DEFAULT_ROOT = "data/generated/experiments/learned-encoder"
FRAME_LENGTH = 1024
"""CREPE's window (samples at 16 kHz)."""
METRICS_VERSION = 2
"""Bump when `evaluate_run` measures something new: finished runs are measured again from
their saved weights (not retrained) the next time they are asked for."""
SILENT_DB = -70.0
"""An output frame quieter than this (ddsp's A-weighted loudness, dB) is silent; the
same level below which an input frame does not count as playing (`evaluation.PLAYING_DB`)."""


class ExperimentError(ValueError):
    """A run folder, dataset or setting is unusable; the message says what to do."""


@dataclass(frozen=True)
class ExperimentConfig:
    """One run of the experiment (one row of the results table).

    Attributes:
      name: the row's name.
      conditioning: "learned" (z from the CREPE encoder) or "f0-loudness" (the DDSP baseline).
      encoder_capacity: CREPE capacity whose convolutions make the encoder.
      encoder_trainable: fine-tune those convolutions in stage 1 (else frozen; z's dense
        layer always trains in stage 1); the whole encoder is frozen in stage 2.
      z_dims: numbers per frame in z.
      noise: add the filtered-noise synthesizer (else the harmonic oscillator alone).
      loudness_skip: the decoder also gets the input's loudness.
      silence_weight: weight of the silence penalty (0 = off).
      loss: "spectral" (multi-scale linear + log magnitudes) or "log-mel".
      f0_range_midi: the range of the decoder's f0 output (MIDI numbers).
      whistle_steps, trumpet_steps: training steps of stage 1 and stage 2.
      example_seconds, batch_size, frame_rate, sample_rate: clips, batch and control rate.
      rnn_channels, mlp_channels, mlp_layers: the decoder's size (ddsp's RnnFcDecoder).
      n_harmonics, n_noise_bands: the synthesizers' sizes.
      fft_sizes: FFT sizes of the training loss.
      learning_rate: Adam's learning rate.
    """

    name: str = "published"
    conditioning: str = "learned"
    encoder_capacity: str = "tiny"
    encoder_trainable: bool = False
    z_dims: int = 16
    noise: bool = True
    loudness_skip: bool = False
    silence_weight: float = 0.0
    loss: str = "spectral"
    f0_range_midi: tuple = (36.0, 108.0)
    whistle_steps: int = 100
    trumpet_steps: int = 300
    example_seconds: float = 4.0
    batch_size: int = 16
    frame_rate: int = 50
    sample_rate: int = SAMPLE_RATE
    rnn_channels: int = 256
    mlp_channels: int = 256
    mlp_layers: int = 2
    n_harmonics: int = 60
    n_noise_bands: int = 65
    fft_sizes: tuple = (2048, 1024, 512, 256, 128, 64)
    learning_rate: float = 1e-3

    @property
    def n_frames(self) -> int:
        return int(round(self.example_seconds * self.frame_rate))

    @property
    def n_samples(self) -> int:
        return int(round(self.example_seconds * self.sample_rate))

    @property
    def hop(self) -> int:
        return self.sample_rate // self.frame_rate

    def validate(self) -> "ExperimentConfig":
        from ttlib.crepe_weights import CAPACITIES

        problems = []
        if self.conditioning not in ("learned", "f0-loudness"):
            problems.append(f"conditioning must be 'learned' or 'f0-loudness', not {self.conditioning!r}")
        if self.encoder_capacity not in CAPACITIES:
            problems.append(f"encoder_capacity must be one of {', '.join(CAPACITIES)}")
        if self.loss not in ("spectral", "log-mel"):
            problems.append(f"loss must be 'spectral' or 'log-mel', not {self.loss!r}")
        if self.sample_rate % self.frame_rate or self.n_samples % self.n_frames:
            problems.append("the sample rate must be a whole number of samples per frame")
        if min(self.z_dims, self.batch_size, self.rnn_channels, self.mlp_channels, self.mlp_layers,
               self.n_harmonics, self.n_noise_bands) < 1:
            problems.append("sizes must be at least 1")
        if self.whistle_steps < 0 or self.trumpet_steps < 1 or self.silence_weight < 0:
            problems.append("steps must be >= 0 (whistle) / >= 1 (trumpet), silence_weight >= 0")
        if not self.f0_range_midi[0] < self.f0_range_midi[1]:
            problems.append("f0_range_midi must be (low, high)")
        if problems:
            raise ExperimentError(f"Experiment configuration {self.name!r}: " + "; ".join(problems) + ".")
        return self

    def replace(self, **changes) -> "ExperimentConfig":
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self) -> dict:
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> "ExperimentConfig":
        values = dict(values)
        for key in ("f0_range_midi", "fft_sizes"):
            if key in values:
                values[key] = tuple(values[key])
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ExperimentError(f"Unknown experiment fields: {sorted(unknown)}")
        return cls(**values).validate()


FAST_SIZES = dict(example_seconds=1.0, batch_size=4, rnn_channels=32, mlp_channels=32, mlp_layers=1,
                  n_harmonics=16, n_noise_bands=16, fft_sizes=(1024, 256, 64), whistle_steps=6, trumpet_steps=6)
"""The quick setting (tests, FAST): small decoder, 1 s clips, a few steps."""


def row_config(fixes=(), harmonic_only: bool = False, baseline: bool = False, fine_tune: bool = False,
               whistle_steps: int | None = None, trumpet_steps: int | None = None, fast: bool = False,
               name: str | None = None) -> ExperimentConfig:
    """The configuration of one row: the published set-up with `fixes` switched on.

    Args:
      fixes: names from `FIXES` (or "all").
      harmonic_only: no filtered noise (the first published model).
      baseline: the DDSP baseline (f0 and loudness conditioning; `fixes` must be empty).
      fine_tune: fine-tune CREPE's convolutions in stage 1.
      whistle_steps, trumpet_steps: None keeps the defaults (`FAST_SIZES` when `fast`).
      fast: the quick setting.
    """
    fixes = list(fixes or ())
    if "all" in fixes:
        fixes = list(FIXES)
    unknown = [f for f in fixes if f not in FIXES]
    if unknown:
        raise ExperimentError(f"Unknown fix(es) {unknown}; choose from {', '.join(FIXES)} or all.")
    if baseline and (fixes or harmonic_only or fine_tune):
        raise ExperimentError("The DDSP baseline takes no fixes, --harmonic-only or --fine-tune-encoder: "
                              "it has no encoder and is the published decoder's reference.")
    changes = dict(FAST_SIZES) if fast else {}
    if baseline:
        changes.update(conditioning="f0-loudness", whistle_steps=0)
        auto = "ddsp-baseline"
    else:
        if "loudness-skip" in fixes:
            changes["loudness_skip"] = True
        if "silence-penalty" in fixes:
            changes["silence_weight"] = 1.0
        if "larger-encoder" in fixes:
            changes.update(encoder_capacity="small", z_dims=32)
        if "log-mel" in fixes:
            changes["loss"] = "log-mel"
        if harmonic_only:
            changes["noise"] = False
        if fine_tune:
            changes["encoder_trainable"] = True
        ordered = [f for f in FIXES if f in fixes]
        auto = ("all-fixes" if len(ordered) == len(FIXES) else "+".join(ordered)) if ordered else "published"
        auto += "-harmonic" if harmonic_only else ""
        auto += "-finetuned" if fine_tune else ""
    if whistle_steps is not None and not baseline:
        changes["whistle_steps"] = int(whistle_steps)
    if trumpet_steps is not None:
        changes["trumpet_steps"] = int(trumpet_steps)
    changes["name"] = name or auto
    return ExperimentConfig().replace(**changes)


def row_config_by_name(name: str, fast: bool = False, whistle_steps: int | None = None,
                       trumpet_steps: int | None = None) -> ExperimentConfig:
    """The configuration of a row of `ROWS` by its name."""
    kinds = {"published-harmonic": dict(harmonic_only=True), "published": {}, "all-fixes": dict(fixes=["all"]),
             "ddsp-baseline": dict(baseline=True)}
    kinds.update({fix: dict(fixes=[fix]) for fix in FIXES})
    if name not in kinds:
        raise ExperimentError(f"Unknown row {name!r}; the rows are {', '.join(ROWS)}.")
    return row_config(**kinds[name], fast=fast, whistle_steps=whistle_steps, trumpet_steps=trumpet_steps)


def row_command(cfg: ExperimentConfig, seed: int = 0, fast: bool = False) -> str:
    """The command line that reruns this row."""
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
    if seed:
        parts.append(f"--seed {seed}")
    return " ".join(parts)


# ----------------------------------------------------------------------------- the encoder
def crepe_convolutions(capacity: str = "tiny"):
    """A fresh copy of CREPE's pretrained convolutional layers: [n, 1024] frames -> [n, features].

    The copy has its own weights (fine-tuning it does not change the tracker that
    `ttlib.pitch` uses). Features: 4 positions x 64 x capacity-multiplier/4 channels
    (256 for tiny, 512 for small).
    """
    import crepe.core
    import tensorflow as tf

    from ttlib import crepe_weights

    crepe_weights.check_installed(capacity)
    full = crepe.core.build_and_load_model(capacity)
    trunk = tf.keras.Model(full.input, full.get_layer("flatten").output, name=f"crepe_{capacity}_convs")
    copy = tf.keras.models.clone_model(trunk)
    copy.set_weights(trunk.get_weights())
    return copy


def frames(audio, frame_rate: int, n_frames: int):
    """CREPE's normalised windows around every control frame.

    Args:
      audio: [batch, n_samples] tensor at 16 kHz.
      n_frames: frames to return; frame i is centred on sample i * hop.

    Returns:
      [batch, n_frames, 1024]: each window minus its mean, divided by its standard
      deviation (CREPE's input; it throws the window's level away).
    """
    import tensorflow as tf

    hop = SAMPLE_RATE // frame_rate
    padded = tf.pad(audio, [[0, 0], [FRAME_LENGTH // 2, FRAME_LENGTH // 2]])
    windows = tf.signal.frame(padded, FRAME_LENGTH, hop)[:, :n_frames]
    windows = windows - tf.reduce_mean(windows, axis=-1, keepdims=True)
    return windows / tf.maximum(tf.math.reduce_std(windows, axis=-1, keepdims=True), 1e-8)


def encoder_features(audio, capacity: str = "tiny", frame_rate: int = 50, chunk_frames: int = 2048,
                     convolutions=None) -> np.ndarray:
    """CREPE's convolutional features of every control frame of some clips.

    Args:
      audio: [n, n_samples] at 16 kHz.
      convolutions: a `crepe_convolutions` model to use (default: a new one).

    Returns:
      [n, n_samples // hop, features] float32.
    """
    import tensorflow as tf

    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2:
        raise ExperimentError(f"encoder_features wants [clips, samples], got shape {audio.shape}.")
    convolutions = convolutions or crepe_convolutions(capacity)
    n_frames = audio.shape[1] // (SAMPLE_RATE // frame_rate)
    per_chunk = max(1, chunk_frames // max(n_frames, 1))
    out = []
    for s in range(0, audio.shape[0], per_chunk):
        windows = frames(tf.convert_to_tensor(audio[s:s + per_chunk]), frame_rate, n_frames)
        flat = tf.reshape(windows, [-1, FRAME_LENGTH])
        feats = convolutions(flat, training=False)
        out.append(np.asarray(tf.reshape(feats, [windows.shape[0], n_frames, -1])))
    return np.concatenate(out).astype(np.float32)


def cached_encoder_features(examples, dataset_dir, split: str, capacity: str, frame_rate: int,
                            cache_dir=None, progress: bool = False) -> np.ndarray:
    """`encoder_features` of a dataset split's examples, computed once and kept on disk.

    The cache file is named by the split's TFRecord SHA-256, the capacity and the frame rate.
    """
    from ttlib import checkpoint, features

    record = Path(dataset_dir) / f"{split}.tfrecord"
    digest = checkpoint.sha256_file(record)[:16]
    root = Path(cache_dir) if cache_dir is not None else features.default_cache_dir()
    path = root / "crepe-encoder" / f"{digest}-{split}-{capacity}-{frame_rate}fps.npy"
    expected = (len(examples), examples.audio.shape[1] // (SAMPLE_RATE // frame_rate))
    if path.is_file():
        try:
            cached = np.load(path)
            if cached.shape[:2] == expected:
                return cached
        except (OSError, ValueError):
            pass                                            # damaged: compute again
    start = time.perf_counter()
    convolutions = crepe_convolutions(capacity)
    parts = []
    step = 32
    iterator = range(0, len(examples), step)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"CREPE {capacity} features ({split})", unit="x32", leave=False)
    for s in iterator:
        parts.append(encoder_features(examples.audio[s:s + step], capacity, frame_rate, convolutions=convolutions))
    values = np.concatenate(parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npy")
    np.save(tmp, values)
    os.replace(tmp, path)
    if progress:
        print(f"CREPE {capacity} features of {len(examples)} {split} examples: {time.perf_counter() - start:.0f} s "
              f"(cached in {path})")
    return values


# ----------------------------------------------------------------------------- the model
def build_model(cfg: ExperimentConfig, seed: int = 0, seconds: float | None = None):
    """The learned-encoder autoencoder of `cfg` (a tf.keras Model, built on first call).

    Call it with {"features": [batch, frames, F] CREPE features (frozen convolutions) or
    "audio": [batch, n_samples] (fine-tuned ones), "loudness_db": [batch, frames]
    (with `loudness_skip`)}. Returns {"audio", "harmonic", "noise": [batch, n_samples],
    "f0_hz", "amplitude": [batch, frames], "z": [batch, frames, z_dims]}.
    `seconds` sets the length of audio the synthesizers make (default: the clips').
    """
    import ddsp
    import tensorflow as tf
    from ddsp.training import decoders, preprocessing

    from ttlib import fast_synth, models

    if cfg.conditioning != "learned":
        raise ExperimentError("build_model builds the learned-encoder model; the baseline is ttlib.models' own.")
    seconds = cfg.example_seconds if seconds is None else float(seconds)
    n_samples = int(round(seconds * cfg.sample_rate))
    tf.keras.utils.set_random_seed(seed)
    low, high = cfg.f0_range_midi

    class LearnedEncoderAutoencoder(tf.keras.Model):
        def __init__(self):
            super().__init__(name="learned_encoder_autoencoder")
            self.convolutions = crepe_convolutions(cfg.encoder_capacity) if cfg.encoder_trainable else None
            self.to_z = tf.keras.layers.Dense(cfg.z_dims, name="to_z")
            keys = ("z", "ld_scaled") if cfg.loudness_skip else ("z",)
            splits = [("f0_logit", 1), ("amps", 1), ("harmonic_distribution", cfg.n_harmonics)]
            if cfg.noise:
                splits.append(("noise_magnitudes", cfg.n_noise_bands))
            self.decoder = decoders.RnnFcDecoder(
                rnn_channels=cfg.rnn_channels, rnn_type="gru", ch=cfg.mlp_channels,
                layers_per_stack=cfg.mlp_layers, input_keys=keys, output_splits=tuple(splits), name="decoder")
            self.harmonic = fast_synth.harmonic_class()(
                n_samples=n_samples, sample_rate=cfg.sample_rate, normalize_below_nyquist=True,
                scale_fn=ddsp.core.exp_sigmoid, amp_resample_method="linear", name="harmonic")
            self.noise = models._seeded_noise_class()(
                seed=seed, n_samples=n_samples, window_size=0, scale_fn=ddsp.core.exp_sigmoid,
                name="filtered_noise") if cfg.noise else None

        def encoder_variables(self):
            out = list(self.to_z.trainable_variables)
            if self.convolutions is not None:
                out += list(self.convolutions.trainable_variables)
            return out

        def decoder_variables(self):
            out = list(self.decoder.trainable_variables)
            if self.noise is not None:
                out += list(self.noise.trainable_variables)
            return out

        def call(self, inputs, training=False):
            if self.convolutions is not None and "audio" in inputs:
                audio = tf.convert_to_tensor(inputs["audio"])
                n = int(audio.shape[1]) // cfg.hop
                windows = frames(audio, cfg.frame_rate, n)
                feats = self.convolutions(tf.reshape(windows, [-1, FRAME_LENGTH]), training=False)
                feats = tf.reshape(feats, [-1, n, feats.shape[-1]])
            else:
                feats = tf.convert_to_tensor(inputs["features"])
            z = self.to_z(feats)
            decoder_inputs = {"z": z}
            if cfg.loudness_skip:
                ld = tf.convert_to_tensor(inputs["loudness_db"])[..., tf.newaxis]
                decoder_inputs["ld_scaled"] = preprocessing.scale_db(ld)        # ddsp: db / 80 + 1
            controls = self.decoder(decoder_inputs)
            midi = low + (high - low) * tf.sigmoid(controls["f0_logit"])
            f0_hz = ddsp.core.midi_to_hz(midi)
            harmonic = self.harmonic(controls["amps"], controls["harmonic_distribution"], f0_hz)
            out = {"harmonic": harmonic, "f0_hz": f0_hz[..., 0], "z": z,
                   "amplitude": ddsp.core.exp_sigmoid(controls["amps"])[..., 0]}
            if self.noise is not None:
                noise = self.noise(controls["noise_magnitudes"])
                out["noise"] = noise
                out["audio"] = harmonic + noise
            else:
                out["noise"] = tf.zeros_like(harmonic)
                out["audio"] = harmonic
            return out

    return LearnedEncoderAutoencoder()


# ----------------------------------------------------------------------------- losses
def mel_loss(fft_sizes, sample_rate: int = SAMPLE_RATE):
    """Multi-scale log-mel loss: L1 of log mel-band magnitudes at each FFT size.

    Bands per scale: n_fft / 8, between 8 and 128 (a 64-point FFT has 33 bins).
    """
    import ddsp
    import tensorflow as tf

    matrices = {}
    for size in fft_sizes:
        n_mels = int(min(128, max(8, size // 8)))
        matrices[size] = tf.signal.linear_to_mel_weight_matrix(
            n_mels, size // 2 + 1, sample_rate, 20.0, sample_rate / 2.0)

    def loss(target, audio):
        total = 0.0
        for size, matrix in matrices.items():
            t = tf.tensordot(ddsp.spectral_ops.compute_mag(target, size), matrix, 1)
            a = tf.tensordot(ddsp.spectral_ops.compute_mag(audio, size), matrix, 1)
            total += tf.reduce_mean(tf.abs(ddsp.core.safe_log(t) - ddsp.core.safe_log(a)))
        return total

    return loss


def frame_power_db(audio, hop: int, frame_length: int = 1024):
    """Mean-square power of frames centred every `hop` samples, in dB ([batch, n_samples // hop])."""
    import tensorflow as tf

    n = int(audio.shape[1]) // hop
    padded = tf.pad(audio, [[0, 0], [frame_length // 2, frame_length // 2]])
    windows = tf.signal.frame(padded, frame_length, hop)[:, :n]
    return 10.0 * tf.math.log(tf.reduce_mean(windows ** 2, axis=-1) + 1e-10) / tf.math.log(10.0)


def silence_loss(target, audio, hop: int, range_db: float = 40.0, margin_db: float = 6.0):
    """The silence penalty: how far (in tens of dB) the output falls below the target where the target plays.

    A frame plays when its power is within `range_db` of the clip's loudest frame; the
    penalty is mean over those frames of max(0, target dB - output dB - `margin_db`) / 10.
    """
    import tensorflow as tf

    t = frame_power_db(target, hop)
    a = frame_power_db(audio, hop)
    playing = tf.cast(t > tf.reduce_max(t, axis=1, keepdims=True) - range_db, tf.float32)
    short = tf.nn.relu(t - a - margin_db) / 10.0
    return tf.reduce_sum(short * playing) / tf.maximum(tf.reduce_sum(playing), 1.0)


def make_loss(cfg: ExperimentConfig):
    """The training loss of `cfg`: f(target, audio) -> {"total", "reconstruction", "silence"}."""
    from ttlib import models

    reconstruction = models.spectral_loss(cfg.fft_sizes) if cfg.loss == "spectral" else mel_loss(cfg.fft_sizes)

    def loss(target, audio):
        rec = reconstruction(target, audio)
        out = {"reconstruction": rec, "silence": 0.0 * rec}
        if cfg.silence_weight > 0:
            out["silence"] = silence_loss(target, audio, cfg.hop)
        out["total"] = rec + cfg.silence_weight * out["silence"]
        return out

    return loss


# ----------------------------------------------------------------------------- data
@dataclass
class Stage:
    """One stage's data: examples at the control frame rate and their CREPE features (or None)."""

    examples: object
    features: np.ndarray | None


def at_frame_rate(examples, frame_rate: int):
    """A `ttlib.train.Examples` with its frame features taken at `frame_rate` (every k-th frame)."""
    step = int(round(examples.frame_rate / frame_rate))
    if abs(examples.frame_rate / step - frame_rate) > 1e-6:
        raise ExperimentError(f"The dataset's {examples.frame_rate:g} frames/s are not a multiple of {frame_rate}.")
    truth = None if examples.f0_hz_truth is None else examples.f0_hz_truth[:, ::step]
    return dataclasses.replace(examples, f0_hz=examples.f0_hz[:, ::step], f0_confidence=examples.f0_confidence[:, ::step],
                               loudness_db=examples.loudness_db[:, ::step], frame_rate=float(frame_rate),
                               f0_hz_truth=truth)


def load_stage(dataset_dir, cfg: ExperimentConfig, split: str = "train", max_examples: int | None = None,
               progress: bool = False) -> Stage:
    """A dataset split ready for the learned-encoder model (features cached when the convolutions are frozen)."""
    from ttlib import train

    examples = at_frame_rate(train.load_examples(dataset_dir, split, max_examples), cfg.frame_rate)
    feats = None
    if cfg.conditioning == "learned" and not cfg.encoder_trainable:
        if max_examples is None:
            feats = cached_encoder_features(examples, dataset_dir, split, cfg.encoder_capacity, cfg.frame_rate,
                                            progress=progress)
        else:
            feats = encoder_features(examples.audio, cfg.encoder_capacity, cfg.frame_rate)
    return Stage(examples, feats)


def stage_batch(stage: Stage, sampler, step: int, cfg: ExperimentConfig) -> dict:
    """The batch of training step `step`: audio, loudness and features (or audio for a trainable encoder)."""
    indices = sampler.indices(step)
    parts = [stage.examples.crop(i, s, cfg.example_seconds) for i, s in indices]
    batch = {"audio": np.stack([p["audio"] for p in parts]).astype(np.float32),
             "loudness_db": np.stack([p["loudness_db"] for p in parts]).astype(np.float32)}
    if stage.features is not None:
        batch["features"] = np.stack([stage.features[i, s:s + cfg.n_frames] for i, s in indices]).astype(np.float32)
    return batch


# ----------------------------------------------------------------------------- training
def train_stage(model, cfg: ExperimentConfig, stage: Stage, steps: int, seed: int, variables_fn, log_rows: list,
                stage_name: str, progress: bool = True) -> float:
    """Train `variables_fn()` of `model` for `steps` steps on `stage`; returns the wall time (s).

    Appends (stage, step, total, reconstruction, silence, elapsed_s) to `log_rows`.
    Raises FloatingPointError when the loss stops being finite.
    """
    import tensorflow as tf

    from ttlib.train import BatchSampler

    sampler = BatchSampler(stage.examples, cfg.example_seconds, cfg.batch_size, seed)
    loss_fn = make_loss(cfg)
    optimizer = tf.keras.optimizers.Adam(cfg.learning_rate)
    model(stage_batch(stage, sampler, 0, cfg))              # build
    variables = variables_fn()

    @tf.function
    def step_fn(batch):
        with tf.GradientTape() as tape:
            out = model(batch, training=True)
            losses = loss_fn(batch["audio"], out["audio"])
        grads = tape.gradient(losses["total"], variables)
        grads, _ = tf.clip_by_global_norm(grads, 3.0)          # ddsp's trainer clips at 3
        optimizer.apply_gradients(zip(grads, variables))
        return losses

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc=f"{cfg.name}: {stage_name}", unit="step", leave=False)
    start = time.perf_counter()
    for step in range(steps):
        batch = {k: tf.convert_to_tensor(v) for k, v in stage_batch(stage, sampler, step, cfg).items()}
        losses = {k: float(v) for k, v in step_fn(batch).items()}
        if not np.isfinite(losses["total"]):
            raise FloatingPointError(f"{cfg.name}: the {stage_name} loss became {losses['total']} at step "
                                     f"{step + 1}; lower the learning rate.")
        log_rows.append((stage_name, step + 1, losses["total"], losses["reconstruction"], losses["silence"],
                         round(time.perf_counter() - start, 2)))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{losses['total']:.3f}")
    if bar is not None:
        bar.close()
    return time.perf_counter() - start


# ----------------------------------------------------------------------------- the transfer test set
@dataclass
class TransferSet:
    """Held-out whistling cut into clips, with what a trumpet playing it should give.

    Attributes:
      audio: [n, n_samples] whistle clips (16 kHz).
      f0_hz: [n, frames] the whistle's exact f0 (0 = silent), at the control rate.
      loudness_db: [n, frames] the whistle's loudness.
      target: [n, n_samples] the same notes, bends and dynamics rendered with the
        built-in trumpet, `octave_shift` octaves away (the reference for spectral and
        loudness errors).
      target_loudness_db: [n, frames] the target's loudness.
      octave_shift: whole octaves from the whistle to the trumpet's median pitch.
      names: [n] "recording@start_s".
    """

    audio: np.ndarray
    f0_hz: np.ndarray
    loudness_db: np.ndarray
    target: np.ndarray
    target_loudness_db: np.ndarray
    octave_shift: int
    frame_rate: int
    names: list

    def __len__(self) -> int:
        return int(self.audio.shape[0])


_TRANSFER_SETS: dict = {}


def transfer_set(whistle_dir, trumpet_statistics: dict, seconds: float, frame_rate: int = 50,
                 max_clips: int | None = 16) -> TransferSet:
    """Cut the held-out (validation) recordings of a built-in whistle dataset into clips.

    The recordings must be built-in ones (their scores give the exact f0 and the trumpet
    target). Kept in memory for the process: every row of the table gets the same set.
    """
    key = (str(Path(whistle_dir).resolve()), json.dumps(trumpet_statistics, sort_keys=True)[:4096],
           float(seconds), int(frame_rate), max_clips)
    if key not in _TRANSFER_SETS:
        _TRANSFER_SETS.clear()
        _TRANSFER_SETS[key] = _transfer_set(whistle_dir, trumpet_statistics, seconds, frame_rate, max_clips)
    return _TRANSFER_SETS[key]


def _transfer_set(whistle_dir, trumpet_statistics, seconds, frame_rate, max_clips) -> TransferSet:
    from ttlib import builtin, features, transfer

    from ttlib import data

    manifest = data.read_manifest(whistle_dir)
    held_out = [r for r in manifest["recordings"] if r["split"] == "validation"]
    if not held_out or not manifest["params"]["source"].startswith("builtin"):
        raise ExperimentError(f"{whistle_dir} has no held-out built-in recordings; build it with "
                              "`python -m ttlib data build --source builtin:whistle --validation-fraction 0.25`.")
    folders = {str(Path(r["path"]).parent) for r in held_out}
    takes = {}
    for folder in folders:
        for take in builtin.recordings(folder):
            takes[take.name] = take
    hop = SAMPLE_RATE // frame_rate
    n_samples, n_frames = int(round(seconds * SAMPLE_RATE)), int(round(seconds * frame_rate))
    clips = []
    for entry in held_out:
        take = takes[entry["recording_id"]]
        f0, voiced = take.ground_truth(frame_rate)
        f0 = np.where(voiced, f0, 0.0)
        for start in range(0, take.audio.size - n_samples + 1, n_samples):
            clips.append((take, start, f0[start // hop:start // hop + n_frames]))
    if max_clips is not None and len(clips) > max_clips:       # spread over the recordings
        keep = np.linspace(0, len(clips) - 1, max_clips).round().astype(int)
        clips = [clips[i] for i in keep]
    truth = np.stack([c[2] for c in clips])
    ranges = transfer.training_ranges(trumpet_statistics)
    voiced_midi = transfer.hz_to_midi(truth[truth > 0])
    octave_shift = int(np.round((ranges["pitch_midi"][50] - np.median(voiced_midi)) / 12.0))
    trumpet = builtin.INSTRUMENTS["trumpet"]
    targets = {}
    for take in {c[0].name: c[0] for c in clips}.values():
        p = take.performance
        moved = builtin.Performance([(n[0] + 12 * octave_shift, n[1], n[2], n[3]) for n in p.notes],
                                    p.bends, p.expression, p.seconds)
        targets[take.name] = builtin.render(moved, trumpet)
    audio = np.stack([c[0].audio[c[1]:c[1] + n_samples] for c in clips]).astype(np.float32)
    target = np.stack([targets[c[0].name][c[1]:c[1] + n_samples] for c in clips]).astype(np.float32)
    loud = np.stack([features.loudness_db(a, SAMPLE_RATE, frame_rate)[:n_frames] for a in audio])
    target_loud = np.stack([features.loudness_db(a, SAMPLE_RATE, frame_rate)[:n_frames] for a in target])
    return TransferSet(audio, truth.astype(np.float32), loud.astype(np.float32), target,
                       target_loud.astype(np.float32), octave_shift, frame_rate,
                       [f"{c[0].name}@{c[1] / SAMPLE_RATE:g}s" for c in clips])


# ----------------------------------------------------------------------------- measures
def oscillator_f0_error(oscillator_f0_hz, reference_f0_hz, playing) -> float:
    """Median |cents| between the f0 a model gave its oscillator and the reference, where the source plays."""
    n = min(oscillator_f0_hz.shape[1], reference_f0_hz.shape[1])
    on = playing[:, :n] & (reference_f0_hz[:, :n] > 0) & (oscillator_f0_hz[:, :n] > 0)
    if not on.any():
        return float("nan")
    return float(np.median(np.abs(1200.0 * np.log2(oscillator_f0_hz[:, :n][on] / reference_f0_hz[:, :n][on]))))


def output_measures(outputs, reference_f0_hz, playing, loudness_reference_db, frame_rate: int,
                    f0_method: str = "crepe-tiny") -> dict:
    """f0 error, loudness error and silent share of some outputs against references.

    Args:
      outputs: [n, n_samples] audio.
      reference_f0_hz: [n, frames] the f0 the output should have (0 = none).
      playing: [n, frames] bool, frames where the source plays.
      loudness_reference_db: [n, frames] the loudness the output should have.

    Returns:
      {"f0_error_cents_median", "f0_error_cents_mean" (on frames where the source plays
       and the output has a pitch), "f0_error_any_octave_cents_median" (the same with
       whole octaves forgiven: does the output follow the tune in some register?), "loudness_error_db" (mean absolute, where the source
       plays), "silent_where_playing" (share of playing frames where the output is
       quieter than `SILENT_DB`), "output_voiced_fraction"}.
    """
    from ttlib import features, pitch

    cents, loud, silent, voiced, total = [], [], 0, 0, 0
    for out, ref, on, ref_ld in zip(outputs, reference_f0_hz, playing, loudness_reference_db):
        tracked = pitch.track(out, f0_method, frame_rate=frame_rate)
        out_ld = features.loudness_db(out, SAMPLE_RATE, frame_rate)
        n = min(tracked.f0_hz.size, ref.size, out_ld.size)
        on = on[:n] & (ref[:n] > 0)
        has = on & tracked.voiced[:n] & (tracked.f0_hz[:n] > 0)
        cents.append(np.abs(1200.0 * np.log2(tracked.f0_hz[:n][has] / ref[:n][has])))
        loud.append(np.abs(out_ld[:n] - ref_ld[:n])[on])
        silent += int((on & (out_ld[:n] < SILENT_DB)).sum())
        voiced += int(has.sum())
        total += int(on.sum())
    cents = np.concatenate(cents) if cents else np.zeros(0)
    loud = np.concatenate(loud) if loud else np.zeros(0)
    folded = np.abs((cents + 600.0) % 1200.0 - 600.0)          # the tune in any octave
    nan = float("nan")
    return {"f0_error_cents_median": float(np.median(cents)) if cents.size else nan,
            "f0_error_any_octave_cents_median": float(np.median(folded)) if folded.size else nan,
            "f0_error_cents_mean": float(np.mean(cents)) if cents.size else nan,
            "loudness_error_db": float(np.mean(loud)) if loud.size else nan,
            "silent_where_playing": silent / total if total else nan,
            "output_voiced_fraction": voiced / total if total else nan,
            "frames_playing": total}


class Runner:
    """Makes audio with a trained run of either kind, for clips of any length."""

    def __init__(self, cfg: ExperimentConfig, model=None, model_dir=None, statistics: dict | None = None):
        self.cfg, self.model, self.model_dir, self.statistics = cfg, model, model_dir, statistics
        self._convolutions = None

    def resynthesize(self, audio, f0_hz, loudness_db) -> dict:
        """Resynthesis of clips from their own features: {"audio", "harmonic", "noise", "f0_hz"}."""
        if self.cfg.conditioning == "learned":
            return self._learned(audio, loudness_db)
        from ttlib import checkpoint, evaluation

        seconds = audio.shape[1] / SAMPLE_RATE
        loaded = checkpoint.load_model(self.model_dir, seconds=seconds)
        parts = evaluation.resynthesize(loaded.model, {"audio": audio, "f0_hz": f0_hz, "loudness_db": loudness_db})
        return {"audio": parts["resynthesis"], "harmonic": parts["harmonic"], "noise": parts["noise"],
                "f0_hz": np.asarray(f0_hz, np.float32)}

    def transfer(self, tset: TransferSet) -> dict:
        """Whistle clips played by the model: {"audio", "harmonic", "noise"} [n, n_samples].

        The learned model hears the whistle itself (and, with the skip connection, its
        loudness mapped onto the trumpet's like the baseline's); the baseline gets
        `ttlib.transfer`'s adjusted f0 and loudness with the set's octave shift.
        """
        from ttlib import transfer

        if self.cfg.conditioning == "learned" and not self.cfg.loudness_skip:
            return self._learned(tset.audio, None)
        adjusted_f0, adjusted_ld = [], []
        for clip in tset.audio:
            source = transfer.source_features(clip, frame_rate=self.cfg.frame_rate)
            first = transfer.adjust(source, self.statistics)
            correction = 12.0 * (tset.octave_shift - first.octave_shift)
            adj = transfer.adjust(source, self.statistics, transfer.Settings(pitch_shift=correction))
            adjusted_f0.append(adj.f0_hz[:tset.f0_hz.shape[1]])
            adjusted_ld.append(adj.loudness_db[:tset.f0_hz.shape[1]])
        f0, ld = np.stack(adjusted_f0), np.stack(adjusted_ld)
        if self.cfg.conditioning == "learned":
            return self._learned(tset.audio, ld)
        return self.resynthesize(tset.audio, f0, ld)

    def _learned(self, audio, loudness_db) -> dict:

        cfg = self.cfg
        n_frames = audio.shape[1] // cfg.hop
        seconds = audio.shape[1] / SAMPLE_RATE
        model = self.model
        if abs(seconds - cfg.example_seconds) > 1e-9:      # same weights, synthesizers of another length
            model = build_model(cfg, seconds=seconds)
            model(self._inputs(audio[:1], None if loudness_db is None else loudness_db[:1]))
            model.set_weights(self.model.get_weights())
        generator = getattr(model.noise, "noise_generator", None)
        state = None if generator is None else generator.state.numpy()
        out = {"audio": [], "harmonic": [], "noise": [], "f0_hz": []}
        for s in range(0, audio.shape[0], 8):
            ld = None if loudness_db is None else loudness_db[s:s + 8, :n_frames]
            result = model(self._inputs(audio[s:s + 8], ld), training=False)
            for k in out:
                out[k].append(np.asarray(result[k]))
        if generator is not None:
            generator.reset(state)
        return {k: np.concatenate(v) for k, v in out.items()}

    def _inputs(self, audio, loudness_db) -> dict:
        cfg = self.cfg
        inputs = {"audio": np.asarray(audio, np.float32)}
        if not cfg.encoder_trainable:
            if self._convolutions is None:
                self._convolutions = crepe_convolutions(cfg.encoder_capacity)
            inputs["features"] = encoder_features(audio, cfg.encoder_capacity, cfg.frame_rate,
                                                  convolutions=self._convolutions)
        if cfg.loudness_skip:
            if loudness_db is None:
                from ttlib import features

                loudness_db = np.stack([features.loudness_db(a, SAMPLE_RATE, cfg.frame_rate)[:audio.shape[1] // cfg.hop]
                                        for a in audio])
            inputs["loudness_db"] = np.asarray(loudness_db, np.float32)
        return inputs


def evaluate_run(runner: Runner, trumpet_held_out, tset: TransferSet, f0_method: str = "crepe-tiny") -> dict:
    """The DDSP paper's measures on trumpet resynthesis and on whistle-to-trumpet transfer.

    Resynthesis (held-out trumpet clips from their own audio / features): spectral loss
    against the input; f0 error against the input's f0 (CREPE's, as the baseline was
    given); loudness error against the input's loudness; silent share where the input plays.
    Transfer (held-out whistle clips): spectral loss and loudness error against the trumpet
    rendering of the same score (`TransferSet.target`); f0 error against the whistle's
    exact f0 moved by the set's octave shift; silent share where the whistle plays.
    """
    from ttlib import evaluation

    examples = trumpet_held_out
    n_frames = int(round(runner.cfg.example_seconds * runner.cfg.frame_rate))
    n_samples = n_frames * runner.cfg.hop
    audio = examples.audio[:, :n_samples]
    f0, ld, conf = examples.f0_hz[:, :n_frames], examples.loudness_db[:, :n_frames], examples.f0_confidence[:, :n_frames]
    start = time.perf_counter()
    resynth = runner.resynthesize(audio, f0, ld)
    playing = (conf >= evaluation.VOICED_CONFIDENCE) & (ld > evaluation.PLAYING_DB)
    resynthesis = {"spectral_loss": evaluation.spectral_loss(audio, resynth["audio"]),
                   **output_measures(resynth["audio"], f0, playing, ld, runner.cfg.frame_rate, f0_method),
                   "oscillator_f0_error_cents_median": oscillator_f0_error(resynth["f0_hz"], f0, playing),
                   "clips": int(audio.shape[0])}
    moved = tset.f0_hz * 2.0 ** tset.octave_shift
    out = runner.transfer(tset)
    whistle_playing = (tset.f0_hz > 0) & (tset.loudness_db > evaluation.PLAYING_DB)
    transfer_metrics = {"spectral_loss": evaluation.spectral_loss(tset.target, out["audio"]),
                        **output_measures(out["audio"], moved, whistle_playing, tset.target_loudness_db,
                                          tset.frame_rate, f0_method),
                        "oscillator_f0_error_cents_median": oscillator_f0_error(out["f0_hz"], moved, whistle_playing),
                        "clips": len(tset), "octave_shift": tset.octave_shift}
    return {"resynthesis": resynthesis, "transfer": transfer_metrics,
            "seconds": round(time.perf_counter() - start, 2),
            "examples": {"resynthesis": resynth, "transfer": out}}


# ----------------------------------------------------------------------------- a whole run
def datasets(fast: bool = False, root: str | os.PathLike = "data/generated") -> tuple[Path, Path]:
    """The trumpet and whistle datasets of the experiment, built if missing.

    The built-in trumpet (12 minutes, the recordings and split of notebook 05) and
    built-in whistling (4 minutes, a quarter held out), cut into 8 s examples without
    overlap: training crops random 4 s clips from them, and CREPE's features (cached per
    example) are computed once per second of audio rather than four times as with
    notebook 05's 4 s examples at 1 s hops. Fast: 1.5 minutes of each.
    """
    from ttlib import data

    root = Path(root)
    suffix = "-fast" if fast else ""
    minutes = 1.5 if fast else None
    out = []
    for instrument, fraction in (("trumpet", 0.1), ("whistle", 0.25)):
        folder = root / f"{instrument}-experiment{suffix}"
        if not (folder / "manifest.json").is_file():
            data.build_dataset(f"builtin:{instrument}", folder, minutes=minutes, example_seconds=8, hop_seconds=8.0,
                               validation_fraction=fraction, progress=False)
        out.append(folder)
    return out[0], out[1]


def run(cfg: ExperimentConfig, out_dir, trumpet_dir, whistle_dir, seed: int = 0, n_eval: int = 16,
        overwrite: bool = False, progress: bool = True, command: str | None = None) -> dict:
    """Train and measure one row; returns its metrics (also in out_dir/metrics.json).

    If `out_dir` already holds a finished run of the same configuration, seed and data,
    its metrics are returned without training. The run is made in `out_dir.partial` and
    moved into place when finished: an interrupted run leaves no half-written folder
    (its `.partial` is started again next time).

    Raises:
      ExperimentError: `out_dir` holds a different run (pass `overwrite=True` to replace it).
    """
    import tensorflow as tf

    from ttlib import checkpoint, data, models, train

    cfg.validate()
    out_dir = Path(out_dir)
    fingerprint = {"trumpet": train.dataset_fingerprint(trumpet_dir)["train_sha256"],
                   "whistle": train.dataset_fingerprint(whistle_dir)["train_sha256"]}
    identity = {"config": cfg.to_dict(), "seed": seed, "data": fingerprint, "n_eval": n_eval}
    if (out_dir / "metrics.json").is_file():
        previous = checkpoint.read_json(out_dir / "run.json")
        if {k: previous.get(k) for k in identity} == identity:
            metrics = checkpoint.read_json(out_dir / "metrics.json")
            if metrics.get("metrics_version") != METRICS_VERSION:
                if progress:
                    print(f"{out_dir}: measured by an older ttlib; measuring again from its saved weights.")
                measured = _measure(load_model_of_row(out_dir), cfg, trumpet_dir, whistle_dir, n_eval, out_dir)
                metrics.update(measured, metrics_version=METRICS_VERSION)
                metrics = _json_safe(metrics)
                checkpoint.write_json(out_dir / "metrics.json", metrics)
            return metrics
        if not overwrite:
            raise ExperimentError(f"{out_dir} holds a run of another configuration, seed or data; pass "
                                  "--overwrite (overwrite=True) to replace it, or choose another --root.")
    elif out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise ExperimentError(f"{out_dir} exists and is not a finished run of ours; move it away or pass --overwrite.")
    partial = out_dir.with_name(out_dir.name + ".partial")
    if partial.exists():
        if progress:
            print(f"{partial} is an interrupted run: starting it again.")
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    trumpet_stats = data.read_statistics(trumpet_dir)
    log_rows, stages = [], {}
    started = time.perf_counter()
    command = command or row_command(cfg, seed, fast=all(getattr(cfg, k) == v for k, v in FAST_SIZES.items()
                                                         if k not in ("whistle_steps", "trumpet_steps")))
    if cfg.conditioning == "f0-loudness":
        baseline_cfg = models.get_config("course").replace(
            name="experiment-baseline", batch_size=cfg.batch_size, reverb_seconds=0.0,
            learning_rate=cfg.learning_rate, train_steps=cfg.trumpet_steps, example_seconds=cfg.example_seconds,
            rnn_channels=cfg.rnn_channels, mlp_channels=cfg.mlp_channels, mlp_layers=cfg.mlp_layers,
            n_harmonics=cfg.n_harmonics, n_noise_bands=cfg.n_noise_bands, fft_sizes=tuple(cfg.fft_sizes))
        result = train.train(trumpet_dir, partial / "model", baseline_cfg, steps=cfg.trumpet_steps, seed=seed,
                             checkpoint_every=cfg.trumpet_steps, validation_examples=0, progress=progress,
                             tensorboard=False)
        stages["trumpet"] = round(result.seconds, 2)
        steps, losses = train.read_losses(partial / "model")
        log_rows = [("trumpet", int(s), float(v), float(v), 0.0, None) for s, v in zip(steps, losses)]
        parameters = checkpoint.read_json(partial / "model" / checkpoint.RUN_FILE)["parameters"]
        runner = Runner(cfg, model_dir=partial / "model", statistics=trumpet_stats)
    else:
        model = build_model(cfg, seed=seed)
        if cfg.whistle_steps:
            whistle = load_stage(whistle_dir, cfg, progress=progress)
            train.set_seed(seed)
            stages["whistle"] = round(train_stage(model, cfg, whistle, cfg.whistle_steps, seed,
                                                  lambda: model.encoder_variables() + model.decoder_variables(),
                                                  log_rows, "whistle", progress), 2)
            del whistle
        trumpet = load_stage(trumpet_dir, cfg, progress=progress)
        if cfg.encoder_trainable:                 # from here on the (fine-tuned) encoder is frozen
            trumpet = Stage(trumpet.examples, encoder_features(trumpet.examples.audio, cfg.encoder_capacity,
                                                               cfg.frame_rate, convolutions=model.convolutions))
        stages["trumpet"] = round(train_stage(model, cfg, trumpet, cfg.trumpet_steps, seed + 1,
                                              model.decoder_variables, log_rows, "trumpet", progress), 2)
        del trumpet
        model.save_weights(str(partial / "weights" / "model"))
        parameters = {"encoder": int(sum(np.prod(v.shape) for v in model.encoder_variables())),
                      "decoder": int(sum(np.prod(v.shape) for v in model.decoder_variables()))}
        runner = Runner(cfg, model=model, statistics=trumpet_stats)
    with open(partial / "losses.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["stage", "step", "loss", "reconstruction", "silence", "elapsed_s"])
        writer.writerows(log_rows)

    measured = _measure(runner, cfg, trumpet_dir, whistle_dir, n_eval, partial)
    training_seconds = sum(stages.values())
    metrics = {"name": cfg.name, **measured, "metrics_version": METRICS_VERSION,
               "train_seconds": round(training_seconds, 1), "stage_seconds": stages, "parameters": parameters,
               "final_train_loss": float(np.mean([r[2] for r in log_rows[-20:]])) if log_rows else None}
    run_log = {**identity, "name": cfg.name, "command": command, "versions": train.versions(),
               "started": time.strftime("%Y-%m-%d %H:%M:%S"), "wall_seconds": round(time.perf_counter() - started, 1),
               "transfer_clips": measured["transfer_clips"], "python": sys.version.split()[0]}
    metrics = _json_safe(metrics)
    checkpoint.write_json(partial / "statistics.json", trumpet_stats)     # what transfer maps loudness onto
    checkpoint.write_json(partial / "run.json", run_log)
    checkpoint.write_json(partial / "metrics.json", metrics)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(partial, out_dir)
    tf.keras.backend.clear_session()
    return metrics


def _measure(runner: Runner, cfg: ExperimentConfig, trumpet_dir, whistle_dir, n_eval: int, folder) -> dict:
    """`evaluate_run` on the held-out data of the experiment; writes the first clips' WAVs into `folder`."""
    from ttlib import audio as audio_io, data, train

    held_out = at_frame_rate(train.load_examples(trumpet_dir, "validation"), cfg.frame_rate)
    pick = np.linspace(0, len(held_out) - 1, min(n_eval, len(held_out))).round().astype(int)
    held_out = dataclasses.replace(held_out, audio=held_out.audio[pick], f0_hz=held_out.f0_hz[pick],
                                   f0_confidence=held_out.f0_confidence[pick], loudness_db=held_out.loudness_db[pick],
                                   recording_id=[held_out.recording_id[i] for i in pick], f0_hz_truth=None)
    tset = transfer_set(whistle_dir, data.read_statistics(trumpet_dir), cfg.example_seconds, cfg.frame_rate,
                        max_clips=n_eval)
    measured = evaluate_run(runner, held_out, tset)
    for kind in ("resynthesis", "transfer"):
        for part in ("audio", "harmonic"):
            audio_io.save_wav(Path(folder) / f"{kind}_{part}_0.wav", measured["examples"][kind][part][0],
                              overwrite=True)
    return {"resynthesis": measured["resynthesis"], "transfer": measured["transfer"],
            "evaluation_seconds": measured["seconds"], "transfer_clips": tset.names}


def _json_safe(value):
    """NaN (a measure with nothing to measure, e.g. f0 of an output without pitch) -> None (JSON null)."""
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    return value


def load_row(out_dir) -> tuple[ExperimentConfig, dict, dict]:
    """(config, run log, metrics) of a finished run folder."""
    from ttlib import checkpoint

    out_dir = Path(out_dir)
    if not (out_dir / "metrics.json").is_file():
        raise ExperimentError(f"{out_dir} is not a finished run (no metrics.json); run it with "
                              "`python -m ttlib experiment learned-encoder ...`.")
    log = checkpoint.read_json(out_dir / "run.json")
    return ExperimentConfig.from_dict(log["config"]), log, checkpoint.read_json(out_dir / "metrics.json")


def load_model_of_row(out_dir):
    """A `Runner` for a finished run folder (learned model rebuilt from its weights, or the baseline's folder)."""
    from ttlib import checkpoint

    cfg, log, _ = load_row(out_dir)
    out_dir = Path(out_dir)
    if cfg.conditioning == "f0-loudness":
        return Runner(cfg, model_dir=out_dir / "model",
                      statistics=checkpoint.read_json(out_dir / "model" / checkpoint.STATISTICS_FILE))
    model = build_model(cfg, seed=log["seed"])
    runner = Runner(cfg, model=model, statistics=checkpoint.read_json(out_dir / "statistics.json"))
    dummy = np.zeros((1, cfg.n_samples), np.float32)
    model(runner._inputs(dummy, np.full((1, cfg.n_frames), -40.0, np.float32) if cfg.loudness_skip else None))
    import tensorflow as tf

    try:
        model.load_weights(str(out_dir / "weights" / "model")).assert_existing_objects_matched()
    except (AssertionError, ValueError, IndexError, tf.errors.OpError) as exc:
        raise ExperimentError(f"The weights in {out_dir / 'weights'} cannot be loaded into the model of its "
                              f"run.json ({str(exc).splitlines()[0][:200]}): they are damaged or from another run. "
                              "Run the row again with --overwrite.") from None
    return runner


def results_table(root, rows=ROWS):
    """The results table (a pandas DataFrame) read from the runs' metrics.json under `root`."""
    import pandas as pd

    def num(value):
        return float("nan") if value is None else float(value)

    records = []
    for name in rows:
        folder = Path(root) / name
        if not (folder / "metrics.json").is_file():
            continue
        cfg, log, m = load_row(folder)
        records.append({
            "row": name,
            "transfer spectral": num(m["transfer"]["spectral_loss"]),
            "transfer f0 (cents)": num(m["transfer"]["f0_error_cents_median"]),
            "transfer f0 any octave (cents)": num(m["transfer"].get("f0_error_any_octave_cents_median")),
            "transfer pitched share": num(m["transfer"]["output_voiced_fraction"]),
            "transfer oscillator f0 (cents)": num(m["transfer"]["oscillator_f0_error_cents_median"]),
            "transfer loudness (dB)": num(m["transfer"]["loudness_error_db"]),
            "transfer silent share": num(m["transfer"]["silent_where_playing"]),
            "resynth spectral": num(m["resynthesis"]["spectral_loss"]),
            "resynth f0 (cents)": num(m["resynthesis"]["f0_error_cents_median"]),
            "resynth f0 any octave (cents)": num(m["resynthesis"].get("f0_error_any_octave_cents_median")),
            "resynth pitched share": num(m["resynthesis"]["output_voiced_fraction"]),
            "resynth loudness (dB)": num(m["resynthesis"]["loudness_error_db"]),
            "resynth silent share": num(m["resynthesis"]["silent_where_playing"]),
            "train (min)": m["train_seconds"] / 60.0,
            "command": log["command"],
        })
    return pd.DataFrame.from_records(records).set_index("row") if records else pd.DataFrame()
