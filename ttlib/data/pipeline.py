"""The dataset builder's feature step as an Apache Beam pipeline: `python -m ttlib data build ... --runner R`.

ddsp prepares its datasets with Beam (`ddsp_prepare_tfrecord`, which runs on Dataflow and other Beam
runners), because tracking f0 with CREPE is the slow part and every recording can be tracked apart.
Here the same split of work: the recordings, read and padded by `ttlib.data.dataset.build_dataset`,
become the elements of a Beam `PCollection`; each worker computes one recording's f0, confidence
and loudness with `ttlib.data.features.recording_features` (the function the in-process builder
calls) and stages them as `<index>.npz` in a staging folder (Beam's `FileSystems`: a local folder,
or gs://... for Dataflow); then `build_dataset` reads them back in the recordings' order and writes
the examples, the statistics and the manifest with the same code as without Beam, so the files are
the same (tested with the DirectRunner).

Runners: "direct" (Beam's DirectRunner, on this machine), "DataflowRunner", "FlinkRunner",
"SparkRunner", "PrismRunner"; pipeline options as ddsp_prepare_tfrecord takes them, a comma-separated
`--pipeline-options="--project=P,--region=R,--temp_location=gs://B/tmp"`. On a cluster the workers need
ttlib and its dependencies (Beam's `--requirements_file`, `--setup_file` or a container) and do not
share this machine's feature cache. Taught beside the in-process builder in notebook 05.
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import time
import uuid
from pathlib import Path

import numpy as np

from ttlib.core.errors import DatasetError
from ttlib.core.units import SAMPLE_RATE
from ttlib.data.features import recording_features

RUNNERS = {"direct": "DirectRunner", "DirectRunner": "DirectRunner", "DataflowRunner": "DataflowRunner",
           "FlinkRunner": "FlinkRunner", "SparkRunner": "SparkRunner", "PrismRunner": "PrismRunner"}
"""The runners `--runner` accepts, by the name Beam gives them."""


def runner_name(runner: str) -> str:
    """Beam's name of a runner ("direct" -> "DirectRunner").

    Raises:
      DatasetError: a runner Beam does not have.
    """
    if runner not in RUNNERS:
        raise DatasetError(f"Unknown Beam runner {runner!r}; choose one of {', '.join(sorted(set(RUNNERS)))}.")
    return RUNNERS[runner]


def option_flags(pipeline_options: str | list | None) -> list[str]:
    """Beam's flags from ddsp's comma-separated form ("--a=1,--b=2") or a list; each must start with "--"."""
    if pipeline_options is None:
        return []
    flags = pipeline_options.split(",") if isinstance(pipeline_options, str) else list(pipeline_options)
    flags = [f.strip() for f in flags if f.strip()]
    bad = [f for f in flags if not f.startswith("--")]
    if bad:
        raise DatasetError(f"Pipeline options are flags such as --project=P, comma-separated; not {bad[0]!r}.")
    return flags


def check_pipeline(runner: str, pipeline_options: str | list | None, staging: str | os.PathLike | None) -> None:
    """Name a wrong runner, malformed options or a staging folder Dataflow's workers cannot reach, before any work.

    Raises:
      DatasetError: saying which and what to give instead.
    """
    name = runner_name(runner)
    option_flags(pipeline_options)
    if name == "DataflowRunner" and "://" not in str(staging or ""):
        raise DatasetError("Dataflow's workers cannot write to this machine's disk: give --staging gs://BUCKET/PATH "
                           "(and --pipeline-options=\"--project=P,--region=R,--temp_location=gs://BUCKET/tmp\").")


class _NoBigQueryWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


def _import_beam() -> object:
    """`apache_beam`, imported without the warning it logs when BigQuery's client library is absent
    (google-cloud-storage is installed for ddsp, apitools is not; the course never uses BigQuery)."""
    quiet = _NoBigQueryWarning()
    logging.getLogger().addFilter(quiet)
    try:
        import apache_beam
    finally:
        logging.getLogger().removeFilter(quiet)
    return apache_beam


def _stage_path(staging: str, index: int) -> str:
    from apache_beam.io.filesystems import FileSystems

    return FileSystems.join(staging, f"{index:06d}.npz")


class _StageFeatures:
    """The work of one element, for `beam.Map`: a recording's features, staged as an .npz; returns its index."""

    def __init__(self, method: str, f0_method: str | None, frame_rate: float, cache: str | None, staging: str):
        self.args = (method, f0_method, frame_rate, cache)
        self.staging = staging

    def __call__(self, element: tuple) -> int:
        from apache_beam.io.filesystems import FileSystems

        index, item = element
        f0, confidence, loudness, source = recording_features(item, *self.args)
        buffer = io.BytesIO()
        np.savez(buffer, f0_hz=f0, f0_confidence=confidence, loudness_db=loudness, f0_source=np.array(source))
        with FileSystems.create(_stage_path(self.staging, index)) as f:
            f.write(buffer.getvalue())
        return index


