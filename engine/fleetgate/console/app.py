"""The console's web application (Starlette): routes, templates, downloads. Read-only.

Handlers are ``async`` and call the log directly: requests are served one at a time on the
event loop, over one read-only connection, which keeps the database access simple and safe.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from fleetgate.audit.store.interface import AuditError, QueryFilter, StoredRecord
from fleetgate.audit.store.readonly import ReadOnlyLog
from fleetgate.console import charts, history, overview, records
from fleetgate.console.evidence import evidence_summary
from fleetgate.console.filters import parse_filters
from fleetgate.console.proof import check_record
from fleetgate.console.security import LOOPBACK_NAMES, SecurityMiddleware
from fleetgate.console.verification import VerificationState

__all__ = ["ConsoleConfig", "create_app"]

PAGE_SIZE = 50
_EXPORT_BATCH = 1000


@dataclass(frozen=True)
class ConsoleConfig:
    log_url: str
    origin: str
    verifier_key: str | None = None
    token: str | None = None
    repo_url: str | None = None  # links findings and commits, e.g. https://git.example.com/org/repo
    host: str = "127.0.0.1"  # the address it listens on: also a name requests may be addressed to
    verify_on_start: bool = True


def create_app(config: ConsoleConfig, log: ReadOnlyLog) -> Any:
    """The ASGI application over an open read-only ``log`` (its caller closes it)."""
    pages = _Pages(config, log, _templates(config.repo_url))
    routes = [
        Route("/", pages.overview),
        Route("/decisions", pages.decisions),
        Route("/decisions.csv", pages.export_csv),
        Route("/decisions.jsonl", pages.export_jsonl),
        Route("/decisions/{seq:int}", pages.decision),
        Route("/decisions/{seq:int}/proof.json", pages.proof),
        Route("/model", pages.model),
        Route("/live", pages.live),
        Route("/static/console.css", pages.stylesheet),
    ]
    app = Starlette(routes=routes)
    if config.verify_on_start:
        pages.verification.start(config.log_url, config.verifier_key, config.origin)
    return SecurityMiddleware(app, config.token, LOOPBACK_NAMES | {config.host.lower()})


def _templates(repo_url: str | None) -> Environment:
    env = Environment(
        loader=PackageLoader("fleetgate.console", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["repo_url"] = (repo_url or "").rstrip("/")
    return env


class _Pages:
    def __init__(self, config: ConsoleConfig, log: ReadOnlyLog, env: Environment) -> None:
        self.config = config
        self.log = log
        self.env = env
        self.verification = VerificationState()

    def _html(self, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        text = self.env.get_template(template).render(**context)
        return HTMLResponse(text, status_code=status)

    def _error(self, status: int, message: str) -> HTMLResponse:
        return self._html("error.html", status, message=message)

    async def overview(self, request: Request) -> Response:
        today = dt.datetime.now(dt.UTC).date()
        summary = overview.overview(self.log, today)
        days = [(today - dt.timedelta(days=n)).isoformat() for n in range(overview.DAYS - 1, -1, -1)]
        chart = Markup(charts.per_day_chart(summary.per_day, days))
        return self._html(
            "overview.html", o=summary, chart=chart, verification=self.verification.current, today=today
        )

    async def decisions(self, request: Request) -> Response:
        try:
            filters = parse_filters(request.query_params)
            before = _cursor(request.query_params)
        except AuditError as exc:
            return self._error(400, exc.message)
        page = records.decisions_page(self.log, filters, before, PAGE_SIZE)
        return self._html("decisions.html", page=page, filters=filters, values=filters.values)

    async def export_csv(self, request: Request) -> Response:
        return self._export(request, "csv", "text/csv; charset=utf-8")

    async def export_jsonl(self, request: Request) -> Response:
        return self._export(request, "json", "application/x-ndjson")

    def _export(self, request: Request, style: str, media: str) -> Response:
        from fleetgate.commands.audit_records import render_records

        try:
            filters = parse_filters(request.query_params)
        except AuditError as exc:
            return self._error(400, exc.message)

        async def chunks() -> AsyncIterator[str]:
            before, first = None, True
            while True:
                page = records.decisions_page(self.log, filters, before, _EXPORT_BATCH)
                text = render_records([row.record for row in page.rows], style)
                if style == "csv" and not first:
                    text = text.partition("\n")[2]  # the header once
                yield text
                first, before = False, page.next_before
                if before is None:
                    return

        suffix = "csv" if style == "csv" else "jsonl"
        disposition = {"content-disposition": f'attachment; filename="decisions.{suffix}"'}
        return StreamingResponse(chunks(), media_type=media, headers=disposition)

    async def decision(self, request: Request) -> Response:
        record = self.log.record(int(request.path_params["seq"]))
        if record is None:
            return self._error(404, f"no record with sequence number {request.path_params['seq']}")
        doc = records.document(record)
        return self._html(
            "decision.html",
            r=record,
            doc=doc,
            findings=records.findings(doc),
            waivers=records.waivers(doc),
            overrides=records.overrides_of(self.log, record),
            evidence=evidence_summary(doc),
            proof=check_record(self.log, record, self.config.verifier_key, self.config.origin),
            manifest=_manifest_text(doc),
        )

    async def proof(self, request: Request) -> Response:
        seq = int(request.path_params["seq"])
        record = self.log.record(seq)
        if record is None:
            return self._error(404, f"no record with sequence number {seq}")
        status = check_record(self.log, record, self.config.verifier_key, self.config.origin)
        if status.bundle is None:
            return self._error(409, f"no inclusion proof for record {seq}: {status.reason}")
        disposition = {"content-disposition": f'attachment; filename="fleetgate-proof-{seq}.json"'}
        return JSONResponse(status.bundle, headers=disposition)

    async def model(self, request: Request) -> Response:
        model_id = request.query_params.get("id", "")
        stage = request.query_params.get("stage") or None
        if not model_id:
            return self._error(400, "name a model: /model?id=MODEL_ID")
        points = history.model_history(self.log, model_id, stage)
        chart = Markup(charts.history_chart(points, lambda seq: f"/decisions/{seq}"))
        return self._html("model.html", model_id=model_id, stage=stage, points=points, chart=chart)

    async def live(self, request: Request) -> Response:
        params = request.query_params
        moment = params.get("at", "").strip()
        values = {k: params[k].strip() for k in ("namespace", "model_id") if params.get(k, "").strip()}
        found = None
        if moment:
            try:
                chosen = QueryFilter(namespace=values.get("namespace"), model_id=values.get("model_id"))
                found = history.admitted_at(self.log, moment, chosen)
            except AuditError as exc:
                return self._error(400, exc.message.replace("--until", "the time"))
        return self._html("live.html", at=moment, values=values, found=found, rollout=self._rollout)

    def _rollout(self, record: StoredRecord) -> str:
        percent = history.rollout_of(self.log, record)
        return "-" if percent is None else f"{percent:g}%"

    async def stylesheet(self, request: Request) -> Response:
        css = resources.files("fleetgate.console").joinpath("static/console.css").read_text("utf-8")
        return Response(css, media_type="text/css")


def _cursor(params: Mapping[str, str]) -> int | None:
    raw = params.get("before", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise AuditError(f"before must be a sequence number (got {raw!r})")
    return int(raw)


def _manifest_text(doc: Mapping[str, Any]) -> str:
    policy_input = doc.get("input")
    manifest = policy_input.get("manifest") if isinstance(policy_input, Mapping) else None
    return json.dumps(manifest, indent=2, ensure_ascii=False) if manifest is not None else ""
