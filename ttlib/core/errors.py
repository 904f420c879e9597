"""One error base for everything a user can get wrong: `TtlibError`.

Every error ttlib raises for a user's input (a file, a folder, a setting) is a
`TtlibError` whose message says, in one line, what was wrong and what to do. A
caller catches that one class; `python -m ttlib` catches it once and prints the
message without a traceback. Each kind also derives from the built-in exception it
refines (`ValueError`, `FileNotFoundError`, ...), so code written against those
keeps working.
"""


class TtlibError(Exception):
    """Something a user can fix; the message says what was wrong and what to do."""


class ConfigError(TtlibError, ValueError):
    """A setting or argument has a value that cannot be used."""


class AudioError(TtlibError, ValueError):
    """A file that cannot be used as audio (empty, not audio, NaN samples, too short)."""


class DatasetError(TtlibError, ValueError):
    """A dataset cannot be built or read."""


class ModelError(TtlibError, ValueError):
    """A model folder is missing, incomplete, damaged or mismatched."""


class TransferError(TtlibError, ValueError):
    """A timbre transfer cannot run."""


class ExperimentError(TtlibError, ValueError):
    """An experiment's run folder, dataset or setting is unusable."""


class MissingFileError(TtlibError, FileNotFoundError):
    """A file or folder the user named does not exist."""


class OutputExistsError(TtlibError, FileExistsError):
    """Writing would replace something that exists; nothing was overwritten."""


class SystemDependencyError(TtlibError, RuntimeError):
    """A system library or installed data is missing (FluidSynth, CREPE's weights)."""


class TrainingDivergedError(TtlibError, FloatingPointError):
    """The training loss became NaN or infinite; the last checkpoint is kept."""


class NotebookError(TtlibError, RuntimeError):
    """A notebook of the course raised an error while it was executed; its executed copy shows where."""


class DeviceError(TtlibError, RuntimeError):
    """A sound device is missing, busy or refused the stream's settings (live mode)."""
