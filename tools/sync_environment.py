"""Write environment.yml from requirements/lock.txt, so conda users get the same pins.

`make lock` runs it; tests/test_environment.py checks that the two agree.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = """\
# Conda environment of the course, with the same pins as requirements/lock.txt
# (generated from it by tools/sync_environment.py; a test checks that they agree).
#
#   conda env create -f environment.yml
#   conda activate ttlib
#   make setup VENV=$CONDA_PREFIX      # adds ddsp (without its stale pins), crepe and ttlib
#
# FluidSynth and the FluidR3 soundfont come from the system:
#   sudo apt-get install fluidsynth fluid-soundfont-gm   (macOS: brew install fluid-synth)
name: ttlib
channels:
  - conda-forge
dependencies:
  - python=3.11
  - pip=26.3
  - pip:
"""


def lock_pins(path: Path = ROOT / "requirements" / "lock.txt") -> list[str]:
    """The `name==version` lines of the lock file, in order."""
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def render() -> str:
    return HEADER + "".join(f"      - {pin}\n" for pin in lock_pins())


if __name__ == "__main__":
    (ROOT / "environment.yml").write_text(render())
    print(f"wrote environment.yml ({len(lock_pins())} pins)")
