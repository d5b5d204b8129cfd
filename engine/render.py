"""Text and JSON for decisions, diagnostics and case results. No I/O: callers print."""

from __future__ import annotations

import io
import json
from pathlib import Path

from .diagnostics import Diagnostic
from .source import Source

_STRIP = dict.fromkeys((7, 8, 11, 12, 13))
"""The control codes rich's Text drops (bell, backspace, vertical tab, form feed, carriage return)."""


class Text:
    """Styled text, as rich.text.Text is used here (`Text(text, style)`, `append`, `append_text`),
    kept as the calls made, so that output without colour and without a width (piped: what
    scripts and `exportctl evaluate > file` see) is written without importing rich (~40 ms of a
    cold start), and any other output replays the same calls on rich's Text: the same bytes."""

    __slots__ = ("text", "style", "ops")

    def __init__(self, text: str = "", style: str = ""):
        self.text, self.style, self.ops = text, style, []

    def append(self, text: str, style: str | None = None) -> "Text":
        self.ops.append((text, style))
        return self

    def append_text(self, text: "Text") -> "Text":
        self.ops.append((text, None))
        return self

    @property
    def plain(self) -> str:
        """The characters rich would write without colour (control codes dropped as it does)."""
        return "".join([self.text.translate(_STRIP)]
                       + [t.plain if isinstance(t, Text) else t.translate(_STRIP) for t, _ in self.ops])

    def has_tab(self) -> bool:
        return "\t" in self.text or any(t.has_tab() if isinstance(t, Text) else "\t" in t for t, _ in self.ops)

    def rich(self):
        from rich.text import Text as RichText

        out = RichText(self.text, style=self.style)
        for t, style in self.ops:
            if isinstance(t, Text):
                out.append_text(t.rich())
            else:
                out.append(t, style=style)
        return out


class _PlainConsole:
    """rich's Console.print without colour, width or wrapping: renderables joined by a space, a
    newline after. Tabs (which rich expands by cell width) take the rich path (see _console)."""

    def __init__(self, buf: io.StringIO):
        self.buf = buf

    def print(self, *texts: Text) -> None:
        if any(t.has_tab() for t in texts):
            raise _NeedsRich
        self.buf.write(" ".join(t.plain for t in texts) + "\n")


class _NeedsRich(Exception):
    pass


class _RichConsole:
    def __init__(self, con):
        self.con = con

    def print(self, *texts: Text) -> None:
        self.con.print(*(t.rich() for t in texts))

OUTCOME_STYLE = {
    "prohibited": "bold white on red",
    "indeterminate": "bold black on yellow",
    "license_required": "bold red",
    "authorized": "bold cyan",
    "no_license_required": "bold green",
    "not_applicable": "dim",
}
OUTCOME_WORDS = {
    "prohibited": "PROHIBITED",
    "indeterminate": "INDETERMINATE",
    "license_required": "LICENSE REQUIRED",
    "authorized": "AUTHORIZED",
    "no_license_required": "NO LICENSE REQUIRED",
    "not_applicable": "not applicable",
}


def _console(color: bool, width: int | None = None, plain: bool = True):
    """A console writing to a buffer. With a width (a terminal's), long lines wrap; without
    one (piped output), lines are never broken, so tools can grep them. Without colour and
    width, a plain console (no rich) unless `plain` is False."""
    buf = io.StringIO()
    if plain and not color and width is None:
        return _PlainConsole(buf), buf
    from rich.console import Console

    return _RichConsole(Console(file=buf, force_terminal=color, no_color=not color,
                                color_system="standard" if color else None, width=width or 10_000,
                                highlight=False, soft_wrap=width is None)), buf


def _rendered(fn, *args, color: bool = False, width: int | None = None) -> str:
    """`fn(con, *args)` written to a buffer; on the plain console first when it can be."""
    con, buf = _console(color, width)
    try:
        fn(con, *args)
    except _NeedsRich:
        con, buf = _console(color, width, plain=False)
        fn(con, *args)
    return buf.getvalue()


