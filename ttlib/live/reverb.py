"""A long impulse response applied block by block: uniformly partitioned overlap-add convolution.

The course model's learned room is 3 s long (48,000 taps). Convolving each 20 ms
block with it directly would cost 15 million multiply-adds per block; instead the
impulse response h is cut into P partitions of B samples (B = the block), and

    y = x * h = sum_p  x * h_p  delayed by p B,

each term computed in the frequency domain with an FFT of 2B: the spectrum of every
input block is computed once and kept in a delay line of P spectra, and each new
output block is one inverse FFT of sum_p X[n - p] H_p (Wefers, "Partitioned
convolution algorithms for real-time auralization", 2015, ch. 5). Its first half is
this block's output; its second half (the tail) is added to the next block's.
The latency is zero beyond the block itself; the cost per block is P complex
multiply-adds per frequency bin and two FFTs.

The output equals `scipy.signal.oaconvolve(x, h)` to float rounding (tested), so a
stream rendered with it equals the offline rendering (`ttlib.transfer.Synthesizer`).
Notebook 09 (realtime) measures it.
"""
from __future__ import annotations

import numpy as np

from ttlib.core.errors import ConfigError


class PartitionedConvolver:
    """Convolution of a stream with `ir`, `block` samples at a time (each call gets exactly `block` samples).

    Args:
      ir: impulse response [n_taps].
      block: samples per call (the engine's hop).
    """

    def __init__(self, ir, block: int):
        ir = np.asarray(ir, np.float64).reshape(-1)
        if block < 1 or ir.size == 0:
            raise ConfigError("A partitioned convolution needs a block of at least 1 sample and a non-empty "
                              "impulse response.")
        self.block = int(block)
        self.n_fft = 2 * self.block
        parts = int(np.ceil(ir.size / self.block))
        padded = np.zeros(parts * self.block)
        padded[:ir.size] = ir
        self.spectra = np.fft.rfft(padded.reshape(parts, self.block), n=self.n_fft, axis=1)   # [P, bins]
        self.reset()

    def reset(self) -> None:
        """Silence: no input in the delay line, no tail."""
        self.history = np.zeros_like(self.spectra)       # X[n - p] at row (self.position + p) % P
        self.position = 0
        self.tail = np.zeros(self.block)

    def process(self, x) -> np.ndarray:
        """The next `block` samples of x * ir (float64)."""
        x = np.asarray(x, np.float64).reshape(-1)
        if x.size != self.block:
            raise ConfigError(f"PartitionedConvolver.process takes blocks of {self.block} samples, not {x.size}.")
        parts = self.spectra.shape[0]
        self.position = (self.position - 1) % parts
        self.history[self.position] = np.fft.rfft(x, n=self.n_fft)
        order = (self.position + np.arange(parts)) % parts
        total = np.einsum("pk,pk->k", self.history[order], self.spectra)
        out = np.fft.irfft(total, n=self.n_fft)
        y = out[:self.block] + self.tail
        self.tail = out[self.block:].copy()
        return y
