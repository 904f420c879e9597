"""The command line: `python -m ttlib COMMAND ...`, a thin layer over ttlib's functions.

One module per command, each with `add_parser(commands)` and `run(args) -> exit status`:
  doctor      check the installation (the same checks as notebook 00)
  course      execute the course's notebooks into an output folder (what `make run` does)
  data        build a training set (built-in, URMP or a folder of recordings); summarise one
  pitch       track the f0 of an audio file into a CSV
  train       train a DDSP autoencoder on a dataset into a model folder (stop with Ctrl-C, --resume later)
  evaluate    spectral loss, f0 and loudness errors of a trained model on held-out data
  transfer    play an audio file (a whistle, a voice) with a trained model, into a WAV
  live        play a trained model live: microphone in, its instrument out (or a file, block by block)
  models      the trained models and the shipped ones (list); train the shipped ones again (`make models`)
  room        rooms: measure an impulse response, or estimate one from a recording
  export      a trained model as a SavedModel and a TFLite file, for other runtimes
  import-ddsp a model trained with ddsp's own trainer (ddsp_run, its Colab), as a course model folder
  demo        the whistle-to-trumpet web app (Voila) for a projector, at http://127.0.0.1:8866/
  experiment  the learned-encoder experiment of notebook 08: one row, every row, or the table

`main` catches `ttlib.TtlibError` (and file-system errors such as a full disk) once, for
every command: it prints one line, `error: <what was wrong and what to do>`, and exits
with status 2, never a traceback. Ctrl-C exits with 130 and says what was kept.
"""
from __future__ import annotations

import argparse
import sys

import ttlib
from ttlib.cli import (
    course,
    data,
    demo,
    doctor,
    evaluate,
    experiment,
    export,
    import_ddsp,
    live,
    models,
    pitch,
    room,
    train,
    transfer,
)
from ttlib.core.errors import TtlibError

COMMANDS = (doctor, course, data, pitch, train, evaluate, transfer, live, models, room, export, import_ddsp, demo,
            experiment)
USER_ERROR = 2
"""Exit status for something the user can fix (as argparse uses for a bad option)."""
INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""


def build_parser() -> argparse.ArgumentParser:
    """The parser of `python -m ttlib`, with every command's subparser."""
    parser = argparse.ArgumentParser(prog="python -m ttlib", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"ttlib {ttlib.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for module in COMMANDS:
        module.add_parser(commands)
    return parser


def one_line(message: object) -> str:
    """A message on one line (white space folded)."""
    return " ".join(str(message).split())


def main(argv: list[str] | None = None) -> int:
    """Run `python -m ttlib` with `argv`; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except TtlibError as exc:
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return USER_ERROR
    except OSError as exc:          # the file system refused: no space, no permission, a folder as a file
        print(f"error: {one_line(exc)}. Check the path and that you may write there.", file=sys.stderr)
        return USER_ERROR
    except KeyboardInterrupt:
        print(f"\nInterrupted. {getattr(args, 'interrupted', 'Nothing was saved.')}", file=sys.stderr)
        return INTERRUPTED