def json_text(obj, pretty: bool = False) -> str:
    """Stable machine output: sorted keys, dates as ISO strings."""
    if pretty:
        return json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    from .jsonout import compact    # here: text output never imports orjson

    return compact(obj)


def fact_value(v) -> str:
    """A fact value as the transaction file spells it (true, null, [a, b])."""
    if isinstance(v, list):
        return "[" + ", ".join(map(fact_value, v)) + "]"
    if isinstance(v, bool):
        return "true" if v else "false"
    return "null" if v is None else str(v)


DENIAL_WORDS = {
    "absolute": "absolute ban",
    "policy_of_denial": "policy of denial",
    "presumption_of_denial": "strong presumption of denial",
    "in_principle_not_permitted": "in principle not permitted",
}
ADVISORY_WORDS = {
    "prohibited": "partners would deny",
    "indeterminate": "open",
    "license_required": "partners control it",
    "authorized": "partners authorise it",
    "no_license_required": "partners do not control it",
    "not_applicable": "not applicable",
}


def _outcome_text(o: str, denial: str | None = None, bound: tuple | None = None) -> Text:
    t = Text()
    t.append(f" {OUTCOME_WORDS[o]} ", style=OUTCOME_STYLE[o])
    if denial:
        t.append(f"  ({DENIAL_WORDS.get(denial, denial)})", style="bold")
    if bound and bound[0] and bound[1]:
        t.append(f"  at least {OUTCOME_WORDS[bound[0]].lower()}, at most {OUTCOME_WORDS[bound[1]].lower()}",
                 style="yellow")
    return t


def decision_text(d: dict, color: bool = False, width: int | None = None, checks: int = 8) -> str:
    """A decision for people: the outcome first, then each binding regime with its findings and
    citations, the checks behind each "no" (up to `checks` a regime), the questions still open,
    the advisory regimes apart (they never read as a requirement), and the warnings."""
    return _rendered(_decision, d, checks, color=color, width=width)


def _decision(con, d: dict, checks: int) -> None:
    out = d["outcome"]
    head = _outcome_text(out, bound=(d.get("at_least"), d.get("at_most")))
    head.append(f"  {d['transaction']}", style="bold")
    head.append(f"  (law as of {d['as_of']})", style="dim")
    con.print(head)
    if d.get("driven_by"):
        con.print(Text(f"set by: {', '.join(d['driven_by'])}", style="dim"))
    for w in d.get("warnings", []):
        con.print(Text(f"warning: {w['message']}", style="bold yellow"))
    binding = [r for r in d["regimes"] if r["binding"] and r["outcome"] != "not_applicable"]
    advisory = [r for r in d["regimes"] if not r["binding"] and r["outcome"] != "not_applicable"]
    quiet = [r for r in d["regimes"] if r["outcome"] == "not_applicable"]
    for r in binding:
        con.print()
        line = Text()
        line.append(f"{r['regime']}", style="bold")
        line.append(f"  {r['title']}", style="")
        line.append("  binding", style="dim")
        if r.get("version"):
            line.append(f"  version {r['version']}", style="dim")
        con.print(line)
        o = Text("  ")
        o.append_text(_outcome_text(r["outcome"], r.get("denial_kind"), (r.get("at_least"), r.get("at_most"))))
        if r.get("note"):
            o.append(f"  ({r['note']})", style="dim")
        con.print(o)
        _findings(con, r["findings"])
        _checks(con, r.get("checked", []), checks)
        if r["missing"] and r["outcome"] != "indeterminate":
            con.print(Text("    not checked (unknown): " + ", ".join(r["missing"]), style="yellow"))
    _screening(con, d.get("screening"))
    if d.get("questions"):
        con.print()
        con.print(Text("To settle it, answer:" if out == "indeterminate" else "Still unknown (could not be checked):",
                       style="bold yellow"))
        _questions(con, d["questions"])
    if advisory:
        con.print()
        con.print(Text("Advisory regimes (how partner governments review; not a legal requirement):", style="bold"))
        for r in advisory:
            t = Text(f"  {r['regime']}", style="bold")
            t.append(f": {ADVISORY_WORDS[r['outcome']]}", style="italic")
            if r.get("denial_kind"):
                t.append(f" ({DENIAL_WORDS.get(r['denial_kind'], r['denial_kind'])})", style="italic")
            con.print(t)
            for f in r["findings"]:
                con.print(Text(f"    - {f['message']}  {f['cite']}", style="dim"))
        if d.get("advisory_questions"):
            con.print(Text("  open advisory questions:", style="dim"))
            _questions(con, d["advisory_questions"], style="dim")
    if quiet:
        con.print()
        con.print(Text("not applicable: " + ", ".join(
            r["regime"] + (f" ({r['note']})" if r.get("note") else "") for r in quiet), style="dim"))
    for c in d.get("conflicts", []):
        con.print()
        con.print(Text(f"CONFLICT {c['conflict']}: {c['title']}", style="bold magenta"))
        con.print(Text(f"  {c['cite']}  (regimes: {', '.join(c['regimes'])})", style="italic"))
        if c.get("message") and c["message"] != c["title"]:
            con.print(Text(f"  {c['message']}"))
        if c.get("unverified"):
            con.print(Text(f"  UNVERIFIED: {c['unverified']}", style="bold yellow"))
    if d.get("obligations"):
        con.print()
        con.print(Text("What to do next:", style="bold"))
        for i, o in enumerate(d["obligations"], 1):
            con.print(Text(f"  {i}. {obligation_line(o)}"))
            if o.get("cite"):
                con.print(Text(f"     {o['cite']}" + (f"  ({o['regime']})" if o.get("regime") else ""), style="italic"))
            if o.get("unverified"):
                con.print(Text(f"     UNVERIFIED: {o['unverified']}", style="bold yellow"))
    con.print(Text(f"policy {d['policy_digest'][:19]}", style="dim"))


