"""DDSP autoencoders of the course, built from named configurations.

A configuration fixes the size of the network and of the synthesizers; the
model itself is ddsp's `Autoencoder` (F0LoudnessPreprocessor -> optional encoder
-> RnnFcDecoder -> Harmonic + FilteredNoise -> Reverb), trained with ddsp's
multi-scale `SpectralLoss`.

Configurations (see `CONFIGS`):
  - `paper`: ddsp's solo-instrument settings (models/solo_instrument.gin):
    GRU 512, 3-layer MLPs of 512, 60 harmonics, 65 noise bands, 3 s learned
    reverb, controls at 250 frames/s, batch 32.
  - `course` (the default): sized for a 2-core CPU. Controls at 50 frames/s (the
    decoder's GRU runs 200 steps per 4 s example instead of 1000), GRU 256, 2-layer
    MLPs of 256, amplitudes upsampled linearly rather than with overlapping windows
    and the harmonics summed by `ttlib.fast_synth` (the same sound as ddsp's
    `Harmonic`, computed about 5 times faster: once the GRU is small, ddsp's harmonic
    synthesis is the costliest part of a step), batch 8, a higher learning rate; the
    synthesizers' sizes, the reverb and the spectral loss are the paper's.
  - `tiny`: a few thousand parameters, 1 s examples: for tests and set-up checks.

Differences from ddsp's stock model, all deliberate:
  - the preprocessor does not recompute loudness from the audio
    (`compute_loudness=False`): the model uses the `loudness_db` it is given, so
    transfer can shift it (ddsp's default would silently ignore it);
  - the filtered noise draws from a `tf.random.Generator` that is part of the
    model's checkpoint, so a resumed run continues the same noise sequence and the
    same seed gives the same loss curve, interrupted or not.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

import ttlib  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of a DDSP autoencoder and of the examples it trains on.

    Attributes:
      name: the configuration's name.
      sample_rate: audio sample rate (Hz).
      frame_rate: rate of the control frames f0_hz, loudness_db (Hz).
      example_seconds: length of one training example (s).
      rnn_channels: units of the decoder's GRU.
      mlp_channels: units of each decoder MLP layer.
      mlp_layers: layers of each decoder MLP stack.
      n_harmonics: harmonics of the additive synthesizer.
      n_noise_bands: frequency bands of the filtered-noise synthesizer.
      reverb_seconds: length of the learned reverb impulse response (s); 0 = none.
      fft_sizes: FFT sizes of the multi-scale spectral loss.
      learning_rate: Adam's initial learning rate.
      batch_size: examples per training step.
      train_steps: default number of training steps.
      amp_resample_method: how the harmonic synthesizer upsamples amplitudes from
        frames to samples: "window" (ddsp's default, overlapping Hann windows) or
        "linear" (about 2.5 times faster to train here, see benchmarks/training.py).
      fast_harmonic: synthesize the harmonics with `ttlib.fast_synth` (the same sound
        as ddsp's `Harmonic` with linear amplitudes, computed about 5 times faster and
        without float32 phase drift); needs amp_resample_method="linear".
      z_dims: size of the timbre code z from an MFCC encoder; 0 = no encoder
        (the paper's solo-instrument model conditions on f0 and loudness only).
    """

    name: str
    sample_rate: int = 16000
    frame_rate: int = 250
    example_seconds: float = 4.0
    rnn_channels: int = 512
    mlp_channels: int = 512
    mlp_layers: int = 3
    n_harmonics: int = 60
    n_noise_bands: int = 65
    reverb_seconds: float = 3.0
    fft_sizes: tuple = (2048, 1024, 512, 256, 128, 64)
    learning_rate: float = 3e-4
    batch_size: int = 32
    train_steps: int = 30000
    amp_resample_method: str = "window"
    fast_harmonic: bool = False
    z_dims: int = 0

    @property
    def n_samples(self) -> int:
        """Audio samples in one example."""
        return int(round(self.example_seconds * self.sample_rate))

    @property
    def n_frames(self) -> int:
        """Control frames in one example."""
        return int(round(self.example_seconds * self.frame_rate))

    def validate(self) -> "ModelConfig":
        """Check the sizes fit together; returns self, or raises ValueError saying what to change."""
        problems = []
        if self.n_frames < 2:
            problems.append(f"example_seconds x frame_rate = {self.n_frames} frames; need at least 2")
        elif self.n_samples % self.n_frames:
            problems.append(f"{self.n_samples} samples are not a whole number of {self.n_frames} frames "
                            "(ddsp's synthesizers upsample by a whole factor): change frame_rate or example_seconds")
        for name in ("rnn_channels", "mlp_channels", "mlp_layers", "n_harmonics", "n_noise_bands",
                     "batch_size", "train_steps"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.amp_resample_method not in ("window", "linear", "cubic", "nearest"):
            problems.append(f"amp_resample_method must be window, linear, cubic or nearest, not {self.amp_resample_method!r}")
        if self.fast_harmonic and self.amp_resample_method != "linear":
            problems.append("fast_harmonic needs amp_resample_method='linear'")
        if self.z_dims < 0 or self.reverb_seconds < 0 or self.learning_rate <= 0:
            problems.append("z_dims and reverb_seconds must be >= 0 and learning_rate > 0")
        if problems:
            raise ValueError(f"Model configuration {self.name!r}: " + "; ".join(problems) + ".")
        return self

    def replace(self, **changes) -> "ModelConfig":
        """A copy with some fields changed (checked)."""
        return dataclasses.replace(self, **changes).validate()

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        values = json.loads(text)
        values["fft_sizes"] = tuple(values["fft_sizes"])
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown model configuration fields: {sorted(unknown)}")
        return cls(**values).validate()


CONFIGS = {
    "paper": ModelConfig(name="paper"),
    "course": ModelConfig(
        name="course", frame_rate=50, rnn_channels=256, mlp_channels=256, mlp_layers=2,
        amp_resample_method="linear", fast_harmonic=True, learning_rate=1e-3, batch_size=8, train_steps=1500,
    ),
    "tiny": ModelConfig(
        name="tiny", example_seconds=1.0, rnn_channels=32, mlp_channels=32, mlp_layers=1,
        n_harmonics=16, n_noise_bands=16, reverb_seconds=0.25, fft_sizes=(1024, 256, 64),
        amp_resample_method="linear", fast_harmonic=True, learning_rate=1e-3, batch_size=2, train_steps=20,
    ),
}


def get_config(config: str | ModelConfig) -> ModelConfig:
    """A configuration by name (see `CONFIGS`), or `config` itself (checked)."""
    if isinstance(config, ModelConfig):
        return config.validate()
    try:
        return CONFIGS[config]
    except KeyError:
        raise ValueError(f"Unknown model configuration {config!r}; choose one of {sorted(CONFIGS)}.") from None


def _seeded_noise_class():
    """ddsp's FilteredNoise drawing from a checkpointed `tf.random.Generator`."""
    import ddsp
    import tensorflow as tf

    class SeededFilteredNoise(ddsp.synths.FilteredNoise):
        """`ddsp.synths.FilteredNoise` whose white noise comes from a generator saved with the model.

        ddsp draws with `tf.random.uniform`, whose state restarts in every new
        process: a resumed run would hear other noise than an uninterrupted one.
        """

        def __init__(self, seed: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.noise_generator = tf.random.Generator.from_seed(seed)

        def get_signal(self, magnitudes):
            batch_size = int(magnitudes.shape[0])
            signal = self.noise_generator.uniform([batch_size, self.n_samples], minval=-1.0, maxval=1.0)
            return ddsp.core.frequency_filter(signal, magnitudes, window_size=self.window_size)

    return SeededFilteredNoise


def noise_generator(model):
    """The `tf.random.Generator` of a model's seeded filtered noise, or None."""
    group = getattr(model, "processor_group", None)
    for processor in getattr(group, "processors", []) or []:
        if hasattr(processor, "noise_generator"):
            return processor.noise_generator
    return None


def build_autoencoder(config: str | ModelConfig = "course", seconds: float | None = None, seed: int = 0):
    """ddsp's f0-and-loudness autoencoder sized by `config`.

    The model takes a dict of features per example:
      `audio` [batch, n_samples] (only needed for the loss and for the z encoder),
      `f0_hz` [batch, frames], `loudness_db` [batch, frames] in any number of frames
      (ddsp's preprocessor resamples them to the configuration's frame rate);
    and returns ddsp's outputs dict: `audio_synth` [batch, n_samples] and each
    processor's controls and signal (`harmonic`, `filtered_noise`, `add`, `reverb`).

    Args:
      config: a name in `CONFIGS` or a `ModelConfig`.
      seconds: length of audio the synthesizers make (s); None: the configuration's
        `example_seconds`. The weights do not depend on it, so a model trained on
        4 s examples can be rebuilt for 10 s of transfer and given the same checkpoint.
      seed: seed of the filtered noise's generator.

    Returns:
      A `ddsp.training.models.Autoencoder` (not yet built: the first call builds it).
    """
    import ddsp
    from ddsp.training import decoders, encoders, models, preprocessing

    cfg = get_config(config)
    if seconds is not None:
        cfg = cfg.replace(example_seconds=float(seconds))
    cfg.validate()
    if cfg.fast_harmonic:
        from ttlib import fast_synth

        harmonic_class = fast_synth.harmonic_class()
    else:
        harmonic_class = ddsp.synths.Harmonic
    harmonic = harmonic_class(
        n_samples=cfg.n_samples, sample_rate=cfg.sample_rate,
        normalize_below_nyquist=True, scale_fn=ddsp.core.exp_sigmoid,
        amp_resample_method=cfg.amp_resample_method, name="harmonic")
    noise = _seeded_noise_class()(
        seed=seed, n_samples=cfg.n_samples, window_size=0, scale_fn=ddsp.core.exp_sigmoid, name="filtered_noise")
    dag = [
        (harmonic, ["amps", "harmonic_distribution", "f0_hz"]),
        (noise, ["noise_magnitudes"]),
        (ddsp.processors.Add(name="add"), ["filtered_noise/signal", "harmonic/signal"]),
    ]
    if cfg.reverb_seconds > 0:
        reverb = ddsp.effects.Reverb(
            trainable=True, reverb_length=int(cfg.reverb_seconds * cfg.sample_rate), name="reverb")
        dag.append((reverb, ["add/signal"]))
    encoder, input_keys = None, ("ld_scaled", "f0_scaled")
    if cfg.z_dims:
        encoder = encoders.MfccTimeDistributedRnnEncoder(
            rnn_channels=cfg.rnn_channels, rnn_type="gru", z_dims=cfg.z_dims, z_time_steps=cfg.n_frames)
        input_keys = ("ld_scaled", "f0_scaled", "z")
    return models.Autoencoder(
        preprocessor=preprocessing.F0LoudnessPreprocessor(
            time_steps=cfg.n_frames, frame_rate=cfg.frame_rate, sample_rate=cfg.sample_rate,
            compute_loudness=False),
        encoder=encoder,
        decoder=decoders.RnnFcDecoder(
            rnn_channels=cfg.rnn_channels, rnn_type="gru", ch=cfg.mlp_channels,
            layers_per_stack=cfg.mlp_layers, input_keys=input_keys,
            output_splits=(("amps", 1), ("harmonic_distribution", cfg.n_harmonics),
                           ("noise_magnitudes", cfg.n_noise_bands))),
        processor_group=ddsp.processors.ProcessorGroup(dag=dag, name="processor_group"),
        losses=[spectral_loss(cfg.fft_sizes)],
    )


EVAL_FFT_SIZES = (2048, 1024, 512, 256, 128, 64)
"""FFT sizes of the held-out spectral loss every configuration is measured with (the paper's)."""


def spectral_loss(fft_sizes=EVAL_FFT_SIZES):
    """ddsp's multi-scale spectral loss: L1 of linear and log magnitudes at each FFT size."""
    import ddsp

    return ddsp.losses.SpectralLoss(fft_sizes=tuple(fft_sizes), loss_type="L1", mag_weight=1.0, logmag_weight=1.0)


def count_parameters(model) -> int:
    """Number of trainable scalars of a built model."""
    import numpy as np

    return int(sum(np.prod(v.shape) for v in model.trainable_variables))
