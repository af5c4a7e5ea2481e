"""fleetgate's FinOps view on a pull request, end to end, offline.

Builds a throwaway repository whose ``fleetgate.yaml`` names the example fleet inventory and price
sheet of ``examples/fleet/`` (example figures) and gives production a $1,000 per-change egress
envelope. ``main`` ships image-classifier 3.2.1 to 10 % of its devices; the pull request ships a
new artifact, 3.3.0:

1. at 10 %, every device reached downloads the new 42 MB artifact: $1,106.70 of egress, denied by
   ``cost.envelope-change``;
2. the same change at the lower rung of 5 % costs $553.35 and is admitted;
3. ``fleetgate cost`` prints what the desired state costs by namespace, segment and region.

Exits 0 when the gate behaved so, non-zero with a message otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

from demo_classifier import classifier, new_repository
from demo_support import EXIT_BROKEN, EXIT_OK, DemoError, environment, fleetgate, git

EXAMPLES = Path(__file__).resolve().parent
CONFIG = """\
fleet: {inventory: fleet/inventory.yaml, prices: fleet/prices.yaml}
policies:
  data:
    cost:
      envelopes:
        production: {maxEgressPerChange: 1000, maxEgressPerWindow: 15000, windowDays: 30}
"""


def main() -> int:
    if shutil.which("git") is None:
        print("demo: git is not installed", file=sys.stderr)
        return EXIT_BROKEN
    try:
        with tempfile.TemporaryDirectory(prefix="fleetgate-finops-") as tmp:
            run(Path(tmp) / "repo")
    except DemoError as exc:
        print(f"\ndemo: FAILED: {exc}", file=sys.stderr)
        return exc.code
    print("\ndemo: OK: the envelope denied the 10 % step and admitted the same change at 5 %")
    return EXIT_OK


def manifest(version: str, digest_byte: str, percent: int) -> str:
    return classifier(version, digest_byte, percent, size=42_000_000, regions=("US",), tier="standard")


def run(repo: Path) -> None:
    target = new_repository(repo)
    shutil.copytree(EXAMPLES / "fleet", repo / "fleet")
    (repo / "fleetgate.yaml").write_text(CONFIG)
    target.write_text(manifest("3.2.1", "ab", 10))
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--message=Fleet files and image-classifier 3.2.1 at 10 %")
    target.write_text(manifest("3.3.0", "cd", 10))
    expect(repo, 1, "cost.envelope-change", "$1,106.70")
    target.write_text(manifest("3.3.0", "cd", 5))
    expect(repo, 0, None, "$553.35")
    print("\n$ fleetgate cost --base main", flush=True)
    subprocess.run([*fleetgate(), "cost", "--base", "main"], cwd=repo, env=environment(), check=False)


def expect(repo: Path, code: int, rule: str | None, egress: str) -> None:
    """Run the check (text for people, JSON to verify) and compare with what should happen."""
    args = ["check", "--base", "main", "--evidence", "cost", "--no-audit"]
    print(f"\n$ fleetgate {' '.join(args)}", flush=True)
    subprocess.run([*fleetgate(), *args], cwd=repo, env=environment(), check=False)
    done = subprocess.run(
        [*fleetgate(), *args, "--format", "json"], cwd=repo, env=environment(), capture_output=True, text=True
    )
    if done.returncode != code:
        raise DemoError(f"the gate exited {done.returncode}, expected {code}: {done.stderr.strip()}")
    decision = json.loads(done.stdout)
    denied = {v["rule"] for s in decision["subjects"] for v in s["violations"] if v["severity"] == "deny"}
    if denied != ({rule} if rule else set()):
        raise DemoError(f"denied by {sorted(denied)}, expected {rule or 'nothing'}")
    shown = [row["egress"] for row in decision.get("finops", {}).get("deployments", [])]
    if [f"${Decimal(x):,.2f}" for x in shown] != [egress]:
        raise DemoError(f"the FinOps table shows egress {shown}, expected {egress}")


if __name__ == "__main__":
    sys.exit(main())
