from __future__ import annotations

from pathlib import Path

import pytest

from fleetgate.config import ManifestSelector, load_config
from fleetgate.errors import ConfigError
from fleetgate.files import GateFiles


def test_no_config_file_means_defaults(tmp_path: Path) -> None:
    config = load_config(GateFiles.on_disk(tmp_path))
    assert config.source is None
    assert config.selector.matches("models/a.yaml") and config.selector.matches("x.yml")
    assert config.stage == "pre-merge" and config.waivers == "fleetgate-waivers.yaml"


def test_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / "fleetgate.yaml").write_text(
        "manifests: ['models/**/*.yaml']\nexclude: ['models/legacy/*']\nstage: pre-deploy\n"
        "policies:\n  dirs: [policy]\n  data: {rollout: {initialMax: 5}}\n"
        "limits: {maxFileBytes: 4096}\nwaivers: ops/waivers.yaml\n"
    )
    config = load_config(GateFiles.on_disk(tmp_path))
    assert config.stage == "pre-deploy"
    assert config.policy_dirs == ("policy",)
    assert config.data == {"rollout": {"initialMax": 5}}
    assert config.limits.max_bytes == 4096
    assert config.waivers == "ops/waivers.yaml"
    assert config.selector.matches("models/a/b.yaml")
    assert not config.selector.matches("models/legacy/a.yaml")
    assert not config.selector.matches("charts/a.yaml")


def test_a_typo_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "fleetgate.yaml").write_text("manifests: ['*.yaml']\npolicies:\n  dir: [x]\n")
    with pytest.raises(ConfigError, match=r"fleetgate.yaml:3: unknown setting 'policies.dir'"):
        load_config(GateFiles.on_disk(tmp_path))


def test_wrong_type_is_an_error_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "fleetgate.yaml").write_text("stage: production\n")
    with pytest.raises(ConfigError, match=r"fleetgate.yaml:1: stage: 'production' is not one of"):
        load_config(GateFiles.on_disk(tmp_path))


def test_an_explicit_config_must_exist(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(GateFiles.on_disk(tmp_path), "missing.yaml", required=True)


def test_the_waiver_path_stays_inside_the_repository(tmp_path: Path) -> None:
    (tmp_path / "fleetgate.yaml").write_text("waivers: ../../etc/waivers.yaml\n")
    with pytest.raises(ConfigError, match="fleetgate.yaml:1: waivers: .* leaves the repository"):
        load_config(GateFiles.on_disk(tmp_path))


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("**/*.yaml", "a.yaml", True),
        ("**/*.yaml", "a/b/c.yaml", True),
        ("models/*.yaml", "models/a/b.yaml", False),
        ("models/**", "models/a/b.yaml", True),
        ("m?.yaml", "m1.yaml", True),
    ],
)
def test_globs(pattern: str, path: str, expected: bool) -> None:
    assert ManifestSelector((pattern,)).matches(path) is expected
