"""Resynthesis and its measures, for a trained model on held-out audio.

The DDSP paper (Engel et al., 2020) reports resynthesis as a loudness L1 error (dB), an f0
L1 error and an f0 outlier rate (ddsp's `training/metrics.py`); the course measures the
loudness and f0 errors in the same spirit (f0 in cents, CREPE on the output) and adds its
own spectral loss. On held-out examples:
  - `spectral_loss`: the multi-scale spectral loss (`ttlib.core.constants.PAPER_FFT_SIZES`,
    L1 of linear and log magnitudes) between the audio and its resynthesis: the
    same measure for every configuration, whatever loss it trained with;
  - `f0_error_cents_median` / `_mean`: the output's f0, tracked again with CREPE
    (`ttlib.pitch.output_f0_error`), against the f0 the model was given, on frames
    voiced in both;
  - `loudness_error_db`: mean absolute difference of the output's loudness and the
    input's, on the frames where the input plays;
  - `output_voiced_fraction`: share of the frames where the input plays on which the
    tracker also finds a pitch in the output (low = the model goes silent or noisy).

Notebook 06 measures the trained model with these; `python -m ttlib evaluate` prints them.
"""
from __future__ import annotations

import time

import numpy as np

from ttlib.core.constants import PLAYING_DB, VOICED_CONFIDENCE
from ttlib.core.units import SAMPLE_RATE
from ttlib.data.examples import Examples, validation_batch
from ttlib.data.features import loudness_db as compute_loudness
from ttlib.models.autoencoder import multiscale_spectral_loss
from ttlib.pitch.accuracy import output_f0_error
from ttlib.synth.noise import noise_generator

PARTS = ("resynthesis", "harmonic", "noise", "dry")
"""What `resynthesize` returns: everything, harmonic part only, noise part only, without reverb."""


def resynthesize(model, batch: dict, chunk: int = 8) -> dict:
    """Run a model on a batch of features and return its audio and its parts.

    Args:
      model: a built ddsp Autoencoder (e.g. `ttlib.models.load_model(...).model`).
      batch: `audio` [batch, n_samples] (may be zeros), `f0_hz`, `loudness_db` [batch, frames].
      chunk: examples per call (memory).

    Returns:
      {part: [batch, n_samples] float32} for each of `PARTS`: "resynthesis" (what
      the model outputs), "harmonic" (the harmonic synthesizer alone), "noise" (the
      filtered noise alone), "dry" (harmonic + noise, before the reverb).
    """
    import tensorflow as tf

    generator = noise_generator(model)
    state = None if generator is None else generator.state.numpy()
    out = {p: [] for p in PARTS}
    n = batch["f0_hz"].shape[0]
    for s in range(0, n, chunk):
        part = {k: tf.convert_to_tensor(np.asarray(v[s:s + chunk], np.float32)) for k, v in batch.items()}
        outputs = model(part, training=False)
        out["resynthesis"].append(np.asarray(outputs["audio_synth"]))
        out["harmonic"].append(np.asarray(outputs["harmonic"]["signal"]))
        out["noise"].append(np.asarray(outputs["filtered_noise"]["signal"]))
        out["dry"].append(np.asarray(outputs["add"]["signal"]))
    if generator is not None:
        generator.reset(state)       # the same call gives the same noise
    return {p: np.concatenate(v).astype(np.float32) for p, v in out.items()}


def spectral_loss(audio, synthesized, chunk: int = 8) -> float:
    """Mean over examples of the paper's multi-scale spectral loss; both [batch, n_samples]."""
    import tensorflow as tf

    loss_fn = multiscale_spectral_loss()
    audio, synthesized = np.asarray(audio, np.float32), np.asarray(synthesized, np.float32)
    total = 0.0
    for s in range(0, audio.shape[0], chunk):
        part = audio[s:s + chunk]
        value = loss_fn(tf.convert_to_tensor(part), tf.convert_to_tensor(synthesized[s:s + chunk]))
        total += float(value) * part.shape[0]
    return total / audio.shape[0]


