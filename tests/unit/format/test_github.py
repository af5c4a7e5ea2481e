"""``--format github`` and the job summary, read back the way GitHub reads them.

The runner reads a step's output line by line (a line ends at CR, LF or CRLF). A line whose
text, after leading whitespace, starts with ``::`` and has a second ``::`` is a command
``::name key=value,key=value::data``; it un-escapes ``%0D``, ``%0A`` (and in property values
``%3A``, ``%2C``) and ``%25`` last. :func:`parse` below does exactly that, so a round trip proves
that no manifest value can end a command early, add a property or start a command of its own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re
from dataclasses import dataclass

from fleetgate.changes import ManifestChange
from fleetgate.decision import Decision, DecisionHeader, Evaluation, Finding, decide
from fleetgate.format.github import ANNOTATIONS_SHOWN, SUMMARY_BUDGET, format_github, job_summary
from fleetgate.format.interface import Report
from fleetgate.manifest import read_manifests
from fleetgate.waivers import Waiver

from support import manifest, to_yaml

HEADER = DecisionHeader(
    "id-9", dt.datetime(2026, 11, 26, tzinfo=dt.UTC), "pre-merge", "sha256:" + "cd" * 32, "e", {}
)
LINE_BREAK = re.compile(r"\r\n|\r|\n")
HOSTILE_MESSAGE = (
    "50 % of users: a, b\r\nnext line\n::error file=evil.yaml,line=1::injected\r"
    "::warning::also injected\n##[error]legacy form \u2028 %0A stays %25 literal"
)
HOSTILE_FILE = "models/we:ird,na%me\n::error::x.yaml"
HOSTILE_RULE = "area.na,me:50%"


@dataclass(frozen=True)
class Command:
    name: str
    properties: dict[str, str]
    data: str


def _unescape(text: str, escapes: tuple[tuple[str, str], ...]) -> str:
    for escaped, plain in escapes:
        text = text.replace(escaped, plain)
    return text


DATA_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
PROPERTY_ESCAPES = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))


def parse(output: str) -> tuple[list[Command], list[str]]:
    """The workflow commands in ``output`` and its plain lines, as the Actions runner sees them."""
    commands: list[Command] = []
    plain: list[str] = []
    for line in LINE_BREAK.split(output.removesuffix("\n")):
        text = line.lstrip()
        end = text.find("::", 2)
        if not text.startswith("::") or end < 0:
            plain.append(line)
            continue
        name, _, rest = text[2:end].partition(" ")
        properties: dict[str, str] = {}
        for pair in filter(None, rest.strip().split(",")):
            key, sep, value = pair.partition("=")
            assert sep and key not in properties, f"malformed property {pair!r} in {line!r}"
            properties[key] = _unescape(value, PROPERTY_ESCAPES)
        commands.append(Command(name, properties, _unescape(text[end + 2 :], DATA_ESCAPES)))
    return commands, plain


def test_the_parser_follows_githubs_escaping() -> None:
    [command], plain = parse("::warning file=a%3Ab%2Cc.yaml,line=3,title=t::50%25 done%0A::x\nafter\n")
    assert command == Command("warning", {"file": "a:b,c.yaml", "line": "3", "title": "t"}, "50% done\n::x")
    assert plain == ["after"]


def subject(name: str) -> ManifestChange:
    [found] = read_manifests(to_yaml(manifest(name)).encode(), f"models/{name}.yaml")
    return ManifestChange("added", found, None)


def waiver(rule: str, target: str) -> Waiver:
    return Waiver(rule, target, "load test, see OPS-1", "Jane, SRE", dt.date(2026, 12, 1), "waivers.yaml", 4)


def mixed() -> Decision:
    """``a`` only warns, ``b`` is denied twice and has one waived deny; one waiver expired."""
    warn = Finding("evidence.missing", "warn", "no signature fact", "models/a.yaml", 9, "spec.modelUri")
    denies = (
        Finding("rollout.ladder", "deny", "7 % is not a rung", "models/b.yaml", 17, "spec.x"),
        Finding(HOSTILE_RULE, "deny", HOSTILE_MESSAGE, HOSTILE_FILE, 4, "spec.y"),
        Finding("cost.threads", "deny", "8 threads > 4", "models/b.yaml", 20, "spec.z"),
    )
    waivers = [waiver("cost.threads", "production/b"), waiver("cost.model-size", "production/a")]
    waivers[1] = dataclasses.replace(waivers[1], expires=dt.date(2026, 1, 1))
    return decide(HEADER, [Evaluation(subject("a"), (warn,)), Evaluation(subject("b"), denies)], waivers)


def test_one_command_per_finding_and_every_value_comes_back_exactly() -> None:
    commands, plain = parse(format_github(Report(mixed())))
    annotations = [c for c in commands if c.name in ("error", "warning", "notice")]
    assert len(annotations) == 5  # 2 denies, 1 warning + 1 expired waiver, 1 waived deny
    hostile = [c for c in annotations if c.properties["file"] == HOSTILE_FILE]
    assert hostile == [
        Command(
            "error",
            {"file": HOSTILE_FILE, "line": "4", "title": f"{HOSTILE_RULE} (production/b)"},
            HOSTILE_MESSAGE,
        )
    ]
    assert not any("injected" in c.data for c in commands if c is not hostile[0])
    assert not any("##[" in line or "injected" in line for line in plain)


def test_denies_come_first_then_warnings_then_waived_denies() -> None:
    commands, _ = parse(format_github(Report(mixed())))
    names = [c.name for c in commands]
    assert names == ["group", "error", "error", "warning", "warning", "notice", "endgroup"]
    assert [c.properties["title"] for c in commands[1:3]] == [
        "rollout.ladder (production/b)",
        f"{HOSTILE_RULE} (production/b)",
    ]
    assert commands[4].properties["title"] == "waiver.expired (production/a)"
    notice = commands[5]
    assert notice.properties == {
        "file": "models/b.yaml",
        "line": "20",
        "title": "cost.threads (production/b)",
    }
    assert "approved by Jane, SRE until 2026-12-01" in notice.data


def test_the_closing_lines_count_findings_and_state_the_decision() -> None:
    _, plain = parse(format_github(Report(mixed(), job_summary=True)))
    assert plain == [
        "fleetgate: 5 findings (2 violations, 2 warnings, 1 waived). GitHub shows at most "
        f"{ANNOTATIONS_SHOWN} annotations of each kind per step; the job summary lists all of them.",
        "fleetgate: DENY (1 of 2 deployments denied)",
    ]


def test_outside_github_actions_no_job_summary_is_promised() -> None:
    _, plain = parse(format_github(Report(mixed())))
    assert "job summary lists" not in plain[0]
    assert "--format json lists all of them (outside GitHub Actions no job summary is written)" in plain[0]


def evidence_missing(file: str = "models/a.yaml") -> tuple[Finding, ...]:
    facts = ("artifact", "signature", "provenance", "model", "latency", "fairness")
    return tuple(
        Finding("evidence.missing", "warn", f"the {fact} evidence was not gathered", file, 9, "spec.modelUri")
        for fact in facts
    )


def unreachable() -> Decision:
    """Two deployments whose artifacts could not be reached; ``b`` also breaks a rule."""
    deny = Finding("rollout.ladder", "deny", "7 % is not a rung", "models/b.yaml", 17, "spec.x")
    return decide(
        HEADER,
        [
            Evaluation(subject("a"), evidence_missing()),
            Evaluation(subject("b"), (*evidence_missing("models/b.yaml"), deny)),
        ],
        [],
    )


def test_missing_evidence_is_one_warning_per_deployment_after_the_denies() -> None:
    commands, plain = parse(format_github(Report(unreachable())))
    annotations = [c for c in commands if c.name in ("error", "warning", "notice")]
    assert [(c.name, c.properties["title"]) for c in annotations] == [
        ("error", "rollout.ladder (production/b)"),
        ("warning", "evidence.missing (production/a)"),
        ("warning", "evidence.missing (production/b)"),
    ]
    folded = annotations[1].data
    assert folded.startswith("6 pieces of evidence are missing:\n- the artifact evidence was not gathered\n")
    assert folded.endswith("\n- the fairness evidence was not gathered")
    assert plain[0].startswith("fleetgate: 3 findings (1 violation, 2 warnings, 0 waived).")


def test_with_evidence_off_one_notice_replaces_every_missing_fact() -> None:
    commands, _ = parse(format_github(Report(unreachable(), evidence_off=True)))
    assert [c.name for c in commands if c.name != "group" and c.name != "endgroup"] == ["notice", "error"]
    assert "Evidence gathering is off: 12 evidence.missing warnings" in commands[1].data
    summary = job_summary(Report(unreachable(), evidence_off=True))
    # Said once, and not over-escaped: "evidence.missing" and "(--format json lists them)" read as written.
    assert summary.count("Evidence gathering is off: 12 evidence.missing warnings not shown (--format") == 1
    assert "No warnings." in summary


def test_missing_evidence_that_denies_is_never_left_out() -> None:
    findings = tuple(dataclasses.replace(f, severity="deny") for f in evidence_missing())
    decision = decide(HEADER, [Evaluation(subject("a"), findings)], [])
    commands, _ = parse(format_github(Report(decision, evidence_off=True)))
    [error] = [c for c in commands if c.name == "error"]
    assert error.properties["title"] == "evidence.missing (production/a)"
    assert not any(c.name == "notice" for c in commands)


def test_an_admitted_change_and_an_empty_one() -> None:
    warn = Finding("evidence.missing", "warn", "no model fact", "models/a.yaml", 9)
    commands, plain = parse(format_github(Report(decide(HEADER, [Evaluation(subject("a"), (warn,))], []))))
    assert [c.name for c in commands] == ["group", "warning", "endgroup"]
    assert plain[-1] == "fleetgate: ADMIT (1 deployment, none denied)"
    commands, plain = parse(format_github(Report(decide(HEADER, [], []))))
    assert commands == []
    assert plain == ["fleetgate: no findings.", "fleetgate: ADMIT (0 deployments, none denied)"]


def many_denies(count: int, message: str) -> Decision:
    findings = tuple(
        Finding("rollout.ladder", "deny", f"{i}: {message}", "models/a.yaml", i + 1) for i in range(count)
    )
    return decide(HEADER, [Evaluation(subject("a"), findings)], [])


def test_past_ten_errors_everything_is_still_emitted_denies_first() -> None:
    decision = many_denies(25, "too high")
    decision = dataclasses.replace(
        decision,
        subjects=(
            dataclasses.replace(
                decision.subjects[0],
                violations=(
                    Finding("w.x", "warn", "careful", "models/a.yaml", 1),
                    *decision.subjects[0].violations,
                ),
            ),
        ),
    )
    commands, _ = parse(format_github(Report(decision)))
    names = [c.name for c in commands[1:-1]]
    assert names == ["error"] * 25 + ["warning"]
    summary = job_summary(Report(decision))
    assert f"GitHub shows at most {ANNOTATIONS_SHOWN} annotations of each kind per step" in summary
    assert "25 errors" in summary
    assert "annotations of each kind" not in job_summary(Report(many_denies(ANNOTATIONS_SHOWN, "x")))


# -- the job summary ------------------------------------------------------------------------------


def cells(row: str) -> list[str]:
    """A GFM table row's cells: split at every ``|`` that no backslash escapes."""
    assert row.startswith("|") and row.endswith("|"), row
    found, current, index = [], "", 1
    while index < len(row) - 1:
        char = row[index]
        if char == "\\":
            current += row[index : index + 2]
            index += 2
            continue
        if char == "|":
            found.append(current.strip())
            current = ""
        else:
            current += char
        index += 1
    return [*found, current.strip()]


