"""load_trust and check_section: the trust file is checked as it is read, and its bytes are digested."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from fleetgate.errors import ConfigError
from fleetgate.evidence.interface import TrustConfig
from fleetgate.evidence.trust import MAX_TRUST_BYTES, check_section, load_trust_file
from fleetgate.files import GateFiles
from fleetgate.git import Git

SIGNATURE = {"format": "model-signing", "method": "key", "publicKeys": ["keys/release.pub"]}
PROVENANCE = {"layout": "layouts/release.layout", "layoutKeys": ["keys/owner.pub"]}


def document(**sections: Any) -> dict[str, Any]:
    return {"apiVersion": "fleetgate.dev/v1", "kind": "TrustConfig", **sections}


def write(folder: Path, text: str | bytes, name: str = "trust.yaml") -> Path:
    path = folder / "trust" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_a_yaml_trust_file(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(document(signature=SIGNATURE, provenance=PROVENANCE)))
    trust = load_trust_file(path)
    assert trust.path == Path("trust.yaml")  # shown relative to the folder it was read from
    assert trust.base == ""
    assert trust.signature == SIGNATURE and trust.provenance == PROVENANCE


def test_a_json_trust_file_with_one_section(tmp_path: Path) -> None:
    trust = load_trust_file(write(tmp_path, json.dumps(document(provenance=PROVENANCE)), "trust.json"))
    assert trust.provenance == PROVENANCE and trust.signature is None


def test_a_trust_file_without_sections_loads(tmp_path: Path) -> None:
    # An empty trust file is valid: each collector says what is missing when it needs a section.
    trust = load_trust_file(write(tmp_path, yaml.safe_dump(document())))
    assert (trust.signature, trust.provenance) == (None, None)


def test_the_digest_is_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    text = "# pinned by the release team\n" + yaml.safe_dump(document(signature=SIGNATURE))
    path = write(tmp_path, text)
    assert load_trust_file(path).digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    # A comment changes the bytes, so the recorded trust material changes with it.
    write(tmp_path, text + "# reviewed\n")
    assert load_trust_file(path).digest != "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def test_paths_resolve_against_the_trust_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, yaml.safe_dump(document(signature=SIGNATURE)))
    monkeypatch.chdir(tmp_path)  # a relative trust path still gives absolute, folder-relative paths
    (path.parent / "keys").mkdir()
    (path.parent / "keys" / "release.pub").write_bytes(b"key")
    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "r.json").write_bytes(b"root")
    trust = load_trust_file(Path("trust/trust.yaml"), tmp_path)
    # Each path names a private copy of exactly the bytes read, shown by its repository path.
    key, root = trust.resolve("keys/release.pub"), trust.resolve("../roots/r.json")
    assert key.read_bytes() == b"key" and trust.files.shown(key) == "trust/keys/release.pub"
    assert root.read_bytes() == b"root" and trust.files.shown(root) == "roots/r.json"
    with pytest.raises(ConfigError, match="leaves the repository"):
        trust.resolve("../../outside.pub")


def test_a_trust_file_at_a_commit_cannot_name_absolute_paths(tmp_path: Path) -> None:
    path = write(tmp_path, yaml.safe_dump(document(signature=SIGNATURE)))
    trust = load_trust_file(path, tmp_path)
    assert trust.resolve(str(tmp_path / "x.pub"), "public key") == tmp_path / "x.pub"  # the operator's file
    repo = GateFiles("0" * 40, tmp_path, Git(tmp_path))
    pinned = replace(trust, files=repo)
    with pytest.raises(ConfigError, match="not an absolute path"):
        pinned.resolve(str(tmp_path / "x.pub"))


TWO_DOCUMENTS = yaml.safe_dump(document()) + "---\n" + yaml.safe_dump(document())


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (yaml.safe_dump({**document(), "kind": "TrustPolicy"}), "kind: 'TrustConfig' was expected"),
        (yaml.safe_dump({**document(), "apiVersion": "fleetgate.dev/v2"}), "apiVersion"),
        (yaml.safe_dump({"kind": "TrustConfig"}), "top level: 'apiVersion' is a required property"),
        (yaml.safe_dump({**document(), "signer": {}}), r"'signer' was unexpected"),
        (
            yaml.safe_dump(document(signature=["not", "a", "mapping"])),
            "signature: .* is not of type 'object'",
        ),
        (yaml.safe_dump(["a", "list"]), "top level: .* is not of type 'object'"),
        ("", "exactly one YAML or JSON document"),
        (
            yaml.safe_dump(document()) + "---\n" + yaml.safe_dump(document()),
            "exactly one YAML or JSON document",
        ),
        ("kind: [unclosed\n", r"trust\.yaml:2: invalid YAML"),
        ("kind: TrustConfig\nkind: TrustConfig\n", r"trust\.yaml:2: duplicate key 'kind'"),
    ],
)
def test_a_bad_trust_file_is_a_config_error_naming_it(tmp_path: Path, text: str, said: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=said) as caught:
        load_trust_file(path)
    assert "trust.yaml" in caught.value.message


def test_an_oversize_trust_file_is_refused_before_parsing(tmp_path: Path) -> None:
    padding = "#" * MAX_TRUST_BYTES + "\n"
    path = write(tmp_path, padding + yaml.safe_dump(document()))
    with pytest.raises(ConfigError, match=f"the trust file is larger than {MAX_TRUST_BYTES} bytes"):
        load_trust_file(path)


def test_a_trust_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    body = yaml.safe_dump(document())
    path = write(tmp_path, body + "#" * (MAX_TRUST_BYTES - len(body) - 1) + "\n")
    assert path.stat().st_size == MAX_TRUST_BYTES
    assert load_trust_file(path).signature is None


def test_a_missing_trust_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"absent\.yaml: cannot read the trust file"):
        load_trust_file(tmp_path / "absent.yaml")


def test_a_folder_is_not_a_trust_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the trust file"):
        load_trust_file(tmp_path)


def test_binary_bytes_are_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        load_trust_file(write(tmp_path, b"apiVersion: \xff\xfe\n"))


# -- check_section -------------------------------------------------------------------------------


def trust_with(tmp_path: Path, **sections: Any) -> TrustConfig:
    return load_trust_file(write(tmp_path, yaml.safe_dump(document(**sections))))


def test_check_section_returns_a_valid_section(tmp_path: Path) -> None:
    trust = trust_with(tmp_path, signature=SIGNATURE, provenance=PROVENANCE)
    assert check_section(trust, "signature", "signature.schema.json") == SIGNATURE
    assert check_section(trust, "provenance", "provenance.schema.json") == PROVENANCE


def test_check_section_without_the_section(tmp_path: Path) -> None:
    trust = trust_with(tmp_path, provenance=PROVENANCE)
    with pytest.raises(ConfigError, match=r"trust\.yaml: has no signature section"):
        check_section(trust, "signature", "signature.schema.json")


@pytest.mark.parametrize(
    ("section", "said"),
    [
        ({**SIGNATURE, "format": "pgp"}, r"signature\.format: 'pgp' is not one of"),
        ({"format": "model-signing"}, "signature: 'method' is a required property"),
        ({**SIGNATURE, "publicKeys": []}, r"signature\.publicKeys: \[\] should be non-empty"),
        ({**SIGNATURE, "colour": "red"}, r"signature: .*'colour' was unexpected"),
        ({**SIGNATURE, "bundle": "../elsewhere.sig"}, r"signature\.bundle: "),
    ],
)
def test_check_section_names_the_bad_field(tmp_path: Path, section: dict[str, Any], said: str) -> None:
    trust = trust_with(tmp_path, signature=section)
    with pytest.raises(ConfigError, match=said) as caught:
        check_section(trust, "signature", "signature.schema.json")
    assert caught.value.message.startswith(f"{trust.path}: ")
