"""Exercises' worked solutions that stay hidden until a teacher shows them (notebooks 00-08, every one).

Each notebook loads this IPython extension in its import cell,

    %load_ext ttlib.course.solutions

and starts every solution cell with the cell magic `%%solution`. Such a cell always
runs (so the tests execute every solution and none rots), but unless the notebook's
parameter `SHOW_SOLUTIONS` is True everything it would show is captured and dropped:
its prints, its plots (figures it opens are closed), its players and tables. An error
in a solution is still an error. The cells are also committed with their code
collapsed (`jupyter.source_hidden`), so after Run All neither code nor output of a
solution is on screen; set `SHOW_SOLUTIONS = True` in the parameters cell, or run a
solution cell with `%%solution show`, to see it.
"""
from __future__ import annotations

from typing import Any

SWITCH = "SHOW_SOLUTIONS"


def run_solution(shell: Any, cell: str, show: bool) -> None:
    """Run `cell` in `shell`; unless `show`, capture and drop whatever it displays.

    Raises whatever the cell raised (after it ran), so a broken solution fails a run.
    """
    from IPython.utils.capture import capture_output

    if show:
        shell.run_cell(cell).raise_error()
        return
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    with capture_output(stdout=True, stderr=True, display=True):
        result = shell.run_cell(cell)
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    result.raise_error()


def load_ipython_extension(shell: Any) -> None:
    """Register the `%%solution` cell magic (what `%load_ext ttlib.course.solutions` calls)."""

    def solution(line: str, cell: str) -> None:
        """Run a worked solution; show it only if SHOW_SOLUTIONS is True (or `%%solution show`)."""
        show = line.strip() == "show" or bool(shell.user_ns.get(SWITCH, False))
        run_solution(shell, cell, show)

    shell.register_magic_function(solution, magic_kind="cell", magic_name="solution")
