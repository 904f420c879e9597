"""The course itself: running its notebooks, checking the set-up, and what the lessons draw and play.

  execution  `execute` (one notebook with papermill), `run_course` (all, what `make run` does),
             `record` / `read_results` (the figures a notebook records, which the tests check)
  doctor     the set-up checks of notebook 00 and `python -m ttlib doctor`
  plots      the one spectrogram, f0 tracks, spectra, loss curves, transfer controls
  widgets    the pitch explorer (notebooks 01-03) and the transfer sliders (notebook 07)
  solutions  the `%%solution` cell magic: exercises' solutions run but stay hidden unless SHOW_SOLUTIONS

Every notebook uses `record`; `from ttlib.course import plots, widgets` for the rest.
"""
from ttlib.course.execution import NOTEBOOK_DIR, RESULTS_FILE, execute, notebooks, read_results, record, run_course

__all__ = ["NOTEBOOK_DIR", "RESULTS_FILE", "execute", "notebooks", "read_results", "record", "run_course"]
