"""Find the bytes a ``modelUri`` names and hash them once.

Where the bytes come from, in order:

1. ``file:`` URIs and plain relative paths: a file or a model directory inside the repository
   (relative to its root). A path that leaves the repository, also through a symlink, is refused.
2. A configured artifact root mirrors remote storage: ``s3://bucket/key`` and ``gs://bucket/key``
   are looked up at ``<artifactRoot>/bucket/key``, ``https://host/path`` at
   ``<artifactRoot>/host/path``. A key that climbs out of the root is refused.
3. ``https://`` downloads, only when enabled: size-capped, time-limited, TLS-verified, written to
   the cache folder under the digest of what arrived.

An ONNX model's external-data files and a directory's files are part of the artifact
(:mod:`fleetgate.evidence._multifile`). An artifact that is not reachable is ``None`` (its
facts stay absent and ``evidence.missing`` speaks for them); one that is reachable but refused
raises :class:`EvidenceError`. A repository path that names no file is neither: the bytes the
manifest would ship do not exist, which :class:`MissingArtifact` reports
(``supplychain.artifact-missing`` denies it at every stage).
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from fleetgate.errors import ConfigError, EvidenceError
from fleetgate.evidence._format import with_format
from fleetgate.evidence._kit import contained
from fleetgate.evidence._multifile import (
    external_names,
    hash_file,
    is_onnx_name,
    multi_file,
    read_directory,
    read_external,
)
from fleetgate.evidence.interface import Artifact, ArtifactFile

if TYPE_CHECKING:
    import ssl
    import urllib.request

__all__ = [
    "ArtifactSource",
    "Download",
    "MissingArtifact",
    "base_path",
    "hash_file",
    "hashed_artifact",
    "may_resolve",
    "repository_path",
    "resolve_artifact",
    "unreachable_reason",
]

_CHUNK = 1 << 20
_MIRRORED = ("s3://", "gs://", "https://")


@dataclass(frozen=True)
class Download:
    """How ``https://`` artifacts may be fetched when no mirror has them."""

    enabled: bool = False
    max_bytes: int = 2 << 30
    timeout_seconds: float = 60.0
    ca_bundle: Path | None = None  # extra CA certificates (a private registry); system roots otherwise


@dataclass(frozen=True)
class ArtifactSource:
    """Where artifacts are looked for: the repository, a mirror folder, the network."""

    root: Path
    mirror: Path | None = None
    download: Download = field(default_factory=Download)
    downloads: Path | None = None  # folder that keeps downloaded artifacts (the evidence cache)


class MissingArtifact(EvidenceError):
    """A ``file:`` or relative ``modelUri`` names a path that does not exist in the repository."""

    def __init__(self, uri: str, path: str) -> None:
        super().__init__(f"{uri}: {path} does not exist in the repository")
        self.uri = uri
        self.path = path  # repository-relative

    def to_fact(self) -> dict[str, Any]:
        """The ``artifact`` fact of a missing file: ``supplychain.artifact-missing`` reads ``missing``."""
        return {"uri": self.uri, "path": self.path, "missing": True}


def may_resolve(uri: str, source: ArtifactSource) -> bool:
    """False when ``uri`` certainly cannot be reached here (cheap: no file system access)."""
    if uri.startswith(_MIRRORED):
        return source.mirror is not None or (uri.startswith("https://") and source.download.enabled)
    return "://" not in uri or uri.startswith("file://")


def unreachable_reason(uri: str, source: ArtifactSource) -> str:
    """Why ``uri`` cannot be read here, in the words a user needs to fix it."""
    scheme = uri.split("://", 1)[0] + "://" if "://" in uri else uri
    if uri.startswith(_MIRRORED):
        reason = f"{scheme} artifacts are read from a mirror and evidence.artifactRoot is not set"
        if uri.startswith("https://"):
            reason += ", and downloads are off (evidence.download.enabled)"
        return reason
    return f"fleetgate cannot fetch {scheme} artifacts"