def rendered(cell: str) -> str:
    """What a cell shows: ``<br>`` is a line break, backslash escapes and entities are literal."""
    assert "<" not in cell.replace("<br>", "") and ">" not in cell.replace("<br>", ""), cell
    text = re.sub(r"\\(.)", r"\1", cell.replace("<br>", "\n"))
    return html.unescape(text)


def table(summary: str, heading: str) -> list[list[str]]:
    """The rows (header and delimiter excluded) of the table under ``### heading``.

    A table folded into ``<details>`` is read from inside it.
    """
    section = summary.split(f"### {heading}\n\n", 1)[1]
    if section.startswith("<details>"):
        section = section.split("\n\n", 1)[1]
    lines = section.split("\n\n", 1)[0].rstrip("\n").split("\n")
    return [cells(line) for line in lines[2:]]


def test_the_summary_lists_each_deny_first_then_deployments_warnings_and_waivers() -> None:
    summary = job_summary(Report(mixed()))
    blank, first, _, counts = summary.splitlines()[:4]
    assert blank == "" and first.startswith("## ❌ fleetgate: deny")
    assert "stage pre-merge · policy sha256:cdcdcdcdcdcd" in first
    assert rendered(counts) == "1 of 2 deployments denied: 2 violations, 2 warnings, 1 waived."
    headings = [line for line in summary.splitlines() if line.startswith("### ")]
    assert headings == ["### Denied", "### Deployments", "### Warnings", "### Waived denies", "### Waivers"]
    denied = table(summary, "Denied")
    assert [[rendered(c) for c in row[:3]] for row in denied] == [
        ["**rollout.ladder**", "production/b", "models/b.yaml:17"],
        [f"**{HOSTILE_RULE}**", "production/b", f"{HOSTILE_FILE}:4"],
    ]
    assert denied[0][4] == "`fleetgate explain rollout.ladder`"
    assert rendered(denied[1][4]) == f"fleetgate explain {HOSTILE_RULE}" and "`" not in denied[1][4]
    subjects = table(summary, "Deployments")
    assert [[rendered(c) for c in row] for row in subjects] == [
        ["production/a 3.2.1", "added", "models/a.yaml", "admit", "0", "2", "0"],
        ["production/b 3.2.1", "added", "models/b.yaml", "**deny**", "2", "0", "1"],
    ]
    warnings = table(summary, "Warnings")
    assert [rendered(row[1]) for row in warnings] == ["evidence.missing", "waiver.expired"]
    assert "<details><summary>2 warnings" in summary and "\n\n</details>" in summary
    assert [rendered(row[1]) for row in table(summary, "Waived denies")] == ["cost.threads"]
    assert [[rendered(c) for c in row[:2]] for row in table(summary, "Waivers")] == [
        ["applied", "cost.threads"],
        ["expired", "cost.model-size"],
    ]
    assert "annotations of each kind" not in summary


