"""Every evidence.missing message says why the fact is missing, so the user knows what to fix."""

from __future__ import annotations

from support import GitRepo, manifest, to_yaml, violations


def messages(decision: dict[str, object], rule: str) -> list[str]:
    return [v["message"] for v in violations(decision, rule)]  # type: ignore[arg-type]


def test_an_unmirrored_s3_artifact_names_the_missing_artifact_root(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))  # s3://... and no evidence.artifactRoot
    repo.commit("base")
    code, decision = repo.decision("models", "--stage", "pre-deploy", "--no-audit")
    assert code == 1
    [artifact] = messages(decision, "evidence.missing.artifact")
    assert "(s3:// artifacts are read from a mirror and evidence.artifactRoot is not set)" in artifact
    [signature] = messages(decision, "evidence.missing.signature")
    assert "evidence.artifactRoot is not set" in signature


def test_an_https_artifact_also_names_downloads(repo: GitRepo) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a", modelUri="https://models.example.com/a.onnx")))
    repo.commit("base")
    _, decision = repo.decision("models", "--no-audit")
    [artifact] = messages(decision, "evidence.missing.artifact")
    assert "downloads are off (evidence.download.enabled)" in artifact


def test_a_reachable_artifact_without_a_trust_file_names_the_trust_file(repo: GitRepo) -> None:
    repo.write("models/a.onnx", b"not really a model")
    repo.write("models/a.yaml", to_yaml(manifest("a", modelUri="file:models/a.onnx")))
    repo.commit("base")
    _, decision = repo.decision("models", "--no-audit", "--evidence", "artifact,signature,provenance")
    [signature] = messages(decision, "evidence.missing.signature")
    assert "(no trust file is configured (trust: in fleetgate.yaml))" in signature
