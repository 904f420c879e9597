"""Named configurations of the course's DDSP autoencoder: the sizes of the network and synthesizers.

Configurations (see `CONFIGS`):
  - `paper`: ddsp's solo-instrument settings (models/solo_instrument.gin):
    GRU 512, 3-layer MLPs of 512, 60 harmonics, 65 noise bands, 3 s learned
    reverb, controls at 250 frames/s, batch 32.
  - `course` (the default): sized for a 2-core CPU. Controls at 50 frames/s (the
    decoder's GRU runs 200 steps per 4 s example instead of 1000), GRU 256, 2-layer
    MLPs of 256, amplitudes upsampled linearly rather than with overlapping windows
    and the harmonics summed by `ttlib.synth.harmonic` (the same sound as ddsp's
    `Harmonic`, computed about 5 times faster: once the GRU is small, ddsp's harmonic
    synthesis is the costliest part of a step), batch 8, a higher learning rate; the
    synthesizers' sizes and the spectral loss are the paper's; its reverb can only be a room
    (`reverb="room"`, `ttlib.synth.reverb`: a learned T60 per octave on fixed noise), where
    the paper's learns every sample of its impulse response and takes part of the timbre.
    800 steps by default: about 10 minutes on 2 cores, a lesson's length (`benchmarks/training.py`
    measured it past the old 1500-step model's held-out loss within 3 minutes).
  - `tiny`: a few thousand parameters, 1 s examples: for tests and set-up checks.

Compared in notebook 06 and `benchmarks/training.py`.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from ttlib.core.constants import PAPER_FFT_SIZES
from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE, hop_length


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
      reverb: what the reverb learns: "learned" (ddsp's `Reverb`, every sample of the impulse
        response free: the paper's, and what a model folder without this field has) or "room"
        (`ttlib.synth.reverb.RoomReverb`: one gain and a T60 per octave band on fixed noise).
      fft_sizes: FFT sizes of the multi-scale spectral loss.
      learning_rate: Adam's initial learning rate.
      batch_size: examples per training step.
      train_steps: default number of training steps.
      amp_resample_method: how the harmonic synthesizer upsamples amplitudes from
        frames to samples: "window" (ddsp's default, overlapping Hann windows) or
        "linear" (about 2.5 times faster to train here, see benchmarks/training.py).
      fast_harmonic: synthesize the harmonics with `ttlib.synth.harmonic` (the same sound
        as ddsp's `Harmonic` with linear amplitudes, computed about 5 times faster and
        without float32 phase drift); needs amp_resample_method="linear".
      z_dims: size of the timbre code z from an MFCC encoder; 0 = no encoder
        (the paper's solo-instrument model conditions on f0 and loudness only).
    """

    name: str
    sample_rate: int = SAMPLE_RATE
    frame_rate: int = 250
    example_seconds: float = 4.0
    rnn_channels: int = 512
    mlp_channels: int = 512
    mlp_layers: int = 3
    n_harmonics: int = 60
    n_noise_bands: int = 65
    reverb_seconds: float = 3.0
    reverb: str = "learned"
    fft_sizes: tuple = PAPER_FFT_SIZES
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

    @property
    def hop(self) -> int:
        """Audio samples per control frame (`ttlib.core.units.hop_length`)."""
        return hop_length(self.sample_rate, self.frame_rate)

    def validate(self) -> ModelConfig:
        """Check the sizes fit together; returns self, or raises ConfigError saying what to change."""
        problems = []
        if self.frame_rate <= 0 or self.sample_rate % self.frame_rate:
            problems.append(f"frame_rate {self.frame_rate} does not divide the sample rate {self.sample_rate} "
                            "into whole samples (choose e.g. 50 or 250)")
        elif self.n_frames < 2:
            problems.append(f"example_seconds x frame_rate = {self.n_frames} frames; need at least 2")
        elif self.n_samples % self.n_frames:
            problems.append(f"{self.n_samples} samples are not a whole number of {self.n_frames} frames "
                            "(ddsp's synthesizers upsample by a whole factor): change frame_rate or example_seconds")
        for name in ("rnn_channels", "mlp_channels", "mlp_layers", "n_harmonics", "n_noise_bands",
                     "batch_size", "train_steps"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be at least 1, not {getattr(self, name)}")
        if self.amp_resample_method not in ("window", "linear", "cubic", "nearest"):
            problems.append("amp_resample_method must be window, linear, cubic or nearest, "
                            f"not {self.amp_resample_method!r}")
        if self.reverb not in ("learned", "room"):
            problems.append(f"reverb must be learned or room, not {self.reverb!r}")
        if self.fast_harmonic and self.amp_resample_method != "linear":
            problems.append("fast_harmonic needs amp_resample_method='linear'")
        if self.z_dims < 0 or self.reverb_seconds < 0 or self.learning_rate <= 0:
            problems.append("z_dims and reverb_seconds must be >= 0 and learning_rate > 0")
        if problems:
            raise ConfigError(f"Model configuration {self.name!r}: " + "; ".join(problems) + ".")
        return self

    def replace(self, **changes) -> ModelConfig:
        """A copy with some fields changed (checked)."""
        return dataclasses.replace(self, **changes).validate()

    def to_json(self) -> str:
        """The configuration as JSON (what a model folder's config.json holds)."""
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelConfig:
        """A configuration from its JSON (checked)."""
        values = json.loads(text)
        values["fft_sizes"] = tuple(values["fft_sizes"])
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"Unknown model configuration fields: {sorted(unknown)}.")
        return cls(**values).validate()


CONFIGS = {
    "paper": ModelConfig(name="paper"),
    "course": ModelConfig(
        name="course", frame_rate=50, rnn_channels=256, mlp_channels=256, mlp_layers=2,
        amp_resample_method="linear", fast_harmonic=True, learning_rate=1e-3, batch_size=8, train_steps=800,
        reverb="room",
    ),
    "tiny": ModelConfig(
        name="tiny", example_seconds=1.0, rnn_channels=32, mlp_channels=32, mlp_layers=1,
        n_harmonics=16, n_noise_bands=16, reverb_seconds=0.25, reverb="room", fft_sizes=(1024, 256, 64),
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
        raise ConfigError(f"Unknown model configuration {config!r}; choose one of {sorted(CONFIGS)}.") from None