def _remove(folders: list) -> None:
    """Delete the staging folders this run made (its own first, then --staging if the run created it)."""
    from apache_beam.io.filesystems import FileSystems

    for folder in folders:
        if FileSystems.exists(folder):
            FileSystems.delete([folder])


@contextlib.contextmanager
def _as_a_batch_job():
    """Beam, told it is not inside IPython while it builds and runs the pipeline.

    In IPython (a notebook) Beam treats every pipeline as an interactive one and imports its
    interactive runner, whose DataFrame layer fails to import with pandas 3 (Beam 2.77 supports
    pandas < 2.4: "type object 'DataFrame' has no attribute 'first'"). This pipeline is a batch job
    either way, so it runs as it does from a terminal.
    """
    import apache_beam.pipeline
    from apache_beam.runners.direct import direct_runner
    from apache_beam.utils import interactive_utils

    modules = (interactive_utils, apache_beam.pipeline, direct_runner)
    saved = [m.is_in_ipython for m in modules]
    for m in modules:
        m.is_in_ipython = lambda: False
    try:
        yield
    finally:
        for m, original in zip(modules, saved):
            m.is_in_ipython = original


def beam_features(items: list, method: str, f0_method: str | None, frame_rate: float, cache: Path | None,
                  runner: str, pipeline_options: str | list | None, staging: str | os.PathLike,
                  progress: bool = True) -> dict:
    """{recording_id: (item, f0_hz, f0_confidence, loudness_db, f0 source)}, computed by a Beam pipeline.

    The same result as the in-process builder's, element for element. The workers stage into a new
    folder of this run's own inside `staging` (whatever `staging` already holds is left alone); it is
    removed afterwards, with `staging` if the run created it (and kept, with what was staged, if the
    pipeline fails after staging some).

    Raises:
      DatasetError: an unknown runner, malformed options, or a pipeline that failed (its first line).
    """
    beam = _import_beam()
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    name = runner_name(runner)
    flags = option_flags(pipeline_options)
    local = name in ("DirectRunner", "PrismRunner")
    options = PipelineOptions(flags, runner=name)
    try:                      # a folder of this run's own inside --staging: nothing already there is touched
        made = [] if FileSystems.exists(str(staging)) else [str(staging)]
        staging = FileSystems.join(str(staging), f"ttlib-features-{uuid.uuid4().hex[:12]}")
        made.insert(0, staging)
        if "://" not in staging:
            Path(staging).mkdir(parents=True)
    except Exception as exc:  # Beam's file systems raise their storage's own kinds (GCS, HDFS, S3)
        raise DatasetError(f"Cannot prepare the staging folder {staging} ({type(exc).__name__}: "
                           f"{(str(exc).splitlines() or [''])[0][:200]}).") from None
    stage = _StageFeatures(method, f0_method, frame_rate, str(cache) if (cache is not None and local) else None,
                           staging)
    start = time.perf_counter()
    if progress:
        print(f"features ({method}) of {len(items)} recordings "
              f"({sum(i.audio.size for i in items) / SAMPLE_RATE:.0f} s) on Beam's {name}, staged in {staging}")
    try:
        with _as_a_batch_job(), beam.Pipeline(options=options) as pipeline:
            _ = (pipeline | "recordings" >> beam.Create(list(enumerate(items)), reshuffle=not local)
                 | "features" >> beam.Map(stage))
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a runner reports a worker's error wrapped in its own kinds
        text = (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:300].rstrip(".")
        staged = FileSystems.match([FileSystems.join(staging, "*.npz")])[0].metadata_list
        if not staged:
            _remove(made)
        kept = f" The {len(staged)} recordings staged are in {staging}." if staged else ""
        raise DatasetError(f"The Beam pipeline ({name}) failed: {text}.{kept}") from None
    per_recording = {}
    for index, item in enumerate(items):
        with FileSystems.open(_stage_path(staging, index)) as f:
            saved = np.load(io.BytesIO(f.read()))
            per_recording[item.recording_id] = (item, saved["f0_hz"], saved["f0_confidence"], saved["loudness_db"],
                                                str(saved["f0_source"]))
    _remove(made)
    if progress:
        print(f"features of {len(items)} recordings in {time.perf_counter() - start:.1f} s")
    return per_recording
