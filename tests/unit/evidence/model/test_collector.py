"""The collector object: settings, cache key and the promise to stay light on import."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence.artifact import ArtifactSource, resolve_artifact
from fleetgate.evidence.interface import Artifact, CollectorContext
from fleetgate.evidence.model import COLLECTOR, DEFAULT_MAX_BYTES, parse_settings

import support_onnx

Context = Callable[..., CollectorContext]


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, fleetgate.evidence.model as m; "
        "heavy = {'onnx', 'onnxruntime', 'numpy', 'pandas', 'google.protobuf', 'ai_edge_litert', "
        "'coremltools', 'flatbuffers'} & set(sys.modules); "
        "assert m.COLLECTOR.fact == 'model'; print(sorted(heavy))"
    )
    engine = Path(__file__).resolve().parents[4] / "engine"
    env = {**os.environ, "PYTHONPATH": str(engine)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert result.stdout.strip() == "[]"


def test_settings_default_to_the_2_gib_cap_and_the_cpu_runtime(tmp_path: Path) -> None:
    settings = parse_settings({}, tmp_path)
    assert settings.max_bytes == DEFAULT_MAX_BYTES == 2 << 30
    assert settings.allowed_operators is None


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"maxbytes": 1}, "evidence.model.maxbytes: unknown key"),
        ({"maxBytes": 0}, "evidence.model.maxBytes: expected a positive integer"),
        ({"maxBytes": True}, "evidence.model.maxBytes: expected a positive integer"),
        ({"maxBytes": "1GB"}, "evidence.model.maxBytes: expected a positive integer"),
        ({"allowedOperators": 3}, "evidence.model.allowedOperators: expected a path"),
        ({"allowedOperators": "/etc/ops.config"}, "is absolute"),
        ({"allowedOperators": "../ops.config"}, "lies outside the repository"),
        ({"allowedOperators": "missing.config"}, "is not a file"),
    ],
)
def test_bad_settings_are_config_errors(tmp_path: Path, settings: dict[str, Any], error: str) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "ops.config").write_text("ai.onnx;17;Relu\n")
    with pytest.raises(ConfigError) as caught:
        parse_settings(settings, tmp_path / "repo")
    assert caught.value.message.startswith("fleetgate.yaml: evidence.model.")
    assert error in caught.value.message


def test_operator_config_symlinked_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "ops.config").write_text("ai.onnx;17;Relu\n")
    (tmp_path / "repo" / "ops.config").symlink_to(tmp_path / "ops.config")
    with pytest.raises(ConfigError, match="lies outside the repository"):
        parse_settings({"allowedOperators": "ops.config"}, tmp_path / "repo")


def test_bad_settings_fail_collect_even_before_the_model_is_read(context: Context, tmp_path: Path) -> None:
    path = tmp_path / "m.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ConfigError):
        COLLECTOR.collect(context(path, settings={"maxBytes": -1}))


def test_cache_key_names_digest_libraries_and_settings(context: Context, tmp_path: Path) -> None:
    path = support_onnx.save(support_onnx.linear_classifier([1.0]), tmp_path / "m.onnx")
    ctx = context(path)
    key = COLLECTOR.cache_key(ctx)
    assert key is not None
    assert ctx.artifact is not None
    assert key["digest"] == ctx.artifact.digest
    assert key["allowed_operators"] is None
    assert key["onnx"] and key["onnxruntime"]
    assert COLLECTOR.cache_key(context(path, settings={"maxBytes": 10})) != key


def test_cache_key_follows_the_operator_config(context: Context, tmp_path: Path) -> None:
    path = support_onnx.save(support_onnx.linear_classifier([1.0]), tmp_path / "m.onnx")
    config = tmp_path / "ops.config"
    config.write_text("ai.onnx;17;MatMul,Add,Sigmoid\n")
    first = COLLECTOR.cache_key(context(path, settings={"allowedOperators": "ops.config"}))
    config.write_text("ai.onnx;17;MatMul,Add\n")
    second = COLLECTOR.cache_key(context(path, settings={"allowedOperators": "ops.config"}))
    assert first is not None and second is not None
    assert str(first["allowed_operators"]).startswith("sha256:")
    assert first["allowed_operators"] != second["allowed_operators"]


def test_cache_key_follows_external_data_files(context: Context, tmp_path: Path) -> None:
    # The external weights are part of the artifact's digest, which keys the cache.
    path = support_onnx.save_external(support_onnx.cnn(channels=4), tmp_path / "m.onnx", "w/weights.bin")
    first = COLLECTOR.cache_key(context(path))
    assert first is not None
    (tmp_path / "w" / "weights.bin").write_bytes(b"\x00" * 16)
    second = COLLECTOR.cache_key(context(path))
    assert second is not None and second["digest"] != first["digest"]


def test_a_model_directory_of_no_known_format_is_not_measured(tmp_path: Path) -> None:
    folder = tmp_path / "bundle"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"{}")
    artifact = resolve_artifact(folder.as_uri(), ArtifactSource(root=tmp_path))
    assert artifact is not None and artifact.directory
    ctx = CollectorContext(manifest={}, previous=None, root=tmp_path, artifact=artifact)
    assert COLLECTOR.collect(ctx) is None and COLLECTOR.cache_key(ctx) is None


def test_external_data_the_artifact_did_not_hash_is_refused(tmp_path: Path) -> None:
    # Defence in depth: should the light walker ever miss a location, onnx's own view catches it.
    path = support_onnx.save_external(support_onnx.mlp(inputs=3, classes=1), tmp_path / "m.onnx")
    data = path.read_bytes()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    alone = Artifact(
        uri=path.as_uri(), path=path, digest=digest, size=len(data), source="file", format="onnx"
    )
    ctx = CollectorContext(manifest={}, previous=None, root=tmp_path, artifact=alone)
    with pytest.raises(
        EvidenceError, match="external data file weights.bin is not part of the artifact's digest"
    ):
        COLLECTOR.collect(ctx)
