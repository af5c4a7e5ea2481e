"""Where a scan's time goes in policy evaluation, and what another engine would change.

The same built-in library and the same policy inputs (the ones ``fleetgate check`` builds for
``run.py``'s generated manifests) go to the embedded engine (regopy) and to OPA's own evaluator
(the Go ``rego`` package through ``opa_bindings``), in one process each, alternating. Printed:

- compile time of the library, per engine;
- per evaluation: setting the input and querying the aggregate rule (embedded), one
  ``eval_document`` call (OPA);
- the embedded engine's cost per package (each package's ``deny`` and ``warn`` asked alone);
- that both engines returned identical findings for every input.

OPA's bindings are what ``fleetgate policy test --engine opa`` uses: put the folder holding
``opa_bindings`` on PYTHONPATH (the tests download them into ~/.cache/fleetgate-tests/opa-bindings).

    .venv/bin/python benchmarks/engines.py --manifests 500
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run

from fleetgate.policy import embedded, opa_local
from fleetgate.policy._aggregate import gate_packages
from fleetgate.policy._rego import compile_modules
from fleetgate.policy.library import builtin_policy_dir, load_library


def policy_inputs(count: int, folder: Path) -> list[dict[str, Any]]:
    """The inputs ``fleetgate check`` gives the engine for ``count`` generated manifests."""
    run.write_manifests(folder, count)
    dump = folder / "inputs.json"
    program = (
        "import json, sys\n"
        "from fleetgate.policy import embedded\n"
        "from fleetgate.cli import main\n"
        "def keep(self, inputs, jobs):\n"
        f"    open({str(dump)!r}, 'w').write(json.dumps(list(inputs)))\n"
        "    return [self.evaluate(i) for i in inputs]\n"
        "embedded.EmbeddedEngine.evaluate_many = keep\n"
        "sys.exit(main(['check', 'models', '--format', 'json', '--output', 'decision.json', '--quiet']))\n"
    )
    subprocess.run([sys.executable, "-c", program], cwd=folder, check=False, capture_output=True, timeout=600)
    loaded: list[dict[str, Any]] = json.loads(dump.read_text(encoding="utf-8"))
    return loaded


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = work()
    return time.perf_counter() - start, value


def per_package(inputs: list[dict[str, Any]]) -> dict[str, float]:
    """Milliseconds per evaluation of each package's deny and warn, asked alone."""
    library = load_library([builtin_policy_dir()])
    modules = [m for m in library.modules if not m.is_test]
    entrypoints = [f"{p.replace('.', '/')}/{s}" for p in gate_packages(modules) for s in ("deny", "warn")]
    compiled = compile_modules(modules, {"fleetgate": {"config": dict(library.data)}}, entrypoints)
    costs: dict[str, float] = {}
    for entrypoint in entrypoints:
        seconds, _ = timed(lambda e=entrypoint: [compiled.query(e, i) for i in inputs])  # type: ignore[misc]
        costs[entrypoint] = seconds / len(inputs) * 1000
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--manifests", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fleetgate-engines-") as name:
        inputs = policy_inputs(args.manifests, Path(name))
    library = load_library([builtin_policy_dir()])
    compile_s = {"embedded": [], "opa": []}  # type: dict[str, list[float]]
    eval_s = {"embedded": [], "opa": []}  # type: dict[str, list[float]]
    answers: dict[str, Any] = {}
    for _ in range(args.repeats):
        for label, build in (("embedded", embedded.EmbeddedEngine), ("opa", opa_local.OpaLocalEngine)):
            seconds, engine = timed(lambda b=build: b(library))  # type: ignore[misc]
            compile_s[label].append(seconds)
            seconds, results = timed(lambda e=engine: [e.evaluate(i) for i in inputs])  # type: ignore[misc]
            eval_s[label].append(seconds / len(inputs))
            answers[label] = results
    same = answers["embedded"] == answers["opa"]
    print(f"{len(inputs)} policy inputs of {args.manifests} manifests, medians of {args.repeats} runs")
    print(f"{'engine':10} {'compile':>10} {'per evaluation':>15}")
    for label in ("embedded", "opa"):
        print(
            f"{label:10} {statistics.median(compile_s[label]) * 1000:8.1f} ms"
            f" {statistics.median(eval_s[label]) * 1000:12.3f} ms"
        )
    ratio = statistics.median(eval_s["embedded"]) / statistics.median(eval_s["opa"])
    print(f"embedded / opa per evaluation: x{ratio:.2f}; identical findings for every input: {same}")
    print("embedded engine, per package (deny and warn asked alone):")
    for entrypoint, ms in sorted(per_package(inputs).items(), key=lambda kv: -kv[1]):
        print(f"  {ms:7.3f} ms  {entrypoint}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
