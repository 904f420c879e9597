"""The command line: `python -m ttlib COMMAND ...`, a thin layer over ttlib's functions.

Commands:
  doctor   check the installation (the same checks as notebook 00)
  course   execute the course's notebooks into an output folder (what `make run` does)
"""
from __future__ import annotations

import argparse
import sys

import ttlib


def _doctor(args) -> int:
    from ttlib import doctor

    return doctor.main()


def _course(args) -> int:
    from ttlib import course

    try:
        runs = course.run_course(args.out, fast=args.fast, only=args.only)
    except (RuntimeError, ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = sum(r["seconds"] for r in runs)
    print(f"\nExecuted {len(runs)} notebook(s) in {total:.0f} s into {args.out}/ "
          f"(summary: {args.out}/summary.json).")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ttlib", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"ttlib {ttlib.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    p = commands.add_parser("doctor", help="check the installation: packages, CREPE, ddsp, training, FluidSynth")
    p.set_defaults(run=_doctor)

    p = commands.add_parser("course", help="execute the notebooks in order and keep the executed copies")
    p.add_argument("--out", default="output", help="output folder (default: output/)")
    p.add_argument("--fast", action="store_true", help="the quick setting the tests use (FAST=True)")
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="only notebooks starting with these, e.g. 00 03")
    p.set_defaults(run=_course)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