def obligation_line(o: dict) -> str:
    """`Apply for a licence (form DSP-5, at DDTC; by the exporter) for sat-1`."""
    extra = []
    if o.get("form"):
        extra.append(f"form {o['form']}")
    if o.get("authority"):
        extra.append(f"at {o['authority']}")
    if o.get("by"):
        extra.append(f"by the {o['by']}")
    line = o["text"] + (f" ({'; '.join(extra)})" if extra else "")
    if o.get("items"):
        line += " for " + ", ".join(o["items"])
    return line


def _screening(con, s: dict | None) -> None:
    """The parties that screening found on a list (or close to an entry), with score and the listing."""
    if not s:
        return
    flagged = [p for p in s.get("parties", []) if p.get("status") not in (None, "none")]
    if not flagged:
        return
    con.print()
    con.print(Text("Screening (parties by name against the restricted-party lists):", style="bold"))
    for p in flagged:
        for m in p.get("matches", []):
            line = Text(f"  {p['party']} \"{p['name']}\": {m['status']} ", style="bold")
            line.append(f"{m['list']} entry {m['entry_name']} (score {m['score']:.2f}", style="")
            line.append(f"; \"{m['matched']['party']}\" ~ \"{m['matched']['entry']}\")")
            con.print(line)
            listed = f"listed {m['listed']}" + (f", removed {m['removed']}" if m.get("removed") else "")
            con.print(Text(f"      {m['cite']}  ({listed})", style="italic"))
        if p.get("status") == "cleared":
            con.print(Text("      cleared by a reviewed false-positive record", style="dim"))


def _findings(con, findings: list) -> None:
    for f in findings:
        t = Text("  - ")
        t.append(OUTCOME_WORDS[f["outcome"]].lower(), style=OUTCOME_STYLE[f["outcome"]].replace("on red", "").replace("on yellow", ""))
        if f.get("denial_kind"):
            t.append(f" ({DENIAL_WORDS.get(f['denial_kind'], f['denial_kind'])})")
        if f.get("authorization"):
            t.append(f" [{f['authorization']}]", style="cyan")
        if f.get("item"):
            t.append(f"  item {f['item']}", style="bold")
        t.append(f": {f['message']}")
        con.print(t)
        con.print(Text(f"      {f['cite']}", style="italic"), Text(f"  ({f['rule']})", style="dim"))
        if f.get("exception_to"):
            con.print(Text(f"      exception to {f['exception_to']}", style="dim"))
        if f.get("unverified"):
            con.print(Text(f"      UNVERIFIED: {f['unverified']}", style="bold yellow"))
        if f.get("because"):
            because = ", ".join(f"{k} = {fact_value(v)}" for k, v in f["because"].items())
            con.print(Text(f"      because {because}", style="dim"))


