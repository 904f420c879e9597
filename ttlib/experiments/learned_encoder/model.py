"""The learned-encoder autoencoder: CREPE's features -> z -> ddsp's decoder -> f0, harmonics, noise.

Nothing tells the decoder f0 or loudness: it outputs the oscillator's f0 itself (a
sigmoid over `f0_range_midi`), with the loudness skip and the hypothesis row's CREPE f0
(`f0_input`: the decoder reads it beside z and the oscillator plays it) as the exceptions. The
oscillator is `ttlib.synth.harmonic`'s, the noise `ttlib.synth.noise`'s (seeded).
Notebook 08, section 2.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ttlib.core.errors import ExperimentError
from ttlib.core.units import FRAME_LENGTH, n_frames
from ttlib.experiments.learned_encoder.config import ExperimentConfig
from ttlib.experiments.learned_encoder.encoder import crepe_convolutions, crepe_windows
from ttlib.synth.harmonic import fast_harmonic_class
from ttlib.synth.noise import seeded_noise_class

if TYPE_CHECKING:
    import tensorflow as tf


def build_model(cfg: ExperimentConfig, seed: int = 0, seconds: float | None = None) -> tf.keras.Model:
    """The learned-encoder autoencoder of `cfg` (a tf.keras Model, built on first call).

    Call it with {"features": [batch, frames, F] CREPE features (frozen convolutions) or
    "audio": [batch, n_samples] (fine-tuned ones), "loudness_db": [batch, frames]
    (with `loudness_skip`), "f0_hz": [batch, frames] (with `f0_input`)}. Returns {"audio",
    "harmonic", "noise": [batch, n_samples], "f0_hz", "amplitude": [batch, frames], "z": [batch,
    frames, z_dims]}.
    `seconds` sets the length of audio the synthesizers make (default: the clips').
    """
    import ddsp
    import tensorflow as tf
    from ddsp.training import decoders, preprocessing

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
            keys = ("z",) + (("ld_scaled",) if cfg.loudness_skip else ()) + (("f0_scaled",) if cfg.f0_input else ())
            splits = [] if cfg.f0_input else [("f0_logit", 1)]
            splits += [("amps", 1), ("harmonic_distribution", cfg.n_harmonics)]
            if cfg.noise:
                splits.append(("noise_magnitudes", cfg.n_noise_bands))
            self.decoder = decoders.RnnFcDecoder(
                rnn_channels=cfg.rnn_channels, rnn_type="gru", ch=cfg.mlp_channels,
                layers_per_stack=cfg.mlp_layers, input_keys=keys, output_splits=tuple(splits), name="decoder")
            self.harmonic = fast_harmonic_class()(
                n_samples=n_samples, sample_rate=cfg.sample_rate, normalize_below_nyquist=True,
                scale_fn=ddsp.core.exp_sigmoid, amp_resample_method="linear", name="harmonic")
            self.noise = seeded_noise_class()(
                seed=seed, n_samples=n_samples, window_size=0, scale_fn=ddsp.core.exp_sigmoid,
                name="filtered_noise") if cfg.noise else None

        def encoder_variables(self) -> list:
            """What trains in stage 1 besides the decoder: the dense layer to z (and fine-tuned convolutions)."""
            out = list(self.to_z.trainable_variables)
            if self.convolutions is not None:
                out += list(self.convolutions.trainable_variables)
            return out

        def decoder_variables(self) -> list:
            """The decoder's and the noise's variables (what trains in stage 2)."""
            out = list(self.decoder.trainable_variables)
            if self.noise is not None:
                out += list(self.noise.trainable_variables)
            return out

        def call(self, inputs, training=False):
            if self.convolutions is not None and "audio" in inputs:
                audio = tf.convert_to_tensor(inputs["audio"])
                n = n_frames(int(audio.shape[1]), cfg.hop, whole=True)
                windows = crepe_windows(audio, cfg.frame_rate, n)
                feats = self.convolutions(tf.reshape(windows, [-1, FRAME_LENGTH]), training=False)
                feats = tf.reshape(feats, [-1, n, feats.shape[-1]])
            else:
                feats = tf.convert_to_tensor(inputs["features"])
            z = self.to_z(feats)
            decoder_inputs = {"z": z}
            if cfg.loudness_skip:
                ld = tf.convert_to_tensor(inputs["loudness_db"])[..., tf.newaxis]
                decoder_inputs["ld_scaled"] = preprocessing.scale_db(ld)        # ddsp: db / 80 + 1
            if cfg.f0_input:                    # ddsp's scaling, midi / 127, as the baseline's preprocessor
                f0_hz = tf.convert_to_tensor(inputs["f0_hz"], tf.float32)[..., tf.newaxis]
                decoder_inputs["f0_scaled"] = preprocessing.scale_f0_hz(f0_hz)
            controls = self.decoder(decoder_inputs)
            if not cfg.f0_input:
                f0_hz = ddsp.core.midi_to_hz(low + (high - low) * tf.sigmoid(controls["f0_logit"]))
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
