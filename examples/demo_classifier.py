"""The repository the FinOps and telemetry demos start from, and the deployment they ship.

Both build a throwaway git repository on ``main`` holding image-classifier-v3 in production, and
write its manifest at other versions and rollout steps, with the size and regions their story
needs; the artifact's checksum is one byte repeated, which no real artifact has.
"""

from __future__ import annotations

from pathlib import Path

from demo_support import git

MANIFEST_PATH = "models/image-classifier.yaml"

_MANIFEST = """\
apiVersion: mobileai.apexlogic.com/v1
kind: OnDeviceModel
metadata: {{name: image-classifier-v3, namespace: production}}
spec:
  modelId: img-cls-003
  version: "{version}"
  modelUri: s3://apexlogic-models/image-classifier/v{version}/model.onnx
  checksum: "sha256:{digest}"
{tier}  sizeBytes: {size}
  targetDevices: {{minOSVersion: iOS16, minAPILevel: 30, minMemoryMB: 4096, regions: [{regions}]}}
  updateStrategy:
    type: stagedRollout
    rolloutPercentage: {percent}
    minBatteryLevel: 50
    networkConstraint: WIFI
  inferenceConfig: {{batchSize: 1, numThreads: 2, quantization: int8}}
"""


def classifier(
    version: str,
    digest_byte: str,
    percent: int,
    *,
    size: int,
    regions: tuple[str, ...],
    tier: str | None = None,
) -> str:
    """The manifest of image-classifier ``version`` at ``percent`` % (``digest_byte``: two hex digits)."""
    return _MANIFEST.format(
        version=version,
        digest=digest_byte * 32,
        percent=percent,
        size=size,
        regions=", ".join(regions),
        tier=f"  tier: {tier}\n" if tier else "",
    )


def new_repository(repo: Path) -> Path:
    """An empty git repository at ``repo`` on ``main``; where the classifier's manifest goes."""
    (repo / "models").mkdir(parents=True)
    git(repo, "init", "--quiet", "--initial-branch=main")
    return repo / MANIFEST_PATH
