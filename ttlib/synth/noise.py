"""Filtered noise whose random numbers are part of the model's checkpoint.

ddsp's `FilteredNoise` draws with `tf.random.uniform`, whose state restarts in every
new process: a resumed training run would hear other noise than an uninterrupted one.
`SeededFilteredNoise` draws from a `tf.random.Generator` saved with the model, so the
same seed gives the same loss curve, interrupted or not (notebook 06 shows it).
The filter itself (ddsp's `frequency_filter`) is taught in notebook 04.
"""
from __future__ import annotations

import functools


@functools.cache
def seeded_noise_class() -> type:
    """`SeededFilteredNoise(seed=0, **FilteredNoise's arguments)`, a ddsp `FilteredNoise`.

    A function, so that ddsp (and TensorFlow) load only when a model is built.
    """
    import ddsp
    import tensorflow as tf

    class SeededFilteredNoise(ddsp.synths.FilteredNoise):
        """`ddsp.synths.FilteredNoise` whose white noise comes from a generator saved with the model."""

        def __init__(self, seed: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.noise_generator = tf.random.Generator.from_seed(seed)

        def get_signal(self, magnitudes):
            batch_size = int(magnitudes.shape[0])
            signal = self.noise_generator.uniform([batch_size, self.n_samples], minval=-1.0, maxval=1.0)
            return ddsp.core.frequency_filter(signal, magnitudes, window_size=self.window_size)

    return SeededFilteredNoise


def noise_generator(model) -> object | None:
    """The `tf.random.Generator` of a model's seeded filtered noise, or None.

    Looks in a ddsp model's processor group, or at a `noise` attribute (the experiment's model).
    """
    candidates = list(getattr(getattr(model, "processor_group", None), "processors", None) or [])
    candidates.append(getattr(model, "noise", None))
    for processor in candidates:
        if hasattr(processor, "noise_generator"):
            return processor.noise_generator
    return None
