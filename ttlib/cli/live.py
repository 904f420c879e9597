"""`python -m ttlib live --model DIR`: whistle into the microphone, hear the model play it (Ctrl-C stops).

  --list-devices               the sound devices PortAudio sees
  --input FILE --output FILE   stream a recording through the engine block by block, into a WAV
  --input FILE                 play a recording through the engine to the speakers
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ttlib.cli.transfer import add_settings_arguments, settings_from
from ttlib.models.shipped import model_folder, model_help


def add_parser(commands) -> None:
    p = commands.add_parser("live", help="live mode: microphone in, the model's instrument out, while you play")
    p.add_argument("--model", type=model_folder,
                   help=model_help())
    p.add_argument("--list-devices", action="store_true", help="list the sound devices and exit")
    p.add_argument("--input-device", help="input device: index or (part of a) name; default: the system's")
    p.add_argument("--output-device", help="output device: index or (part of a) name; default: the system's")
    p.add_argument("--block", type=int, default=None, help="samples per device callback (default: the model's hop)")
    p.add_argument("--seconds", type=float, default=None, help="stop after this long (default: Ctrl-C)")
    p.add_argument("--input", help="a recording to play through the engine instead of the microphone")
    p.add_argument("--output", help="with --input: write the output to this WAV instead of playing it")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --output")
    p.add_argument("--report", help="write the session's figures (latency, dropouts, load) to this JSON file")
    add_settings_arguments(p)   # the sliders, as for transfer (--quiet: the gate)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ttlib.core.errors import ConfigError, OutputExistsError
    from ttlib.live import devices

    if args.list_devices:
        print(devices.device_table())
        return 0
    if not args.model:
        raise ConfigError("Give the model to play with --model DIR (or --list-devices to see the sound devices).")
    if args.block is not None and args.block < 1:
        raise ConfigError(f"--block must be a positive number of samples (e.g. 320, a hop), not {args.block}.")
    if args.output and not args.input:
        raise ConfigError("--output writes what --input FILE sounds like through the model; give --input too.")
    if args.output and Path(args.output).exists() and not args.overwrite:
        raise OutputExistsError(f"{args.output} exists; pass --overwrite to replace it, or choose another --output.")
    from ttlib.audio import load, save_wav
    from ttlib.live import Stream

    settings = settings_from(args)
    source = load(args.input, quiet=True) if args.input else None
    stream = Stream(args.model, settings)
    latency_ms = 1000.0 * stream.latency_samples / 16000
    if args.output:
        out = devices.stream_file(stream, source, block=args.block or 1024)
        save_wav(args.output, out, 16000, overwrite=args.overwrite)
        hop_ms = 1000 * sorted(stream.hop_seconds)[len(stream.hop_seconds) // 2] if stream.hop_seconds else 0.0
        print(f"{args.input}: {source.size / 16000:.1f} s streamed in blocks of {args.block or 1024}; engine latency "
              f"{latency_ms:.1f} ms (removed in the file), {hop_ms:.1f} ms of computation per {stream.hop}-sample hop "
              f"(median); wrote {args.output}")
        return 0
    print(f"live: {args.model} at {stream.frame_rate:g} frames/s; engine latency {latency_ms:.1f} ms; "
          "getting ready ...", flush=True)

    def started():
        print("Playing: " + ("the file " + args.input if source is not None else "whistle into the microphone")
              + ("" if args.seconds else "; Ctrl-C stops") + ".", flush=True)

    tty = sys.stdout.isatty()

    def show(report):
        if tty:
            print("\r" + report.line(), end="", flush=True)

    report = devices.play(stream, seconds=args.seconds, input_device=_index(args.input_device),
                          output_device=_index(args.output_device), block=args.block, source=source, on_status=show,
                          on_start=started)
    print(("\r" if tty else "") + report.line())
    print(f"{report.callbacks} blocks, {report.xruns} dropouts"
          + (f" ({', '.join(sorted(set(report.statuses)))})" if report.statuses else "")
          + (", stopped with Ctrl-C" if report.interrupted else ""))
    if args.report:
        Path(args.report).write_text(json.dumps(report.as_dict(), indent=2))
    return 0


def _index(device: str | None):
    """A device given as a number is an index; anything else a name."""
    return int(device) if device is not None and device.strip().isdigit() else device