def test_paths_digests_and_versions_read_plainly_in_the_raw_markdown() -> None:
    summary = job_summary(Report(mixed()))
    [first, _] = table(summary, "Denied")
    assert first[1:4] == ["production/b", "models/b.yaml:17", "7 % is not a rung"]
    assert "production/a 3.2.1" in summary


def test_a_pipe_or_a_newline_in_a_message_does_not_break_the_table() -> None:
    summary = job_summary(Report(mixed()))
    denied = table(summary, "Denied")
    assert len(denied) == 2 and all(len(row) == 5 for row in denied)
    # Every kind of line break shows as one: the row stays one line even for str.splitlines.
    assert rendered(denied[1][3]) == "\n".join(HOSTILE_MESSAGE.splitlines())
    assert summary.splitlines() == summary.rstrip("\n").split("\n")


def test_manifest_values_cannot_inject_markdown_or_html() -> None:
    markup = (
        "<script>alert(1)</script> <img src=x onerror=alert(1)> **bold** _em_ `code` "
        "[link](https://evil.example) ![img](https://evil.example/i.png) ~~gone~~ &amp; \\| \\ "
        ":warning: $x^2$ @team <!-- c --> <details><summary>s</summary>"
    )
    decision = decide(
        HEADER, [Evaluation(subject("a"), (Finding("x.y", "deny", markup, "m|<b>.yaml", 3),))], []
    )
    summary = job_summary(Report(decision))
    [row] = table(summary, "Denied")
    assert rendered(row[3]) == markup and rendered(row[2]) == "m|<b>.yaml:3"
    body = "\n".join(line for line in summary.splitlines() if line.startswith("| "))
    assert "<" not in body.replace("<br>", "")
    assert re.search(r"(?<!\\)[*_`\[\]!~$]", row[3]) is None  # every markup character escaped
    assert "\\:warning:" in row[3] and "\\@team" in row[3]  # no emoji, no mention


def test_the_summary_stays_under_one_mebibyte_and_says_how_many_rows_it_left_out() -> None:
    total = 4_000
    decision = many_denies(total, "<&>|" * 100)  # escaping makes each row several times longer
    summary = job_summary(Report(decision))
    size = len(summary.encode("utf-8"))
    assert size <= SUMMARY_BUDGET < 1024 * 1024
    rows = table(summary, "Denied")
    note = re.search(r"\*(\d+) more denied findings left out to keep this summary under 1 MiB", summary)
    assert note is not None and 0 < len(rows) < total
    assert len(rows) + int(note.group(1)) == total
    assert all(len(row) == 5 for row in rows)
    assert "the JSON decision (`--format json`) lists every one" in summary
    assert len(table(summary, "Deployments")) == 1


def test_an_empty_decision_still_renders_every_section() -> None:
    summary = job_summary(Report(decide(HEADER, [], [])))
    assert summary.startswith("\n## ✅ fleetgate: admit")
    assert "No OnDeviceModel manifest changed." in summary and "Nothing was denied." in summary
    assert "No warnings." in summary
    assert "No waiver was applied, expired or left unused." in summary
