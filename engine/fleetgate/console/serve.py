"""``fleetgate audit serve``: where the console listens and who may read it.

It listens on loopback unless told otherwise; on any other address it refuses to start
without a token file, and then every request must carry the token.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from fleetgate.audit.store.interface import AuditError
from fleetgate.console.app import ConsoleConfig

__all__ = ["check_bind", "is_loopback", "read_token", "serve"]

_MIN_TOKEN = 16


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve anywhere


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise AuditError(f"{path}: cannot read the token file: {exc.strerror}") from None
    if len(token) < _MIN_TOKEN or any(c.isspace() for c in token):
        raise AuditError(f"{path}: the token must be one word of at least {_MIN_TOKEN} characters")
    return token


def check_bind(host: str, token_file: Path | None) -> str | None:
    """The token to require, or None on loopback without one; raises when the bind is unsafe."""
    if token_file is not None:
        return read_token(token_file)
    if not is_loopback(host):
        raise AuditError(
            f"refusing to serve the decision log on {host} without --token-file: only loopback "
            "addresses may go without a token"
        )
    return None


def serve(config: ConsoleConfig, host: str, port: int) -> None:
    """Open the log read-only and serve the console until interrupted."""
    import uvicorn

    from fleetgate.audit.store.readonly import open_readonly_log
    from fleetgate.console.app import create_app

    log = open_readonly_log(config.log_url)
    try:
        app = create_app(config, log)
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
    finally:
        log.close()
