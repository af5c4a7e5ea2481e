"""Signed OPA bundles of the policy library: ``fleetgate policy bundle build`` and
``fleetgate check --policy-bundle FILE --bundle-key KEY``.

A bundle is a gzipped tar of ``.manifest`` (revision, roots, and the rule metadata under
``metadata.fleetgate.rules``), ``data.json`` (``{"fleetgate": {"config": ...}}``), the library's
``.rego`` modules, the aggregate rule an OPA server answers at ``fleetgate_engine/gate/findings``,
and ``.signatures.json`` (:mod:`fleetgate.policy._bundle_sign`). Its revision is the revision of
the library it was built from, so an OPA server serving it passes the engine's revision check.

A bundle is read only once it verifies: every archive entry a plain file with a relative path
(no ``..``), within the size limits, and every file signed. The repository's own ``policies``
settings (folders, data overrides) do not apply to it: a signed bundle is edited by no one else.
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fleetgate._read import read_capped
from fleetgate.errors import PolicyError
from fleetgate.policy._aggregate import gate_module, gate_packages, policy_data
from fleetgate.policy._bundle_sign import STRUCTURED, canonical_json, sign_files, verify_files
from fleetgate.policy.library import BundleOrigin, PolicyLibrary, RuleInfo, module_of, rule_infos

__all__ = ["MAX_BUNDLE_BYTES", "build_bundle", "load_bundle"]

MAX_BUNDLE_BYTES = 16 * 1024 * 1024
"""The largest bundle archive, and the most its files may hold once unpacked."""
_MAX_ENTRIES = 5000
_ROOTS = ["fleetgate", "fleetgate_engine"]
_GATE_FILE = "fleetgate_engine/gate.rego"
_SIGNATURES = ".signatures.json"
_LABEL = "bundle:"


def build_bundle(library: PolicyLibrary, sign_key: bytes | None = None, key_id: str = "") -> bytes:
    """The bundle of ``library`` (tests left out), signed when ``sign_key`` is given."""
    modules = [m for m in library.modules if not m.is_test]
    files: dict[str, bytes] = {
        ".manifest": canonical_json(
            {
                "revision": library.revision,
                "roots": _ROOTS,
                "metadata": {"fleetgate": {"rules": {n: _rule(r) for n, r in sorted(library.rules.items())}}},
            }
        ),
        "data.json": canonical_json(policy_data(library.data)),
        _GATE_FILE: gate_module(gate_packages(modules)).source.encode(),
    }
    for module in modules:
        files["fleetgate/" + module.path.replace(":", "/").lstrip("/")] = module.source.encode()
    if sign_key is not None:
        files[_SIGNATURES] = sign_files(files, sign_key, key_id)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as archive:
        for name, raw in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(raw), 0o644, 0
            archive.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def load_bundle(path: Path, key_pem: bytes) -> PolicyLibrary:
    """The library of the bundle at ``path`` (the operator's file), once it verifies with ``key_pem``."""
    raw = read_capped(path, MAX_BUNDLE_BYTES, "policy bundle", PolicyError, str(path))
    files = _unpack(raw, path)
    signatures = files.pop(_SIGNATURES, None)
    if signatures is None:
        raise PolicyError(f"{path}: the bundle is not signed (no {_SIGNATURES})")
    for name in files:
        if not name.endswith(".rego") and name not in STRUCTURED:
            # OPA would load a data.yaml or patch.json that fleetgate does not read: refuse it.
            raise PolicyError(f"{path}: {name} is not a file a fleetgate bundle holds")
    try:
        signer = verify_files(files, signatures, key_pem)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc.message}") from None
    return _library(files, path, signer, "sha256:" + hashlib.sha256(raw).hexdigest())


def _unpack(raw: bytes, path: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:gz") as archive:
            for count, member in enumerate(archive):
                if count >= _MAX_ENTRIES:
                    raise PolicyError(f"{path}: more than {_MAX_ENTRIES} entries")
                if member.isdir():
                    continue
                name = _entry_name(member, path)
                total += member.size
                if total > MAX_BUNDLE_BYTES:
                    raise PolicyError(f"{path}: the bundle unpacks to more than {MAX_BUNDLE_BYTES} bytes")
                if name in files:
                    raise PolicyError(f"{path}: {name} appears twice")
                extracted = archive.extractfile(member)
                assert extracted is not None  # a regular file, checked above
                files[name] = extracted.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise PolicyError(f"{path}: not a gzipped tar bundle ({exc})") from None
    return files


def _entry_name(member: tarfile.TarInfo, path: Path) -> str:
    if not member.isfile():
        raise PolicyError(f"{path}: entry {member.name} is not a regular file")
    name = member.name.lstrip("/")
    if not name or ".." in name.split("/") or "\\" in name or posixpath.normpath(name) != name:
        raise PolicyError(f"{path}: entry {member.name!r} is not a plain relative path")
    return name


def _library(files: Mapping[str, bytes], path: Path, signer: str, digest: str) -> PolicyLibrary:
    manifest = _json(files, ".manifest", path)
    revision = manifest.get("revision")
    if not isinstance(revision, str) or sorted(manifest.get("roots", [])) != _ROOTS:
        raise PolicyError(f"{path}: .manifest needs a string revision and the roots {_ROOTS}")
    data = _json(files, "data.json", path)
    config = data.get("fleetgate", {}).get("config") if isinstance(data.get("fleetgate"), dict) else None
    if set(data) != {"fleetgate"} or not isinstance(config, dict):
        raise PolicyError(f'{path}: data.json must be {{"fleetgate": {{"config": {{...}}}}}}')
    metadata = manifest.get("metadata", {})
    rules = rule_infos(
        metadata.get("fleetgate", {}).get("rules", {}) if isinstance(metadata, dict) else {}, str(path)
    )
    modules = []
    for name, raw in sorted(files.items()):
        if name.endswith(".rego") and name != _GATE_FILE:
            try:
                modules.append(module_of(f"{_LABEL}{name}", raw.decode("utf-8")))
            except UnicodeDecodeError:
                raise PolicyError(f"{path}: {name} is not valid UTF-8") from None
    return PolicyLibrary(tuple(modules), config, rules, digest, BundleOrigin(revision, signer))


def _json(files: Mapping[str, bytes], name: str, path: Path) -> dict[str, Any]:
    if name not in files:
        raise PolicyError(f"{path}: the bundle has no {name}")
    try:
        value = json.loads(files[name])
    except ValueError:
        raise PolicyError(f"{path}: {name} is not JSON") from None
    if not isinstance(value, dict):
        raise PolicyError(f"{path}: {name} must be a JSON object")
    return value


def _rule(info: RuleInfo) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "title": info.title,
        "severity": info.severity,
        "description": info.description,
        "remediation": info.remediation,
    }
    if info.config:
        fields["config"] = list(info.config)
    return fields
