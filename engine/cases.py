"""Golden cases: read the case files beside each regime, build each case's transaction,
evaluate it, compare with what the case expects; and coverage by legal provision."""

from __future__ import annotations

import copy
import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from . import facts
from .diagnostics import Diagnostic, ExportctlError
from .evaluate import evaluate
from .policyset import PolicySet
from .source import Span


@dataclass
class Case:
    name: str
    file: str
    line: int
    regime: str | None           # the folder's regime, when the file sits in one
    spec: dict
    transaction: dict | None = None
    error: ExportctlError | None = None

    @property
    def id(self) -> str:
        return self.name

    @property
    def about(self) -> list[str]:
        return list(self.spec.get("about", []))


@dataclass
class CaseResult:
    case: Case
    decision: dict | None
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems and self.decision is not None

    def fired(self) -> set[str]:
        if not self.decision:
            return set()
        out = {f["rule"] for r in self.decision["regimes"] for f in r["findings"]}
        out |= {c["conflict"] for c in self.decision.get("conflicts", [])}
        return out


_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _parts(path: str) -> list:
    return [int(i) if i else k for k, i in _PATH_PART.findall(path)]


def set_path(data: dict, path: str, value) -> None:
    """Set `items[0].classification.eccn` in nested data, creating mappings on the way."""
    parts = _parts(path)
    cur = data
    for p, nxt in zip(parts, parts[1:]):
        if isinstance(p, int):
            cur = cur[p]
        else:
            if p not in cur or cur[p] is None:
                cur[p] = [] if isinstance(nxt, int) else {}
            cur = cur[p]
    last = parts[-1]
    cur[last] = value


def delete_path(data: dict, path: str) -> None:
    parts = _parts(path)
    cur = data
    for p in parts[:-1]:
        cur = cur[p]
    del cur[parts[-1]]


def _node_lines(node) -> dict:
    """Line of each case (by index) in a case file."""
    out = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == "cases" and isinstance(v, yaml.SequenceNode):
                for i, c in enumerate(v.value):
                    out[i] = c.start_mark.line + 1
    return out


def shared_bases(root: Path) -> dict:
    """The base transactions every case file may use (`policies/bases.yaml`), by name."""
    f = root / "bases.yaml"
    if not f.is_file():
        return {}
    data = facts.yaml_load(f.read_text(encoding="utf-8")) or {}
    return data.get("bases", {}) if isinstance(data, dict) else {}


def case_files(root: Path) -> list[Path]:
    """Case files of the policy folder; none reached through a link out of it."""
    inside = root.resolve()
    out = []
    for p in root.glob("*/cases/*.yaml"):
        try:
            if p.is_file() and (p.resolve() == inside or inside in p.resolve().parents):
                out.append(p)
        except (OSError, RuntimeError):
            continue
    return sorted(out)


def folder_regimes(ps: PolicySet) -> dict:
    """Folder (resolved) -> the regime its policy file defines."""
    return {Path(p.path).parent.resolve(): p.regime for p in ps.policies}


def read_case_file(path: Path, root: Path, regimes: dict, display: str | None = None) -> list[Case]:
    """Cases of one file. A malformed file raises ExportctlError (E701) naming file and line."""
    name = display or str(path)
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=facts.Loader)
        data = facts.yaml_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ExportctlError(Diagnostic("E701", f"invalid YAML: {getattr(e, 'problem', e)}",
                                        Span(name, mark.line + 1 if mark else 0, mark.column + 1 if mark else 0)))
    data = facts.normalise(data)
    lines = facts.yaml_lines(node) if node is not None else {}
    diags = facts.validate(data, name, lines, schema_name="case")
    if diags:
        raise ExportctlError([Diagnostic("E701", d.message, d.span) for d in diags])
    case_lines = _node_lines(node)
    regime = regimes.get(path.parent.parent.resolve())
    bases = {**shared_bases(root), **data.get("bases", {})}
    out = []
    seen = set()
    for i, spec in enumerate(data["cases"]):
        line = case_lines.get(i, 1)
        case = Case(spec["name"], name, line, regime, spec)
        if spec["name"] in seen:
            raise ExportctlError(Diagnostic("E701", f"case name {spec['name']!r} is used twice in this file", Span(name, line, 1)))
        seen.add(spec["name"])
        try:
            case.transaction = build_transaction(spec, bases)
        except (KeyError, IndexError, TypeError) as e:
            case.error = ExportctlError(Diagnostic("E701", f"case {spec['name']!r}: cannot apply overrides ({e})", Span(name, line, 1)))
        out.append(case)
    return out


