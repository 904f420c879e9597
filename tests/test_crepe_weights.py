"""CREPE's weights from the registry: conversion, installation, tracking."""
import h5py
import numpy as np
import pytest

from ttlib.core.errors import SystemDependencyError
from ttlib.pitch import cents, crepe_f0_hz, crepe_weights
from ttlib.synth import sine


def _keras2_file(path, kernel_shape=(8, 1, 4)):
    """A small HDF5 weight file in the registry's layout (Keras 2, Conv1D kernels)."""
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"conv1", b"conv1-BN"])
        conv = f.create_group("conv1")
        conv.attrs["weight_names"] = np.array([b"conv1_3/kernel:0", b"conv1_3/bias:0"])
        conv.create_dataset("conv1_3/kernel:0", data=rng.normal(size=kernel_shape).astype("f4"))
        conv.create_dataset("conv1_3/bias:0", data=rng.normal(size=kernel_shape[-1]).astype("f4"))
        bn = f.create_group("conv1-BN")
        bn.attrs["weight_names"] = np.array([b"conv1-BN_3/gamma:0"])
        bn.create_dataset("conv1-BN_3/gamma:0", data=np.ones(kernel_shape[-1], "f4"))


def test_convert_reshapes_conv_kernels_and_keeps_values(tmp_path):
    src, dst = tmp_path / "weights.h5", tmp_path / "out" / "model-tiny.h5"
    _keras2_file(src)
    crepe_weights.convert(src, dst)
    with h5py.File(src) as a, h5py.File(dst) as b:
        assert b["conv1/conv1_3/kernel:0"].shape == (8, 1, 1, 4)
        np.testing.assert_array_equal(b["conv1/conv1_3/kernel:0"][:, 0], a["conv1/conv1_3/kernel:0"][()])
        np.testing.assert_array_equal(b["conv1/conv1_3/bias:0"][()], a["conv1/conv1_3/bias:0"][()])
        assert list(b.attrs["layer_names"]) == [b"conv1", b"conv1-BN"]
        assert list(b["conv1"].attrs["weight_names"]) == [b"conv1_3/kernel:0", b"conv1_3/bias:0"]
    assert crepe_weights.weights_digest(src) == crepe_weights.weights_digest(dst)
    assert list(dst.parent.iterdir()) == [dst], "no temporary file may be left behind"


def test_digest_tells_different_values_apart(tmp_path):
    _keras2_file(tmp_path / "a.h5")
    _keras2_file(tmp_path / "b.h5")
    with h5py.File(tmp_path / "b.h5", "a") as f:
        f["conv1/conv1_3/bias:0"][0] += 1.0
    assert crepe_weights.weights_digest(tmp_path / "a.h5") != crepe_weights.weights_digest(tmp_path / "b.h5")


def test_unknown_capacity_is_named():
    with pytest.raises(ValueError, match="huge.*tiny, small, medium, large, full"):
        crepe_weights.registry_weights_path("huge")


@pytest.mark.parametrize("capacity", crepe_weights.CAPACITIES)
def test_installed_weights_are_the_registry_values(capacity):
    path = crepe_weights.check_installed(capacity)
    assert path.name == f"model-{capacity}.h5"


def test_a_tampered_installation_is_detected(tmp_path, monkeypatch):
    fake = tmp_path / "model-tiny.h5"
    crepe_weights.convert(crepe_weights.registry_weights_path("tiny"), fake)
    with h5py.File(fake, "a") as f:
        f["classifier/classifier_3/bias:0"][0] += 0.5
    monkeypatch.setattr(crepe_weights, "installed_weights_path", lambda capacity: fake)
    with pytest.raises(SystemDependencyError, match="make setup"):
        crepe_weights.check_installed("tiny")
    fake.unlink()
    with pytest.raises(SystemDependencyError, match="make setup"):
        crepe_weights.check_installed("tiny")


@pytest.mark.parametrize("capacity", ["tiny", "full"])
@pytest.mark.parametrize("f0_hz", [220.0, 440.0, 1000.0])
def test_crepe_tracks_a_sine_within_10_cents(capacity, f0_hz):
    f0, confidence = crepe_f0_hz(sine(f0_hz, seconds=0.5), capacity)
    assert abs(np.median(cents(f0, f0_hz))) < 10
    assert np.median(confidence) > 0.8
