"""`exportctl diff`: what a policy change does to decisions.

A change to a policy is reviewed by its impact: every golden case (of either side) and every
recorded transaction of a corpus is decided under the old policies (BASE) and the new ones
(HEAD), and every decision that differs is reported: the regime, the old and new outcome, the
rules that newly fire or stop firing (with their citations), the missing facts that appear or
disappear, and the overall outcome. Unchanged decisions are counted, not listed.

The core is the pure function :func:`diff_decisions` (two policy sets and a list of subjects
in, a :class:`DiffReport` out). :func:`run_diff` is the CLI adapter: it finds the two policy
folders (a folder, or a git revision materialised with `git archive` into a temporary folder,
so the user's work tree and index are never touched), reads the corpus and prints the report
as text, JSON or Markdown.

What counts as a changed decision: a different overall outcome, or in some regime a different
outcome, a different set of findings (rule, item, outcome, authorization), or a different list
of missing facts; or a different set of conflicts. A regime's version string, a finding's
`because` facts or a re-worded citation alone are not decision changes.

Golden cases are matched across the sides by (case file relative to the policy folder, case
name). A case on both sides whose facts were edited is decided on HEAD's facts under both
policy sets (so the comparison shows the policy change, not the edit) and flagged `edited`.
A case on one side only is reported as added or removed, with its decisions under both sides.
"""

from __future__ import annotations

import copy
import datetime as _dt
import io as _io
import os
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from . import facts
from .diagnostics import Diagnostic, ExportctlError

FORMAT = "exportctl-diff/1"
"""Version of the JSON output; bumped when a key changes meaning or disappears."""

EXIT_OK, EXIT_CHANGED, EXIT_BAD_INPUT = 0, 1, 2

MARKDOWN_ROWS = 200          # rows of the changed-decisions table before "... and N more"
MARKDOWN_LIMIT = 60_000      # characters: a GitHub comment holds 65,536


# ---------------------------------------------------------------- data

@dataclass
class Subject:
    """One thing to decide under both policy sets: a golden case or a corpus transaction."""

    key: str                         # identity across the sides
    kind: str                        # "case" | "transaction"
    name: str                        # the case name, or the transaction id
    file: str                        # case file relative to its policy folder, or the corpus source
    data: dict | None                # the transaction facts (None when the case could not be built)
    as_of: _dt.date | None = None    # the case's `as_of`; None = the transaction's date
    line: int = 0
    error: tuple[str, ...] = ()      # why the facts could not be built
    presence: str = "both"           # both | base | head
    edited: bool = False             # a case whose facts differ between the sides

    @property
    def label(self) -> str:
        if self.kind == "case":
            return f'case "{self.name}" ({self.file})'
        return f"transaction {self.name} ({self.file})"


@dataclass(frozen=True)
class FindingRef:
    """A finding, as the diff compares it: rule, item, outcome and authorization."""

    rule: str
    item: str | None
    outcome: str
    authorization: str | None
    cite: str
    message: str

    @property
    def sort_key(self):
        return (self.rule, self.item or "", self.outcome, self.authorization or "")

    def as_dict(self) -> dict:
        return {"rule": self.rule, "item": self.item, "outcome": self.outcome,
                "authorization": self.authorization, "cite": self.cite, "message": self.message}


@dataclass
class RegimeChange:
    regime: str
    before: str                      # outcome, or "absent" when the side has no such regime
    after: str
    version_before: str | None
    version_after: str | None
    fires: list[FindingRef] = field(default_factory=list)      # newly fire
    stops: list[FindingRef] = field(default_factory=list)      # stop firing
    missing_added: list[str] = field(default_factory=list)
    missing_removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"regime": self.regime, "before": self.before, "after": self.after,
                "version_before": self.version_before, "version_after": self.version_after,
                "fires": [f.as_dict() for f in self.fires], "stops": [f.as_dict() for f in self.stops],
                "missing_added": self.missing_added, "missing_removed": self.missing_removed}


