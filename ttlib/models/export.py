"""A trained model for other runtimes: a SavedModel and a TFLite file, f0 and loudness in, controls and audio out.

In the spirit of ddsp's `ddsp_export` (its `AutoencoderInference`, which also leaves the
reverb out, and its TFLite conversion): the model's decoder and synthesizers traced for a
fixed number of frames (`seconds`, 4 s by default as ddsp's) into one TensorFlow function

    serving_default(f0_hz: float32[n_frames], loudness_db: float32[n_frames]) ->
        amplitudes [n_frames, 1], harmonic_distribution [n_frames, n_harmonics],
        noise_magnitudes [n_frames, n_noise_bands]   (after ddsp's scaling, as `Synthesizer.controls`),
        harmonic, noise, audio [n_samples]           (the dry parts and their sum, as `Synthesizer.render`)

written as a SavedModel (`saved_model/`) and a TFLite flatbuffer (`model.tflite`) of
built-in operations only, with the model's learned room as `reverb_ir_16000_hz.wav`
(as ddsp_export writes it: convolve `audio` with it for the model's room) and
`metadata.json` (frame rate, hop, sample rate, sizes, the training data's statistics,
versions), as ddsp_export writes its own. The inputs are the model's f0 (Hz) and loudness
(dB), e.g. a transfer's adjusted features: tracking and adjustment stay outside. The
noise is fixed white noise, so the same input gives the same audio in every runtime.

DDSP-VST's plug-in loads another form (`ddsp_export --inference_model=vst_*`): one frame
per call, a stateless GRU whose state goes in and out, and a decoder fed `pw_scaled`
(power, from ddsp's `PowerPreprocessor`); the course's models read `ld_scaled`
(A-weighted loudness), so a plug-in would feed them the wrong feature.
Notebook 06 (the model folder this reads); the command line's `python -m ttlib export`.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ttlib.core.errors import ConfigError, ModelError, OutputExistsError
from ttlib.core.units import SAMPLE_RATE, hop_length
from ttlib.models.autoencoder import decode_controls, reverb_impulse_response
from ttlib.models.checkpoint import LoadedModel, load_model

FORMATS = ("saved_model", "tflite")
"""What `export` writes."""
DEFAULT_SECONDS = 4.0
"""The exported function's length (s), as ddsp's `AutoencoderInference`."""
EXPORT_VERSION = 1
"""The form of the export (its inputs, outputs and files); in `metadata.json`."""
FILES = ("saved_model", "model.tflite", "metadata.json", "reverb_ir_16000_hz.wav")
"""The files and folders an export writes into its folder (and replaces with `overwrite`)."""


@dataclass
class Exported:
    """What `export` wrote.

    Attributes:
      folder: the export folder. saved_model, tflite: their paths (None if not asked for).
      reverb: the model's room as a WAV file (None: the model has no reverb).
      metadata: the contents of `metadata.json`.
    """

    folder: Path
    saved_model: Path | None = None
    tflite: Path | None = None
    reverb: Path | None = None
    metadata: dict = field(default_factory=dict)


def export_module(loaded: LoadedModel, n_frames: int, seed: int = 0) -> object:
    """A `tf.Module` whose `serving_default` maps f0 and loudness ([n_frames] each) to controls and audio.

    Built from TFLite's built-in operations only (the TensorFlow wheel's TFLite
    interpreter runs no select TensorFlow ops): the harmonic phase in float32
    (`harmonic_synthesis(float32_phase=True)`), and ddsp's filtered noise
    (`ddsp.core.frequency_filter(white, magnitudes, window_size=0)`) as real matrix
    products: its per-frame impulse response is linear in the magnitudes and its FFT
    convolution is a real DFT, a product and an inverse real DFT, all constant matrices;
    the white noise is `Synthesizer`'s (numpy's generator from `seed`), fixed in the model.
    """
    import ddsp
    import tensorflow as tf

    from ttlib.synth.harmonic import harmonic_synthesis

    hop = hop_length(SAMPLE_RATE, loaded.config.frame_rate)
    n_samples = n_frames * hop
    n_bands = int(loaded.config.n_noise_bands)
    # ddsp's impulse response of each frame, [n_bands] magnitudes -> [ir_size] taps, is linear: C = its matrix
    basis = ddsp.core.frequency_impulse_response(tf.eye(n_bands)[None], window_size=0)
    c = np.asarray(basis, np.float64)[0]                                             # [n_bands, ir_size]
    ir_size = c.shape[1]
    fft_size = int(ddsp.core.get_fft_size(hop, ir_size, power_of_2=True))
    dft = np.fft.rfft(np.eye(fft_size), axis=1)                                      # row n: DFT of e_n
    h_re, h_im = (c @ dft[:ir_size]).real, (c @ dft[:ir_size]).imag                   # magnitudes -> DFT of the IR
    bins = dft.shape[1]
    g_re = np.fft.irfft(np.eye(bins), fft_size, axis=1)                              # inverse real DFT, by parts
    g_im = np.fft.irfft(1j * np.eye(bins), fft_size, axis=1)
    white = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(1, n_samples)).astype(np.float32)
    x = np.fft.rfft(white.astype(np.float64).reshape(n_frames, hop), fft_size, axis=1)   # the noise frames' DFT
    segments = -(-fft_size // hop)
    start = (ir_size - 1) // 2 - 1                                                  # ddsp's delay compensation

    def constant(a):
        return tf.constant(np.asarray(a, np.float32))

    class Export(tf.Module):
        def __init__(self):
            super().__init__(name="ttlib_export")
            self.decoder = loaded.model.decoder                   # tracked: its variables go into the SavedModel
            self.h_re, self.h_im, self.g_re, self.g_im = map(constant, (h_re, h_im, g_re, g_im))
            self.x_re, self.x_im = constant(x.real), constant(x.imag)

        @tf.function(input_signature=[tf.TensorSpec([n_frames], tf.float32, name="f0_hz"),
                                      tf.TensorSpec([n_frames], tf.float32, name="loudness_db")])
        def serving_default(self, f0_hz, loudness_db):
            f0 = f0_hz[None, :, None]
            amplitudes, distribution, magnitudes = decode_controls(loaded.model, f0, loudness_db[None, :, None])
            magnitudes = magnitudes[0]                                                       # [F, bands]
            harmonic_audio = harmonic_synthesis(amplitudes, distribution, f0, n_samples, SAMPLE_RATE,
                                                float32_phase=True)[0]
            ir_re, ir_im = tf.matmul(magnitudes, self.h_re), tf.matmul(magnitudes, self.h_im)
            y_re = self.x_re * ir_re - self.x_im * ir_im
            y_im = self.x_re * ir_im + self.x_im * ir_re
            frames = tf.matmul(y_re, self.g_re) + tf.matmul(y_im, self.g_im)                 # [F, fft_size]
            frames = tf.pad(frames, [[0, 0], [0, segments * hop - fft_size]])
            total = tf.zeros([(n_frames + segments) * hop])
            for m in range(segments):                                                  # overlap-add
                piece = tf.reshape(frames[:, m * hop:(m + 1) * hop], [-1])
                total += tf.pad(piece, [[m * hop, (segments - m) * hop]])
            noise_audio = total[start:start + n_samples]
            return {"amplitudes": amplitudes[0], "harmonic_distribution": distribution[0],
                    "noise_magnitudes": magnitudes, "harmonic": harmonic_audio, "noise": noise_audio,
                    "audio": harmonic_audio + noise_audio}

    return Export()


def export(model_dir: str | os.PathLike | LoadedModel, out_dir: str | os.PathLike | None = None,
           formats: tuple = FORMATS, seconds: float = DEFAULT_SECONDS, overwrite: bool = False) -> Exported:
    """Write a model folder's model as a SavedModel and/or a TFLite file (see the module's docstring).

    Args:
      model_dir: a model folder (or a `LoadedModel`).
      out_dir: the export folder; None: `model_dir/export` (as ddsp_export's default).
      formats: any of `FORMATS`.
      seconds: the length the function is traced for; a whole number of frames.
      overwrite: replace an earlier export's files in `out_dir` (nothing else there is touched).

    Raises:
      ModelError: not a usable model folder. ConfigError: an unknown format, a length
      that is not positive. OutputExistsError: `out_dir` holds an export and not `overwrite`.
    """
    import tensorflow as tf

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ConfigError(f"Unknown export format {', '.join(unknown) or '(none)'}; choose from {', '.join(FORMATS)}.")
    if not seconds > 0:
        raise ConfigError(f"The export's length must be positive (got {seconds} s).")
    loaded = model_dir if isinstance(model_dir, LoadedModel) else load_model(model_dir)
    if loaded.config.z_dims:
        raise ModelError(f"{loaded.folder}: a model with a timbre encoder (z_dims={loaded.config.z_dims}) needs audio "
                         "as input; the export takes f0 and loudness (z_dims=0 models, like `course`).")
    folder = Path(out_dir) if out_dir is not None else Path(loaded.folder) / "export"
    there = [folder / name for name in FILES if (folder / name).exists()]
    if there and not overwrite:
        raise OutputExistsError(f"{there[0]} exists; pass --overwrite to replace the export, or choose another --out.")
    frame_rate = float(loaded.config.frame_rate)
    n_frames = int(round(seconds * frame_rate))
    if n_frames < 2:
        raise ConfigError(f"The export's length, {seconds:g} s, is under two frames of this model "
                          f"({frame_rate:g} frames/s); give at least {2 / frame_rate:g} s.")
    hop = hop_length(SAMPLE_RATE, frame_rate)
    module = export_module(loaded, n_frames)
    function = module.serving_default.get_concrete_function()
    folder.mkdir(parents=True, exist_ok=True)
    for path in there:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    result = Exported(folder)
    saved = folder / "saved_model"
    tf.saved_model.save(module, str(saved), signatures={"serving_default": function})
    if "tflite" in formats:
        converter = tf.lite.TFLiteConverter.from_saved_model(str(saved))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        result.tflite = folder / "model.tflite"
        result.tflite.write_bytes(converter.convert())
    if "saved_model" in formats:
        result.saved_model = saved
    else:
        shutil.rmtree(saved)
    tail = reverb_impulse_response(loaded.model)
    if tail is not None:
        from ttlib.audio.io import save_wav

        ir = np.array(tail, np.float64)
        ir[0] = 1.0                                          # the direct sound, as the transfer's model room
        result.reverb = save_wav(folder / "reverb_ir_16000_hz.wav", ir, SAMPLE_RATE, overwrite=True)
    outputs = {k: list(v.shape) for k, v in function.structured_outputs.items()}
    result.metadata = {
        "export_version": EXPORT_VERSION, "model": str(Path(loaded.folder).resolve()), "step": int(loaded.step),
        "config": loaded.config.name, "sample_rate": SAMPLE_RATE, "frame_rate": frame_rate, "frame_size": hop,
        "n_frames": n_frames, "n_samples": n_frames * hop, "seconds": n_frames / frame_rate,
        "num_harmonics": int(loaded.config.n_harmonics), "num_noise_amps": int(loaded.config.n_noise_bands),
        "inputs": {"f0_hz": [n_frames], "loudness_db": [n_frames]}, "outputs": outputs,
        "reverb": None if result.reverb is None else result.reverb.name, "statistics": _jsonable(loaded.statistics),
        "formats": [f for f in FORMATS if f in formats], "versions": {"tensorflow": tf.__version__},
    }
    (folder / "metadata.json").write_text(json.dumps(result.metadata, indent=2) + "\n")
    return result


def _jsonable(value):
    """`value` with numpy numbers and arrays made plain (for metadata.json)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_tflite(path: str | os.PathLike, f0_hz, loudness_db) -> dict:
    """Run an exported `model.tflite` with TensorFlow's TFLite interpreter: {output name: array}."""
    import warnings

    import tensorflow as tf

    try:
        with warnings.catch_warnings():          # TensorFlow 2.21 still ships it; its successor is ai_edge_litert's
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            interpreter = tf.lite.Interpreter(model_path=str(path))
    except ValueError as exc:
        raise ModelError(f"{path} is not a TFLite model this TensorFlow can run ({exc}).") from None
    runner = interpreter.get_signature_runner("serving_default")
    out = runner(f0_hz=np.asarray(f0_hz, np.float32), loudness_db=np.asarray(loudness_db, np.float32))
    return {k: np.asarray(v) for k, v in out.items()}


def run_saved_model(path: str | os.PathLike, f0_hz, loudness_db) -> dict:
    """Run an exported SavedModel's `serving_default`: {output name: array}."""
    import tensorflow as tf

    function = tf.saved_model.load(str(path)).signatures["serving_default"]
    out = function(f0_hz=tf.constant(np.asarray(f0_hz, np.float32)),
                   loudness_db=tf.constant(np.asarray(loudness_db, np.float32)))
    return {k: v.numpy() for k, v in out.items()}
