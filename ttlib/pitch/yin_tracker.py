"""YIN (de Cheveigné and Kawahara, 2002) in NumPy: the reference version of notebook 02.

Notebook 02 derives each step by hand on one frame, then checks it against this
function and against `librosa.yin`.
"""
from __future__ import annotations

import numpy as np

from ttlib.core.errors import ConfigError
from ttlib.core.units import SAMPLE_RATE, hop_length, n_frames


def yin(audio, sample_rate: int = SAMPLE_RATE, frame_rate: float = 100.0, fmin: float = 60.0,
        fmax: float = 2000.0, frame_length: int = 1024, threshold: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """YIN in NumPy: the paper's steps 2 to 5 (step 6, the best local estimate, is left out),
    with the parabola fitted to the normalised d' as librosa does (the paper fits the raw d).

    1. difference function d(tau) = sum_j (x_j - x_{j+tau})^2 over a window of
       W = frame_length - tau_max samples, from autocorrelations by FFT;
    2. cumulative mean normalised difference d'(tau) = d(tau) tau / sum_{k<=tau} d(k), d'(0) = 1;
    3. absolute threshold: the first local minimum of d' below `threshold` in
       [sr/fmax, sr/fmin]; if none, the global minimum;
    4. parabolic interpolation of d' around that lag.

    Args:
      audio: mono samples, shape [n_samples].
      sample_rate: Hz.
      frame_rate: frames per second; frames are centred at i / frame_rate s.
      fmin, fmax: search range in Hz.
      frame_length: samples per analysis frame (at least sr / fmin + 2).
      threshold: YIN's absolute threshold on d'.

    Returns:
      (f0_hz, aperiodicity), each shape [n_frames]: aperiodicity is d' at the chosen lag
      (0 = perfectly periodic, about 1 = noise).
    """
    audio = np.asarray(audio, dtype=np.float64).reshape(-1)
    hop = hop_length(sample_rate, frame_rate)
    tau_min = max(1, int(np.floor(sample_rate / fmax)))
    tau_max = min(int(np.ceil(sample_rate / fmin)), frame_length - 2)
    if tau_max <= tau_min + 1:
        raise ConfigError(f"frame_length {frame_length} is too short for fmin {fmin} Hz at {sample_rate} Hz; "
                          "use a longer frame or a higher fmin.")
    padded = np.pad(audio, (frame_length // 2, frame_length // 2))
    count = n_frames(audio.size, hop)
    starts = np.arange(count) * hop
    needed = starts[-1] + frame_length
    if padded.size < needed:
        padded = np.pad(padded, (0, needed - padded.size))
    frames = np.lib.stride_tricks.sliding_window_view(padded, frame_length)[starts]   # [n, L]

    # 1. Difference function via autocorrelation: d(tau) = e(0) + e(tau) - 2 r(tau),
    #    window j in [0, W), W = L - tau_max.
    window = frame_length - tau_max
    fft_size = 1 << int(np.ceil(np.log2(frame_length + window)))
    spec_full = np.fft.rfft(frames, fft_size)
    spec_head = np.fft.rfft(frames[:, :window], fft_size)
    r = np.fft.irfft(spec_full * np.conj(spec_head), fft_size)[:, :tau_max + 1]   # r(tau) = sum_j x_j x_{j+tau}
    energy = np.cumsum(np.pad(frames ** 2, ((0, 0), (1, 0))), axis=1)
    e_shift = energy[:, window:window + tau_max + 1] - energy[:, :tau_max + 1]      # sum_j x_{j+tau}^2
    d = np.maximum(e_shift[:, :1] + e_shift - 2 * r, 0.0)
    d[:, 0] = 0.0

    # 2. Cumulative mean normalised difference.
    cumulative = np.cumsum(d[:, 1:], axis=1)
    taus = np.arange(1, tau_max + 1)
    d_prime = np.ones_like(d)
    d_prime[:, 1:] = d[:, 1:] * taus / np.maximum(cumulative, 1e-12)

    # 3. Absolute threshold: first local minimum below it, else the global minimum.
    search = d_prime[:, tau_min:tau_max + 1]
    is_min = np.zeros_like(search, dtype=bool)
    is_min[:, 1:-1] = (search[:, 1:-1] <= search[:, :-2]) & (search[:, 1:-1] <= search[:, 2:])
    below = is_min & (search < threshold)
    first = np.argmax(below, axis=1)
    best = np.where(below.any(axis=1), first, np.argmin(search, axis=1))
    tau = best + tau_min

    # 4. Parabolic interpolation around tau.
    rows = np.arange(count)
    left = d_prime[rows, np.clip(tau - 1, 1, tau_max)]
    centre = d_prime[rows, tau]
    right = d_prime[rows, np.clip(tau + 1, 1, tau_max)]
    curvature = left - 2 * centre + right
    shift = np.where(np.abs(curvature) > 1e-12, 0.5 * (left - right) / np.where(curvature == 0, 1, curvature), 0.0)
    shift = np.clip(shift, -1.0, 1.0)
    f0_hz = sample_rate / (tau + shift)
    aperiodicity = np.clip(centre, 0.0, 1.0)
    silent = energy[:, -1] <= 1e-10 * frame_length
    aperiodicity[silent] = 1.0
    return f0_hz.astype(np.float32), aperiodicity.astype(np.float32)


def frame_length_for(sample_rate: int, fmin: float) -> int:
    """Smallest power of two holding two periods of fmin (at least 1024 samples)."""
    return max(1024, 1 << int(np.ceil(np.log2(2.0 * sample_rate / fmin + 2))))