def _checks(con, checked: list, limit: int) -> None:
    """Short: one line a check, `rule (item): not <condition>  [facts]`."""
    if not checked:
        return
    con.print(Text("    checked, did not apply:", style="dim"))
    for c in checked[:limit]:
        facts = ", ".join(f"{k} = {fact_value(v)}" for k, v in list(c["facts"].items())[:3])
        what = f"exception {c['rule']} to {c['exception_to']}" if c.get("exception_to") else c["rule"]
        item = f" ({c['item']})" if c.get("item") else ""
        line = f"      {what}{item}: not {c['failed']}" + (f"  [{facts}]" if facts else "")
        con.print(Text(line, style="dim"))
    if len(checked) > limit:
        con.print(Text(f"      ... and {len(checked) - limit} more (--format json shows them all)", style="dim"))


def _questions(con, qs: list, style: str = "yellow") -> None:
    for i, q in enumerate(qs, 1):
        rules = ", ".join(r["rule"] for r in q["rules"][:3]) + (" ..." if len(q["rules"]) > 3 else "")
        how = "settles it" if q["settles"] else "needed with other answers"
        con.print(Text(f"  {i}. {q['ask']}", style=style))
        con.print(Text(f"     `{q['fact']}` ({how}; for {rules or ', '.join(q['regimes'])})", style="dim"))


def diagnostic_text(d: Diagnostic, sources: dict | None = None, color: bool = False) -> str:
    """`file:line:col: CODE message`, the source line with a caret, then `hint:`."""
    return _rendered(_diagnostic, d, sources, color=color)


def _diagnostic(con, d: Diagnostic, sources: dict | None) -> None:
    where = f"{d.span.file}:{d.span.line}:{d.span.col}: " if d.span and d.span.line else (
        f"{d.span.file}: " if d.span else "")
    t = Text(where, style="bold")
    t.append(f"{d.code} ", style="bold red" if d.severity == "error" else "bold yellow")
    t.append(d.message)
    con.print(t)
    if d.span and d.span.line:
        text = (sources or {}).get(d.span.file)
        if text is None:
            try:
                text = Path(d.span.file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = None
        if text is not None:
            ex = Source(d.span.file, text).excerpt(d.span)
            if ex:
                con.print(Text(ex, style="dim"))
    if d.hint:
        con.print(Text(f"hint: {d.hint}", style="cyan"))


def diagnostics_text(diags: list[Diagnostic], sources: dict | None = None, color: bool = False) -> str:
    return "".join(diagnostic_text(d, sources, color) for d in diags)


def findings_trace(decision: dict) -> str:
    lines = []
    for r in decision["regimes"]:
        lines.append(f"  {r['regime']}: {r['outcome']}" + (f"  missing: {', '.join(r['missing'])}" if r["missing"] else ""))
        for f in r["findings"]:
            auth = f" [{f['authorization']}]" if f.get("authorization") else ""
            lines.append(f"    {f['rule']} -> {f['outcome']}{auth} item={f['item']}  ({f['cite']})")
            if f.get("because"):
                lines.append("      because " + ", ".join(f"{k}={fact_value(v)}" for k, v in f["because"].items()))
    return "\n".join(lines)


def case_failure_text(result) -> str:
    c = result.case
    lines = [f"{c.file}:{c.line}: golden case failed: {c.name}"]
    lines += [f"  - {p}" for p in result.problems]
    if result.decision:
        lines.append(f"decision: {result.decision['outcome']}")
        lines.append(findings_trace(result.decision))
    return "\n".join(lines)
