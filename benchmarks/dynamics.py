"""True dynamics: how each built-in instrument's brightness follows its loudness, beside real recordings.

    .venv/bin/python benchmarks/dynamics.py [--seconds 120] [--instruments trumpet flute ...]
        [--real trumpet=PATH ...] [--cache DIR]

For every built-in instrument, rendered with true dynamics and without them (General MIDI's
expression alone, a gain: the baseline of the same run), `ttlib.data.dynamics.brightness_fit`
gives, in harmonics of spectral centroid per 10 dB of loudness:

- crescendo: one held note through a hairpin (`builtin.crescendo`): the instrument's own coupling;
- within notes: the first `--seconds` of its built-in performances, each note against itself;
- at a fixed pitch: the same frames, fitted against loudness and log f0 together.

Real recordings get the same measures with pYIN's f0: librosa's example trumpet (from
LIBROSA_DATA_DIR or librosa's cache), the recordings in ../shared/data/real when present, and
any `--real INSTRUMENT=PATH` (a file or a folder of recordings, e.g. URMP's stems). The aim
(issue 17): each built-in instrument's slope within the spread of the real ones.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import ttlib  # noqa: F401  (before TensorFlow)
from ttlib.data.score import INSTRUMENTS

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
REAL_FILES = {"tinysol_flute_C4_mf.wav": "flute", "whistle_phrase_A.wav": "whistle",
              "whistle_phrase_B.wav": "whistle"}
F0_RANGE = {"whistle": (400.0, 4000.0)}


def _real_recordings(extra: list[str]) -> list[tuple[str, str, Path]]:
    """(instrument, label, path) of every real recording at hand."""
    import librosa

    found = []
    try:
        found.append(("trumpet", "librosa's example trumpet", Path(librosa.example("trumpet", hq=True))))
    except Exception as exc:                                  # offline without the file: say so, go on
        print(f"(librosa's example trumpet is not here: {type(exc).__name__})")
    if SHARED.is_dir():
        found += [(inst, name, SHARED / name) for name, inst in REAL_FILES.items() if (SHARED / name).is_file()]
    for spec in extra:
        instrument, _, path = spec.partition("=")
        path = Path(path).expanduser()
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in (".wav", ".flac", ".ogg", ".mp3")) \
            if path.is_dir() else [path]
        found += [(instrument, f.name, f) for f in files]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="built-in performance measured (s)")
    parser.add_argument("--instruments", nargs="+", default=list(INSTRUMENTS), choices=list(INSTRUMENTS))
    parser.add_argument("--real", action="append", default=[], metavar="INSTRUMENT=PATH",
                        help="real recordings of an instrument (a file or a folder); repeat for more")
    parser.add_argument("--cache", default=None, help="cache folder (default: a fresh temporary one)")
    args = parser.parse_args()

    from ttlib.audio import load
    from ttlib.core.errors import TtlibError
    from ttlib.data import builtin, dynamics

    cache = Path(args.cache) if args.cache else Path(tempfile.mkdtemp(prefix="ttlib-bench-"))
    print("harmonics of spectral centroid per 10 dB of loudness (ttlib.data.dynamics.brightness_fit)\n")
    print(f"{'recording':44s} {'crescendo':>10s} {'within notes':>13s} {'fixed pitch':>12s} {'span dB':>8s}")
    rows = {}
    for name in args.instruments:
        for on in (False, True):
            label = f"built-in {name}, " + ("true dynamics" if on else "gain only (baseline)")
            steady = dynamics.brightness_fit(*_audio_f0(builtin.crescendo(name, dynamics=on)))
            take = builtin.clip(name, args.seconds, 100.0, cache_dir=cache, dynamics=on)
            fit = dynamics.brightness_fit(take.audio, take.f0_hz)
            rows[(name, on)] = (steady.within_note_per_10db, fit.within_note_per_10db, fit.slope_per_10db)
            print(f"{label:44s} {steady.within_note_per_10db:10.3f} {fit.within_note_per_10db:13.3f} "
                  f"{fit.slope_per_10db:12.3f} {fit.summary()['loudness_span_db']:8.1f}", flush=True)
        gain, true = rows[(name, False)], rows[(name, True)]
        print(f"{'  difference (true dynamics - gain)':44s} {true[0] - gain[0]:10.3f} {true[1] - gain[1]:13.3f} "
              f"{true[2] - gain[2]:12.3f}")
    print()
    for instrument, label, path in _real_recordings(args.real):
        try:
            audio = load(path)
            fmin, fmax = F0_RANGE.get(instrument, (60.0, 2000.0))
            f0 = dynamics.tracked_f0(audio, fmin=fmin, fmax=fmax)
            fit = dynamics.brightness_fit(audio, f0)
        except TtlibError as exc:
            print(f"real {instrument}: {label}: not measured ({exc})")
            continue
        print(f"{'real ' + instrument + ': ' + label:44.44s} {'':>10s} {fit.within_note_per_10db:13.3f} "
              f"{fit.slope_per_10db:12.3f} {fit.summary()['loudness_span_db']:8.1f}   ({fit.n_notes} notes, "
              f"{fit.n_frames} frames, {audio.size / 16000:.1f} s)", flush=True)


def _audio_f0(clip) -> tuple[np.ndarray, np.ndarray]:
    return clip.audio, clip.f0_hz


if __name__ == "__main__":
    main()
