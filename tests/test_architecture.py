"""The package's architecture: layers, one direction of imports, no private reaching, short modules,
lessons and code that point at each other, the declared dependencies, and the linter."""
import ast
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "ttlib"
LAYERS = {"core": 0, "audio": 1, "synth": 1, "pitch": 2, "data": 3, "models": 4, "transfer": 5,
          "experiments": 6, "live": 6, "course": 7, "cli": 8}
"""Each subpackage's layer: a module imports only from lower layers or from its own subpackage."""
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every ttlib module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "ttlib")
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ttlib":
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


def _layer(module: str) -> tuple[str, int]:
    parts = module.split(".")
    if len(parts) == 1:
        return "ttlib", 0                       # the package's __init__: environment set-up only
    if parts[1] == "__main__":
        return "__main__", 9
    return parts[1], LAYERS[parts[1]]


GRAPH = {name: _imports(path) for name, path in MODULES.items()}


def test_every_subpackage_has_a_layer():
    subpackages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert subpackages == set(LAYERS), f"give each subpackage a layer: {subpackages ^ set(LAYERS)}"
    assert not [p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py")], \
        "modules live in the layer's subpackage, not at the top"


def test_imports_go_down_the_layers_only():
    """A module imports lower layers and its own subpackage; `ttlib` itself (the environment
    set-up, imported first by Python anyway) imports only `ttlib.core`, and anything may import it."""
    upward = []
    for module, imported in GRAPH.items():
        sub, layer = _layer(module)
        for target in imported - {"ttlib"}:
            target_sub, target_layer = _layer(target)
            if sub == "ttlib":
                if target_sub != "core":
                    upward.append(f"ttlib/__init__.py imports {target}")
            elif target_sub != sub and target_layer >= layer:
                upward.append(f"{module} imports {target} (layer {target_layer} from layer {layer})")
    assert not upward, "\n".join(upward)


def test_no_import_circle():
    graph = {m: {t for t in targets if t in MODULES and t != m} for m, targets in GRAPH.items()}
    # a package's __init__ re-exports its modules: importing the package means importing them
    state, stack, circles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                circles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # a module importing its own package's __init__ is a circle only if that __init__ imports it back
    assert not circles, "\n".join(circles)


def test_no_reaching_into_private_names():
    offenders = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                offenders += [f"{module}: from {node.module} import {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
            if isinstance(node, ast.Attribute) and re.fullmatch(r"_[a-z]\w*[^_]", node.attr):
                owner = node.value
                if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):
                    offenders.append(f"{module}:{node.lineno}: .{node.attr}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_modules_are_short_and_say_what_they_hold(module):
    path = MODULES[module]
    lines = path.read_text().splitlines()
    assert len(lines) <= MAX_LINES, f"{path.relative_to(REPO)} has {len(lines)} lines; split it by concern"
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, f"{path.relative_to(REPO)} needs a docstring"


def _notebook_titles() -> dict[str, str]:
    import json

    titles = {}
    for nb in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        titles[nb.name[:2]] = "".join(json.loads(nb.read_text())["cells"][0]["source"])
    return titles


def test_modules_name_their_notebooks_and_notebooks_name_their_modules():
    """Like libfmp: a module's docstring names the notebook(s) that teach it; each notebook's
    title cell names the ttlib modules it uses."""
    import json

    unnamed = []
    for module, path in MODULES.items():
        if module.startswith(("ttlib.cli", "ttlib.core.errors", "ttlib.core.io", "ttlib.core.paths")) \
                or module in ("ttlib", "ttlib.__main__", "ttlib.core", "ttlib.experiments"):
            continue                                 # plumbing of no lesson
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if not re.search(r"notebooks? \d\d", doc, re.IGNORECASE):
            unnamed.append(module)
    assert not unnamed, f"name the notebook(s) that teach these in their docstrings: {unnamed}"
    for nb in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        title = "".join(cells[0]["source"])
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        used = set(re.findall(r"from (ttlib(?:\.\w+)*) import ([\w, ]+)", code))
        named = []
        for package, names in used:
            for name in (n.strip().split(" as ")[0] for n in names.split(",")):
                full = f"{package}.{name}"
                named.append(full if full in MODULES else package)
        missing = sorted({m for m in named if m != "ttlib" and f"`{m}`" not in title})
        assert not missing, f"{nb.name}: its title cell should name the modules it uses: {missing}"


def test_pyproject_lists_every_package_ttlib_imports():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[=<>!~ \[;]", d)[0].lower().replace("_", "-") for d in declared}
    distributions = importlib.metadata.packages_distributions()
    missing = set()
    for path in MODULES.values():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top == "ttlib":
                    continue
                for dist in distributions.get(top, [top]):
                    if dist.lower().replace("_", "-") not in names:
                        missing.add(f"{top} ({dist})")
    assert not missing, f"pyproject.toml's dependencies lack: {sorted(missing)}"


def test_ruff_passes():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "ttlib", "tests", "benchmarks", "tools"],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert out.returncode == 0, out.stdout + out.stderr


def test_public_functions_have_type_hints():
    """Every public function and method says what it returns, and the type of every argument
    that has a default other than None (arrays and models passed positionally may stay bare)."""
    bare = []
    for module, path in MODULES.items():
        for node in ast.parse(path.read_text()).body:
            functions = [node] if isinstance(node, ast.FunctionDef) else (
                [n for n in node.body if isinstance(n, ast.FunctionDef)] if isinstance(node, ast.ClassDef) else [])
            for fn in functions:
                if fn.name.startswith("_"):
                    continue
                if fn.returns is None:
                    bare.append(f"{module}.{fn.name}: no return type")
                positional = fn.args.args[len(fn.args.args) - len(fn.args.defaults):]
                pairs = list(zip(positional, fn.args.defaults)) + list(zip(fn.args.kwonlyargs, fn.args.kw_defaults))
                for arg, default in pairs:
                    is_none = isinstance(default, ast.Constant) and default.value is None
                    if arg.annotation is None and default is not None and not is_none:
                        bare.append(f"{module}.{fn.name}({arg.arg}=...): no type")
    assert not bare, "\n".join(bare)