@dataclass
class DecisionDiff:
    """One subject decided under both sides, and what differs."""

    subject: Subject
    before: dict | None              # the decision under BASE (None: could not be evaluated)
    after: dict | None
    errors_before: list[str] = field(default_factory=list)
    errors_after: list[str] = field(default_factory=list)
    regimes: list[RegimeChange] = field(default_factory=list)
    conflicts_added: list[str] = field(default_factory=list)
    conflicts_removed: list[str] = field(default_factory=list)

    @property
    def outcome_before(self) -> str:
        return self.before["outcome"] if self.before else "error"

    @property
    def outcome_after(self) -> str:
        return self.after["outcome"] if self.after else "error"

    @property
    def as_of(self) -> str | None:
        d = self.after or self.before
        return d["as_of"] if d else None

    @property
    def changed(self) -> bool:
        return (self.outcome_before != self.outcome_after or bool(self.regimes)
                or bool(self.conflicts_added) or bool(self.conflicts_removed)
                or (self.before is None) != (self.after is None))

    def as_dict(self) -> dict:
        s = self.subject
        return {"kind": s.kind, "name": s.name, "file": s.file, "presence": s.presence, "edited": s.edited,
                "transaction": (self.after or self.before or {}).get("transaction", s.name if s.kind == "transaction" else None),
                "as_of": self.as_of, "changed": self.changed,
                "outcome": {"before": self.outcome_before, "after": self.outcome_after},
                "regimes": [r.as_dict() for r in self.regimes],
                "conflicts_added": self.conflicts_added, "conflicts_removed": self.conflicts_removed,
                "errors_before": self.errors_before, "errors_after": self.errors_after}


@dataclass
class SideInfo:
    """Which policies one side is: what the user named, the git commit, the digest, the versions."""

    label: str
    digest: str
    regimes: dict                    # regime id -> version
    revision: str | None = None      # full commit id, when the side is a git revision
    path: str | None = None          # the folder, when the side is a folder
    binding: dict = field(default_factory=dict)   # regime id -> binding (for the order of regimes only)

    def as_dict(self) -> dict:
        return {"label": self.label, "revision": self.revision, "path": self.path,
                "policy_digest": self.digest, "regimes": dict(sorted(self.regimes.items()))}

    @property
    def short(self) -> str:
        rev = f" ({self.revision[:10]})" if self.revision else ""
        return f"{self.label}{rev}"


