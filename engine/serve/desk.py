"""The engine behind `exportctl serve`, without HTTP: policies loaded once, one decision at a
time (the compiled evaluator warms up and caches lazily, so it is not shared between threads
unguarded), records appended under the same lock so the hash chain stays one chain."""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
import threading
from pathlib import Path

from .. import __version__, facts
from ..diagnostics import Diagnostic, ExportctlError
from ..source import Span

# "items[0].classification.eccn: message" (facts.validate): the JSON path before the message
_PATH_PREFIX = re.compile(r"^((?:\(top level\))|[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*): (.*)$", re.S)
_REQUIRED = re.compile(r"^'([^']+)' is required")


def json_pointer(path: str) -> str:
    """'items[0].classification' -> '/items/0/classification' (RFC 6901)."""
    if path in ("", "(top level)"):
        return ""
    parts = re.findall(r"[^.\[\]]+", path)
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def problem(d: Diagnostic) -> dict:
    """A diagnostic as the CLI's JSON gives it, plus the JSON pointer of the fact it is about."""
    out = d.as_dict()
    m = _PATH_PREFIX.match(d.message)
    if m:
        pointer = json_pointer(m.group(1))
        req = _REQUIRED.match(m.group(2))
        if req:   # point at the missing key itself, so a form can show it beside that field
            pointer += "/" + req.group(1)
        out["pointer"] = pointer
    return out


class RecordError(Exception):
    """The record file cannot take the decision (damaged or not writable)."""


@dataclasses.dataclass
class Desk:
    """Loaded policies and the few operations the routes need."""

    policies: str | None = None
    record: str | None = None

    def __post_init__(self):
        from ..api import load_policies
        from ..codegen import compile_fast

        self.ps = load_policies(self.policies)       # ExportctlError: the `check` diagnostics
        compile_fast(self.ps)
        self.lock = threading.Lock()
        if self.record and Path(self.record).exists():
            from .. import records

            report = records.verify(self.record)
            if not report.ok:
                raise ExportctlError([Diagnostic("E801", f"record file is damaged: {p.code} {p.message}",
                                                 Span(self.record, p.line, 1),
                                                 hint=f"run: exportctl records verify {self.record}")
                                      for p in report.problems if not p.is_warning])

    # -- deciding

    def decide_records(self, recs: list, as_of: _dt.date | None) -> list[dict]:
        """Decisions (or error records, as `evaluate --format json` prints them) in input order;
        every decision recorded before it is returned."""
        from ..api import decide

        out, pending = [], []
        with self.lock:
            for rec in recs:
                if rec.error is not None:
                    out.append({"source": rec.source, "error": [problem(d) for d in rec.error.diagnostics]})
                    continue
                d = decide(self.ps, rec.transaction, as_of)
                out.append(d)
                pending.append((d, rec.transaction.digest))
            if self.record and pending:
                self._append(pending)
        return out

    def _append(self, pending):
        from .. import records

        try:
            records.append_many(self.record, pending)
        except records.ChainError as e:
            raise RecordError(f"record file is damaged, nothing appended: {e}") from None
        except OSError as e:
            raise RecordError(f"cannot write the record file: {e}") from None

    def read_one(self, text: str, source: str) -> list:
        return list(facts.read_text(text, source, self.ps.schema_folder))

    def read_line(self, line: str, number: int, source: str):
        """One JSON Lines record, located at its line in the request (as the CLI locates it in a file)."""
        rec = next(iter(facts.read_lines([line], source, self.ps.schema_folder)), None)
        if rec is None:
            return None
        rec.source = f"{source}:{number}"
        if rec.transaction is not None:
            rec.transaction.source = rec.source
        if rec.error is not None:
            rec.error.diagnostics = [dataclasses.replace(d, span=Span(source, number, d.span.col if d.span else 1))
                                     for d in rec.error.diagnostics]
        return rec

    # -- describing

    def policies_info(self) -> dict:
        from ..explain import source_of

        regimes = []
        for p in self.ps.policies:
            h = p.header
            regimes.append({
                "regime": h.regime, "title": h.title, "binding": h.binding, "version": h.version,
                "source": h.source, "file": p.path, "digest": self.ps.digests.get(p.path),
                "rules": len(p.rules),
                "in_force": {"from": h.start.isoformat() if h.start else None,
                             "until": h.end.isoformat() if h.end else None},
                "encodes": [{"list": s.path.parts[-1], "path": s.path.dotted,
                             "entries": source_of(p.text, s.entries.span),
                             "looked_at": source_of(p.text, s.when.span) if s.when is not None else None,
                             "cite": s.cite} for s in p.encodes],
            })
        regimes.sort(key=lambda r: (not r["binding"], r["regime"]))
        return {"policy_digest": self.ps.digest, "engine": f"exportctl {__version__}",
                "bundled": self.ps.bundled, "regimes": regimes}

    def schema(self, name: str) -> dict:
        return facts.schema(name, self.ps.schema_folder)


def examples_root() -> Path:
    """The example transactions: inside the installed package, or the checkout's examples/."""
    here = Path(__file__).resolve().parent.parent
    installed = here / "_examples"
    return installed if installed.is_dir() else here.parent / "examples" / "transactions"


def examples() -> dict[str, str]:
    """name -> the file's first comment sentence (what the example shows), sorted by name."""
    out = {}
    for f in sorted(examples_root().glob("*.yaml")):
        first = []
        for line in f.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            first.append(line.lstrip("# ").strip())
        text = " ".join(first)
        out[f.stem] = (text.split(". ")[0].rstrip(".") + ".") if text else f.stem
    return out
