"""General MIDI soundfonts and FluidSynth rendering.

The course renders its built-in trumpet and whistle with FluidSynth through a GM
soundfont of sampled instruments. It prefers FluidR3_GM (Debian's
`fluid-soundfont-gm`, 148 MB); where no system soundfont exists it falls back to
the small TimGM6mb.sf2 (6 MB) inside `pretty_midi`'s wheel and says so.

Heard in notebook 00 (FluidSynth plays a trumpet) and behind every built-in
performance (notebook 05, `ttlib.data.builtin`).
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np

from ttlib.core.errors import MissingFileError, SystemDependencyError

SYSTEM_SOUNDFONTS = (
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",         # Debian/Ubuntu fluid-soundfont-gm
    "/usr/share/soundfonts/FluidR3_GM.sf2",         # Fedora, Arch
    "/opt/homebrew/share/soundfonts/FluidR3_GM.sf2",
    "/usr/local/share/soundfonts/FluidR3_GM.sf2",
)
RENDER_SAMPLE_RATE = 44100
"""Render here, then resample to 16 kHz: rendering directly at 16 kHz aliases."""

_dither_seeded = False


def same_dither_in_every_process() -> None:
    """Seed the C library's rand() as a fresh process has it (srand(1)), once, before the first synthesizer.

    FluidSynth dithers its 16-bit output with a table it fills from rand() when a process makes its first
    synthesizer, so a rendering depends on whatever called rand() or srand() before: a Jupyter kernel rendered
    the built-in trumpet differently from `python -m ttlib` (samples up to 5e-4 apart, measured), and so the
    datasets, their hashes and every run trained on them. With this, every process renders the same samples
    (the ones a fresh process always rendered). Later calls do nothing: the table is made once per process.
    """
    global _dither_seeded
    if _dither_seeded:
        return
    _dither_seeded = True
    import ctypes

    try:
        ctypes.CDLL(None).srand(1)
    except (OSError, AttributeError, TypeError):   # no C library to reach this way (Windows): as before
        pass


class FallbackSoundfontWarning(UserWarning):
    """No system GM soundfont: rendering uses pretty_midi's small one."""


def pretty_midi_soundfont() -> Path:
    """The small GM soundfont (TimGM6mb.sf2) shipped inside pretty_midi's wheel."""
    import pretty_midi.fluidsynth

    return Path(pretty_midi.fluidsynth.__file__).parent / pretty_midi.fluidsynth.DEFAULT_SF2


def find_soundfont(path: str | os.PathLike | None = None, candidates: tuple = SYSTEM_SOUNDFONTS) -> Path:
    """The GM soundfont to render with.

    Order: `path` if given, then `$TTLIB_SOUNDFONT`, then the first of
    `candidates` that exists, then pretty_midi's TimGM6mb.sf2 (with a
    `FallbackSoundfontWarning` that says how to get the better one).

    Raises:
      MissingFileError: `path` or `$TTLIB_SOUNDFONT` names a missing file.
    """
    chosen = path or os.environ.get("TTLIB_SOUNDFONT")
    if chosen:
        chosen = Path(chosen).expanduser()
        if not chosen.is_file():
            raise MissingFileError(f"Soundfont {chosen} does not exist. Give the path of a .sf2 "
                                    "file, or unset TTLIB_SOUNDFONT to use the system's.")
        return chosen
    for candidate in candidates:
        if Path(candidate).is_file():
            return Path(candidate)
    fallback = pretty_midi_soundfont()
    warnings.warn(
        f"No system GM soundfont found (looked for {', '.join(map(str, candidates))}); "
        f"rendering with pretty_midi's small soundfont {fallback.name}. It sounds thinner. "
        "For FluidR3_GM: sudo apt-get install fluid-soundfont-gm (or set TTLIB_SOUNDFONT).",
        FallbackSoundfontWarning, stacklevel=2)
    return fallback


def render_midi(midi, sample_rate: int = RENDER_SAMPLE_RATE, soundfont: str | os.PathLike | None = None,
                effects: bool = True) -> np.ndarray:
    """Render a `pretty_midi.PrettyMIDI` with FluidSynth.

    Args:
      midi: the performance (notes, pitch bends, control changes).
      sample_rate: rendering rate in Hz (44.1 or 48 kHz; resample afterwards).
      soundfont: a .sf2 path, or None for `find_soundfont()`.
      effects: FluidSynth's reverb and chorus, on by default as in FluidSynth (a room
        of about a second); False renders the instrument dry, the room a recording
        convolved with a known impulse response should not already have (notebook 10).

    Returns:
      float32 mono audio, shape [n_samples], at `sample_rate`.

    Raises:
      SystemDependencyError: FluidSynth's library is missing, with the command to install it.
    """
    sf2 = find_soundfont(soundfont)
    try:
        import fluidsynth  # pyfluidsynth: loads libfluidsynth
    except (ImportError, OSError) as exc:
        raise SystemDependencyError(
            f"FluidSynth's library could not be loaded ({exc}). Install it: "
            "sudo apt-get install fluidsynth (macOS: brew install fluid-synth), then restart Python."
        ) from exc
    same_dither_in_every_process()
    if effects:
        audio = midi.fluidsynth(fs=sample_rate, synthesizer=str(sf2))
    else:
        synth = fluidsynth.Synth(samplerate=float(sample_rate), **{"synth.reverb.active": 0,
                                                                   "synth.chorus.active": 0})
        try:
            audio = midi.fluidsynth(fs=sample_rate, synthesizer=synth, sfid=synth.sfload(str(sf2)))
        finally:
            synth.delete()
    return np.asarray(audio, dtype=np.float32)