def held_out_loss(model, batch: dict) -> float:
    """The paper's multi-scale spectral loss of the model's resynthesis of `batch` (held-out examples).

    Measuring does not change a training run (`resynthesize` restores the noise generator).
    """
    return spectral_loss(batch["audio"], resynthesize(model, batch)["resynthesis"])


def f0_and_loudness_errors(output, f0_hz, f0_confidence, loudness_db, frame_rate: float,
                           sample_rate: int = SAMPLE_RATE, f0_method: str = "crepe-tiny",
                           track_rate: float = 50.0) -> dict:
    """Per-frame errors of one output against the features it was made from.

    Args:
      output: [n_samples] audio.
      f0_hz, f0_confidence, loudness_db: [frames] the input's features at `frame_rate`.
      track_rate: frame rate at which the output is tracked again (must divide `frame_rate`).

    Returns:
      {"cents": [k] f0 errors on frames voiced in both, "loudness_db": [m] absolute
       loudness errors on playing frames, "playing": m, "voiced_in_output": count}.
    """
    f0_hz, f0_confidence, loudness_db = (np.asarray(x) for x in (f0_hz, f0_confidence, loudness_db))
    playing = (f0_confidence >= VOICED_CONFIDENCE) & (loudness_db > PLAYING_DB)
    step = int(round(frame_rate / track_rate))
    f0 = output_f0_error(output, f0_hz[::step], frame_rate / step, playing=playing[::step], method=f0_method,
                         sample_rate=sample_rate)
    out_ld = compute_loudness(output, sample_rate, frame_rate)
    m = min(out_ld.size, loudness_db.size)
    return {"cents": f0.cents, "loudness_db": np.abs(out_ld[:m] - loudness_db[:m])[playing[:m]],
            "playing": f0.n_playing, "voiced_in_output": f0.n_compared}


def evaluate(loaded, examples: Examples, max_examples: int | None = 32, f0_method: str = "crepe-tiny",
             progress: bool = False) -> dict:
    """The resynthesis measures of a model on held-out examples (see the module's docstring).

    Args:
      loaded: a `ttlib.models.LoadedModel`.
      examples: `ttlib.data.Examples` (e.g. `load_examples(data_dir, "validation")`);
        the first `loaded.seconds` of each example is resynthesised.
      max_examples: use at most this many (None: all).
      f0_method: tracker for the output's f0.

    Returns:
      {"spectral_loss", "f0_error_cents_median", "f0_error_cents_mean",
       "loudness_error_db", "output_voiced_fraction", "n_examples", "seconds"}.
    """
    start = time.perf_counter()
    n = len(examples) if max_examples is None else min(len(examples), max_examples)
    batch = validation_batch(examples, loaded.seconds, n)
    parts = resynthesize(loaded.model, batch)
    spectral = spectral_loss(batch["audio"], parts["resynthesis"])
    frames = batch["f0_hz"].shape[1]
    cents, loud, playing, voiced = [], [], 0, 0
    iterator = range(n)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="evaluating", unit="example", leave=False)
    for i in iterator:
        errors = f0_and_loudness_errors(parts["resynthesis"][i], batch["f0_hz"][i],
                                        examples.f0_confidence[i, :frames], batch["loudness_db"][i],
                                        examples.frame_rate, examples.sample_rate, f0_method)
        cents.append(errors["cents"])
        loud.append(errors["loudness_db"])
        playing += errors["playing"]
        voiced += errors["voiced_in_output"]
    cents = np.abs(np.concatenate(cents)) if cents else np.zeros(0)
    loud = np.concatenate(loud) if loud else np.zeros(0)
    return {"spectral_loss": spectral,
            "f0_error_cents_median": float(np.median(cents)) if cents.size else float("nan"),
            "f0_error_cents_mean": float(np.mean(cents)) if cents.size else float("nan"),
            "loudness_error_db": float(np.mean(loud)) if loud.size else float("nan"),
            "output_voiced_fraction": voiced / playing if playing else float("nan"),
            "n_examples": n, "seconds": round(time.perf_counter() - start, 2)}