def build_transaction(spec: dict, bases: dict) -> dict:
    if "transaction" in spec:
        tx = copy.deepcopy(spec["transaction"])
    else:
        if spec["base"] not in bases:
            raise KeyError(f"no base transaction named {spec['base']!r}")
        tx = copy.deepcopy(bases[spec["base"]])
    for path, value in (spec.get("with") or {}).items():
        set_path(tx, path, copy.deepcopy(value))
    for path in spec.get("without") or []:
        delete_path(tx, path)
    return tx


def load_cases(ps: PolicySet) -> tuple[list[Case], list[Diagnostic]]:
    """Every case below the policy folder, and the problems of files that could not be read."""
    cases, diags = [], []
    regimes = folder_regimes(ps)
    for f in case_files(ps.root):
        display = display_path(f)
        try:
            cases.extend(read_case_file(f, ps.root, regimes, display))
        except ExportctlError as e:
            diags.extend(e.diagnostics)
    return cases, diags


def display_path(f: Path) -> str:
    """A case file as it is named in messages and test ids: relative to the cwd when inside it."""
    try:
        return str(f.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(f)


def run_case(ps: PolicySet, case: Case) -> CaseResult:
    if case.error:
        return CaseResult(case, None, [d.message for d in case.error.diagnostics])
    try:
        tx = facts.from_data(case.transaction, case.file, folder=ps.schema_folder)
    except ExportctlError as e:
        return CaseResult(case, None, ["the case's transaction is invalid: " + d.message for d in e.diagnostics])
    as_of = _dt.date.fromisoformat(case.spec["as_of"]) if case.spec.get("as_of") else tx.date
    if "screening" in case.spec["expect"]:
        from .screening import decide_with

        decision = decide_with(ps.root, tx.data, as_of,
                               lambda data, explain=True: evaluate(ps.regimes, data, as_of, ps.digest, explain=explain))
    else:
        decision = evaluate(ps.regimes, tx.data, as_of, ps.digest)
    return CaseResult(case, decision, compare(case, decision, ps))


def compare(case: Case, decision: dict, ps: PolicySet) -> list[str]:
    """What differs between the case's expectations and the decision, in words."""
    exp = case.spec["expect"]
    problems = []
    by_regime = {r["regime"]: r for r in decision["regimes"]}
    known_rules = {r.id for p in ps.policies for r in list(p.rules) + list(p.conflicts)}
    if "outcome" in exp:
        if case.regime is None:
            problems.append("`expect.outcome` needs the case file to sit in a regime's folder; use `decision` or `regimes`")
        else:
            got = by_regime.get(case.regime, {}).get("outcome", "not_applicable")
            if got != exp["outcome"]:
                problems.append(f"{case.regime}: expected {exp['outcome']}, got {got}")
    if "decision" in exp and decision["outcome"] != exp["decision"]:
        problems.append(f"decision: expected {exp['decision']}, got {decision['outcome']}")
    for reg, want in (exp.get("regimes") or {}).items():
        if reg not in by_regime:
            problems.append(f"{reg}: no such regime")
            continue
        if by_regime[reg]["outcome"] != want:
            problems.append(f"{reg}: expected {want}, got {by_regime[reg]['outcome']}")
    fired = {f["rule"] for r in decision["regimes"] for f in r["findings"]}
    fired |= {c["conflict"] for c in decision.get("conflicts", [])}
    for rid in list(exp.get("fires", [])) + list(exp.get("not_fires", [])) + case.about:
        if rid not in known_rules:
            problems.append(f"`{rid}` is not a rule of any regime")
    missing_fire = [r for r in exp.get("fires", []) if r not in fired]
    if missing_fire:
        problems.append("expected to fire but did not: " + ", ".join(missing_fire))
    extra = [r for r in exp.get("not_fires", []) if r in fired]
    if extra:
        problems.append("expected not to fire but did: " + ", ".join(extra))
    listed = {o["id"] for o in decision.get("obligations", [])}
    lacking = [o for o in exp.get("obligations", []) if o not in listed]
    if lacking:
        problems.append("expected obligations not listed: " + ", ".join(lacking)
                        + f" (listed: {', '.join(sorted(listed)) or 'none'})")
    extra = [o for o in exp.get("no_obligations", []) if o in listed]
    if extra:
        problems.append("obligations listed but not expected: " + ", ".join(extra))
    if "denial_kind" in exp:
        got = by_regime.get(case.regime or "", {}).get("denial_kind")
        if got != exp["denial_kind"]:
            problems.append(f"{case.regime}: expected denial kind {exp['denial_kind']}, got {got or 'none'}")
    if "authorization" in exp:
        auths = {f["authorization"] for r in decision["regimes"] for f in r["findings"] if f["authorization"]}
        if exp["authorization"] not in auths:
            problems.append(f"expected authorization {exp['authorization']}, got {', '.join(sorted(auths)) or 'none'}")
    if "missing" in exp:
        lacking = [m for m in exp["missing"] if m not in decision["missing"]]
        if lacking:
            problems.append("expected missing facts not listed: " + ", ".join(lacking)
                            + f" (listed: {', '.join(decision['missing']) or 'none'})")
    if "conflicts" in exp:
        got_c = {c["conflict"] for c in decision.get("conflicts", [])}
        lacking = [c for c in exp["conflicts"] if c not in got_c]
        if lacking:
            problems.append("expected conflicts not reported: " + ", ".join(lacking))
    if "screening" in exp:
        screened = {p["party"]: p for p in (decision.get("screening") or {}).get("parties", [])}
        for want in exp["screening"]:
            got = screened.get(want["party"])
            if got is None:
                problems.append(f"screening: no party {want['party']} was screened (does the policy folder have lists/?)")
                continue
            if got["status"] != want["status"]:
                problems.append(f"screening: {want['party']}: expected {want['status']}, got {got['status']}")
            keys = [f"{m['list']}/{m['entry']}" for m in got["matches"]]
            if "entry" in want and want["entry"] not in keys:
                problems.append(f"screening: {want['party']}: expected a match with {want['entry']}, "
                                f"got {', '.join(keys) or 'none'}")
    return problems


def run_all(ps: PolicySet) -> tuple[list[CaseResult], list[Diagnostic]]:
    cases, diags = load_cases(ps)
    return [run_case(ps, c) for c in cases], diags


# ---------------------------------------------------------------- coverage

@dataclass
class RuleCoverage:
    regime: str
    rule_id: str
    cite: str | None
    span: Span
    fired_in: list[str] = field(default_factory=list)
    near_miss_in: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool(self.fired_in) and bool(self.near_miss_in)


def coverage(ps: PolicySet, results: list[CaseResult]) -> list[RuleCoverage]:
    """Per rule: the cases where it fires, and the near misses (cases about it where it does not)."""
    cov = {}
    for p in ps.policies:
        for r in list(p.rules) + list(p.conflicts):
            cov[r.id] = RuleCoverage(p.regime, r.id, r.cite, r.span)
    for res in results:
        if res.decision is None:
            continue
        fired = res.fired()
        named = set(res.case.about) | set(res.case.spec["expect"].get("not_fires", []))
        for rid in fired:
            if rid in cov:
                cov[rid].fired_in.append(res.case.name)
        for rid in named - fired:
            if rid in cov:
                cov[rid].near_miss_in.append(res.case.name)
    return list(cov.values())


def coverage_diagnostics(cov: list[RuleCoverage]) -> list[Diagnostic]:
    out = []
    for c in cov:
        if not c.fired_in:
            out.append(Diagnostic("E501", f"rule `{c.rule_id}` ({c.cite}) has no golden case where it fires", c.span,
                                  hint="add a case under cases/ whose `expect.fires` names it"))
        if not c.near_miss_in:
            out.append(Diagnostic("E502", f"rule `{c.rule_id}` ({c.cite}) has no near-miss case", c.span,
                                  hint="add a case that names it in `about` or `expect.not_fires` and where it does not fire"))
    return out
