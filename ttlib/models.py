"""DDSP autoencoders of the course, built from named configurations.

A configuration fixes the size of the network and of the synthesizers; the
model itself is ddsp's `Autoencoder` (F0LoudnessPreprocessor -> optional encoder
-> RnnFcDecoder -> Harmonic + FilteredNoise -> Reverb), trained with ddsp's
multi-scale `SpectralLoss`.

Configurations (see `CONFIGS`):
  - `paper`: ddsp's solo-instrument settings (models/solo_instrument.gin):
    GRU 512, 3-layer MLPs of 512, 60 harmonics, 65 noise bands, 3 s learned reverb.
  - `tiny`: a few thousand parameters, 1 s examples: for tests and set-up checks.
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

    @property
    def n_samples(self) -> int:
        """Audio samples in one example."""
        return int(round(self.example_seconds * self.sample_rate))

    @property
    def n_frames(self) -> int:
        """Control frames in one example."""
        return int(round(self.example_seconds * self.frame_rate))

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ModelConfig":
        values = json.loads(text)
        values["fft_sizes"] = tuple(values["fft_sizes"])
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"Unknown model configuration fields: {sorted(unknown)}")
        return cls(**values)


CONFIGS = {
    "paper": ModelConfig(name="paper"),
    "tiny": ModelConfig(
        name="tiny", example_seconds=1.0, rnn_channels=32, mlp_channels=32, mlp_layers=1,
        n_harmonics=16, n_noise_bands=16, reverb_seconds=0.25, fft_sizes=(1024, 256, 64),
        learning_rate=1e-3, batch_size=2,
    ),
}


def get_config(config: str | ModelConfig) -> ModelConfig:
    """A configuration by name (see `CONFIGS`), or `config` itself."""
    if isinstance(config, ModelConfig):
        return config
    try:
        return CONFIGS[config]
    except KeyError:
        raise ValueError(f"Unknown model configuration {config!r}; choose one of {sorted(CONFIGS)}.") from None


def build_autoencoder(config: str | ModelConfig = "tiny"):
    """ddsp's f0-and-loudness autoencoder sized by `config`.

    The model takes a dict of features per example:
      `audio` [batch, n_samples], `f0_hz` [batch, n_frames], `loudness_db` [batch, n_frames]
    and returns ddsp's outputs dict, whose `audio_synth` is [batch, n_samples].

    Returns:
      A `ddsp.training.models.Autoencoder` (not yet built: the first call builds it).
    """
    import ddsp
    from ddsp.training import decoders, models, preprocessing

    cfg = get_config(config)
    harmonic = ddsp.synths.Harmonic(
        n_samples=cfg.n_samples, sample_rate=cfg.sample_rate,
        normalize_below_nyquist=True, scale_fn=ddsp.core.exp_sigmoid, name="harmonic")
    noise = ddsp.synths.FilteredNoise(
        n_samples=cfg.n_samples, window_size=0, scale_fn=ddsp.core.exp_sigmoid, name="filtered_noise")
    dag = [
        (harmonic, ["amps", "harmonic_distribution", "f0_hz"]),
        (noise, ["noise_magnitudes"]),
        (ddsp.processors.Add(name="add"), ["filtered_noise/signal", "harmonic/signal"]),
    ]
    if cfg.reverb_seconds > 0:
        reverb = ddsp.effects.Reverb(
            trainable=True, reverb_length=int(cfg.reverb_seconds * cfg.sample_rate), name="reverb")
        dag.append((reverb, ["add/signal"]))
    return models.Autoencoder(
        preprocessor=preprocessing.F0LoudnessPreprocessor(
            time_steps=cfg.n_frames, frame_rate=cfg.frame_rate, sample_rate=cfg.sample_rate),
        encoder=None,
        decoder=decoders.RnnFcDecoder(
            rnn_channels=cfg.rnn_channels, rnn_type="gru", ch=cfg.mlp_channels,
            layers_per_stack=cfg.mlp_layers, input_keys=("ld_scaled", "f0_scaled"),
            output_splits=(("amps", 1), ("harmonic_distribution", cfg.n_harmonics),
                           ("noise_magnitudes", cfg.n_noise_bands))),
        processor_group=ddsp.processors.ProcessorGroup(dag=dag, name="processor_group"),
        losses=[ddsp.losses.SpectralLoss(
            fft_sizes=cfg.fft_sizes, loss_type="L1", mag_weight=1.0, logmag_weight=1.0)],
    )


def count_parameters(model) -> int:
    """Number of trainable scalars of a built model."""
    import numpy as np

    return int(sum(np.prod(v.shape) for v in model.trainable_variables))
