"""ttlib: the helper library of the timbre-transfer course.

The package is layered like the course; a layer imports only from the layers above
it in this list, never from below (a test checks it):

  core          units (samples, frames, Hz, MIDI, cents), thresholds, errors, paths, file helpers
  audio, synth  reading, checking, saving and playing audio; test tones and the fast harmonic synthesizer
  pitch         f0 trackers (YIN, pYIN, CREPE) behind `pitch.track`, and their accuracy
  data          features, the built-in performances, sources, datasets, batches
  models        configurations, the DDSP autoencoder, model folders, the training loop, evaluation
  transfer      a source's features, their adjustment, a trained model played in chunks
  experiments   the learned-encoder experiment of notebook 08
  course        the notebooks' runner, the set-up doctor, plots and widgets
  cli           `python -m ttlib ...`, one module per command

A notebook imports what it teaches by its short name, e.g.
`from ttlib import audio, pitch` or `from ttlib.data import builtin`.

Importing ttlib sets what TensorFlow must see before it first loads, and nothing
else: `TF_USE_LEGACY_KERAS=1` (ddsp and crepe are Keras 2 code; TensorFlow 2.21
brings Keras 3 unless this is set, and tf-keras provides Keras 2) and, unless you
chose a level yourself, `TF_CPP_MIN_LOG_LEVEL=2` (hides TensorFlow's start-up
chatter, keeps its errors); it also hides pydub's warning that ffmpeg is missing
(ddsp imports pydub; the course never uses it). TensorFlow and ddsp are imported
only when a function needs them: `import ttlib` and `from ttlib import models` do not.
"""
import os as _os
import sys as _sys
import warnings as _warnings

_legacy_keras_before = _os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true")
_os.environ["TF_USE_LEGACY_KERAS"] = "1"
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# ddsp imports pydub, which warns at import when ffmpeg is absent; the course reads
# audio with soundfile and never calls pydub, so that warning only alarms a class.
_warnings.filterwarnings("ignore", message="Couldn't find ffmpeg or avconv", category=RuntimeWarning)

if "tensorflow" in _sys.modules and not _legacy_keras_before:
    _warnings.warn(
        "TensorFlow was imported before ttlib, so it may have chosen Keras 3, which ddsp "
        "and crepe cannot use. Import ttlib first (or set TF_USE_LEGACY_KERAS=1 before "
        "Python starts), then restart the kernel.",
        stacklevel=2,
    )

from ttlib.core.errors import TtlibError  # noqa: E402
from ttlib.core.units import SAMPLE_RATE  # noqa: E402

__version__ = "0.1.0"
__all__ = ["SAMPLE_RATE", "TtlibError", "__version__"]
