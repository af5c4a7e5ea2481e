"""A stand-in for an OPA server on loopback: the REST endpoints fleetgate's OPA engine uses
(``POST /v1/data/system/bundles``, ``GET /v1/config``, ``POST /v1/data/<path>``), evaluated
with OPA's own evaluator. Not a real ``opa run --server``: none can be installed here."""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from fleetgate.policy.library import PolicyLibrary


@dataclass
class Behaviour:
    """What the stand-in answers; tests change it to play a misbehaving server."""

    revision: str
    token: str | None = None
    status: int = 200  # answer every data query with this status
    body: Any = None  # answer every data query with this JSON instead of evaluating
    queries: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds each data query takes
    in_flight: int = 0
    peak: int = 0  # the most data queries answered at once
    lock: threading.Lock = field(default_factory=threading.Lock)


class StandInOpa:
    """Serves ``library`` (with the aggregate rule), or exactly the files of an OPA bundle."""

    def __init__(
        self,
        library: PolicyLibrary | None,
        behaviour: Behaviour,
        bundle: dict[str, bytes] | None = None,
        tls: tuple[Path, Path] | None = None,  # certificate and key files: serve https
    ) -> None:
        from fleetgate.policy._aggregate import gate_module, gate_packages, policy_data
        from fleetgate.policy.library import module_of
        from fleetgate.policy.opa_local import _Compiled

        if bundle is not None:
            modules = [module_of(n, raw.decode()) for n, raw in sorted(bundle.items()) if n.endswith(".rego")]
            self.compiled = _Compiled(modules, json.loads(bundle["data.json"]))
        else:
            assert library is not None
            modules = [m for m in library.modules if not m.is_test]
            self.compiled = _Compiled(
                [*modules, gate_module(gate_packages(modules))], policy_data(library.data)
            )
        self.behaviour = behaviour
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> StandInOpa:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(opa: StandInOpa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _allowed(self) -> bool:
            token = opa.behaviour.token
            if token is not None and self.headers.get("Authorization") != f"Bearer {token}":
                self._send(401, {"code": "unauthorized", "message": "missing or invalid token"})
                return False
            return True

        def do_GET(self) -> None:
            if not self._allowed():
                return
            if self.path == "/v1/config":
                self._send(200, {"result": {"labels": {"version": "stand-in"}}})
            else:
                self._send(404, {"code": "not_found"})

        def do_POST(self) -> None:
            if not self._allowed():
                return
            length = int(self.headers.get("Content-Length", "0"))
            request = json.loads(self.rfile.read(length))
            path = self.path.removeprefix("/v1/data/")
            if path == "system/bundles":
                manifest = {"revision": opa.behaviour.revision, "roots": ["fleetgate", "fleetgate_engine"]}
                self._send(200, {"result": {"fleetgate": {"manifest": manifest}}})
                return
            behaviour = opa.behaviour
            with behaviour.lock:
                behaviour.queries.append(path)
                behaviour.in_flight += 1
                behaviour.peak = max(behaviour.peak, behaviour.in_flight)
            try:
                status, body = self._answer(path, request)
            finally:
                # Counted out before the answer leaves: the client may send its next query
                # as soon as it has this one.
                with behaviour.lock:
                    behaviour.in_flight -= 1
            self._send(status, body)

        def _answer(self, path: str, request: Any) -> tuple[int, Any]:
            time.sleep(opa.behaviour.delay)
            if opa.behaviour.status != 200 or opa.behaviour.body is not None:
                return opa.behaviour.status, opa.behaviour.body or {"code": "internal_error"}
            value = opa.compiled.value(path, request.get("input"))
            return 200, {} if value is None else {"result": value}

    return Handler
