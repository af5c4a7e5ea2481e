"""Why fleetgate does not cache compiled policies: regopy's binary bundle round trip changes answers.

A library compiled in process and the same bundle saved in rego-cpp's binary format and loaded
back should answer every query alike. They do not: a string from ``data`` formatted by
``sprintf`` after a literal prefix comes back with its quotes (``spec."version"``), while the
JSON bundle format round-trips correctly but loads slower than compiling. Loading the binary
bundle of the built-in library takes about 2 ms against about 50 ms to compile it, which is what
a compiled-policy cache would save per commit hook once this is fixed upstream.

    .venv/bin/python benchmarks/regopy_bundle_roundtrip.py   # exits 1 while the engine differs
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from regopy import BundleFormat, Interpreter
from regopy import rego_shared as c

MODULE = """package t
import rego.v1
prefixed := sprintf("spec.%v", [data.cfg.keys[0]])
alone := [sprintf("%v", [k]) | some k in data.cfg.keys]
"""
ENTRYPOINTS = ["t/prefixed", "t/alone"]


def answer(interpreter: Interpreter, bundle: object, entrypoint: str) -> str:
    interpreter.set_input_term("{}")
    output = c.rego_bundle_query_entrypoint(interpreter._impl, bundle._impl, entrypoint)  # type: ignore[attr-defined]
    try:
        return str(c.rego_output_string(output))
    finally:
        c.rego_free_output(output)


def main() -> int:
    compiled = Interpreter()
    compiled.add_data_json(json.dumps({"cfg": {"keys": ["version"]}}))
    compiled.add_module("t.rego", MODULE)
    bundle = compiled.build(None, ENTRYPOINTS)
    differ = 0
    with tempfile.TemporaryDirectory() as folder:
        path = str(Path(folder) / "bundle.rbb")
        compiled.save_bundle(path, bundle, BundleFormat.Binary)
        loaded = Interpreter()
        reloaded = loaded.load_bundle(path, BundleFormat.Binary)
        for entrypoint in ENTRYPOINTS:
            before, after = answer(compiled, bundle, entrypoint), answer(loaded, reloaded, entrypoint)
            differ += before != after
            verdict = "same" if before == after else "DIFFERENT"
            print(f"{entrypoint:12} compiled {before}  loaded {after}  {verdict}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
