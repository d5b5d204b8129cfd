"""Diagnostics as data: a stable code, a severity, a message, a span and a hint.

Codes are grouped by stage: E1xx syntax (parse), E2xx names and references (check),
E3xx types and fact paths (check), E4xx rules and exceptions (check), E5xx coverage (cases),
E6xx transactions (facts), E7xx golden case files (cases), E8xx decision records, E9xx internal.
Rendering lives in render.py; docs/errors.md explains every code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .source import Span

CODES: dict[str, str] = {
    "E101": "syntax error",
    "E102": "unreadable policy file",
    "E103": "expression nested too deeply",
    "E104": "string literal too long",
    "E105": "number too long",
    "E106": "policy file too large",
    "E107": "too many declarations",
    "E108": "unknown escape in a string",
    "E110": "set literal with too many members",
    "E109": "policy folder entry not read (link out of the folder, broken or in a loop)",
    "E201": "unknown name",
    "E202": "duplicate name",
    "E203": "unknown regime in `use`",
    "E204": "unknown function",
    "E205": "wrong number of arguments",
    "E206": "duplicate rule id",
    "E207": "`item` outside a rule",
    "E208": "set built from itself",
    "E209": "definition that calls itself without getting smaller",
    "E210": "`use` cycle",
    "E211": "not an ISO 3166-1 country code",
    "E212": "definitions nested too deeply",
    "E301": "unknown fact path",
    "E302": "not a collection",
    "E401": "missing clause",
    "E402": "clause given twice",
    "E403": "exception to an unknown rule",
    "E404": "exception cycle",
    "E405": "effective period ends before it starts",
    "E406": "a regime must state its version and source",
    "E407": "`outcome()` outside a conflict",
    "E420": "denial kind on a rule that does not prohibit",
    "E421": "encoded scope names no classification list",
    "E422": "rule obliges an undeclared obligation",
    "E423": "obligation in an advisory regime",
    "E501": "rule has no golden case where it fires",
    "E502": "rule has no golden case where it does not fire (near miss)",
    "E503": "golden case fails",
    "E504": "rule names no obligations",
    "E601": "unreadable transaction",
    "E602": "transaction violates the schema",
    "E603": "input exceeds a limit",
    "E604": "number is not finite (NaN or Infinity)",
    "E605": "duplicate key",
    "E606": "date that does not exist",
    "E607": "unknown country code",
    "E608": "YAML alias in input",
    "E609": "not a regular file",
    "E661": "invalid restricted-party list file",
    "E662": "invalid matching parameters",
    "E663": "list download cannot be imported",
    "E664": "invalid good-guy record",
    "E701": "malformed golden case file",
    "E702": "golden case names an unknown rule or regime",
    "E801": "record file damaged or not writable",
    "E802": "record not in canonical form, or a decision that cannot be recorded",
    "E803": "record line exceeds a limit",
    "E901": "internal error",
}


@dataclass(frozen=True)
class Diagnostic:
    """A problem found in an input: its code, where (file:line:col), what, and how to fix it."""

    code: str
    message: str
    span: Span | None = None
    severity: str = "error"  # error | warning
    hint: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def title(self) -> str:
        return CODES.get(self.code, "")

    def as_dict(self) -> dict:
        d = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.span is not None:
            d.update(file=self.span.file, line=self.span.line, col=self.span.col)
        if self.hint:
            d["hint"] = self.hint
        return d


class ExportctlError(Exception):
    """Raised with one or more diagnostics: bad input the user can fix (exit 2)."""

    def __init__(self, diagnostics: list[Diagnostic] | Diagnostic):
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(f"{d.code} {d.message}" for d in self.diagnostics))

    def __reduce__(self):  # picklable, for worker processes
        return (type(self), (self.diagnostics,))


def json_path(parts) -> str:
    """Where a value is in a transaction, as messages say it:
    ['items', 0, 'classification'] -> 'items[0].classification'."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out
