"""Live (streaming) transfer: whistle in, trumpet out, block by block with a stated latency.

  analysis   one frame's causal features: CREPE tiny (compiled, no Viterbi), ddsp's loudness,
             the octave-down switch for whistles above CREPE's range
  control    the automatic adjustment and the sliders, decided from the past only, with the gate
  reverb     the learned room by uniformly partitioned overlap-add convolution
  engine     `Stream(model_dir).process(block)`: any block size, `latency_samples`, `reset()`
  offline    the same sound made offline with the course's offline tools: what a stream must equal

Taught in notebook 09 (realtime).
"""
from ttlib.live.engine import Stream
from ttlib.live.offline import CausalFeatures, causal_features, render

__all__ = ["CausalFeatures", "Stream", "causal_features", "render"]
