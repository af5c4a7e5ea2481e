"""allowed_signers parsing and the validity filter that replaces commit-date checks."""

from __future__ import annotations

import datetime as dt

import pytest

from fleetgate.approvals import parse_allowed_signers, signers_file_text
from fleetgate.errors import ConfigError

KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIFakeKeyMaterialForParsingOnly0123456789ab"
NOW = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)


def test_entries_with_options_and_comments_are_read() -> None:
    text = (
        "# the approvers\n\n"
        'alice@example.com,"ops@example.com" namespaces="git,file",valid-after="20200101Z" '
        f"ssh-ed25519 {KEY} a\n"
        f"bob@example.com cert-authority ssh-ed25519 {KEY}\n"
    )
    alice, bob = parse_allowed_signers(text.encode(), "signers")
    assert alice.principals == ("alice@example.com", "ops@example.com") and alice.line == 3
    assert alice.namespaces == ("git", "file") and alice.valid_after == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert bob.cert_authority and bob.namespaces is None


@pytest.mark.parametrize(
    ("options", "valid"),
    [
        ('valid-before="20200101Z"', False),
        ('valid-after="20300101Z"', False),
        ('valid-after="20200101Z",valid-before="20300101120000Z"', True),
        ('namespaces="file"', False),
        ('namespaces="git"', True),
    ],
)
def test_only_entries_valid_now_for_git_are_written(options: str, valid: bool) -> None:
    [entry] = parse_allowed_signers(f"alice@example.com {options} ssh-ed25519 {KEY}\n".encode(), "s")
    text = signers_file_text([entry], NOW)
    assert (text == f"alice@example.com ssh-ed25519 {KEY}\n") is valid
    assert "valid-" not in text and "namespaces" not in text


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("alice@example.com", "expected 'principals"),
        (f"alice@example.com bogus-option ssh-ed25519 {KEY}", "unknown allowed_signers option"),
        ("alice@example.com ssh-ed25519 not*base64", "not base64"),
        (f'alice@example.com valid-before="2020" ssh-ed25519 {KEY}', "is not YYYYMMDD"),
        (f'alice@example.com valid-before="20201340Z" ssh-ed25519 {KEY}', "not a valid date"),
        (f'alice@example.com namespaces="git ssh-ed25519 {KEY}', "quote is never closed"),
        (f"alice@example.com cert-authority x-y-z {KEY}", "expected a key type"),
    ],
)
def test_a_malformed_entry_is_an_error_at_its_line(line: str, said: str) -> None:
    with pytest.raises(ConfigError, match=f"^signers:2: .*{said}"):
        parse_allowed_signers(f"# header\n{line}\n".encode(), "signers")


def test_a_file_that_is_not_text_is_refused() -> None:
    with pytest.raises(ConfigError, match="not UTF-8"):
        parse_allowed_signers(b"\xff\xfe", "signers")
