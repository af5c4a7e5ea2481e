"""The decision log end to end: checks append, auditors query, verify and prove."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleetgate.audit.store import open_log
from support_audit import fresh_schema, postgres_server, rebuild_history

from support import GitRepo, manifest, to_yaml


@pytest.fixture
def logged(repo: GitRepo, tmp_path: Path) -> tuple[GitRepo, str, Path]:
    """A repository whose fleetgate.yaml names a log and a checkpoint key, with two checks recorded."""
    db = tmp_path / "audit.db"
    key = tmp_path / "checkpoint.key"
    keygen = repo.fleetgate(
        "audit", "--log", f"sqlite:///{db}", "keygen", "example.com/log", "--out", str(key)
    )
    assert keygen.returncode == 0, keygen.stderr
    verifier = keygen.stdout.strip()
    repo.write(
        "fleetgate.yaml",
        f"audit:\n  log: sqlite:///{db}\n  origin: example.com/log\n  signingKey: {key}\n"
        f"  verifierKey: {verifier}\n",
    )
    repo.commit("gate configuration")
    repo.write("models/a.yaml", to_yaml(manifest("a", modelId="img-a")))
    repo.write(
        "models/b.yaml", to_yaml(manifest("b", modelId="img-b", updateStrategy={"rolloutPercentage": 7}))
    )
    code, _ = repo.decision(".")
    assert code == 1
    code, _ = repo.decision("models/a.yaml", "--stage", "pre-deploy")
    assert code == 1
    return repo, verifier, db


def query(repo: GitRepo, *filters: str) -> list[dict[str, object]]:
    done = repo.fleetgate("audit", "query", "--format", "json", *filters)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_checks_are_recorded_and_queryable(logged: tuple[GitRepo, str, Path]) -> None:
    repo, _, _ = logged
    everything = query(repo)
    assert len(everything) == 3
    assert [r["seq"] for r in everything] == [2, 1, 0]  # newest first
    assert [(r["name"], r["decision"]) for r in query(repo, "--model-id", "img-b")] == [("b", "deny")]
    assert [r["stage"] for r in query(repo, "--model-id", "img-a")] == ["pre-deploy", "pre-merge"]
    assert [r["name"] for r in query(repo, "--rule", "rollout.ladder")] == ["b"]
    assert query(repo, "--decision", "admit", "--stage", "pre-merge")[0]["name"] == "a"
    record = everything[0]
    shown = repo.fleetgate("audit", "show", str(record["decision_id"]), "--format", "json")
    assert json.loads(shown.stdout) == record
    exported = repo.fleetgate("audit", "export", "--from", "1").stdout.splitlines()
    assert [json.loads(line)["seq"] for line in exported] == [1, 2]


def test_query_shows_record_ids_and_keeps_denied_warned_and_waived_apart(
    logged: tuple[GitRepo, str, Path],
) -> None:
    repo, _, _ = logged
    # At pre-merge missing evidence only warns; b is denied by rollout.ladder, not by it.
    assert [r["name"] for r in query(repo, "--rule", "evidence.missing", "--decision", "deny")] == ["a", "b"]
    assert [(r["name"], r["stage"]) for r in query(repo, "--denied-by", "evidence.missing")] == [
        ("a", "pre-deploy")
    ]
    assert [r["seq"] for r in query(repo, "--warned-by", "evidence.missing")] == [1, 0]
    assert [r["name"] for r in query(repo, "--denied-by", "rollout.ladder")] == ["b"]
    assert query(repo, "--warned-by", "rollout.ladder") == []
    csv = repo.fleetgate("audit", "query", "--format", "csv").stdout.splitlines()
    assert (
        csv[0]
        == "seq,decision_id,timestamp,decision,stage,namespace,name,model_id,version,denied,warned,waived"
    )
    [newest] = query(repo, "--limit", "1")
    assert csv[1].startswith(f"2,{newest['decision_id']},") and ',evidence.missing.signature",,' in csv[1]
    table = repo.fleetgate("audit", "query").stdout.splitlines()
    assert table[0].split()[:2] == ["seq", "decision_id"] and table[1].split()[:2] == [
        "2",
        newest["decision_id"],
    ]


def test_dates_without_a_time_are_midnight_utc(logged: tuple[GitRepo, str, Path]) -> None:
    repo, _, _ = logged
    assert len(query(repo, "--since", "2000-01-01")) == 3
    assert query(repo, "--until", "2000-01-02") == []
    bad = repo.fleetgate("audit", "query", "--since", "2000-13-01")
    assert bad.returncode == 2 and "not an RFC 3339 time or a date" in bad.stderr


def test_show_and_prove_take_a_sequence_number_a_record_id_or_a_check_run_id(
    logged: tuple[GitRepo, str, Path],
) -> None:
    repo, _, _ = logged
    code, decision = repo.decision(".")  # a new check run with two records
    assert code == 1
    run = repo.fleetgate("audit", "show", str(decision["decision_id"]))
    assert run.returncode == 0, run.stderr
    assert [line.split()[1] for line in run.stdout.splitlines() if line.startswith("deployment")] == [
        "production/a",
        "production/b",
    ]
    [b] = query(repo, "--limit", "1")
    by_seq = repo.fleetgate("audit", "show", "4")
    assert by_seq.stdout == repo.fleetgate("audit", "show", str(b["decision_id"])).stdout
    lines = by_seq.stdout.splitlines()
    assert lines[0] == f"record      {b['decision_id']} (sequence number 4)"
    assert f"check run   {decision['decision_id']}" in lines
    assert "decision    deny at pre-merge" in lines
    assert any(line.startswith("denied      rollout.ladder  models/b.yaml:") for line in lines)
    assert any(line.startswith("warned      evidence.missing") for line in lines)
    assert repo.fleetgate("audit", "checkpoint").returncode == 0
    proof = repo.fleetgate("audit", "prove", "4")
    assert proof.returncode == 0 and json.loads(proof.stdout)["decision_id"] == b["decision_id"]
    several = repo.fleetgate("audit", "prove", str(decision["decision_id"]))
    assert (
        several.returncode == 2 and "has 2 records; prove one of them: 3 (production/a), 4" in several.stderr
    )
    missing = repo.fleetgate("audit", "show", "99")
    assert missing.returncode == 2 and "no record with sequence number 99" in missing.stderr


def test_keygen_labels_the_keys_and_writes_the_verifier_key_beside_the_signer(
    repo: GitRepo, tmp_path: Path
) -> None:
    key = tmp_path / "log.key"
    done = repo.fleetgate(
        "audit", "--log", f"sqlite:///{tmp_path / 'a.db'}", "keygen", "example.com/log", "--out", str(key)
    )
    assert done.returncode == 0, done.stderr
    assert Path(f"{key}.pub").read_text() == done.stdout
    assert done.stdout.startswith("example.com/log+") and key.read_text().startswith("PRIVATE+KEY+")
    assert f"signer key (private: keep it outside the repository) to {key}" in done.stderr
    assert f"verifier key (public: give it to auditors and deploy steps) to {key}.pub" in done.stderr


def test_override_is_recorded_as_a_new_event(logged: tuple[GitRepo, str, Path]) -> None:
    repo, _, _ = logged
    [denied] = query(repo, "--model-id", "img-b")
    done = repo.fleetgate(
        "audit",
        "override",
        str(denied["decision_id"]),
        "--by",
        "jane",
        "--reason",
        "hotfix",
        "--ticket",
        "OPS-9",
    )
    assert done.returncode == 0, done.stderr
    [override] = query(repo, "--decision", "override")
    assert (override["overrides"], override["by"], override["ticket"]) == (
        denied["decision_id"],
        "jane",
        "OPS-9",
    )
    shown = repo.fleetgate("audit", "show", str(override["decision_id"])).stdout.splitlines()
    assert f"override    of {denied['decision_id']} by jane" in shown
    assert "            why: hotfix  ticket: OPS-9" in shown


def test_checkpoint_verify_and_prove(logged: tuple[GitRepo, str, Path], tmp_path: Path) -> None:
    repo, verifier, _ = logged
    note = repo.fleetgate("audit", "checkpoint")
    assert note.returncode == 0, note.stderr
    assert note.stdout.startswith("example.com/log\n3\n")
    verified = repo.fleetgate("audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "3 records, 1 checkpoints: ok" in verified.stdout
    assert (
        f"records 0..2 match checkpoint 3, signed by key {'+'.join(verifier.split('+')[:2])}"
        in verified.stdout
    )
    [record] = query(repo, "--model-id", "img-b")
    proof = repo.fleetgate("audit", "prove", str(record["decision_id"]))
    assert proof.returncode == 0, proof.stderr
    bundle = tmp_path / "proof.json"
    bundle.write_text(proof.stdout)
    ok = repo.fleetgate("audit", "verify-proof", str(bundle), "--key", verifier)
    assert ok.returncode == 0 and "proof verified" in ok.stdout
    forged = json.loads(proof.stdout)
    forged["record"] = forged["record"].replace('"deny"', '"admit"')
    bundle.write_text(json.dumps(forged))
    assert repo.fleetgate("audit", "verify-proof", str(bundle), "--key", verifier).returncode == 1


def test_verify_says_exactly_what_it_covered(logged: tuple[GitRepo, str, Path]) -> None:
    repo, verifier, db = logged
    bare = db.parent / "no-key.yaml"  # a configuration that names no verifier key
    bare.write_text(f"audit:\n  log: sqlite:///{db}\n")
    unsigned = repo.fleetgate("audit", "--config", str(bare), "verify")
    assert unsigned.returncode == 1, unsigned.stdout + unsigned.stderr
    assert "3 records, 0 checkpoints: UNVERIFIED: no checkpoint signature was checked" in unsigned.stdout
    assert "records 0..2 are not covered by any verified checkpoint" in unsigned.stdout
    allowed = repo.fleetgate("audit", "--config", str(bare), "verify", "--allow-unsigned")
    assert allowed.returncode == 0 and "UNVERIFIED" in allowed.stdout
    assert repo.fleetgate("audit", "checkpoint").returncode == 0
    assert repo.decision(".")[0] == 1  # one more record, not yet in a checkpoint
    done = repo.fleetgate("audit", "verify")
    assert done.returncode == 0, done.stdout
    key_id = "+".join(verifier.split("+")[:2])
    assert done.stdout.splitlines()[:2] == [
        f"records 0..2 match checkpoint 3, signed by key {key_id}",
        "records 3..4 are not covered by any verified checkpoint",
    ]


def test_verify_proof_echoes_the_record_and_needs_a_key_from_the_auditor(
    logged: tuple[GitRepo, str, Path], tmp_path: Path
) -> None:
    repo, verifier, _ = logged
    assert repo.fleetgate("audit", "checkpoint").returncode == 0
    [record] = query(repo, "--model-id", "img-b")
    bundle = tmp_path / "proof.json"
    bundle.write_text(repo.fleetgate("audit", "prove", str(record["decision_id"])).stdout)
    refused = repo.fleetgate("audit", "verify-proof", str(bundle))  # fleetgate.yaml names a key
    assert refused.returncode == 2 and "--key KEY or FLEETGATE_VERIFIER_KEY" in refused.stderr
    done = repo.fleetgate("audit", "verify-proof", str(bundle), "--key", verifier)
    assert done.returncode == 0, done.stderr
    key_id = "+".join(verifier.split("+")[:2])
    assert done.stdout.splitlines()[1:] == [
        f"  record      {record['decision_id']}: production/b deny at pre-merge, {record['timestamp']}",
        f"  position    sequence number {record['seq']} of a tree of 3 records",
        f"  log         example.com/log, checkpoint signed by key {key_id}",
    ]


def test_a_flipped_byte_is_found_at_its_sequence_number(logged: tuple[GitRepo, str, Path]) -> None:
    repo, _, db = logged
    assert repo.fleetgate("audit", "checkpoint").returncode == 0
    with sqlite3.connect(db) as connection:
        body = connection.execute("SELECT body FROM records WHERE seq = 1").fetchone()[0]
        connection.execute("UPDATE records SET body = ? WHERE seq = 1", (body.replace(b"pre-", b"pra-"),))
    done = repo.fleetgate("audit", "verify")
    assert done.returncode == 1
    assert "first bad sequence number: 1" in done.stdout


def test_a_flipped_decision_column_fails_verify_naming_seq_and_column(
    logged: tuple[GitRepo, str, Path],
) -> None:
    repo, _, db = logged
    assert repo.fleetgate("audit", "checkpoint").returncode == 0
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE records SET decision = 'admit' WHERE seq = 1")
    done = repo.fleetgate("audit", "verify")
    assert done.returncode == 1, done.stdout
    assert "seq 1: record 1: stored columns differ from the hashed record: decision is 'admit'" in done.stdout


def test_a_check_recording_into_a_log_without_a_signing_key_warns_once(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a"), manifest("b")))
    done = repo.fleetgate("check", "models", "--audit-log", f"sqlite:///{tmp_path / 'audit.db'}")
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("fleetgate: warning:")]
    assert len(warnings) == 1 and "tamper-evident only against accidents" in warnings[0]
    assert "fleetgate: warning:" not in repo.fleetgate("check", "models", "--no-audit").stderr


def test_a_check_recording_into_a_log_with_a_signing_key_does_not_warn(
    logged: tuple[GitRepo, str, Path],
) -> None:
    repo, _, _ = logged
    done = repo.fleetgate("check", "models/a.yaml")
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr


def test_a_check_that_cannot_record_its_decision_fails_closed(repo: GitRepo, tmp_path: Path) -> None:
    repo.write("models/a.yaml", to_yaml(manifest("a")))
    done = repo.fleetgate("check", "models", "--audit-log", "mysql://nowhere/log")
    assert done.returncode == 2 and done.stdout == ""
    blocked = tmp_path / "not-a-dir"
    blocked.write_text("a file where a folder should be")
    done = repo.fleetgate("check", "models", "--audit-log", f"sqlite:///{blocked}/audit.db")
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
    assert repo.fleetgate("check", "models", "--no-audit").returncode == 0


@pytest.fixture(params=["sqlite", "postgresql"])
def witnessed(
    request: pytest.FixtureRequest, repo: GitRepo, tmp_path: Path
) -> Iterator[tuple[GitRepo, str, Path]]:
    """A repository recording into a log on each backend, with a signing key and one check recorded."""
    if request.param == "sqlite":
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'audit.db'}"])
    else:
        urls = fresh_schema(postgres_server())
    url = next(urls)
    key = tmp_path / "checkpoint.key"
    verifier = repo.fleetgate("audit", "--log", url, "keygen", "example.com/log", "--out", str(key))
    assert verifier.returncode == 0, verifier.stderr
    repo.write(
        "fleetgate.yaml",
        f"audit:\n  log: {url}\n  origin: example.com/log\n  signingKey: {key}\n"
        f"  verifierKey: {verifier.stdout.strip()}\n",
    )
    repo.write("models/a.yaml", to_yaml(manifest("a", modelId="img-a")))
    repo.commit("a model")
    assert repo.decision(".")[0] == 0
    yield repo, url, key
    for _ in urls:  # drops the PostgreSQL schema
        pass


def test_a_history_rebuilt_and_resigned_with_the_real_key_fails_only_the_witness(
    witnessed: tuple[GitRepo, str, Path],
) -> None:
    repo, url, key = witnessed
    published = repo.fleetgate("audit", "checkpoint", "--publish", "git")
    assert published.returncode == 0, published.stderr
    assert "published to refs/fleetgate/checkpoints:" in published.stderr
    assert repo.decision(".", "--stage", "pre-deploy")[0] == 1  # pre-deploy: evidence is missing
    assert repo.fleetgate("audit", "checkpoint", "--publish", "git").returncode == 0
    assert repo.git("rev-list", "--count", "refs/fleetgate/checkpoints") == "2"  # one commit each

    log = open_log(url)
    rebuild_history(log, 1, {"decision": "admit"}, "example.com/log", key.read_text().strip())
    log.close()
    assert repo.decision(".")[0] == 0  # the log grows on: tree size 3

    assert repo.fleetgate("audit", "verify").returncode == 0  # the database agrees with itself
    done = repo.fleetgate("audit", "verify", "--witness", "git")
    assert done.returncode == 1, done.stdout
    assert (
        f"witnessed checkpoint refs/fleetgate/checkpoints:{2:020d}.checkpoint (tree size 2) "
        "is not consistent with the log (tree size 3)" in done.stdout
    )
    assert "TAMPERED" in done.stdout
    kept = Path(f"{key}.checkpoint")
    assert repo.fleetgate("audit", "verify", "--checkpoint", str(kept)).returncode == 1
    refused = repo.fleetgate("audit", "checkpoint")  # the file beside the key still says size 2
    assert refused.returncode == 2 and "refusing to sign a checkpoint" in refused.stderr
    assert kept.read_text().split("\n")[1] == "2"


def test_a_witness_that_does_not_exist_is_an_error(
    witnessed: tuple[GitRepo, str, Path], tmp_path: Path
) -> None:
    repo, _, _ = witnessed
    assert repo.fleetgate("audit", "checkpoint", "--publish", str(tmp_path / "kept")).returncode == 0
    kept = repo.fleetgate("audit", "verify", "--witness", str(tmp_path / "kept"))
    assert kept.returncode == 0, kept.stdout
    assert "the log extends every witnessed checkpoint (tree sizes 1)" in kept.stdout
    for witness in ("refs/fleetgate/nothing", str(tmp_path / "nowhere")):
        done = repo.fleetgate("audit", "verify", "--witness", witness)
        assert done.returncode == 2 and done.stdout == "", done.stdout
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_filter_that_matches_nothing_suggests_near_matches(logged: tuple[GitRepo, str, Path]) -> None:
    repo, _, _ = logged
    done = repo.fleetgate("audit", "query", "--namespace", "prodution", "--rule", "rollout.ladr")
    assert done.returncode == 0
    assert "no record has namespace 'prodution'; did you mean 'production'?" in done.stderr
    assert "no record has rule 'rollout.ladr'; did you mean 'rollout.ladder'" in done.stderr
    found = repo.fleetgate("audit", "query", "--namespace", "production")
    assert "did you mean" not in found.stderr
