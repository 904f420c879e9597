"""Makes tools/ importable from the tests."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import install_crepe  # noqa: E402,F401
import sync_environment  # noqa: E402,F401