def resolve_artifact(uri: str, source: ArtifactSource) -> Artifact | None:
    """The local, hashed artifact for ``uri`` with its format, or ``None`` when it is not reachable.

    EvidenceError when it is refused, also when its name contradicts its bytes.
    """
    if uri.startswith(_MIRRORED):
        local = _mirrored(uri, source)
        if local is not None:
            return hashed_artifact(uri, local, "mirror")
        if uri.startswith("https://") and source.download.enabled:
            return _downloaded(uri, source)
        return None
    if "://" in uri and not uri.startswith("file://"):
        return None  # a scheme fleetgate cannot fetch (the registry rule judges it)
    local = _in_repository(uri, source.root)
    if local is None:
        raise MissingArtifact(uri, repository_path(uri, source.root) or uri)
    return hashed_artifact(uri, local, "file")


def hashed_artifact(uri: str, path: Path, how: str) -> Artifact:
    """The artifact at the local ``path`` with its format: one file, or every file of a model with
    external data or of a model directory. EvidenceError naming what cannot be read or is
    refused, also when its name contradicts its bytes."""
    return with_format(_hashed(uri, path, how))


def _hashed(uri: str, path: Path, how: str) -> Artifact:
    if path.is_dir():
        return multi_file(uri, path, how, read_directory(uri, path), directory=True)
    try:
        digest, size = hash_file(path)
    except OSError as exc:
        raise EvidenceError(f"{uri}: cannot read the artifact at {path} ({exc.strerror})") from None
    external = external_names(uri, path) if is_onnx_name(uri, path) else []
    if not external:
        return Artifact(uri=uri, path=path, digest=digest, size=size, source=how)
    files = [ArtifactFile(path.name, digest, size), *read_external(uri, path, external)]
    return multi_file(uri, path, how, files)


def repository_path(uri: str, root: Path) -> str | None:
    """The repository-relative path a ``file:`` or relative ``uri`` names, or ``None`` for remote URIs.

    Resolved in the work tree (symlinks followed); the path must stay inside ``root``.
    """
    if _is_remote(uri):
        return None
    base = root.resolve()
    target = contained(base / _local_path(uri), base)
    if target is None:
        raise EvidenceError(f"{uri}: the artifact path leaves the repository ({base}); refused")
    return target.relative_to(base).as_posix()


def base_path(uri: str, root: Path) -> str | None:
    """The path ``uri`` names relative to ``root``, written out without touching the work tree.

    For reading an older version from git: symlinks and ``..`` are resolved inside that commit,
    never through the files checked out now. ``None`` for remote URIs.
    """
    if _is_remote(uri):
        return None
    local = PurePosixPath(_local_path(uri))
    if local.is_absolute():
        try:
            local = local.relative_to(PurePosixPath(root.resolve().as_posix()))
        except ValueError:
            raise EvidenceError(f"{uri}: the artifact path leaves the repository; refused") from None
    return local.as_posix()


def _is_remote(uri: str) -> bool:
    return uri.startswith(_MIRRORED) or ("://" in uri and not uri.startswith("file://"))


def _local_path(uri: str) -> str:
    if uri.startswith("file://"):
        parsed = urllib.parse.urlsplit(uri)
        if parsed.netloc not in ("", "localhost"):
            raise EvidenceError(f"{uri}: file URIs on another host are not supported")
        return urllib.parse.unquote(parsed.path)
    return urllib.parse.unquote(uri.removeprefix("file:"))


def _in_repository(uri: str, root: Path) -> Path | None:
    return _contained(uri, root, _local_path(uri), "the repository")


def _mirrored(uri: str, source: ArtifactSource) -> Path | None:
    if source.mirror is None:
        return None
    parsed = urllib.parse.urlsplit(uri)
    key = urllib.parse.unquote(parsed.path).lstrip("/")
    if not parsed.netloc or not key:
        raise EvidenceError(f"{uri}: expected <scheme>://<bucket or host>/<key>")
    return _contained(uri, source.mirror, f"{parsed.netloc}/{key}", "the artifact root")


def _contained(uri: str, base: Path, relative: str, what: str) -> Path | None:
    """``base/relative`` if it exists as a regular file or a folder and stays inside ``base``."""
    base = base.resolve()
    candidate = Path(relative)
    target = contained(candidate if candidate.is_absolute() else base / candidate, base)
    if target is None:
        raise EvidenceError(f"{uri}: the artifact path leaves {what} ({base}); refused")
    if not target.exists():
        return None
    if not (target.is_file() or target.is_dir()):
        raise EvidenceError(f"{uri}: {target} is not a regular file or a model directory")
    return target


