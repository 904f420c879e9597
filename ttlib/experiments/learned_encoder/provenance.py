"""Which code made a run: a hash of the experiment's modules, recorded in every run.json (notebook 08).

A run's numbers depend on the code that trained and measured it. `code_version` is a
SHA-256 over the syntax trees of `CODE_MODULES`, the modules that define a row, train it
and measure it, with docstrings left out, so a reworded docstring or comment keeps the
version and any change to what the code does makes a new one. With `METRICS_VERSION`
and the datasets' versions it says whether a stored run (the shipped reference run in
`data/reference/`, or a class's own) was made by the code that ships: the tests compare
them. The lower layers (`ttlib.models`, `ttlib.synth`, `ttlib.pitch`, ...) are checked by
behaviour instead: the reference also records the fast setting's measures, which the
tests reproduce (see `ttlib.experiments.learned_encoder.reference`).
"""
from __future__ import annotations

import ast
import hashlib
from pathlib import Path

CODE_MODULES = ("config", "encoder", "model", "losses", "training", "runner", "measures", "testset", "runs")
"""The modules of `ttlib.experiments.learned_encoder` whose code makes a run's numbers."""


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def module_digest(path: str | Path) -> str:
    """SHA-256 of a Python file's syntax tree without docstrings (comments and layout do not count)."""
    tree = _strip_docstrings(ast.parse(Path(path).read_text(encoding="utf-8")))
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def code_version() -> str:
    """The experiment's code version: the first 16 hex digits of a SHA-256 over `CODE_MODULES`' digests."""
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in CODE_MODULES:
        digest.update(f"{name}:{module_digest(here / f'{name}.py')}\n".encode())
    return digest.hexdigest()[:16]
