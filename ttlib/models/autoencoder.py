"""The course's DDSP autoencoder, built from a named configuration (`ttlib.models.configs`).

The model is ddsp's `Autoencoder`: F0LoudnessPreprocessor -> optional encoder ->
RnnFcDecoder -> Harmonic + FilteredNoise -> Reverb (or RoomReverb), trained with ddsp's multi-scale
`SpectralLoss`. Notebook 04 builds each synthesizer by hand; notebook 06 trains this.

Differences from ddsp's stock model, all deliberate:
  - the preprocessor does not recompute loudness from the audio
    (`compute_loudness=False`): the model uses the `loudness_db` it is given, so
    transfer can shift it (ddsp's default would silently ignore it);
  - the filtered noise draws from a `tf.random.Generator` that is part of the
    model's checkpoint (`ttlib.synth.noise`), so a resumed run continues the same
    noise sequence and the same seed gives the same loss curve, interrupted or not;
  - with `fast_harmonic` the harmonics come from `ttlib.synth.harmonic` (the same
    controls, the same checkpoint, about 5 times faster);
  - with `reverb="room"` (the course's) the reverb is `ttlib.synth.reverb.RoomReverb`, a
    decay per octave band on fixed noise, instead of a free impulse response.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ttlib.core.constants import PAPER_FFT_SIZES
from ttlib.models.configs import ModelConfig, get_config
from ttlib.synth.harmonic import fast_harmonic_class
from ttlib.synth.noise import seeded_noise_class
from ttlib.synth.reverb import room_reverb_class

if TYPE_CHECKING:
    import ddsp.losses
    import ddsp.training.models


def build_autoencoder(config: str | ModelConfig = "course", seconds: float | None = None,
                      seed: int = 0) -> ddsp.training.models.Autoencoder:
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
    harmonic_class = fast_harmonic_class() if cfg.fast_harmonic else ddsp.synths.Harmonic
    harmonic = harmonic_class(
        n_samples=cfg.n_samples, sample_rate=cfg.sample_rate,
        normalize_below_nyquist=True, scale_fn=ddsp.core.exp_sigmoid,
        amp_resample_method=cfg.amp_resample_method, name="harmonic")
    noise = seeded_noise_class()(
        seed=seed, n_samples=cfg.n_samples, window_size=0, scale_fn=ddsp.core.exp_sigmoid, name="filtered_noise")
    dag = [
        (harmonic, ["amps", "harmonic_distribution", "f0_hz"]),
        (noise, ["noise_magnitudes"]),
        (ddsp.processors.Add(name="add"), ["filtered_noise/signal", "harmonic/signal"]),
    ]
    if cfg.reverb_seconds > 0:
        length = int(cfg.reverb_seconds * cfg.sample_rate)
        reverb = (room_reverb_class()(reverb_length=length, sample_rate=cfg.sample_rate, name="reverb")
                  if cfg.reverb == "room" else ddsp.effects.Reverb(trainable=True, reverb_length=length, name="reverb"))
        dag.append((reverb, ["add/signal"]))
    encoder, input_keys = None, ("ld_scaled", "f0_scaled")
    if cfg.z_dims:
        encoder = encoders.MfccTimeDistributedRnnEncoder(
            rnn_channels=cfg.rnn_channels, rnn_type="gru", z_dims=cfg.z_dims, z_time_steps=z_time_steps(cfg.n_frames))
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
        losses=[multiscale_spectral_loss(cfg.fft_sizes)],
    )


Z_TIME_STEPS = (63, 125, 250, 500, 1000)
"""The numbers of z frames per 4 s clip that ddsp's `MfccTimeDistributedRnnEncoder` has MFCC settings for."""


def z_time_steps(n_frames: int) -> int:
    """The z frames per clip for a model of `n_frames` control frames: `n_frames` itself if ddsp allows it,
    else the next larger allowed value (ddsp's encoder resamples z to the control frames), e.g. 200 -> 250."""
    return next((steps for steps in Z_TIME_STEPS if steps >= n_frames), Z_TIME_STEPS[-1])


def multiscale_spectral_loss(fft_sizes: tuple = PAPER_FFT_SIZES) -> ddsp.losses.SpectralLoss:
    """ddsp's multi-scale spectral loss: L1 of linear and log magnitudes at each FFT size (notebook 04)."""
    import ddsp

    return ddsp.losses.SpectralLoss(fft_sizes=tuple(fft_sizes), loss_type="L1", mag_weight=1.0, logmag_weight=1.0)


def count_parameters(model) -> int:
    """Number of trainable scalars of a built model."""
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def processors(model) -> dict:
    """{name: processor} of a ddsp model's processor group (harmonic, filtered_noise, add, reverb)."""
    return {p.name: p for p in model.processor_group.processors}


def decode_controls(model, f0_hz, loudness_db) -> tuple:
    """The synthesizers' controls of a built model for f0 and loudness [1, n_frames, 1] (tensors).

    What the model does between its inputs and its synthesizers, without ddsp's preprocessor
    (which resamples to the training length): f0 and loudness scaled as ddsp scales them, the
    decoder, then the harmonic and noise synthesizers' `get_controls`. Returns (amplitudes
    [1, n, 1], harmonic_distribution [1, n, H], noise magnitudes [1, n, bands]). The one decode
    step of chunked playback (`ttlib.transfer.Synthesizer`) and of the export (`ttlib.models.export`).
    """
    from ddsp.training.preprocessing import scale_db, scale_f0_hz

    outputs = model.decoder({"f0_scaled": scale_f0_hz(f0_hz), "ld_scaled": scale_db(loudness_db)}, training=False)
    parts = processors(model)
    harmonic = parts["harmonic"].get_controls(outputs["amps"], outputs["harmonic_distribution"], f0_hz)
    noise = parts["filtered_noise"].get_controls(outputs["noise_magnitudes"])
    return harmonic["amplitudes"], harmonic["harmonic_distribution"], noise["magnitudes"]


def reverb_impulse_response(model) -> np.ndarray | None:
    """The learned reverb's wet impulse response of a built model, shape [ir_samples] (None without reverb).

    Taken through ddsp's public `Reverb.get_controls`; its first sample is set to 0, as
    ddsp's `Reverb` does before convolving (the dry signal is added separately).
    """
    import tensorflow as tf

    reverb = processors(model).get("reverb")
    if reverb is None:
        return None
    ir = np.array(reverb.get_controls(tf.zeros([1, 1]))["ir"], np.float64).reshape(-1)
    ir[0] = 0.0
    return ir