def _downloaded(uri: str, source: ArtifactSource) -> Artifact:
    """Fetch ``uri`` into the downloads folder, refusing more than ``max_bytes`` or a slow server."""
    import tempfile
    import urllib.error

    settings = source.download
    folder = _downloads_folder(uri, source)
    deadline = time.monotonic() + settings.timeout_seconds
    opener = _opener(settings, deadline)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".part-", delete=False) as part:
        try:
            with opener.open(uri, timeout=settings.timeout_seconds) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > settings.max_bytes:
                    raise EvidenceError(f"{uri}: {declared} bytes exceeds the download limit")
                # read1 returns what has arrived (up to a chunk) instead of waiting for a full
                # chunk, so a server trickling bytes meets the deadline check on every arrival.
                while chunk := response.read1(_CHUNK):
                    size += len(chunk)
                    if size > settings.max_bytes:
                        raise EvidenceError(f"{uri}: more than {settings.max_bytes} bytes; download refused")
                    if time.monotonic() > deadline:
                        limit = settings.timeout_seconds
                        raise EvidenceError(f"{uri}: download took longer than {limit:g} s")
                    digest.update(chunk)
                    part.write(chunk)
        except EvidenceError:
            os.unlink(part.name)
            raise
        except (OSError, urllib.error.URLError, ValueError) as exc:
            os.unlink(part.name)
            if time.monotonic() >= deadline:
                raise EvidenceError(
                    f"{uri}: download took longer than {settings.timeout_seconds:g} s"
                ) from None
            reason = getattr(exc, "reason", None) or exc
            raise EvidenceError(f"{uri}: download failed ({reason})") from None
    hexdigest = digest.hexdigest()
    final = folder / f"sha256-{hexdigest}"
    os.replace(part.name, final)
    return with_format(Artifact(uri=uri, path=final, digest="sha256:" + hexdigest, size=size, source="https"))


def _downloads_folder(uri: str, source: ArtifactSource) -> Path:
    if source.downloads is None:
        raise EvidenceError(f"{uri}: downloads need the evidence cache folder (evidence.cache is off)")
    try:
        source.downloads.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EvidenceError(f"{uri}: cannot use the downloads folder ({exc.strerror})") from None
    return source.downloads


def _opener(settings: Download, deadline: float) -> urllib.request.OpenerDirector:
    """HTTPS only, verified against the system roots or the configured CA bundle.

    Every socket it opens gives up at ``deadline``: the TLS handshake, the status line and
    headers, and the body all share one clock (a socket timeout alone restarts with each byte).
    """
    # Imported here: TLS and HTTP machinery costs a manifest-only check ~30 ms it never needs.
    import ssl
    import urllib.request

    cafile = str(settings.ca_bundle) if settings.ca_bundle else None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"fleetgate.yaml: evidence.download.caBundle: cannot load {cafile} ({exc})"
        ) from None
    context.sslsocket_class = _deadline_socket(deadline)
    return urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _https_only())


def _https_only() -> urllib.request.HTTPRedirectHandler:
    """A redirect handler that refuses to downgrade to plain HTTP (the bytes would be unauthenticated)."""
    import urllib.request

    class HttpsOnly(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
            if not newurl.startswith("https://"):
                raise EvidenceError(f"{req.full_url}: redirect to a non-https location {newurl}; refused")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return HttpsOnly()


def _deadline_socket(deadline: float) -> type[ssl.SSLSocket]:
    """A TLS socket class whose every blocking step waits only for what is left until ``deadline``."""
    import ssl

    class DeadlineSocket(ssl.SSLSocket):
        def _arm(self) -> None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the download deadline passed")
            self.settimeout(left)

        def do_handshake(self, block: bool = False) -> None:
            self._arm()
            super().do_handshake(block)

        def recv(self, buflen: int = 1024, flags: int = 0) -> bytes:
            self._arm()
            return super().recv(buflen, flags)

        def recv_into(self, buffer: Any, nbytes: int | None = None, flags: int = 0) -> int:
            self._arm()
            return super().recv_into(buffer, nbytes, flags)

    return DeadlineSocket
