"""tools/check_system.sh stops on a bad set-up with a message that names the fix."""
import os
import subprocess

from conftest import REPO


def _check(python, **env):
    environment = dict(os.environ, PYTHON=str(python), SKIP_SYSTEM_PACKAGES="1", **env)
    return subprocess.run(["sh", str(REPO / "tools" / "check_system.sh")], capture_output=True, text=True,
                          env=environment, check=False)


def test_missing_python_names_the_install_command():
    out = _check("/nonexistent/python3.11")
    assert out.returncode == 1
    assert "apt-get install python3.11 python3.11-venv" in out.stderr


def test_wrong_python_version_is_refused(tmp_path):
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 3.9\n")
    fake.chmod(0o755)
    out = _check(fake)
    assert out.returncode == 1
    assert "Python 3.9" in out.stderr and "PYTHON=python3.11" in out.stderr


def test_this_machines_python_passes():
    out = _check("python3.11")
    assert out.returncode == 0, out.stderr
