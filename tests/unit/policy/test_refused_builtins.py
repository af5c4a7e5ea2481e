"""Policies decide from their input and data only: builtins that read the machine are refused."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from fleetgate.errors import PolicyError
from fleetgate.policy import EmbeddedEngine, PolicyLibrary, PolicyModule, _rego, load_library
from fleetgate.policy._rego import REFUSED_BUILTINS, compile_modules

from support import PolicyDir

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"

# One call of each refused builtin (a family is represented by one member of it).
CALLS = {
    "opa.runtime": "opa.runtime()",
    "http.send": 'http.send({"method": "get", "url": "https://example.com"})',
    "net.": 'net.lookup_ip_addr("example.com")',
    "time.now_ns": "time.now_ns()",
    "rand.": 'rand.intn("seed", 10)',
    "uuid.rfc4122": 'uuid.rfc4122("seed")',
    "io.jwt.decode_verify": 'io.jwt.decode_verify("a.b.c", {"secret": "s"})',
    "crypto.x509.parse_and_verify_certificates": 'crypto.x509.parse_and_verify_certificates("x")',
    "print": 'print("debugging")',
}


def module(body: str, path: str = "team/leak.rego") -> PolicyModule:
    return PolicyModule(path, f"package fleetgate.leak\n\nimport rego.v1\n\n{body}\n", "fleetgate.leak")


def test_every_refused_builtin_has_a_test() -> None:
    assert set(CALLS) == set(REFUSED_BUILTINS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_refused_builtin_is_a_located_compile_error(name: str) -> None:
    with pytest.raises(PolicyError) as caught:
        compile_modules([module(f"x := {CALLS[name]}")], {}, ["fleetgate/leak/x"])
    assert caught.value.message.startswith("team/leak.rego:5: ")
    assert REFUSED_BUILTINS[name] in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        'x := net.cidr_contains("10.0.0.0/8", "10.1.1.1")',
        'x := rand . intn("s", 3)',
        'x := {"env": opa.runtime().env}',
        "x := 1 if {\n\ty := time.now_ns()\n\ty > 0\n}",
    ],
)
def test_spelling_variants_are_refused_too(body: str) -> None:
    with pytest.raises(PolicyError, match="may not do"):
        compile_modules([module(body)], {}, ["fleetgate/leak/x"])


def test_names_in_strings_and_comments_are_not_calls() -> None:
    body = '# http.send would reach the network\nx := "opa.runtime() and time.now_ns()"\ny := data.net.x'
    compiled = compile_modules([module(body)], {}, ["fleetgate/leak/x"])
    assert compiled.query("fleetgate/leak/x", {}) == "opa.runtime() and time.now_ns()"


def test_a_policy_directory_with_a_refused_builtin_does_not_load(policy_dir: PolicyDir) -> None:
    leak = module('deny contains {"rule": "leak", "msg": opa.runtime().env.HOME, "field": ""} if true')
    with pytest.raises(PolicyError, match=r"area/leak\.rego:5: opa\.runtime reads the gate's environment"):
        EmbeddedEngine(load_library([policy_dir({"area/leak.rego": leak.source})]))


@pytest.fixture
def secret_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    # What the engine would see if a refused builtin slipped past the check.
    monkeypatch.setattr(_rego, "_refuse_nondeterministic_builtins", lambda modules: None)


@pytest.mark.usefixtures("secret_in_environment")
@pytest.mark.parametrize("swap_pointer", [True, False], ids=["environ-pointer", "os-environ"])
def test_the_engine_never_sees_the_environment(monkeypatch: pytest.MonkeyPatch, swap_pointer: bool) -> None:
    if not swap_pointer:
        monkeypatch.setattr(_rego, "_environ_pointer", lambda: None)
    # The names and the values, joined into the finding's message as a leaking policy would.
    leak = module(
        'env := opa.runtime().env\n\ndeny contains {"rule": "leak", "msg": msg, "field": ""} if {\n'
        '\tmsg := concat(",", [concat("=", [k, env[k]]) | some k in object.keys(env)])\n}'
    )
    gate = EmbeddedEngine(load_library_of([leak]))
    [finding] = gate.evaluate({"manifest": {}}).findings
    assert "AWS_SECRET_ACCESS_KEY" not in finding.message
    assert SECRET not in finding.message
    if swap_pointer:
        assert finding.message == ""
    assert os.environ["AWS_SECRET_ACCESS_KEY"] == SECRET  # restored for the rest of the gate


def load_library_of(modules: list[PolicyModule]) -> PolicyLibrary:
    return PolicyLibrary(tuple(modules), {}, {}, "sha256:test")


def test_the_built_in_library_uses_no_refused_builtin() -> None:
    # compile_modules skips the built-in library on each run; this holds it to the rule instead.
    from fleetgate.policy import builtin_policy_dir, load_library
    from fleetgate.policy._rego import _refuse_nondeterministic_builtins

    library = load_library([builtin_policy_dir()])
    modules = [replace(m, path=m.path.replace("builtin:", "shipped:", 1)) for m in library.modules]
    _refuse_nondeterministic_builtins(modules)  # raises PolicyError naming file:line otherwise
    assert len(modules) > 20
