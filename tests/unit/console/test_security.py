"""Who may read the console, and what every response carries."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("starlette")
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from fleetgate.audit.store import AuditError
from fleetgate.console.security import HEADERS, SecurityMiddleware
from fleetgate.console.serve import check_bind, is_loopback


async def _hello(request: object) -> PlainTextResponse:
    return PlainTextResponse("hello", headers={"content-security-policy": "default-src *"})


def client(token: str | None) -> TestClient:
    app = Starlette(routes=[Route("/", _hello, methods=["GET", "POST"])])
    return TestClient(SecurityMiddleware(app, token), base_url="http://127.0.0.1:8080")


def test_every_response_carries_the_security_headers_and_overrides_looser_ones() -> None:
    response = client(None).get("/")
    assert response.status_code == 200
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    assert response.headers.get_list("content-security-policy") == [HEADERS["content-security-policy"]]


def test_only_reads_are_served() -> None:
    response = client(None).post("/")  # the route itself would accept it
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong-token-0123456789",
        "bearer correct-token-0123456",
        "correct-token-0123456",
    ],
)
def test_a_token_is_required_exactly(authorization: str | None) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client("correct-token-0123456").get("/", headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    assert response.text == "a bearer token is required\n"


def test_the_right_token_passes() -> None:
    ok = client("correct-token-0123456").get("/", headers={"Authorization": "Bearer correct-token-0123456"})
    assert ok.status_code == 200 and ok.text == "hello"


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("127.0.0.1:8080", 200),
        ("localhost", 200),
        ("[::1]:8080", 200),
        ("LOCALHOST:1", 200),
        ("evil.example", 421),
        ("evil.example:8080", 421),
        ("127.0.0.1.evil.example", 421),
        ("", 421),
    ],
)
def test_without_a_token_only_loopback_names_are_answered(host: str, status: int) -> None:
    """A page that rebinds its own name to 127.0.0.1 still sends its own name as the Host."""
    response = client(None).get("/", headers={"host": host})
    assert response.status_code == status
    assert response.headers["content-security-policy"] == HEADERS["content-security-policy"]


def test_with_a_token_any_host_name_is_answered() -> None:
    headers = {"host": "console.example", "Authorization": "Bearer correct-token-0123456"}
    assert client("correct-token-0123456").get("/", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_binding_off_loopback_needs_a_good_token_file(tmp_path: Path) -> None:
    assert check_bind("127.0.0.1", None) is None
    with pytest.raises(AuditError, match="without --token-file"):
        check_bind("0.0.0.0", None)
    token = tmp_path / "token"
    token.write_text("  a-long-enough-token-1234\n")
    assert check_bind("0.0.0.0", token) == "a-long-enough-token-1234"
    token.write_text("two words that are long")
    with pytest.raises(AuditError, match="one word"):
        check_bind("0.0.0.0", token)
    with pytest.raises(AuditError, match="cannot read the token file"):
        check_bind("127.0.0.1", tmp_path / "missing")
