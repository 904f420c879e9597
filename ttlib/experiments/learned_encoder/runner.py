"""Playing a trained row of the experiment: resynthesis from a clip's own features, or transfer of whistling.

`Runner` hides the difference between the two kinds of rows: a learned-encoder model
(its Keras weights, fed CREPE's features of the audio) and the DDSP baseline (a model
folder of `ttlib.models`, fed f0 and loudness adjusted by `ttlib.transfer`). Notebook 08
plays every row on the same clip through it.
"""
from __future__ import annotations

import os

import numpy as np

from ttlib.core.units import SAMPLE_RATE, n_frames
from ttlib.data.features import loudness_db as compute_loudness
from ttlib.experiments.learned_encoder.config import ExperimentConfig
from ttlib.experiments.learned_encoder.encoder import crepe_convolutions, encoder_features
from ttlib.experiments.learned_encoder.model import build_model
from ttlib.experiments.learned_encoder.testset import TransferSet
from ttlib.models.checkpoint import load_model
from ttlib.models.evaluation import resynthesize
from ttlib.pitch.tracking import track
from ttlib.synth.noise import noise_generator
from ttlib.transfer.adjustment import Settings, adjust
from ttlib.transfer.source import source_features

CLIPS_PER_CALL = 8
"""Clips the model plays at once (memory)."""


class Runner:
    """Makes audio with a trained run of either kind, for clips of any length.

    Args:
      cfg: the row's configuration.
      model: the learned-encoder model (`build_model`, trained), for learned rows.
      model_dir: the baseline's model folder, for the baseline row.
      statistics: the trumpet training data's statistics (what transfer maps onto).
    """

    def __init__(self, cfg: ExperimentConfig, model=None, model_dir: str | os.PathLike | None = None,
                 statistics: dict | None = None):
        self.cfg, self.model, self.model_dir, self.statistics = cfg, model, model_dir, statistics
        self._convolutions = None

    def resynthesize(self, audio, f0_hz, loudness_db) -> dict:
        """Resynthesis of clips from their own features: {"audio", "harmonic", "noise", "f0_hz"}."""
        if self.cfg.conditioning == "learned":
            return self._learned(audio, loudness_db, f0_hz)
        loaded = load_model(self.model_dir, seconds=audio.shape[1] / SAMPLE_RATE)
        parts = resynthesize(loaded.model, {"audio": audio, "f0_hz": f0_hz, "loudness_db": loudness_db})
        return {"audio": parts["resynthesis"], "harmonic": parts["harmonic"], "noise": parts["noise"],
                "f0_hz": np.asarray(f0_hz, np.float32)}

    def transfer(self, tset: TransferSet) -> dict:
        """Whistle clips played by the model: {"audio", "harmonic", "noise", "f0_hz"}, [n, n_samples] audio.

        The learned model hears the whistle itself (and, with the skip connection, its
        loudness mapped onto the trumpet's like the baseline's; with `f0_input`, its f0
        moved into the trumpet's register like the baseline's); the baseline gets
        `ttlib.transfer`'s adjusted f0 and loudness with the set's octave shift.
        """
        if self.cfg.conditioning == "learned" and not (self.cfg.loudness_skip or self.cfg.f0_input):
            return self._learned(tset.audio, None)
        adjusted_f0, adjusted_ld = [], []
        for clip in tset.audio:
            source = source_features(clip, frame_rate=self.cfg.frame_rate)
            first = adjust(source, self.statistics)
            correction = 12.0 * (tset.octave_shift - first.octave_shift)
            adj = adjust(source, self.statistics, Settings(pitch_shift=correction))
            adjusted_f0.append(adj.f0_hz[:tset.f0_hz.shape[1]])
            adjusted_ld.append(adj.loudness_db[:tset.f0_hz.shape[1]])
        f0, ld = np.stack(adjusted_f0), np.stack(adjusted_ld)
        if self.cfg.conditioning == "learned":
            return self._learned(tset.audio, ld, f0)
        return self.resynthesize(tset.audio, f0, ld)

    def model_inputs(self, audio, loudness_db=None, f0_hz=None) -> dict:
        """What the learned model is called with for clips `audio` [n, n_samples]: their audio, CREPE's
        features (frozen convolutions), with the skip connection their loudness (computed if None), with
        `f0_input` their f0 (CREPE tiny's if None, as the datasets hold)."""
        cfg = self.cfg
        inputs = {"audio": np.asarray(audio, np.float32)}
        if not cfg.encoder_trainable:
            if self._convolutions is None:
                self._convolutions = crepe_convolutions(cfg.encoder_capacity)
            inputs["features"] = encoder_features(audio, cfg.encoder_capacity, cfg.frame_rate,
                                                  convolutions=self._convolutions)
        if cfg.loudness_skip:
            if loudness_db is None:
                count = n_frames(audio.shape[1], cfg.hop, whole=True)
                loudness_db = np.stack([compute_loudness(a, SAMPLE_RATE, cfg.frame_rate)[:count] for a in audio])
            inputs["loudness_db"] = np.asarray(loudness_db, np.float32)
        if cfg.f0_input:
            if f0_hz is None:
                count = n_frames(audio.shape[1], cfg.hop, whole=True)
                f0_hz = np.stack([track(a, "crepe-tiny", frame_rate=cfg.frame_rate).f0_hz[:count] for a in audio])
            inputs["f0_hz"] = np.asarray(f0_hz, np.float32)
        return inputs

    def _learned(self, audio, loudness_db, f0_hz=None) -> dict:
        cfg = self.cfg
        count = n_frames(audio.shape[1], cfg.hop, whole=True)
        seconds = audio.shape[1] / SAMPLE_RATE
        model = self.model
        if abs(seconds - cfg.example_seconds) > 1e-9:      # same weights, synthesizers of another length
            model = build_model(cfg, seconds=seconds)
            model(self.model_inputs(audio[:1], None if loudness_db is None else loudness_db[:1],
                                    None if f0_hz is None else f0_hz[:1]))
            model.set_weights(self.model.get_weights())
        generator = noise_generator(model)
        state = None if generator is None else generator.state.numpy()
        out = {"audio": [], "harmonic": [], "noise": [], "f0_hz": []}
        for s in range(0, audio.shape[0], CLIPS_PER_CALL):
            ld = None if loudness_db is None else loudness_db[s:s + CLIPS_PER_CALL, :count]
            f0 = None if f0_hz is None else f0_hz[s:s + CLIPS_PER_CALL, :count]
            result = model(self.model_inputs(audio[s:s + CLIPS_PER_CALL], ld, f0), training=False)
            for k in out:
                out[k].append(np.asarray(result[k]))
        if generator is not None:
            generator.reset(state)                          # the same call gives the same noise
        return {k: np.concatenate(v) for k, v in out.items()}
