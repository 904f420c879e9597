"""`python -m ttlib transfer IN --model DIR --out OUT.wav`: play a recording with a trained model."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ttlib.models.shipped import model_folder, model_help

if TYPE_CHECKING:
    from ttlib.transfer import Settings


def add_parser(commands) -> None:
    p = commands.add_parser("transfer", help="play an audio file with a trained model (timbre transfer)")
    p.add_argument("input", help="audio file: any rate, mono or stereo (mixed down), wav/flac/ogg/mp3")
    p.add_argument("--model", required=True, type=model_folder,
                   help=model_help())
    p.add_argument("--out", required=True, help="WAV to write; the settings go beside it as .json")
    add_settings_arguments(p)
    p.add_argument("--octaves-down", default="auto", choices=["auto", "0", "1", "2"],
                   help="analyse the source's f0 this many octaves down (auto: 1 when it goes above 1.5 kHz)")
    p.add_argument("--check", action="store_true", help="track the output's f0 and report its error in cents")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(run=run)


def add_settings_arguments(p) -> None:
    """The sliders as options (`ttlib.transfer.Settings`), shared by `transfer` and `live`."""
    p.add_argument("--pitch-shift", type=float, default=0.0, help="semitones, after the automatic octave shift")
    p.add_argument("--loudness-shift", type=float, default=0.0, help="dB, after the loudness mapping")
    p.add_argument("--no-auto-adjust", action="store_true",
                   help="no octave shift toward the instrument, no loudness mapping onto its training data")
    p.add_argument("--quiet", dest="quiet_db", type=float, default=30.0,
                   help="silence frames this many dB below the loud passages (and pitchless ones); 0: never")
    p.add_argument("--autotune", type=float, default=0.0, help="0 (off) to 1: pull f0 to the nearest semitone")
    p.add_argument("--harmonic-gain", type=float, default=1.0, help="gain of the harmonic part")
    p.add_argument("--noise-gain", type=float, default=1.0, help="gain of the noise part")
    p.add_argument("--reverb-gain", type=float, default=1.0,
                   help="the room's wet/dry mix: 0 dry, 1 the room as it is (default), 2 twice its reverberation")
    p.add_argument("--room", default="model", metavar="ROOM",
                   help="where it plays: model (the room it learned; default), dry, a model folder (that model's "
                        "room), an impulse response file (any rate, mono or stereo), or estimate:REC.wav (the room "
                        "of a recording of the model's instrument, fitted once and cached; `room estimate`)")


def settings_from(args: argparse.Namespace) -> Settings:
    """The `ttlib.transfer.Settings` of parsed options (checked)."""
    from ttlib import transfer

    return transfer.Settings(auto_adjust=not args.no_auto_adjust,
                             quiet_db=None if args.quiet_db <= 0 else args.quiet_db,
                             autotune=args.autotune, pitch_shift=args.pitch_shift,
                             loudness_shift=args.loudness_shift, harmonic_gain=args.harmonic_gain,
                             noise_gain=args.noise_gain, reverb_gain=args.reverb_gain, room=args.room).check()


def run(args: argparse.Namespace) -> int:
    from ttlib import transfer
    from ttlib.audio import load
    from ttlib.core.errors import OutputExistsError

    out = Path(args.out)
    for path in (out, out.with_suffix(".json")):
        if path.exists() and not args.overwrite:
            raise OutputExistsError(f"{path} exists; pass --overwrite to replace it, or choose another --out.")
    samples, report = load(args.input, with_report=True, quiet=True)
    settings = settings_from(args)
    synth = transfer.Synthesizer(args.model)
    room = synth.room_for(settings.room)                      # a room that cannot be used fails here, at once
    octaves = "auto" if args.octaves_down == "auto" else int(args.octaves_down)
    source = transfer.source_features(samples, synth.frame_rate, octaves_down=octaves, progress=not args.no_progress)
    result = transfer.transfer(samples, synth, settings, source=source, progress=not args.no_progress)
    for note in report.notes:
        print(f"note: {args.input}: {note}")
    for warning in result.source.warnings:
        print(f"warning: {warning}")
    extra = {"input": str(args.input), "model": str(args.model), "model_step": synth.loaded.step,
             "room_taps": int(room.ir.size)}
    if args.check:
        error = transfer.check(result)
        extra["f0_error_cents_median"] = error.median_cents if error.n_compared else None
        extra["f0_checked_frames"] = error.n_compared
    wav, settings_path = transfer.save(result, out, overwrite=args.overwrite, **extra)
    summary = result.adjusted.summary
    seconds = samples.size / synth.loaded.config.sample_rate
    print(f"{args.input}: {seconds:.1f} s, f0 analysed {result.source.octaves_down} octave(s) down; shifted "
          f"{summary['octave_shift']:+d} octave(s) and {settings.pitch_shift:+g} semitones toward the model's "
          f"median MIDI {summary['training_median_pitch_midi']:.1f}; {100 * summary['playing_fraction']:.0f}% playing; "
          f"{seconds / result.seconds['total']:.1f}x real time")
    if args.check:
        error = extra["f0_error_cents_median"]
        print(f"check: the output's f0 (CREPE tiny) is {error:.1f} cents from the adjusted f0 (median over "
              f"{extra['f0_checked_frames']} frames)" if error is not None else "check: no pitched frame to compare")
    print(f"wrote {wav} and {settings_path}")
    return 0
