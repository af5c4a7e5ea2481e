"""How fast are the auditor console's pages over a large decision log?

A SQLite log of ``--records`` records (default 1,000,000: the decision log benchmark's year of
decisions, real records of a fleet of 1,000 generated manifests) with a signed checkpoint at
half and at the end, served by the real console (uvicorn, in a child process, over the
read-only opener). Timed over HTTP, each a different target every request:

(1) the decisions page with a selective filter (one model, newest 50 of its records);
(2) one decision's page, which builds and verifies its inclusion proof against the latest
    signed checkpoint while rendering;
and for context (3) the unfiltered decisions page and (4) a model's history page.

Target for (1) and (2): p95 <= 200 ms. Results go to stdout and benchmarks/results/console-latest.json.
The background verification the console starts with is switched off, so it does not compete
with the timed requests (on a real server it runs once, when the console starts).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from audit import ORIGIN, RecordFactory, build_log, fleet_records
from run import progress, write_results

from fleetgate.audit.checkpoint import generate_key
from fleetgate.audit.store import open_log

RESULTS = Path(__file__).resolve().parent / "results" / "console-latest.json"
TARGET_P95_MS = 200.0
WARM_UP = 5


def serve(url: str, verifier: str, port: int) -> None:
    """The console as ``fleetgate audit serve`` runs it, with the benchmark's origin and key."""
    from fleetgate.console.app import ConsoleConfig
    from fleetgate.console.serve import serve as run

    run(ConsoleConfig(url, ORIGIN, verifier_key=verifier, verify_on_start=False), "127.0.0.1", port)


def start_server(url: str, verifier: str, port: int) -> subprocess.Popen[bytes]:
    script = Path(__file__).resolve()
    server = subprocess.Popen([sys.executable, str(script), "--serve", url, verifier, str(port)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            fetch(f"http://127.0.0.1:{port}/static/console.css")
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("bench: the console did not start")


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=60) as response:
        body: bytes = response.read()
        return body


def timed(
    paths: Callable[[int], str], base: str, count: int, check: Callable[[bytes], bool]
) -> dict[str, Any]:
    for n in range(WARM_UP):
        fetch(base + paths(n))
    samples = []
    for n in range(count):
        start = time.perf_counter()
        body = fetch(base + paths(WARM_UP + n))
        samples.append((time.perf_counter() - start) * 1000)
        if not check(body):
            sys.exit(f"bench: {paths(WARM_UP + n)} did not show what it should")
    cuts = statistics.quantiles(samples, n=20)
    return {
        "requests": count,
        "median_ms": statistics.median(samples),
        "p95_ms": cuts[18],
        "max_ms": max(samples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page kind")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--serve", nargs=3, metavar=("URL", "VERIFIER", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return 0
    signer, verifier = generate_key(ORIGIN)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-console-") as name:
        tmp = Path(name)
        progress("records of a decision over 1,000 generated manifests")
        factory = RecordFactory(fleet_records(tmp), args.records)
        url = f"sqlite:///{tmp / 'audit.db'}"
        log = open_log(url)
        progress(f"building a log of {args.records:,} records")
        built = build_log(log, factory, signer)
        log.close()
        models = sorted({t.model_id for t in factory.templates if t.model_id})
        seqs = [rng.randrange(args.records) for _ in range(args.requests + WARM_UP)]
        picks = [rng.choice(models) for _ in range(args.requests + WARM_UP)]
        port = 18000 + rng.randrange(1000)
        server = start_server(url, verifier, port)
        base = f"http://127.0.0.1:{port}"
        try:
            progress(f"timing {args.requests} requests of each page")
            results = {
                "decisions_selective": timed(
                    lambda n: f"/decisions?model_id={picks[n]}",
                    base,
                    args.requests,
                    lambda b: b"<tbody>" in b,
                ),
                "decision_with_proof": timed(
                    lambda n: f"/decisions/{seqs[n]}",
                    base,
                    args.requests,
                    lambda b: b"Inclusion proof: verified" in b,
                ),
                "decisions_unfiltered": timed(
                    lambda n: "/decisions", base, args.requests // 4, lambda b: True
                ),
                "model_history": timed(
                    lambda n: f"/model?id={picks[n]}", base, args.requests // 4, lambda b: b"<svg" in b
                ),
            }
        finally:
            server.terminate()
            server.wait(timeout=10)
    report = {
        "records": args.records,
        "build_s": built["seconds"],
        "pages": results,
        "target_p95_ms": TARGET_P95_MS,
    }
    for page, numbers in results.items():
        print(f"{page:24} median {numbers['median_ms']:7.1f} ms   p95 {numbers['p95_ms']:7.1f} ms")
    met = all(results[k]["p95_ms"] <= TARGET_P95_MS for k in ("decisions_selective", "decision_with_proof"))
    print(
        f"target p95 <= {TARGET_P95_MS:.0f} ms for the selective decisions page and a decision page: "
        f"{'ok' if met else 'MISS'}"
    )
    write_results(args.output, report)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
