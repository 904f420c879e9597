"""`python -m ttlib course`: execute the course's notebooks into an output folder (what `make run` does)."""
from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    p = commands.add_parser("course", help="execute the notebooks in order and keep the executed copies")
    p.add_argument("--out", default="output", help="output folder (default: output/)")
    p.add_argument("--fast", action="store_true", help="the quick setting the tests use (FAST=True)")
    p.add_argument("--only", nargs="+", metavar="PREFIX", help="only notebooks starting with these, e.g. 00 03")
    p.set_defaults(run=run, interrupted="The notebooks executed so far are in the output folder.")


def run(args: argparse.Namespace) -> int:
    from ttlib.course import execution

    runs = execution.run_course(args.out, fast=args.fast, only=args.only)
    total = sum(r["seconds"] for r in runs)
    print(f"\nExecuted {len(runs)} notebook(s) in {total:.0f} s into {args.out}/ "
          f"(summary: {args.out}/summary.json).")
    return 0
