"""`python -m ttlib doctor`: check the installation (the same checks as notebook 00)."""
from __future__ import annotations

import argparse


def add_parser(commands) -> None:
    p = commands.add_parser("doctor", help="check the installation: packages, CREPE, ddsp, training, FluidSynth")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """0 when every check passes, 1 otherwise (each failure printed with its fix)."""
    from ttlib.course import doctor

    return doctor.main()
