"""ttlib: the helper library of the timbre-transfer course.

Importing ttlib sets what TensorFlow must see before it first loads, and nothing
else: `TF_USE_LEGACY_KERAS=1` (ddsp and crepe are Keras 2 code; TensorFlow 2.21
brings Keras 3 unless this is set, and tf-keras provides Keras 2) and, unless you
chose a level yourself, `TF_CPP_MIN_LOG_LEVEL=2` (hides TensorFlow's start-up
chatter, keeps its errors); it also hides pydub's warning that ffmpeg is missing
(ddsp imports pydub; the course never uses it). Submodules are imported on demand:
`from ttlib import models` imports TensorFlow and ddsp, `import ttlib` does not.
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

__version__ = "0.1.0"
SAMPLE_RATE = 16000
"""The course's audio sample rate in Hz (CREPE's and ddsp's)."""
