"""Dataset building with and without Apache Beam: the in-process builder against Beam's DirectRunner.

    .venv/bin/python benchmarks/dataset_pipeline.py [--minutes 3] [--recordings 6] [--f0-method crepe-tiny]

Writes `--minutes` of the built-in trumpet as `--recordings` WAV files into a temporary folder and
builds the same dataset from them three ways, each with the feature cache off so every feature is
computed: in this process (the baseline), with Beam's DirectRunner in this process, and with the
DirectRunner's two worker processes (`--direct_num_workers=2 --direct_running_mode=multi_processing`).
Prints the wall time of each, its ratio to the baseline measured in the same run, and whether the
files are the same as the baseline's, byte for byte. Run it with nothing else busy.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import ttlib

WAYS = {"in-process": {}, "Beam direct, 1 process": {"runner": "direct"},
        "Beam direct, 2 worker processes": {"runner": "direct", "pipeline_options":
                                            "--direct_num_workers=2,--direct_running_mode=multi_processing"}}
FILES = ("train.tfrecord", "validation.tfrecord", "statistics.json")


def main() -> None:
    import soundfile

    from ttlib import data
    from ttlib.data import builtin

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--recordings", type=int, default=6)
    parser.add_argument("--f0-method", default="crepe-tiny")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="dataset-pipeline-"))
    clip = builtin.clip("trumpet", seconds=args.minutes * 60.0)
    per = clip.audio.size // args.recordings
    (root / "audio").mkdir()
    for k in range(args.recordings):
        soundfile.write(root / "audio" / f"take{k}.wav", clip.audio[k * per:(k + 1) * per], ttlib.SAMPLE_RATE)
    print(f"{args.recordings} recordings, {clip.audio.size / ttlib.SAMPLE_RATE:.0f} s in all, f0 by {args.f0_method}, "
          f"no feature cache (ttlib {ttlib.__version__})")
    seconds, built = {}, {}
    for name, kwargs in WAYS.items():
        t0 = time.perf_counter()
        built[name] = data.build_dataset(f"folder:{root / 'audio'}", root / name.replace(" ", "-").replace(",", ""),
                                         f0_method=args.f0_method, cache_dir=None, progress=False, **kwargs)
        seconds[name] = time.perf_counter() - t0
    base = "in-process"
    print(f"{'builder':34s} {'seconds':>8s} {'vs in-process':>14s}  same files")
    for name in WAYS:
        same = all((built[name] / f).read_bytes() == (built[base] / f).read_bytes() for f in FILES)
        print(f"{name:34s} {seconds[name]:8.1f} {seconds[name] / seconds[base]:13.2f}x  {same}")


if __name__ == "__main__":
    main()
