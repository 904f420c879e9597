"""The notebooks' test runs: two lanes of papermill runs in the background, started with the session.

`conftest.notebook_runs` starts them before the first test, so the notebooks (each keeps about one core
busy) run while the other tests do; `test_notebooks.test_notebook_runs_and_records_its_figures` waits for
each one's result, and `conftest.pytest_collection_modifyitems` puts those waits after the other tests and
the tests that play in real time (the browser, the audio devices) after the waits, when the notebooks are
done and the cores are free again.
"""
import threading
from concurrent.futures import Future
from pathlib import Path

from ttlib import course

NOTEBOOKS = course.notebooks()
LANES = (("08", "00", "01"), ("05", "06", "07", "09", "10", "04", "03", "02"))
"""The notebooks' two lanes: 05 builds the trumpet set that 06 trains on; 07, 09 and 10 play the shipped trumpet;
08 is the longest (1161 s in the last CI, against 1510 s for the six of the other lane then, when 07, 09 and
10 trained their own models). A notebook keeps about one core busy (08: 297 s of CPU in 250 s, measured), so two
lanes on two cores take about two thirds of the time of one."""
RUN_TEST = "test_notebook_runs_and_records_its_figures"
REAL_TIME_MODULES = ("test_browser.py", "test_live_devices.py")
"""Tests that play in real time or wait on a page: run after the notebooks, on free cores."""


def data_folders(generated: Path) -> dict:
    """Each notebook's data-folder parameters, inside the session's `generated` folder (07, 09 and 10 play the
    shipped trumpet in their quick setting, but their MODEL_DIR points here all the same, never at the checkout)."""
    model = {"MODEL_DIR": str(generated / "models" / "trumpet")}
    return {"05": {"DATASET_DIR": str(generated / "trumpet")},
            "06": {"DATASET_DIR": str(generated / "trumpet"), **model},
            "07": model, "09": model, "10": model,
            "08": {"DATA_ROOT": str(generated),
                   "ROOT": str(generated / "experiments" / "learned-encoder")}}


def order(item) -> int:
    """0: the other tests, 1: the waits for the notebooks' runs, 2: the real-time tests."""
    if item.originalname == RUN_TEST:
        return 1
    return 2 if item.path.name in REAL_TIME_MODULES else 0


class Lanes:
    """The selected notebooks, executed in `LANES` by two threads; `runs` maps a notebook's stem to the Future
    of (what `course.execute` returned, its output folder)."""

    def __init__(self, stems: set, generated: Path, make_folder):
        by_number = {nb.name[:2]: nb for nb in NOTEBOOKS if nb.stem in stems}
        self.runs = {nb.stem: Future() for nb in by_number.values()}
        self._stop = threading.Event()

        def lane(numbers):
            for number in numbers:
                if number not in by_number or self._stop.is_set():   # not selected, or the session is ending
                    continue
                notebook = by_number[number]
                try:                                         # whatever fails reaches the test: never a hang
                    out = make_folder(notebook.stem)
                    self.runs[notebook.stem].set_result((course.execute(
                        notebook, out, fast=True, parameters=data_folders(generated).get(number, {}),
                        progress=False), out))
                except BaseException as exc:                  # the test of this notebook raises it
                    self.runs[notebook.stem].set_exception(exc)

        self._threads = [threading.Thread(target=lane, args=(numbers,), daemon=True) for numbers in LANES]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        """No new notebook starts; wait for the running ones (at the session's end, or on -x or Ctrl-C)."""
        self._stop.set()
        for thread in self._threads:
            thread.join()
