"""Signed checkpoints: C2SP signed-note and tlog-checkpoint, keys as the Go ``note`` package writes them.

Known-good notes from three independent sources prove interoperability; every other test signs
its own notes with keys generated on the spot.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable

import pytest

from fleetgate.audit.checkpoint import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    CheckpointError,
    VerifiedCheckpoint,
    generate_key,
    open_checkpoint,
    open_note,
    sign_checkpoint,
    sign_note,
    verifier_key_for,
)
from fleetgate.audit.merkle import EMPTY_ROOT
from fleetgate.audit.store.interface import AuditError
from fleetgate.errors import FleetgateError

# c2sp.org/signed-note, section "Verifier keys", "Example": github.com/C2SP/C2SP, signed-note.md at
# commit 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9 (specification text under CC BY 4.0).
C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3"
    "mFXmRKuwHjG1Yu72IneyaQM=\n"
)

# The Go note package's documented example: github.com/golang/mod, sumdb/note/note.go at commit
# 605edab4323bfdf06a0d8ac68b4b18e9e0df249b (BSD-3-Clause, Copyright 2019 The Go Authors).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZ"
    "b6KE6RyyBwJnAM=\n"
)
GO_COSIGNATURE = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33W"
    "Wd1RvMc+QQ=\n"
)

# A checkpoint of the Go checksum database as sum.golang.org served it, and that log's key:
# github.com/transparency-dev/witness, internal/client/sumdb_test.go at commit
# 54dbcdd14f829a301b24b59f7c547c7dceebafa8 (Apache-2.0, Copyright 2020 Google LLC).
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_CHECKPOINT = (
    "go.sum database tree\n"
    "1514086\n"
    "kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA=\n"
    "\n"
    "— sum.golang.org Az3grunuggF5mKymPJeK/l9Pq71lOg/rAVkQVCzGkWRJcnS3ZFunzveHr9PAH8LFsuhpcCWzGD"
    "Nrn9FFDyXm/66tBg8=\n"
)

ORIGIN = "fleetgate.example/decisions"
ROOT = hashlib.sha256(b"some tree").digest()
SIGNER, VERIFIER = generate_key(ORIGIN)
OTHER_SIGNER, OTHER_VERIFIER = generate_key("witness.example/w1")


def good_note(size: int = 42, root: bytes = ROOT) -> str:
    return sign_checkpoint(ORIGIN, size, root, SIGNER)


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def text_and_signature_lines(note: str) -> tuple[str, list[str]]:
    text, _, signatures = note.rpartition("\n\n")
    return text + "\n", signatures.splitlines()


def with_signature_bytes(note: str, edit: Callable[[bytes], bytes]) -> str:
    text, [line] = text_and_signature_lines(note)
    prefix, _, encoded = line.rpartition(" ")
    return f"{text}\n{prefix} {b64(edit(base64.b64decode(encoded)))}\n"


def flip(raw: bytes, position: int) -> bytes:
    changed = bytearray(raw)
    changed[position] ^= 0x01
    return bytes(changed)


# --- Keys ------------------------------------------------------------------------------------


def test_generated_keys_have_the_note_package_format() -> None:
    assert re.fullmatch(r"PRIVATE\+KEY\+fleetgate\.example/decisions\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}", SIGNER)
    name, key_id, encoded = VERIFIER.split("+", 2)
    key = base64.b64decode(encoded)
    assert name == ORIGIN
    assert len(key) == 33 and key[0] == 0x01
    assert key_id == hashlib.sha256(name.encode() + b"\n" + key).digest()[:4].hex()
    assert SIGNER.split("+")[3] == key_id


def test_each_generated_key_is_new() -> None:
    assert generate_key(ORIGIN) != generate_key(ORIGIN)


def test_the_verifier_key_follows_from_the_signer_key() -> None:
    assert verifier_key_for(SIGNER) == VERIFIER
    assert verifier_key_for(GO_SKEY) == GO_VKEY


@pytest.mark.parametrize("name", ["", "has space", "a+b", "tab\there", "new\nline", "nbsp\u00a0name"])
def test_key_names_follow_the_spec(name: str) -> None:
    with pytest.raises(CheckpointError):
        generate_key(name)


def replace_part(key: str, index: int, value: str) -> str:
    """``key`` with its name (0), key ID (1) or key material (2) replaced; signer keys keep their prefix."""
    prefix = "PRIVATE+KEY+" if key.startswith("PRIVATE+KEY+") else ""
    parts = key.removeprefix(prefix).split("+", 2)
    parts[index] = value
    return prefix + "+".join(parts)


VKEY_ID = VERIFIER.split("+")[1]
VKEY_MATERIAL = base64.b64decode(VERIFIER.split("+", 2)[2])
BAD_VERIFIER_KEYS = {
    "empty": "",
    "one part": ORIGIN,
    "two parts": f"{ORIGIN}+{VKEY_ID}",
    "wrong key ID": replace_part(VERIFIER, 1, f"{int(VKEY_ID, 16) ^ 1:08x}"),
    "uppercase key ID": replace_part(GO_VKEY, 1, "C74F20A3"),
    "short key ID": replace_part(VERIFIER, 1, VKEY_ID[:7]),
    "other name": replace_part(VERIFIER, 0, "someone.else/log"),
    "name with space": replace_part(VERIFIER, 0, "a b"),
    "not base64": replace_part(VERIFIER, 2, "!!!!"),
    "truncated base64": VERIFIER[:-1],
    "ECDSA type byte": replace_part(VERIFIER, 2, b64(b"\x02" + VKEY_MATERIAL[1:])),
    "31-byte key": replace_part(VERIFIER, 2, b64(VKEY_MATERIAL[:-1])),
    "a signer key": SIGNER,
    "trailing newline": VERIFIER + "\n",
}


@pytest.mark.parametrize("vkey", BAD_VERIFIER_KEYS.values(), ids=BAD_VERIFIER_KEYS.keys())
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(CheckpointError, match="verifier key"):
        open_checkpoint(good_note(), vkey)


SEED_TEXT = SIGNER.split("+", 4)[4]
BAD_SIGNER_KEYS = {
    "no prefix": SIGNER.removeprefix("PRIVATE+KEY+"),
    "a verifier key": VERIFIER,
    "lowercase prefix": "private+key+" + SIGNER.removeprefix("PRIVATE+KEY+"),
    "wrong key ID": replace_part(SIGNER, 1, f"{int(VKEY_ID, 16) ^ 1:08x}"),
    "other name": replace_part(SIGNER, 0, "someone.else/log"),
    "other seed": replace_part(SIGNER, 2, b64(b"\x01" + bytes(32))),
    "not base64": replace_part(SIGNER, 2, "!!!!"),
    "short seed": replace_part(SIGNER, 2, b64(base64.b64decode(SEED_TEXT)[:-1])),
}


@pytest.mark.parametrize("skey", BAD_SIGNER_KEYS.values(), ids=BAD_SIGNER_KEYS.keys())
def test_malformed_signer_keys_are_refused_without_echoing_them(skey: str) -> None:
    with pytest.raises(CheckpointError, match="signer key") as caught:
        sign_checkpoint(ORIGIN, 1, ROOT, skey)
    assert SEED_TEXT not in caught.value.message


# --- Known-good notes from elsewhere ---------------------------------------------------------


def test_the_c2sp_example_note_verifies() -> None:
    assert open_note(C2SP_NOTE, C2SP_VKEY) == "This is an example message.\n"
    with pytest.raises(CheckpointError, match="malformed checkpoint"):
        open_checkpoint(C2SP_NOTE, C2SP_VKEY)


def test_the_go_note_example_signs_and_verifies_byte_for_byte() -> None:
    # Ed25519 is deterministic, so the same key and text must give the same signature line.
    assert sign_note(GO_TEXT, GO_SKEY) == GO_TEXT + "\n" + GO_SIGNATURE
    assert open_note(GO_TEXT + "\n" + GO_SIGNATURE, GO_VKEY) == GO_TEXT


def test_a_cosignature_by_an_unknown_key_is_ignored() -> None:
    assert open_note(GO_TEXT + "\n" + GO_SIGNATURE + GO_COSIGNATURE, GO_VKEY) == GO_TEXT
    assert open_note(GO_TEXT + "\n" + GO_COSIGNATURE + GO_SIGNATURE, GO_VKEY) == GO_TEXT
    with pytest.raises(CheckpointError, match="not signed by PeterNeumann"):
        open_note(GO_TEXT + "\n" + GO_COSIGNATURE, GO_VKEY)


def test_a_real_sumdb_checkpoint_opens() -> None:
    opened = open_checkpoint(SUMDB_CHECKPOINT, SUMDB_VKEY, origin="go.sum database tree")
    assert opened == VerifiedCheckpoint(
        "go.sum database tree", 1514086, base64.b64decode("kn9DgqDhXzoZMM8828SQsbuovr/WRn7QfFd5Qe1rpwA=")
    )
    with pytest.raises(CheckpointError, match="does not verify"):
        open_checkpoint(SUMDB_CHECKPOINT.replace("1514086", "1514085"), SUMDB_VKEY)
    with pytest.raises(CheckpointError, match="expected"):
        open_checkpoint(SUMDB_CHECKPOINT, SUMDB_VKEY, origin=ORIGIN)


# --- Round trips ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "root"), [(0, EMPTY_ROOT), (1, ROOT), (2**64 - 1, bytes(range(32)))])
def test_round_trip(size: int, root: bytes) -> None:
    note = sign_checkpoint(ORIGIN, size, root, SIGNER)
    assert open_checkpoint(note, VERIFIER) == VerifiedCheckpoint(ORIGIN, size, root)
    assert open_checkpoint(note, VERIFIER, origin=ORIGIN) == (ORIGIN, size, root)


def test_the_note_has_the_exact_c2sp_layout() -> None:
    note = good_note()
    text, [line] = text_and_signature_lines(note)
    assert text == f"{ORIGIN}\n42\n{b64(ROOT)}\n"
    assert note == f"{text}\n{line}\n"
    assert line.startswith(f"\u2014 {ORIGIN} ")
    signature = base64.b64decode(line.split(" ")[2])
    assert len(signature) == 4 + 64
    assert signature[:4].hex() == VKEY_ID


def test_signing_is_deterministic() -> None:
    assert good_note() == good_note()
    assert good_note(43) != good_note()


def test_extension_lines_are_signed_but_not_interpreted() -> None:
    note = sign_note(f"{ORIGIN}\n7\n{b64(ROOT)}\nextension one\nextension two\n", SIGNER)
    assert open_checkpoint(note, VERIFIER) == (ORIGIN, 7, ROOT)


def test_sixteen_signers_each_open_the_same_note() -> None:
    text, [line] = text_and_signature_lines(good_note())
    witnesses = [generate_key(f"w{i}.example") for i in range(15)]
    cosignatures = [text_and_signature_lines(sign_note(text, signer))[1][0] for signer, _ in witnesses]
    note = text + "\n" + "\n".join([*cosignatures[:7], line, *cosignatures[7:]]) + "\n"
    assert open_checkpoint(note, VERIFIER) == (ORIGIN, 42, ROOT)
    for _, witness in witnesses:
        assert open_checkpoint(note, witness) == (ORIGIN, 42, ROOT)


# --- Forged, altered and malformed notes ---------------------------------------------------------


def unknown_signature_lines(count: int) -> str:
    return "".join(f"— w{i}.example {b64(bytes(4 + 64))}\n" for i in range(count))


REJECTED: dict[str, Callable[[str], str]] = {
    "forged signature": lambda n: with_signature_bytes(n, lambda raw: flip(raw, 10)),
    "last signature byte": lambda n: with_signature_bytes(n, lambda raw: flip(raw, len(raw) - 1)),
    "truncated signature": lambda n: with_signature_bytes(n, lambda raw: raw[:-1]),
    "extended signature": lambda n: with_signature_bytes(n, lambda raw: raw + b"\x00"),
    "key ID of another key": lambda n: with_signature_bytes(n, lambda raw: flip(raw, 0)),
    "changed size": lambda n: n.replace("\n42\n", "\n43\n"),
    "changed root": lambda n: n.replace(b64(ROOT), b64(flip(ROOT, 31))),
    "changed origin": lambda n: n.replace(ORIGIN + "\n", "fleetgate.example/other\n", 1),
    "a failing second signature by the trusted key": lambda n: (
        n + with_signature_bytes(n, lambda raw: flip(raw, 20)).rpartition("\n\n")[2]
    ),
    "trailing garbage": lambda n: n + "garbage",
    "trailing garbage line": lambda n: n + "garbage\n",
    "trailing blank line": lambda n: n + "\n",
    "no final newline": lambda n: n[:-1],
    "unknown signature without final newline": lambda n: n + f"— w.example {b64(bytes(69))}Q",
    "leading garbage": lambda n: "x" + n,
    "missing blank line": lambda n: n.replace("\n\n", "\n"),
    "no signatures": lambda n: n.rpartition("\n\n")[0] + "\n\n",
    "hyphen instead of em dash": lambda n: n.replace("\u2014 ", "- "),
    "no space after the dash": lambda n: n.replace("\u2014 ", "\u2014"),
    "signature without key name": lambda n: n.replace(f"\u2014 {ORIGIN} ", "\u2014  "),
    "key name with a plus": lambda n: n + f"— a+b {b64(bytes(68))}\n",
    "unparsable unknown signature": lambda n: n + "— other.example not*base64\n",
    "four-byte unknown signature": lambda n: n + f"— other.example {b64(bytes(4))}\n",
    "CRLF line endings": lambda n: n.replace("\n", "\r\n"),
    "a tab": lambda n: n.replace(ORIGIN, ORIGIN + "\t", 1),
    "a NUL": lambda n: "\x00" + n,
    "a lone surrogate": lambda n: n.replace("\n42\n", "\n4\udc802\n"),
    "huge note": lambda n: "a" * MAX_NOTE_BYTES + n,
    # Fewer characters than the limit, but more bytes: an otherwise valid unknown signature.
    "huge in UTF-8 only": lambda n: n + "— " + "\u2014" * (MAX_NOTE_BYTES // 3) + f" {b64(bytes(68))}\n",
    "too many signatures": lambda n: n + unknown_signature_lines(MAX_SIGNATURES),
    "checkpoint of the other key": lambda n: sign_checkpoint(ORIGIN, 42, ROOT, OTHER_SIGNER),
    "checkpoint of a key with the same name": lambda n: sign_checkpoint(
        ORIGIN, 42, ROOT, generate_key(ORIGIN)[0]
    ),
}


@pytest.mark.parametrize("tamper", REJECTED.values(), ids=REJECTED.keys())
def test_altered_notes_are_rejected(tamper: Callable[[str], str]) -> None:
    note = good_note()
    assert open_checkpoint(note, VERIFIER) == (ORIGIN, 42, ROOT)
    with pytest.raises(CheckpointError):
        open_checkpoint(tamper(note), VERIFIER)


def test_unknown_signatures_up_to_the_limit_are_ignored() -> None:
    note = good_note() + unknown_signature_lines(MAX_SIGNATURES - 1)
    assert open_checkpoint(note, VERIFIER) == (ORIGIN, 42, ROOT)


def test_a_huge_note_is_refused_before_parsing() -> None:
    with pytest.raises(CheckpointError, match="larger than"):
        open_note("\n" * (MAX_NOTE_BYTES + 1), VERIFIER)


def test_only_text_is_a_note() -> None:
    with pytest.raises(CheckpointError, match="must be text"):
        open_checkpoint(good_note().encode(), VERIFIER)  # type: ignore[arg-type]


BAD_BODIES = {
    "two lines": "{o}\n42\n",
    "empty origin": "\n42\n{r}\n",
    "leading zero": "{o}\n042\n{r}\n",
    "negative size": "{o}\n-1\n{r}\n",
    "plus sign": "{o}\n+5\n{r}\n",
    "underscore": "{o}\n1_000\n{r}\n",
    "spaces around size": "{o}\n 5\n{r}\n",
    "non-ASCII digit": "{o}\n\u0663\n{r}\n",
    "size 2**64": "{o}\n18446744073709551616\n{r}\n",
    "long size": "{o}\n" + "9" * 4000 + "\n{r}\n",
    "31-byte root": "{o}\n42\n" + b64(ROOT[:31]) + "\n",
    "33-byte root": "{o}\n42\n" + b64(ROOT + b"\x00") + "\n",
    "unpadded root": "{o}\n42\n{r_unpadded}\n",
    "non-canonical root": "{o}\n42\n{r_noncanonical}\n",
    "URL-safe root": "{o}\n42\n{r_urlsafe}\n",
    "hex root": "{o}\n42\n" + ROOT.hex() + "\n",
    "empty extension line": "{o}\n42\n{r}\n\next\n",
}
URL_SAFE_ROOT = bytes([0xFB]) * 32  # encodes with '+' and '/' in standard base64


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_malformed_checkpoint_bodies_are_refused_even_when_signed(body: str) -> None:
    root = URL_SAFE_ROOT if "{r_urlsafe}" in body else ROOT
    canonical = b64(root)
    text = body.format(
        o=ORIGIN,
        r=canonical,
        r_unpadded=canonical.rstrip("="),
        r_noncanonical=canonical[:-2] + chr(ord(canonical[-2]) + 1) + "=",
        r_urlsafe=base64.urlsafe_b64encode(root).decode(),
    )
    note = sign_note(text, SIGNER)
    assert open_note(note, VERIFIER) == text
    with pytest.raises(CheckpointError, match="malformed checkpoint"):
        open_checkpoint(note, VERIFIER)


def test_a_checkpoint_for_another_log_is_refused() -> None:
    with pytest.raises(CheckpointError, match="expected 'fleetgate.example/other'"):
        open_checkpoint(good_note(), VERIFIER, origin="fleetgate.example/other")


# --- Signing refuses what it could not publish -------------------------------------------------------


@pytest.mark.parametrize(
    ("origin", "size", "root"),
    [
        ("", 1, ROOT),
        ("with space", 1, ROOT),
        ("a+b", 1, ROOT),
        ("two\nlines", 1, ROOT),
        (ORIGIN, -1, ROOT),
        (ORIGIN, 2**64, ROOT),
        (ORIGIN, True, ROOT),
        (ORIGIN, 1.0, ROOT),
        (ORIGIN, 1, ROOT[:31]),
        (ORIGIN, 1, b64(ROOT)),
    ],
)
def test_sign_checkpoint_refuses_what_no_verifier_would_accept(origin: str, size: int, root: bytes) -> None:
    with pytest.raises(CheckpointError):
        sign_checkpoint(origin, size, root, SIGNER)


@pytest.mark.parametrize("text", ["no final newline", "tab\there\n", "carriage\r\n", "\ud800\n"])
def test_sign_note_refuses_texts_that_would_not_open(text: str) -> None:
    with pytest.raises(CheckpointError):
        sign_note(text, SIGNER)


def test_checkpoint_errors_are_audit_errors_with_one_line_messages() -> None:
    with pytest.raises(CheckpointError) as caught:
        open_checkpoint(good_note().replace("\n42\n", "\n43\n"), VERIFIER)
    assert isinstance(caught.value, AuditError)
    assert isinstance(caught.value, FleetgateError)
    assert "\n" not in caught.value.diagnostics()
    assert "does not verify" in caught.value.diagnostics()
