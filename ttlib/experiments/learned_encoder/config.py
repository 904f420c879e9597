"""The learned-encoder experiment's settings: one `ExperimentConfig` per row of notebook 08's table.

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
                   target where the target plays (dB of frame power, see `losses.silence_loss`);
  larger_encoder   CREPE `small` (twice the filters) and a 32-number z;
  log_mel          a multi-scale log-mel loss instead of linear-plus-log magnitudes.
The hypothesis notebook 08 ends on (`f0_input`, the row `crepe-f0`): give the decoder
CREPE's f0 beside z (scaled like ddsp's `f0_scaled`) and let the oscillator play it,
as the baseline's does; everything else is the published set-up.
The DDSP baseline (`conditioning="f0-loudness"`) is notebook 06's model (the `course`
sizes, no reverb like the others) trained on the same trumpet data for as many steps
as the decoder of stage 2.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from ttlib.core.constants import PAPER_FFT_SIZES
from ttlib.core.errors import ExperimentError
from ttlib.core.units import SAMPLE_RATE, hop_length
from ttlib.pitch.crepe_weights import CAPACITIES

FIXES = ("loudness-skip", "silence-penalty", "larger-encoder", "log-mel")
"""The fixes the author proposed (plus the log-mel loss), by their command-line names."""
ROWS = ("published-harmonic", "published", "loudness-skip", "silence-penalty", "larger-encoder", "log-mel",
        "all-fixes", "crepe-f0", "ddsp-baseline")
"""The rows of notebook 08's results table, in order (`row_config_by_name` builds each)."""


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
      f0_input: the decoder also gets CREPE's f0 of the input, and the oscillator plays
        it (instead of an f0 the decoder outputs).
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
    f0_input: bool = False
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
    fft_sizes: tuple = PAPER_FFT_SIZES
    learning_rate: float = 1e-3

    @property
    def n_frames(self) -> int:
        """Control frames in one clip."""
        return int(round(self.example_seconds * self.frame_rate))

    @property
    def n_samples(self) -> int:
        """Audio samples in one clip."""
        return int(round(self.example_seconds * self.sample_rate))

    @property
    def hop(self) -> int:
        """Audio samples per control frame (`ttlib.core.units.hop_length`)."""
        return hop_length(self.sample_rate, self.frame_rate)

    @property
    def fast(self) -> bool:
        """Whether this is the quick setting (`FAST_SIZES`, whatever the steps)."""
        return all(getattr(self, k) == v for k, v in FAST_SIZES.items() if k not in ("whistle_steps", "trumpet_steps"))

    def validate(self) -> ExperimentConfig:
        """Returns self, or raises ExperimentError naming every setting that does not fit."""
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
        if self.f0_input and self.conditioning != "learned":
            problems.append("f0_input belongs to the learned encoder (the baseline is given f0 anyway)")
        if not self.f0_range_midi[0] < self.f0_range_midi[1]:
            problems.append("f0_range_midi must be (low, high)")
        if problems:
            raise ExperimentError(f"Experiment configuration {self.name!r}: " + "; ".join(problems) + ".")
        return self

    def replace(self, **changes) -> ExperimentConfig:
        """A copy with some fields changed (checked)."""
        return dataclasses.replace(self, **changes).validate()

    def to_dict(self) -> dict:
        """The configuration as plain JSON values (what run.json holds)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values: dict) -> ExperimentConfig:
        """A configuration from `to_dict`'s values (checked)."""
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


def row_config(fixes: tuple | list = (), harmonic_only: bool = False, baseline: bool = False, fine_tune: bool = False,
               crepe_f0: bool = False, whistle_steps: int | None = None, trumpet_steps: int | None = None,
               fast: bool = False, name: str | None = None) -> ExperimentConfig:
    """The configuration of one row: the published set-up with `fixes` switched on.

    Args:
      fixes: names from `FIXES` (or "all").
      harmonic_only: no filtered noise (the first published model).
      baseline: the DDSP baseline (f0 and loudness conditioning; `fixes` must be empty).
      fine_tune: fine-tune CREPE's convolutions in stage 1.
      crepe_f0: give the decoder CREPE's f0 beside z (`ExperimentConfig.f0_input`).
      whistle_steps, trumpet_steps: None keeps the defaults (`FAST_SIZES` when `fast`).
      fast: the quick setting.
    """
    fixes = list(fixes or ())
    if "all" in fixes:
        fixes = list(FIXES)
    unknown = [f for f in fixes if f not in FIXES]
    if unknown:
        raise ExperimentError(f"Unknown fix(es) {unknown}; choose from {', '.join(FIXES)} or all.")
    if baseline and (fixes or harmonic_only or fine_tune or crepe_f0):
        raise ExperimentError("The DDSP baseline takes no fixes, --harmonic-only, --fine-tune-encoder or --crepe-f0: "
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
        if crepe_f0:
            changes["f0_input"] = True
        ordered = [f for f in FIXES if f in fixes]
        auto = ("all-fixes" if len(ordered) == len(FIXES) else "+".join(ordered)) if ordered else ""
        auto = "+".join(p for p in (auto, "crepe-f0" if crepe_f0 else "") if p) or "published"
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
             "ddsp-baseline": dict(baseline=True), "crepe-f0": dict(crepe_f0=True)}
    kinds.update({fix: dict(fixes=[fix]) for fix in FIXES})
    if name not in kinds:
        raise ExperimentError(f"Unknown row {name!r}; the rows are {', '.join(ROWS)}.")
    return row_config(**kinds[name], fast=fast, whistle_steps=whistle_steps, trumpet_steps=trumpet_steps)
