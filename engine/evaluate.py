"""Facts to findings to a decision.

Per regime: does it apply; which rules fire (per item where a rule mentions `item`);
exceptions defeat the rule they name when their own condition holds (default logic: the
order of rules never matters); unknown facts never make an outcome less restrictive. A
regime whose outcome could become stricter depending on an unknown fact is `indeterminate`
and lists, under `missing`, the fact paths that would settle it."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field

from . import ast as A
from .compile import Compiler, Ctx, Scope, mentions_item, truth
from .values import Node, Unknown

from . import __version__

RANK = A.RANK
ENGINE = f"exportctl {__version__}"
ORDER = ("mtcr", "wassenaar", "us-itar", "us-ear", "eu-dual-use", "cn-export-control")


def _in_force(start, end, day) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


@dataclass
class CompiledRule:
    rule: A.Rule
    cond: object
    per_item: bool
    exceptions: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.rule.id


@dataclass
class CompiledConflict:
    conflict: A.Conflict
    cond: object


@dataclass
class CompiledRegime:
    policy: A.Policy
    applies: list            # [(Applies, fn)]
    rules: list              # top-level CompiledRule (not exceptions)
    all_rules: dict          # id -> CompiledRule
    conflicts: list
    digest: str

    @property
    def id(self) -> str:
        return self.policy.regime


def compile_regimes(policies: list[A.Policy], fact_roots: frozenset, digests: dict) -> dict:
    """Compile every policy; returns regime id -> CompiledRegime."""
    comp = Compiler(policies, fact_roots)
    out = {}
    for p in policies:
        rule_scope = Scope(comp, p, frozenset({"item"}))
        plain = Scope(comp, p, frozenset())
        compiled = {r.id: CompiledRule(r, comp.expr(r.when, rule_scope), mentions_item(r.when)) for r in p.rules}
        for c in compiled.values():
            if c.rule.exception_to in compiled:
                compiled[c.rule.exception_to].exceptions.append(c)
        top = [c for c in compiled.values() if c.rule.exception_to is None]
        applies = [(a, comp.expr(a.condition, plain)) for a in p.applies]
        conflicts = [CompiledConflict(c, comp.expr(c.when, plain)) for c in p.conflicts]
        out[p.regime] = CompiledRegime(p, applies, top, compiled, conflicts, digests.get(p.path, ""))
    return out


@dataclass
class _Result:
    status: str              # fired | defeated | unknown (its own condition is unknown)
    outcome: str             # the effective outcome (when unknown: the outcome if it held)
    potential: str           # the strictest outcome it could still have, given the unknowns
    findings: list
    missing: set

    @property
    def certain(self) -> bool:
        return self.status != "unknown" and RANK[self.potential] <= RANK[self.outcome]


def _stricter(a: str, b: str) -> str:
    return a if RANK[a] >= RANK[b] else b


def _finding(rule: A.Rule, item_id, because: dict) -> dict:
    f = {
        "rule": rule.id,
        "outcome": rule.outcome,
        "item": item_id,
        "authorization": rule.authorization,
        "cite": rule.cite,
        "message": rule.title,
        "because": because,
    }
    if rule.exception_to:
        f["exception_to"] = rule.exception_to
    if rule.unverified:
        f["unverified"] = rule.unverified
    return f


def _because(reads: list) -> dict:
    out: dict = {}
    for path, value in reads:
        if path not in out:
            out[path] = value.isoformat() if isinstance(value, _dt.date) else value
    return out


def _resolve(cr: CompiledRule, ctx: Ctx, env: dict, item_id, day) -> _Result | None:
    """Evaluate one rule with its exceptions at one item (or the whole transaction).

    An exception defeats the rule only when it holds for certain: its condition is true and
    none of its own exceptions could, once an unknown fact is known, make it stricter. An
    exception that depends on an unknown fact does not apply (the rule stands) and its facts
    are listed as missing. Unknowns that could make the outcome stricter raise `potential`."""
    ctx.reads = []
    v = truth(cr.cond(ctx, env))
    if v is False:
        return None
    reads = ctx.reads
    holding: list[_Result] = []
    doubtful: list[_Result] = []
    missing: set = set()
    for exc in cr.exceptions:
        if not _in_force(exc.rule.start, exc.rule.end, day):
            continue
        r = _resolve(exc, ctx, env, item_id, day)
        if r is None:
            continue
        (holding if r.certain else doubtful).append(r)
    if holding:
        best = min(holding, key=lambda r: RANK[r.outcome])
        effective = best.outcome
        findings = [f for r in holding for f in r.findings if RANK[r.outcome] == RANK[effective]]
        if v is True:
            # the exception's finding explains both why the rule applied and why it gave way
            own = _because(reads)
            findings = [{**f, "because": {**own, **f["because"]}} for f in findings]
        for r in holding:
            missing |= r.missing
    else:
        effective = cr.rule.outcome
        findings = [_finding(cr.rule, item_id, _because(reads))] if v is True else []
    potential = effective
    for r in doubtful:
        missing |= r.missing  # an exception that could not be checked, or could make it stricter
        potential = _stricter(potential, r.potential)
    if v is True:
        return _Result("defeated" if holding else "fired", effective, potential, findings, missing)
    return _Result("unknown", effective, potential, [], set(v.paths) | missing)


def evaluate_regime(reg: CompiledRegime, ctx: Ctx) -> dict:
    p = reg.policy
    h = p.header
    day = ctx.as_of
    entry = {
        "regime": reg.id,
        "title": h.title,
        "binding": h.binding,
        "version": h.version,
        "outcome": "not_applicable",
        "findings": [],
        "missing": [],
    }
    if not _in_force(h.start, h.end, day):
        entry["note"] = f"not in force on {day.isoformat()}"
        return entry
    # Several `applies` declarations are alternatives: their Kleene "or" (none: always applies).
    applies = True if not reg.applies else False
    app_missing: set = set()
    for _, fn in reg.applies:
        ctx.reads = []
        v = truth(fn(ctx, {}))
        if v is True:
            applies, app_missing = True, set()
            break
        if v is not False:
            applies = v
            app_missing |= v.paths
    if applies is False:
        return entry
    items = ctx.root.data.get("items") or []
    item_envs = [({"item": Node(f"items[{i}]", it)}, it.get("id")) for i, it in enumerate(items)]
    tx_env = [({}, None)]
    findings: list = []
    missing: set = set()
    unknowns: list = []
    definite = "no_license_required"
    for cr in reg.rules:
        if not _in_force(cr.rule.start, cr.rule.end, day):
            continue
        for env, item_id in (item_envs if cr.per_item else tx_env):
            r = _resolve(cr, ctx, env, item_id, day)
            if r is None:
                continue
            if r.status == "unknown":
                unknowns.append(r)
                continue
            findings.extend(r.findings)
            if RANK[r.outcome] > RANK[definite]:
                definite = r.outcome
            if RANK[r.potential] > RANK[r.outcome]:
                unknowns.append(r)        # holds, but an unknown could make it stricter
            else:
                missing |= r.missing      # exceptions that could not be checked
    # An unknown fact matters only where it could make the outcome stricter than what is known.
    stricter_if_known = False
    for r in unknowns:
        if RANK[r.potential] > RANK[definite]:
            stricter_if_known = True
        if RANK[r.potential] > RANK[definite] or r.status != "unknown":
            missing |= r.missing
    outcome = definite
    if stricter_if_known and definite != "prohibited":
        outcome = "indeterminate"
    if applies is not True and (RANK[definite] > RANK["no_license_required"] or stricter_if_known):
        outcome = "indeterminate"
        missing |= app_missing
    entry["outcome"] = outcome
    entry["findings"] = sorted(findings, key=_finding_order)
    entry["missing"] = sorted(missing)
    return entry


def _finding_order(f: dict):
    return (-RANK.get(f["outcome"], 0), f["item"] or "", f["rule"])


def evaluate(regimes: dict, tx_data: dict, as_of: _dt.date, policy_digest: str) -> dict:
    """The decision for one validated transaction (a dict of the decision schema)."""
    ctx = Ctx(tx_data, as_of)
    ordered = sorted(regimes.values(), key=lambda r: (ORDER.index(r.id) if r.id in ORDER else 99, r.id))
    entries = [evaluate_regime(reg, ctx) for reg in ordered]
    binding = [e for e in entries if e["binding"] and e["outcome"] != "not_applicable"]
    if binding:
        outcome = max((e["outcome"] for e in binding), key=lambda o: RANK[o])
        driven_by = [e["regime"] for e in binding if e["outcome"] == outcome]
    else:
        outcome, driven_by = "not_applicable", []
    ctx.outcomes = {e["regime"]: e["outcome"] for e in entries}
    conflicts = []
    for reg in ordered:
        for cc in reg.conflicts:
            c = cc.conflict
            ctx.reads = []
            if truth(cc.cond(ctx, {})) is True:
                entry = {
                    "conflict": c.id, "title": c.title, "cite": c.cite, "regimes": list(c.regimes),
                    "message": " ".join(c.notes) or c.title, "because": _because(ctx.reads),
                }
                if c.unverified:
                    entry["unverified"] = c.unverified
                conflicts.append(entry)
    missing = sorted({m for e in entries for m in e["missing"]})
    return {
        "transaction": str(tx_data.get("id")),
        "as_of": as_of.isoformat(),
        "outcome": outcome,
        "driven_by": driven_by,
        "regimes": entries,
        "missing": missing,
        "conflicts": conflicts,
        "policy_digest": policy_digest,
        "engine": ENGINE,
    }
