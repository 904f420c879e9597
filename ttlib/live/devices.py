"""The live engine on a sound card (PortAudio through python-sounddevice), and files streamed block by block.

`play(stream)` opens one duplex PortAudio stream at 16 kHz mono: each callback hands
the engine the microphone's block and plays what it returns, so the trumpet follows
the whistle with the engine's latency plus the device's buffers (both reported).
`source=` plays a recording through the engine instead of the microphone. The
callback runs the engine itself: a block costs 4.5 to 13.4 ms of a 20 ms hop on two
cores, as fast as the machine is that day (benchmarks/live.py; README, Live), and any
block the device reports late (an xrun) is counted, with where it fell.

`stream_file(stream, audio)` runs the same engine over a recording in blocks, with no
device, and returns the output aligned with the input (the latency removed).

Notebook 09 (realtime) uses both; `python -m ttlib live` is their command line. The
system needs PortAudio's library (Debian: libportaudio2; the set-up installs it).
"""
from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from types import ModuleType

import numpy as np

from ttlib.core.errors import DeviceError, SystemDependencyError
from ttlib.core.units import SAMPLE_RATE
from ttlib.live.engine import Stream


def sounddevice() -> ModuleType:
    """python-sounddevice, or SystemDependencyError naming the missing PortAudio library."""
    try:
        import sounddevice as sd
    except OSError:
        raise SystemDependencyError("PortAudio's library is missing, so no sound device can be opened. Install it "
                                    "(Debian/Ubuntu: sudo apt-get install libportaudio2; macOS: brew install "
                                    "portaudio), or stream files with --input FILE --output FILE.") from None
    return sd


def device_table() -> str:
    """The sound devices PortAudio sees, one per line (index, name, host API, channels, default rate);
    '>' marks the default input, '<' the default output."""
    sd = sounddevice()
    devices = sd.query_devices()
    if not len(devices):
        return "No sound device found (PortAudio sees none)."
    apis = sd.query_hostapis()
    default_in, default_out = sd.default.device
    lines = []
    for d in devices:
        mark = (">" if d["index"] == default_in else " ") + ("<" if d["index"] == default_out else " ")
        lines.append(f"{mark} {d['index']:>2}  {d['name']}  ({apis[d['hostapi']]['name']}; "
                     f"{d['max_input_channels']} in, {d['max_output_channels']} out; {d['default_samplerate']:g} Hz)")
    return "\n".join(lines)


def _device(sd, device, kind: str) -> int:
    """A device's index from an index, a name (or part of one) or None (the default)."""
    try:
        info = sd.query_devices(device, kind)
    except (ValueError, sd.PortAudioError) as exc:
        if device is None:
            raise DeviceError(f"No {kind} sound device: this machine has none that PortAudio can open ({exc}). "
                              "Plug one in, or stream files with --input FILE --output FILE.") from None
        raise DeviceError(f"No {kind} device {device!r} ({exc}); see python -m ttlib live --list-devices.") from None
    return int(info["index"])


@dataclass
class Report:
    """What a live session did.

    Attributes:
      seconds: how long it ran; callbacks: blocks the device asked for.
      xruns: callbacks the device flagged (input overflow or output underflow: a dropout).
      engine_latency_ms: the engine's (`Stream.latency_samples`); device_latency_ms: the
        input's plus the output's as PortAudio reports them; total_latency_ms: both.
      compute_ms_median, compute_ms_max: the engine's time per callback.
      cpu_load: PortAudio's estimate of the callback's share of the available time (last value).
      output_rms_db: level of what was played (dB re full scale).
      interrupted: stopped with Ctrl-C.
      statuses: what the device said of each dropout; xrun_blocks: the callbacks (counted from 0) it said it at.
    """

    seconds: float = 0.0
    callbacks: int = 0
    xruns: int = 0
    engine_latency_ms: float = 0.0
    device_latency_ms: float = 0.0
    total_latency_ms: float = 0.0
    compute_ms_median: float = 0.0
    compute_ms_max: float = 0.0
    cpu_load: float = 0.0
    output_rms_db: float = -200.0
    interrupted: bool = False
    statuses: list = field(default_factory=list)
    xrun_blocks: list = field(default_factory=list)

    def line(self) -> str:
        """One status line (shown while it plays)."""
        return (f"{self.seconds:5.1f} s  latency {self.total_latency_ms:.0f} ms (engine {self.engine_latency_ms:.0f}"
                f" + device {self.device_latency_ms:.0f})  CPU {100 * self.cpu_load:3.0f}%  compute "
                f"{self.compute_ms_median:.1f} ms (max {self.compute_ms_max:.1f})  dropouts {self.xruns}")

    def as_dict(self) -> dict:
        return asdict(self)