@dataclass
class DiffReport:
    base: SideInfo
    head: SideInfo
    changed: list[DecisionDiff]      # subjects on both sides whose decision changed
    added: list[DecisionDiff]        # subjects only on HEAD (cases), decided under both
    removed: list[DecisionDiff]      # subjects only on BASE (cases), decided under both
    unchanged: int
    cases: int                       # golden cases compared (union of both sides)
    transactions: int                # corpus transactions compared
    edited: int = 0                  # cases on both sides whose facts differ
    problems: list[str] = field(default_factory=list)

    @property
    def any_change(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def as_dict(self) -> dict:
        return {
            "format": FORMAT,
            "base": self.base.as_dict(),
            "head": self.head.as_dict(),
            "summary": {"cases": self.cases, "transactions": self.transactions, "changed": len(self.changed),
                        "unchanged": self.unchanged, "added": len(self.added), "removed": len(self.removed),
                        "edited": self.edited, "problems": len(self.problems)},
            "changed": [d.as_dict() for d in self.changed],
            "added": [d.as_dict() for d in self.added],
            "removed": [d.as_dict() for d in self.removed],
            "problems": list(self.problems),
        }


# ---------------------------------------------------------------- subjects

def _rel(file: str) -> str:
    """A case file's path relative to its policy folder (`us-ear/cases/sta.yaml`), the same on
    both sides whatever the folder is (a checkout, a temporary extraction, a workspace of links):
    case files always sit at `<folder>/cases/<file>.yaml` below the policy folder."""
    return "/".join(Path(file).parts[-3:])


def case_subjects(ps) -> tuple[list[Subject], list[str]]:
    """Every golden case of a policy set as a subject, and the case files that could not be read."""
    from .cases import load_cases

    cases, diags = load_cases(ps)
    out = []
    for c in cases:
        rel = _rel(c.file)
        as_of = _dt.date.fromisoformat(c.spec["as_of"]) if c.spec.get("as_of") else None
        error = tuple(d.message for d in c.error.diagnostics) if c.error else ()
        out.append(Subject(f"case:{rel}::{c.name}", "case", c.name, rel, c.transaction, as_of, c.line, error))
    problems = [f"{d.span.file}:{d.span.line}: {d.code} {d.message}" if d.span else f"{d.code} {d.message}"
                for d in diags]
    return out, problems


def corpus_subjects(paths, folder: str | None = None, stdin=None) -> list[Subject]:
    """The transactions of the corpus (files, folders, .jsonl). Raises ExportctlError listing
    every record that could not be read or does not validate."""
    out, bad, seen = [], [], set()
    for p in paths:
        for rec in facts.read_path(p, folder, stdin):
            if rec.error is not None:
                bad.extend(rec.error.diagnostics)
                continue
            tx = rec.transaction
            key = f"tx:{rec.source}"
            n = 1
            while key in seen:
                n += 1
                key = f"tx:{rec.source}#{n}"
            seen.add(key)
            out.append(Subject(key, "transaction", tx.id, rec.source, tx.data, None, tx.lines.get("", 0)))
    if bad:
        raise ExportctlError(bad)
    return out


def _merge_cases(base: list[Subject], head: list[Subject]) -> list[Subject]:
    """The union of both sides' cases; a case on both sides is decided on HEAD's facts."""
    by_base = {s.key: s for s in base}
    by_head = {s.key: s for s in head}
    out = []
    for key in sorted(set(by_base) | set(by_head)):
        b, h = by_base.get(key), by_head.get(key)
        if b and h:
            edited = (b.data != h.data) or (b.as_of != h.as_of) or (b.error != h.error)
            out.append(replace(h, presence="both", edited=edited))
        elif h:
            out.append(replace(h, presence="head"))
        else:
            out.append(replace(b, presence="base"))
    return out


# ---------------------------------------------------------------- deciding and comparing

def decide(ps, subject: Subject) -> tuple[dict | None, list[str]]:
    """The decision for one subject under one policy set, or why there is none."""
    from .evaluate import evaluate

    if subject.error:
        return None, list(subject.error)
    try:
        tx = facts.from_data(copy.deepcopy(subject.data), subject.file, folder=ps.schema_folder)
    except ExportctlError as e:
        return None, [d.message for d in e.diagnostics]
    return evaluate(ps.regimes, tx.data, subject.as_of or tx.date, ps.digest), []


def _findings(entry: dict | None) -> dict:
    out = {}
    for f in (entry or {}).get("findings", []):
        ref = FindingRef(f["rule"], f.get("item"), f["outcome"], f.get("authorization"),
                         f.get("cite") or "", f.get("message") or "")
        out.setdefault(ref.sort_key, ref)
    return out


def compare(before: dict | None, after: dict | None) -> tuple[list[RegimeChange], list[str], list[str]]:
    """Per regime what differs between two decisions of the same subject; and the conflicts
    reported by one and not the other."""
    b_reg = {r["regime"]: r for r in (before or {}).get("regimes", [])}
    a_reg = {r["regime"]: r for r in (after or {}).get("regimes", [])}
    changes = []
    binding = {rid: r.get("binding", True) for rid, r in {**b_reg, **a_reg}.items()}
    for rid in _regime_order(set(b_reg) | set(a_reg), binding):
        b, a = b_reg.get(rid), a_reg.get(rid)
        fb, fa = _findings(b), _findings(a)
        mb, ma = set((b or {}).get("missing", [])), set((a or {}).get("missing", []))
        ob = b["outcome"] if b else ("absent" if before else "error")
        oa = a["outcome"] if a else ("absent" if after else "error")
        # a regime one side does not have is, for that side, not applicable: only a regime that
        # applies (or whose findings differ) on the other side is a change
        same = (ob if ob != "absent" else "not_applicable") == (oa if oa != "absent" else "not_applicable")
        if same and fb.keys() == fa.keys() and mb == ma:
            continue
        changes.append(RegimeChange(
            rid, ob, oa, (b or {}).get("version"), (a or {}).get("version"),
            fires=[fa[k] for k in sorted(fa.keys() - fb.keys())],
            stops=[fb[k] for k in sorted(fb.keys() - fa.keys())],
            missing_added=sorted(ma - mb), missing_removed=sorted(mb - ma)))
    cb = {c["conflict"] for c in (before or {}).get("conflicts", [])}
    ca = {c["conflict"] for c in (after or {}).get("conflicts", [])}
    return changes, sorted(ca - cb), sorted(cb - ca)


def _regime_order(ids, binding: dict) -> list[str]:
    """Regime ids in decision order (`ast.regime_sort_key`); `binding`: regime id -> bool."""
    from .ast import regime_sort_key

    return sorted(ids, key=lambda r: regime_sort_key(r, binding.get(r, True)))


def diff_subject(base_ps, head_ps, subject: Subject) -> DecisionDiff:
    before, eb = decide(base_ps, subject)
    after, ea = decide(head_ps, subject)
    regimes, c_add, c_rem = compare(before, after)
    return DecisionDiff(subject, before, after, eb, ea, regimes, c_add, c_rem)


def side_info(ps, label: str, revision: str | None = None, path: str | None = None) -> SideInfo:
    return SideInfo(label, ps.digest, {p.regime: p.header.version for p in ps.policies}, revision, path,
                    {p.regime: p.header.binding for p in ps.policies})


def _subject_order(d: DecisionDiff):
    s = d.subject
    return (0 if s.kind == "case" else 1, s.file, s.name, s.key)


def diff_decisions(base_ps, head_ps, transactions=(), *, base: SideInfo | None = None,
                   head: SideInfo | None = None) -> DiffReport:
    """Decide every golden case of both sides and every given transaction under BASE and HEAD.

    `transactions`: subjects (see :func:`corpus_subjects`), or plain transaction dicts.
    Pure apart from reading the case files of the two policy folders."""
    base_cases, p_base = case_subjects(base_ps)
    head_cases, p_head = case_subjects(head_ps)
    cases = _merge_cases(base_cases, head_cases)
    corpus = [t if isinstance(t, Subject) else
              Subject(f"tx:<data>[{i}]", "transaction", str(t.get("id", i)), f"<data>[{i}]", t)
              for i, t in enumerate(transactions)]
    changed, added, removed, unchanged = [], [], [], 0
    problems = [f"base: {p}" for p in p_base] + [f"head: {p}" for p in p_head]
    for subject in cases + corpus:
        d = diff_subject(base_ps, head_ps, subject)
        for side, errs in (("base", d.errors_before), ("head", d.errors_after)):
            problems.extend(f"{side}: {subject.label}: {e}" for e in errs)
        if subject.presence == "head":
            added.append(d)
        elif subject.presence == "base":
            removed.append(d)
        elif d.changed:
            changed.append(d)
        else:
            unchanged += 1
    return DiffReport(
        base or side_info(base_ps, str(base_ps.root)), head or side_info(head_ps, str(head_ps.root)),
        sorted(changed, key=_subject_order), sorted(added, key=_subject_order), sorted(removed, key=_subject_order),
        unchanged, len(cases), len(corpus), sum(1 for s in cases if s.edited), problems)


# ---------------------------------------------------------------- rendering

def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"


def _versions(report: DiffReport) -> list[str]:
    """`us-ear 2024-03-15 -> 2024-10-23` for every regime whose version differs."""
    b, h = report.base.regimes, report.head.regimes
    out = []
    for rid in _regime_order(set(b) | set(h), {**report.base.binding, **report.head.binding}):
        vb, vh = b.get(rid, "absent"), h.get(rid, "absent")
        if vb != vh:
            out.append(f"{rid} {vb or '?'} -> {vh or '?'}")
    return out


def summary_line(report: DiffReport) -> str:
    what = []
    if report.cases:
        what.append(_plural(report.cases, "golden case"))
    if report.transactions:
        what.append(_plural(report.transactions, "transaction"))
    evaluated = " and ".join(what) or "nothing"
    return (f"{evaluated} decided under both: {len(report.changed)} changed, {report.unchanged} unchanged, "
            f"{len(report.added)} added, {len(report.removed)} removed")


def _finding_lines(sign: str, f: FindingRef, indent: str) -> list[str]:
    word = "newly fires" if sign == "+" else "stops firing"
    item = f", item {f.item}" if f.item else ""
    auth = f" {f.authorization}" if f.authorization else ""
    return [f"{indent}{sign} {word}: {f.rule}{item}, {f.outcome}{auth}",
            f"{indent}    {f.message}",
            f"{indent}    {f.cite}"]


def _decision_lines(d: DecisionDiff, indent: str = "  ") -> list[str]:
    lines = []
    s = d.subject
    if s.edited:
        lines.append(f"{indent}(the case's facts were edited: decided on HEAD's facts under both)")
    lines.append(f"{indent}outcome: {d.outcome_before} -> {d.outcome_after}"
                 + ("" if d.outcome_before != d.outcome_after else " (unchanged)"))
    for r in d.regimes:
        lines.append(f"{indent}{r.regime}: {r.before} -> {r.after}")
        for f in r.fires:
            lines.extend(_finding_lines("+", f, indent + "  "))
        for f in r.stops:
            lines.extend(_finding_lines("-", f, indent + "  "))
        if r.missing_added:
            lines.append(f"{indent}  + missing facts: {', '.join(r.missing_added)}")
        if r.missing_removed:
            lines.append(f"{indent}  - no longer missing: {', '.join(r.missing_removed)}")
    for c in d.conflicts_added:
        lines.append(f"{indent}+ conflict reported: {c}")
    for c in d.conflicts_removed:
        lines.append(f"{indent}- conflict no longer reported: {c}")
    for side, errs in (("base", d.errors_before), ("head", d.errors_after)):
        lines.extend(f"{indent}{side}: cannot decide: {e}" for e in errs)
    return lines


def report_text(report: DiffReport) -> str:
    """The report for people."""
    out = [f"base {report.base.short}  {report.base.digest[:19]}",
           f"head {report.head.short}  {report.head.digest[:19]}"]
    versions = _versions(report)
    if versions:
        out.append("versions: " + "; ".join(versions))
    out.append(summary_line(report))
    for title, group in (("changed", report.changed), ("added", report.added), ("removed", report.removed)):
        for d in group:
            out.append("")
            out.append(f"{title}  {d.subject.label}  law as of {d.as_of or '?'}")
            out.extend(_decision_lines(d))
    if report.problems:
        out.append("")
        out.append("problems:")
        out.extend(f"  {p}" for p in report.problems)
    return "\n".join(out) + "\n"


def report_json(report: DiffReport) -> str:
    from .render import json_text

    return json_text(report.as_dict(), pretty=True)


def _md(text) -> str:
    """Text safe inside a Markdown table cell."""
    return (str(text).replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\n", " "))


def _md_rules(d: DecisionDiff) -> str:
    parts = []
    for r in d.regimes:
        parts += [f"+`{f.rule}`" for f in r.fires] + [f"−`{f.rule}`" for f in r.stops]
        parts += [f"+missing `{m}`" for m in r.missing_added] + [f"−missing `{m}`" for m in r.missing_removed]
    parts += [f"+conflict `{c}`" for c in d.conflicts_added] + [f"−conflict `{c}`" for c in d.conflicts_removed]
    seen, out = set(), []
    for p in parts:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return " ".join(out)


def _md_row(tag: str, d: DecisionDiff) -> str:
    s = d.subject
    what = f"{_md(s.name)}<br>`{_md(s.file)}`" + (" (edited)" if s.edited else "")
    outcome = (f"{d.outcome_before} → **{d.outcome_after}**" if d.outcome_before != d.outcome_after
               else f"{d.outcome_after} (same)")
    regimes = "<br>".join(f"{r.regime}: {r.before} → {r.after}" for r in d.regimes) or "—"
    return f"| {tag} {s.kind} | {what} | {outcome} | {regimes} | {_md_rules(d) or '—'} |"


def _md_details(d: DecisionDiff) -> list[str]:
    s = d.subject
    out = [f"#### {s.kind}: {_md(s.name)}", "",
           f"`{s.file}` · law as of {d.as_of or '?'}" + (" · facts edited, decided on the head's facts" if s.edited else ""),
           ""]
    out.append(f"- **decision**: {d.outcome_before} → {d.outcome_after}")
    for r in d.regimes:
        out.append(f"- **{r.regime}**: {r.before} → {r.after}")
        for sign, word, fs in (("+", "newly fires", r.fires), ("−", "stops firing", r.stops)):
            for f in fs:
                item = f" (item `{_md(f.item)}`)" if f.item else ""
                auth = f" [{_md(f.authorization)}]" if f.authorization else ""
                out.append(f"  - {sign} {word}: `{f.rule}`{item}, {f.outcome}{auth}: {_md(f.message)} — *{_md(f.cite)}*")
        if r.missing_added:
            out.append("  - + missing facts: " + ", ".join(f"`{m}`" for m in r.missing_added))
        if r.missing_removed:
            out.append("  - − no longer missing: " + ", ".join(f"`{m}`" for m in r.missing_removed))
    for c in d.conflicts_added:
        out.append(f"- + conflict `{c}`")
    for c in d.conflicts_removed:
        out.append(f"- − conflict `{c}`")
    for side, errs in (("base", d.errors_before), ("head", d.errors_after)):
        out.extend(f"- {side}: cannot decide: {_md(e)}" for e in errs)
    out.append("")
    return out


def report_markdown(report: DiffReport) -> str:
    """A pull-request comment: a summary line, a table of changed decisions, details folded."""
    n = len(report.changed) + len(report.added) + len(report.removed)
    head = (f"### exportctl diff: {_plural(len(report.changed), 'decision')} changed"
            if report.any_change else "### exportctl diff: no decision changed")
    out = [head, "",
           f"**{summary_line(report)}.** Base `{_md(report.base.short)}` (policy `{report.base.digest[:19]}`) → "
           f"head `{_md(report.head.short)}` (policy `{report.head.digest[:19]}`).", ""]
    versions = _versions(report)
    if versions:
        out += ["Regime versions: " + "; ".join(_md(v).replace(" -&gt; ", " → ") for v in versions) + ".", ""]
    if n:
        out += ["| | Case or transaction | Decision | Regimes | Rules |", "| --- | --- | --- | --- | --- |"]
        rows = ([("changed", d) for d in report.changed] + [("added", d) for d in report.added]
                + [("removed", d) for d in report.removed])
        for tag, d in rows[:MARKDOWN_ROWS]:
            out.append(_md_row(tag, d))
        if len(rows) > MARKDOWN_ROWS:
            out.append(f"| | … and {len(rows) - MARKDOWN_ROWS} more (see `exportctl diff --format json`) | | | |")
        out += ["", f"<details><summary>Details of {_plural(n, 'decision')}</summary>", ""]
        size = sum(len(x) + 1 for x in out)
        for i, (tag, d) in enumerate(rows):
            block = _md_details(d)
            block[0] = block[0].replace("#### ", f"#### {tag} ", 1)
            block_size = sum(len(x) + 1 for x in block)
            if size + block_size > MARKDOWN_LIMIT:
                out.append(f"*… {len(rows) - i} more not shown: the comment would be too long; "
                           "run `exportctl diff --format json` for everything.*")
                out.append("")
                break
            out += block
            size += block_size
        out += ["</details>", ""]
    if report.problems:
        out += [f"<details><summary>{_plural(len(report.problems), 'problem')}</summary>", ""]
        out += [f"- {_md(p)}" for p in report.problems[:100]]
        out += ["", "</details>", ""]
    return "\n".join(out)


RENDERERS = {"text": report_text, "json": report_json, "markdown": report_markdown}


# ---------------------------------------------------------------- the CLI adapter

class _BadInput(Exception):
    """A side or corpus that cannot be used; the message says which and why."""


def _git(args: list[str], cwd: Path, binary: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"}
    try:
        return subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, env=env, text=not binary)
    except FileNotFoundError:
        raise _BadInput("git is not installed (needed to read a revision)") from None


def _repo_root(cwd: Path) -> Path | None:
    try:
        r = _git(["rev-parse", "--show-toplevel"], cwd)
    except _BadInput:
        return None
    return Path(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip() else None


@dataclass
class _Side:
    label: str
    root: Path
    revision: str | None = None
    prefix: str | None = None        # temp folder to rewrite in messages as "REV:"


def _policies_path(value: str) -> str:
    p = PurePosixPath(value.replace("\\", "/"))
    parts = [x for x in p.parts if x not in (".", "")]
    if p.is_absolute() or ".." in parts or not parts:
        raise _BadInput(f"--policies-path must be a folder inside the repository, not {value!r}")
    return "/".join(parts)


def _materialise(spec: str, repo: Path | None, policies_path: str, tmp: Path) -> _Side:
    """A side named on the command line: a policy folder, or a git revision extracted to `tmp`."""
    folder = Path(spec)
    if folder.is_dir():
        return _Side(spec, folder)
    if repo is None:
        raise _BadInput(f"{spec}: not a folder, and {Path.cwd()} is not inside a git repository")
    if spec.startswith("-"):
        raise _BadInput(f"{spec}: not a folder or a git revision")
    r = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{spec}^{{commit}}"], repo)
    if r.returncode != 0 or not r.stdout.strip():
        raise _BadInput(f"{spec}: not a folder or a git revision of {repo}")
    sha = r.stdout.strip()
    a = _git(["archive", "--format=tar", sha, "--", policies_path], repo, binary=True)
    if a.returncode != 0:
        msg = a.stderr.decode("utf-8", "replace").strip().splitlines()
        why = msg[-1] if msg else "git archive failed"
        if "did not match" in why:
            why = f"the revision has no {policies_path}/ folder"
        raise _BadInput(f"{spec}: {why}")
    dest = tmp / sha[:12]
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=_io.BytesIO(a.stdout)) as tf:
        try:
            tf.extractall(dest, filter="data")
        except TypeError:  # Python without extraction filters
            tf.extractall(dest)  # noqa: S202 - our own repository's objects, from git archive
    return _Side(spec, dest / policies_path, sha, str(dest))


def _rename(diags: list[Diagnostic], side: _Side) -> list[Diagnostic]:
    """Messages about a materialised revision name `REV:path`, as `git show` does, never the temp folder."""
    if not side.prefix:
        return diags
    out = []
    for d in diags:
        name = _rev_name(side, d.span.file) if d.span else None
        out.append(replace(d, span=replace(d.span, file=name)) if name else d)
    return out


def _rev_name(side: _Side, file: str) -> str | None:
    """`/tmp/exportctl-diff-x/0123/policies/a.policy` -> `origin/main:policies/a.policy`."""
    if not side.prefix:
        return None
    p = Path(file)
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        rel = p.resolve().relative_to(Path(side.prefix).resolve())
    except ValueError:
        return None
    return f"{side.label}:{rel.as_posix()}"


def _sources(side: _Side) -> dict:
    from .policyset import display_path, policy_files

    out = {}
    for f in policy_files(side.root):
        name = display_path(f, side.root)
        name = _rev_name(side, name) or name
        try:
            out[name] = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            pass
    return out


def _load(side: _Side, io, which: str):
    """Read and check one side's policies; on errors print them and return None."""
    from .policyset import read_policies
    from .render import diagnostics_text

    ps = read_policies(side.root)
    if ps.errors:
        io.err(f"exportctl diff: {which} ({side.label}) has policy errors:")
        io.err(diagnostics_text(_rename(ps.errors, side), _sources(side), color=io.color_err))
        return None
    return ps


def run_diff(args, io) -> int:
    """`exportctl diff [BASE] [HEAD] [--corpus PATH]... [--format F] [--fail-on change] [--policies-path P]`."""
    try:
        policies_path = _policies_path(args.policies_path)
        repo = _repo_root(Path.cwd())
        with tempfile.TemporaryDirectory(prefix="exportctl-diff-") as tmp:
            tmp_path = Path(tmp)
            base = _materialise(args.base, repo, policies_path, tmp_path)
            if args.head is None:
                work = (repo / policies_path) if repo else Path(policies_path)
                if not work.is_dir():
                    raise _BadInput(f"no policy folder at {work} (name HEAD explicitly, or use --policies-path)")
                head = _Side("working tree", work)
            else:
                head = _materialise(args.head, repo, policies_path, tmp_path)
            base_ps = _load(base, io, "base")
            head_ps = _load(head, io, "head")
            if base_ps is None or head_ps is None:
                return EXIT_BAD_INPUT
            corpus = corpus_subjects(args.corpus, head_ps.schema_folder, io.stdin) if args.corpus else []
            report = diff_decisions(
                base_ps, head_ps, corpus,
                base=side_info(base_ps, base.label, base.revision, None if base.revision else str(base.root)),
                head=side_info(head_ps, head.label, head.revision, None if head.revision else str(head.root)))
    except _BadInput as e:
        io.err(f"exportctl diff: {e}")
        return EXIT_BAD_INPUT
    io.out(RENDERERS[args.format](report))
    if args.format != "text" and report.problems:
        io.err("\n".join(f"exportctl diff: {p}" for p in report.problems))
    if args.fail_on == "change" and report.any_change:
        return EXIT_CHANGED
    return EXIT_OK
