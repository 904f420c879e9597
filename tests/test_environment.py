"""The pinned environment: lock, environment.yml, import-order guarantees."""
import os
import subprocess
import sys

import yaml
from tools_path import ROOT, sync_environment


def _names(pins):
    return {p.split("==")[0].lower().replace("_", "-") for p in pins}


def test_environment_yml_has_the_same_pins_as_the_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert sorted(pip_section) == sorted(sync_environment.lock_pins()), \
        "environment.yml and requirements/lock.txt disagree: run `python tools/sync_environment.py`"
    assert "python=3.11" in env["dependencies"]


def test_lock_pins_every_package_exactly():
    pins = sync_environment.lock_pins()
    assert all("==" in p for p in pins), [p for p in pins if "==" not in p]
    versions = {name.lower().replace("_", "-"): v for name, v in (p.split("==") for p in pins)}
    assert versions["tensorflow"] == "2.21.0"
    assert versions["tf-keras"] == "2.21.0"
    assert versions["tensorflow-probability"] == "0.25.0"
    assert int(versions["setuptools"].split(".")[0]) < 81, "crepe's setup.py needs pkg_resources"
    # ddsp and crepe are installed apart from the lock (no-deps, registry weights).
    assert not _names(pins) & {"ddsp", "crepe", "ttlib"}


def test_every_direct_requirement_is_locked():
    wanted = []
    for line in (ROOT / "requirements" / "base.in").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            wanted.append(line.split("==")[0].split("<")[0].split(">")[0])
    missing = _names(wanted) - _names(sync_environment.lock_pins())
    assert not missing, f"in requirements/base.in but not in the lock: {missing}; run `make lock`"


def test_ddsp_is_pinned_apart():
    assert (ROOT / "requirements" / "no-deps.txt").read_text().split() == ["ddsp==3.7.0"]


def _python(code, **env):
    environment = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          cwd=ROOT, check=False)


def test_importing_ttlib_sets_legacy_keras_and_loads_nothing_heavy():
    out = _python("import os, sys, ttlib; print(os.environ['TF_USE_LEGACY_KERAS'], "
                  "any(m in sys.modules for m in ('tensorflow', 'ddsp', 'crepe', 'librosa')))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "False"]


def test_ttlib_warns_when_tensorflow_came_first_without_legacy_keras():
    out = _python("import warnings; warnings.simplefilter('always')\n"
                  "import tensorflow\nimport ttlib")
    assert "Import ttlib first" in out.stderr


def test_tf_keras_is_keras_2_after_importing_ttlib():
    out = _python("import ttlib, tensorflow as tf; print(tf.keras.__name__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("tf_keras")


def test_ddsp_training_and_crepe_import():
    out = _python("import ttlib, ddsp, ddsp.training, crepe; print(ddsp.__version__)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "3.7.0"
