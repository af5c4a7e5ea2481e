"""Fixtures of the evidence tests."""

from __future__ import annotations

import pytest

import support_onnx


@pytest.fixture(scope="module")
def onnx_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Two small, different CNNs (the v1 and v2 of a model), as bytes."""
    folder = tmp_path_factory.mktemp("onnx")
    return {
        "v1": support_onnx.save(support_onnx.cnn(channels=4, image=16), folder / "v1.onnx").read_bytes(),
        "v2": support_onnx.save(support_onnx.cnn(channels=8, image=16), folder / "v2.onnx").read_bytes(),
    }
