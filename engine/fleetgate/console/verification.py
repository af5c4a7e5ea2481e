"""The whole log's verification, run in the background when the console starts.

Verifying a large log takes seconds, so the overview shows "running" until it is done, then
the time it finished and what it found. It reads over its own read-only connection.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass

from fleetgate.audit.store.interface import AuditError

__all__ = ["Verification", "VerificationState"]


@dataclass(frozen=True)
class Verification:
    state: str  # "running" | "ok" | "unsigned" | "tampered" | "error"
    detail: str = ""
    finished_at: str | None = None


class VerificationState:
    """The latest verification result, shared between the verifying thread and the pages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = Verification("running")

    @property
    def current(self) -> Verification:
        with self._lock:
            return self._current

    def start(self, log_url: str, verifier_key: str | None, origin: str) -> threading.Thread:
        thread = threading.Thread(
            target=self._run, args=(log_url, verifier_key, origin), name="fleetgate-verify", daemon=True
        )
        thread.start()
        return thread

    def _run(self, log_url: str, verifier_key: str | None, origin: str) -> None:
        from fleetgate.audit.log import verify_log
        from fleetgate.audit.store.readonly import open_readonly_log

        try:
            log = open_readonly_log(log_url)
            try:
                report = verify_log(log, verifier_key, origin)
            finally:
                log.close()
        except AuditError as exc:
            self._set(Verification("error", exc.message, _now()))
            return
        if not report.ok:
            first = report.problems[0]
            where = f"seq {first.seq}: " if first.seq is not None else ""
            result = Verification("tampered", f"{where}{first.message}", _now())
        elif report.signed_size is None:
            reason = "no verifier key" if verifier_key is None else "no stored checkpoint"
            result = Verification("unsigned", f"no checkpoint signature was checked ({reason})", _now())
        else:
            result = Verification(
                "ok",
                f"records 0..{report.signed_size - 1} match the checkpoint signed by key {report.key_id}",
                _now(),
            )
        self._set(result)

    def _set(self, result: Verification) -> None:
        with self._lock:
            self._current = result


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