def play(stream: Stream, seconds: float | None = None, input_device=None, output_device=None,
         block: int | None = None, source=None, on_status: Callable[[Report], None] | None = None,
         on_start: Callable[[], None] | None = None) -> Report:
    """Microphone (or `source`) -> engine -> speakers, until `seconds` pass, `source` ends, or Ctrl-C.

    Args:
      stream: the engine (`ttlib.live.Stream`); it is warmed up and reset first.
      seconds: how long to play; None: until Ctrl-C (or the end of `source`, plus the latency).
      input_device, output_device: index or name (see `device_table`); None: the defaults.
      block: samples per callback (None: the engine's hop, 320 for `course`).
      source: 16 kHz mono samples played into the engine instead of the microphone.
      on_status: called about twice a second with the running `Report`.
      on_start: called once the device stream runs (e.g. to connect JACK ports).

    Raises:
      SystemDependencyError: no PortAudio library. DeviceError: no such device, or it refuses
        16 kHz mono (the message names the device and what to try).
    """
    sd = sounddevice()
    block = int(block or stream.hop)
    devices = (_device(sd, input_device, "input") if source is None else None, _device(sd, output_device, "output"))
    for kind, device in zip(("input", "output"), devices):
        if device is None:
            continue
        try:
            check = sd.check_input_settings if kind == "input" else sd.check_output_settings
            check(device=device, channels=1, samplerate=SAMPLE_RATE, dtype="float32")
        except (ValueError, sd.PortAudioError) as exc:
            name = sd.query_devices(device)["name"]
            raise DeviceError(f"The {kind} device {device} ({name}) refuses 16 kHz mono ({exc}); choose one that "
                              "resamples (e.g. 'default' or 'pulse', see --list-devices).") from None
    stream.warm_up()
    report = Report(engine_latency_ms=1000.0 * stream.latency_samples / SAMPLE_RATE)
    source = None if source is None else np.asarray(source, np.float32).reshape(-1)
    position, compute, power = [0], [], [0.0, 0]

    def callback(*args):
        t0 = time.perf_counter()
        if source is None:
            indata, outdata, frames, _, status = args
            x = indata[:, 0]
        else:
            outdata, frames, _, status = args
            x = np.zeros(frames, np.float32)
            piece = source[position[0]:position[0] + frames]
            x[:piece.size] = piece
            position[0] += frames
        if status:
            report.xruns += 1
            report.statuses.append(str(status))
            report.xrun_blocks.append(report.callbacks)
        y = stream.process(x)
        outdata[:, 0] = y
        report.callbacks += 1
        power[0] += float(np.sum(y.astype(np.float64) ** 2))
        power[1] += y.size
        compute.append(time.perf_counter() - t0)

    kind = sd.Stream if source is None else sd.OutputStream
    device = devices if source is None else devices[1]
    if seconds is None and source is not None:
        seconds = (source.size + stream.latency_samples) / SAMPLE_RATE + 0.2
    start = time.perf_counter()
    stop = {"asked": False}

    def on_interrupt(_signum, _frame):           # Ctrl-C ends the session cleanly (as the training loop does)
        stop["asked"] = True

    in_main = threading.current_thread() is threading.main_thread()
    previous_handler = signal.signal(signal.SIGINT, on_interrupt) if in_main else None
    try:
        with kind(samplerate=SAMPLE_RATE, blocksize=block, device=device, channels=1, dtype="float32",
                  latency="low", callback=callback) as pa:
            latency = pa.latency if isinstance(pa.latency, tuple) else (0.0, pa.latency)
            report.device_latency_ms = 1000.0 * float(sum(latency))
            report.total_latency_ms = report.engine_latency_ms + report.device_latency_ms
            if on_start is not None:
                on_start()
            try:
                shown = start
                while (seconds is None or time.perf_counter() - start < seconds) and not stop["asked"]:
                    time.sleep(0.05)
                    report.cpu_load = float(pa.cpu_load)
                    if on_status is not None and time.perf_counter() - shown >= 0.5:
                        shown = time.perf_counter()
                        _summarise(report, compute, power, start)
                        on_status(report)
            except KeyboardInterrupt:
                stop["asked"] = True
    except sd.PortAudioError as exc:
        raise DeviceError(f"The sound device failed: {exc}. Check it is not busy (another program, a closed "
                          "lid), or choose another with --input-device/--output-device (--list-devices).") from None
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous_handler)
    report.interrupted = stop["asked"]
    _summarise(report, compute, power, start)
    return report


def _summarise(report: Report, compute: list, power: list, start: float) -> None:
    report.seconds = time.perf_counter() - start
    if compute:
        ms = 1000.0 * np.asarray(compute)
        report.compute_ms_median, report.compute_ms_max = float(np.median(ms)), float(ms.max())
    if power[1]:
        report.output_rms_db = float(10 * np.log10(max(power[0] / power[1], 1e-20)))


def stream_file(stream: Stream, audio, block: int = 1024, progress: bool = False) -> np.ndarray:
    """A recording (16 kHz mono) through the engine `block` samples at a time, as a microphone would feed it;
    returns the output aligned with the input (the engine's latency removed), as long as the input."""
    audio = np.asarray(audio, np.float32).reshape(-1)
    stream.reset()
    padded = np.concatenate([audio, np.zeros(stream.latency_samples, np.float32)])
    starts = range(0, padded.size, int(block))
    if progress:
        from tqdm.auto import tqdm

        starts = tqdm(starts, desc="live", unit="block", leave=False)
    out = np.concatenate([stream.process(padded[i:i + block]) for i in starts])
    return out[stream.latency_samples:stream.latency_samples + audio.size]
