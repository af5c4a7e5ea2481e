"""``policies.engine: opa``: ask an OPA server's Data API, through ``opa-python-client``.

The server must run the very library the check loaded: before the first query the engine reads
the bundle revisions the server holds (``data.system.bundles``) and refuses to decide unless one
of them is the library's revision (``fleetgate policy bundle build`` writes it into the bundle).
The token comes from ``FLEETGATE_OPA_TOKEN``; ``FLEETGATE_OPA_CA_BUNDLE`` names the CA
certificates an ``https`` server is verified with (then proxy variables are not used). Any
transport error, HTTP error, timeout or answer of the wrong shape is a :class:`PolicyError`:
no decision.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from fleetgate.errors import PolicyError
from fleetgate.policy._aggregate import ENTRYPOINT, findings_of
from fleetgate.policy.interface import EngineInfo, PolicyResult
from fleetgate.policy.library import PolicyLibrary

__all__ = ["OpaServerEngine"]

TOKEN_ENV = "FLEETGATE_OPA_TOKEN"
CA_ENV = "FLEETGATE_OPA_CA_BUNDLE"
_TIMEOUT = 5.0
_CONCURRENCY = 8


class OpaServerEngine:
    """The aggregate rule evaluated by a remote OPA server, with bounded concurrent requests."""

    def __init__(self, library: PolicyLibrary, settings: Mapping[str, Any]) -> None:
        from opa_client import OpaClient

        url = settings.get("url")
        if not isinstance(url, str):
            raise PolicyError("policies.engine is opa but policies.opa.url is not set")
        parts = urlsplit(url)
        if parts.path not in ("", "/") or parts.hostname is None:
            raise PolicyError(f"policies.opa.url {url}: give only scheme, host and port")
        https = parts.scheme == "https"
        self._path = str(settings.get("path", ENTRYPOINT)).strip("/")
        self._concurrency = int(settings.get("concurrency", _CONCURRENCY))
        self._url = f"{parts.scheme}://{parts.netloc}/v1/data/{self._path}"
        ca_file = os.environ.get(CA_ENV) or None
        self._client = OpaClient(
            host=parts.hostname,
            port=parts.port or (443 if https else 80),
            ssl=(ca_file or True) if https else False,
            token=os.environ.get(TOKEN_ENV) or None,
            retries=0,
            timeout=float(settings.get("timeoutSeconds", _TIMEOUT)),
        )
        if ca_file is not None:
            # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE replace a session's CA file
            # whenever it trusts the environment: the named CA file must win.
            self._client._session.trust_env = False
        # A bundle's own revision is what a server serving it reports.
        expected = library.bundle.revision if library.bundle is not None else library.revision
        self._version = self._check_revision(expected, f"{parts.scheme}://{parts.netloc}")

    @property
    def info(self) -> EngineInfo:
        return EngineInfo("opa", self._version)

    def evaluate(self, policy_input: dict[str, Any]) -> PolicyResult:
        answer = self._ask(self._url, lambda: self._client.query_rule(policy_input, self._path))
        if not isinstance(answer, dict) or "result" not in answer:
            raise PolicyError(f"OPA server {self._url}: the answer has no result (is the path right?)")
        try:
            return PolicyResult(findings_of(answer["result"]))
        except PolicyError as exc:
            raise PolicyError(f"OPA server {self._url}: {exc.message}") from None

    def evaluate_many(self, inputs: Sequence[dict[str, Any]], jobs: int) -> list[PolicyResult]:
        """At most ``policies.opa.concurrency`` requests in flight, whatever ``jobs`` is."""
        if len(inputs) <= 1:
            return [self.evaluate(i) for i in inputs]
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(self._concurrency, len(inputs))) as pool:
            return list(pool.map(self.evaluate, inputs))

    def _check_revision(self, expected: str, server: str) -> str:
        """The server's OPA version, once one of its bundles is the library's revision."""
        url = f"{server}/v1/data/system/bundles"
        # A Data API query (POST), not get_data: its errors keep the HTTP status.
        answer = self._ask(url, lambda: self._client.query_rule({}, "system/bundles"))
        bundles = answer.get("result") if isinstance(answer, dict) else None
        revisions = sorted(
            str(b["manifest"]["revision"])
            for b in (bundles.values() if isinstance(bundles, dict) else ())
            if isinstance(b, dict) and isinstance(b.get("manifest"), dict) and "revision" in b["manifest"]
        )
        if expected not in revisions:
            found = ", ".join(revisions) or "no bundle"
            raise PolicyError(
                f"OPA server {server} runs policy revision {found}, not the expected {expected}: "
                "refusing to decide with other policies"
            )
        return self._server_version()

    def _server_version(self) -> str:
        try:
            config = self._client.get_config()
        except Exception:  # the config API may be closed to this token: the version is optional
            return "server"
        labels = config.get("result", {}).get("labels", {}) if isinstance(config, dict) else {}
        return str(labels.get("version", "server")) if isinstance(labels, dict) else "server"

    def _ask(self, url: str, call: Any) -> Any:
        import requests

        try:
            return call()
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else "?"
            raise PolicyError(f"OPA server {url}: HTTP {status}") from None
        except requests.RequestException as exc:
            raise PolicyError(f"OPA server {url}: {type(exc).__name__}: {str(exc)[:200]}") from None
        except ValueError:
            raise PolicyError(f"OPA server {url}: the answer is not JSON") from None
