"""``https://`` artifacts downloaded from a real TLS server on 127.0.0.1.

Its certificate is issued by a CA the test generates; the gate trusts it only through
``Download(ca_bundle=...)``. Every failure must leave the downloads folder empty.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import http.server
import ipaddress
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from fleetgate.errors import EvidenceError
from fleetgate.evidence.artifact import ArtifactSource, Download, resolve_artifact

MODEL = b"onnx model bytes for the artifact tests\n" * 100
CAP = 64 * 1024  # the download cap of the size tests: small, so refusing it is quick


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 it issued: (ca.pem, server.pem, server.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("fleetgate test CA"))
        .issuer_name(_name("fleetgate test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(server.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return paths


class _Handler(http.server.BaseHTTPRequestHandler):
    """Each path is one server behaviour the download must cope with."""

    protocol_version = "HTTP/1.1"  # chunked responses need 1.1
    stall_seconds = 1.5  # longer than the slow tests' timeout
    server_url = ""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        routes: dict[str, Callable[[], None]] = {
            "/model.onnx": lambda: self._body(MODEL),
            "/declared-too-big": self._declared_too_big,
            "/chunked-too-big": self._chunked_too_big,
            "/unsized-too-big": self._unsized_too_big,
            "/stall": self._stall,
            "/trickle": self._trickle,
            "/trickle-headers": self._trickle_headers,
            "/to-http": lambda: self._redirect(self.server_url.replace("https://", "http://", 1) + "/m"),
            "/to-https": lambda: self._redirect(self.server_url + "/model.onnx"),
        }
        # The client gives up on purpose in several tests: nothing left to answer then.
        with contextlib.suppress(ConnectionError, ssl.SSLError, TimeoutError):
            routes.get(self.path, self._missing)()

    def _body(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _declared_too_big(self) -> None:
        # Only the header is sent: a client that trusts it must not wait for the body.
        self.send_response(200)
        self.send_header("Content-Length", str(CAP + 1))
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def _chunked_too_big(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        piece = b"x" * 4096
        for _ in range(CAP // len(piece) + 2):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    def _unsized_too_big(self) -> None:
        # No length at all: the body ends when the connection closes.
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"y" * (CAP * 2))
        self.close_connection = True

    def _stall(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(MODEL)))
        self.end_headers()
        self.wfile.flush()
        time.sleep(self.stall_seconds)
        self.wfile.write(MODEL)

    def _trickle(self) -> None:
        # Each byte arrives before the socket timeout, but the whole body takes longer than it.
        self.send_response(200)
        self.send_header("Content-Length", "8")
        self.end_headers()
        for byte in b"trickled":
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.15)

    def _trickle_headers(self) -> None:
        # The status line and headers one byte at a time: each byte beats the socket timeout.
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\ntrickled":
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.1)
        self.close_connection = True

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _missing(self) -> None:
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # failed handshakes (the untrusted-certificate test) are expected


@dataclass(frozen=True)
class TlsServer:
    url: str
    ca: Path


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    ca, cert, key = _certificates(tmp_path_factory.mktemp("tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    url = f"https://127.0.0.1:{server.server_address[1]}"
    _Handler.server_url = url
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield TlsServer(url, ca)
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # urllib honours proxy variables; the local server must be reached directly.
    for name in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


def download(
    server: TlsServer,
    folder: Path,
    *,
    trusted: bool = True,
    max_bytes: int = Download.max_bytes,
    timeout_seconds: float = 10.0,
) -> ArtifactSource:
    """Downloads on, trusting the test CA unless ``trusted`` is False (system roots only)."""
    settings = Download(
        enabled=True,
        max_bytes=max_bytes,
        timeout_seconds=timeout_seconds,
        ca_bundle=server.ca if trusted else None,
    )
    return ArtifactSource(root=folder / "repo", download=settings, downloads=folder / "downloads")


def test_a_download_lands_under_its_digest(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path)
    uri = tls_server.url + "/model.onnx"
    artifact = resolve_artifact(uri, source)
    assert artifact is not None
    assert (artifact.uri, artifact.source) == (uri, "https")
    assert (artifact.digest, artifact.size) == (sha256(MODEL), len(MODEL))
    assert artifact.path == tmp_path / "downloads" / f"sha256-{hashlib.sha256(MODEL).hexdigest()}"
    assert artifact.path.read_bytes() == MODEL
    assert sorted(p.name for p in (tmp_path / "downloads").iterdir()) == [artifact.path.name]


def test_a_redirect_to_https_is_followed(tls_server: TlsServer, tmp_path: Path) -> None:
    artifact = resolve_artifact(tls_server.url + "/to-https", download(tls_server, tmp_path))
    assert artifact is not None and artifact.digest == sha256(MODEL)


def _refused(uri: str, source: ArtifactSource, said: str) -> EvidenceError:
    with pytest.raises(EvidenceError, match=said) as caught:
        resolve_artifact(uri, source)
    assert source.downloads is not None
    # A refused download leaves nothing behind: no partial file, no half-named artifact.
    assert list(source.downloads.iterdir()) == []
    return caught.value


def test_a_declared_length_over_the_cap_is_refused(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path, max_bytes=CAP)
    error = _refused(tls_server.url + "/declared-too-big", source, "exceeds the download limit")
    assert str(CAP + 1) in error.message


@pytest.mark.parametrize("path", ["/chunked-too-big", "/unsized-too-big"])
def test_a_body_over_the_cap_without_a_declared_length_is_refused(
    tls_server: TlsServer, tmp_path: Path, path: str
) -> None:
    source = download(tls_server, tmp_path, max_bytes=CAP)
    _refused(tls_server.url + path, source, f"more than {CAP} bytes; download refused")


def test_a_body_exactly_at_the_cap_is_accepted(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path, max_bytes=len(MODEL))
    artifact = resolve_artifact(tls_server.url + "/model.onnx", source)
    assert artifact is not None and artifact.size == len(MODEL)


def test_a_server_that_stalls_times_out(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path, timeout_seconds=0.4)
    started = time.monotonic()
    _refused(tls_server.url + "/stall", source, "download took longer than 0.4 s")
    assert time.monotonic() - started < _Handler.stall_seconds


def test_a_server_that_trickles_past_the_deadline_is_refused(tls_server: TlsServer, tmp_path: Path) -> None:
    # Every byte beats the socket timeout; only the overall deadline catches the slow body.
    source = download(tls_server, tmp_path, timeout_seconds=0.5)
    _refused(tls_server.url + "/trickle", source, "download took longer than 0.5 s")


def test_a_server_that_trickles_its_headers_is_cut_at_the_deadline(
    tls_server: TlsServer, tmp_path: Path
) -> None:
    # The deadline covers the status line and headers, not only the body (about 5 s of trickle).
    source = download(tls_server, tmp_path, timeout_seconds=0.5)
    started = time.monotonic()
    _refused(tls_server.url + "/trickle-headers", source, "download took longer than 0.5 s")
    assert time.monotonic() - started < 1.5


def test_a_redirect_to_plain_http_is_refused(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path)
    _refused(tls_server.url + "/to-http", source, "redirect to a non-https location http://")


def test_an_untrusted_certificate_is_refused(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path, trusted=False)
    _refused(tls_server.url + "/model.onnx", source, "download failed .*CERTIFICATE_VERIFY_FAILED")


def test_a_missing_remote_file_is_an_error(tls_server: TlsServer, tmp_path: Path) -> None:
    source = download(tls_server, tmp_path)
    _refused(tls_server.url + "/absent.onnx", source, r"download failed \(Not Found\)")
