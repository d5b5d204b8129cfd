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
from .compile import Compiler, Ctx, Scope, mentions_item
from .explain import Explainer, facts_of
from .semantics import in_force, truth, within
from .values import Node, SetValue

from . import __version__

RANK = A.RANK
ENGINE = f"exportctl {__version__}"


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
class CompiledEncodes:
    decl: A.Encodes
    key: str                 # the classification list, e.g. "eccn"
    entries: object          # f(ctx, env) -> SetValue
    when: object             # f(ctx, env) over `item`, or None


@dataclass
class CompiledRegime:
    policy: A.Policy
    applies: list            # [(Applies, fn)]
    rules: list              # top-level CompiledRule (not exceptions)
    all_rules: dict          # id -> CompiledRule
    conflicts: list
    digest: str
    encodes: list = field(default_factory=list)    # [CompiledEncodes]
    explainer: object = None                       # explain.Explainer, shared by the policy set
    fast_why: object = None                        # explain.FastHints: codegen's, for one decision

    @property
    def id(self) -> str:
        return self.policy.regime


def regime_order(regimes) -> list:
    """Compiled regimes in decision order (`ast.regime_sort_key`: binding first, each alphabetical)."""
    return sorted(regimes, key=lambda r: A.regime_sort_key(r.id, r.policy.header.binding))


def compile_regimes(policies: list[A.Policy], fact_roots: frozenset, digests: dict) -> dict:
    """Compile every policy; returns regime id -> CompiledRegime."""
    comp = Compiler(policies, fact_roots)
    explainer = Explainer(comp)
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
        encodes = [CompiledEncodes(s, s.path.parts[-1], comp.expr(s.entries, plain),
                                   comp.expr(s.when, rule_scope) if s.when is not None else None)
                   for s in p.encodes]
        out[p.regime] = CompiledRegime(p, applies, top, compiled, conflicts, digests.get(p.path, ""),
                                       encodes, explainer)
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


def make_finding(rule: A.Rule, item_id, because: dict) -> dict:
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
    if rule.denial:
        f["denial_kind"] = rule.denial
    return f


def resolve_rule(cr: CompiledRule, ctx: Ctx, env: dict, item_id, day) -> _Result | None:
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
        if not in_force(exc.rule.start, exc.rule.end, day):
            continue
        r = resolve_rule(exc, ctx, env, item_id, day)
        if r is None:
            continue
        (holding if r.certain else doubtful).append(r)
    if holding:
        best = min(holding, key=lambda r: RANK[r.outcome])
        effective = best.outcome
        findings = [f for r in holding for f in r.findings if RANK[r.outcome] == RANK[effective]]
        if v is True:
            # the exception's finding explains both why the rule applied and why it gave way
            own = facts_of(reads)
            findings = [{**f, "because": {**own, **f["because"]}} for f in findings]
        for r in holding:
            missing |= r.missing
    else:
        effective = cr.rule.outcome
        findings = [make_finding(cr.rule, item_id, facts_of(reads))] if v is True else []
    potential = effective
    for r in doubtful:
        missing |= r.missing  # an exception that could not be checked, or could make it stricter
        potential = _stricter(potential, r.potential)
    if v is True:
        return _Result("defeated" if holding else "fired", effective, potential, findings, missing)
    return _Result("unknown", effective, potential, [], set(v.paths) | missing)


def scope_findings(reg: CompiledRegime, ctx: Ctx, items: list) -> list:
    """Items and components (at any depth, walked without recursion) whose classification on a
    list the policy encodes is outside its encoded scope: the policy cannot see them."""
    out = []
    for enc in reg.encodes:
        entries = enc.entries(ctx, {})
        if type(entries) is not SetValue:
            continue
        allowed = tuple(entries.values)
        stack = [(f"items[{i}]", it) for i, it in reversed(list(enumerate(items)))]
        while stack:
            path, node = stack.pop()
            if type(node) is not dict:
                continue
            comps = node.get("components")
            if type(comps) is list:
                stack.extend((f"{path}.components[{j}]", c) for j, c in reversed(list(enumerate(comps))))
            cls = node.get("classification")
            value = cls.get(enc.key) if type(cls) is dict else None
            if type(value) is not str or within(value, allowed):
                continue
            if enc.when is not None:
                ctx.reads = []
                if truth(enc.when(ctx, {"item": Node(path, node)})) is not True:
                    continue
            d = enc.decl
            out.append({
                "rule": f"{reg.id}.scope.{enc.key}",
                "outcome": "indeterminate",
                "item": node.get("id"),
                "authorization": None,
                "cite": d.cite or "",
                "message": (f"{_LIST_NAMES.get(enc.key, enc.key)} {value} is outside what this policy encodes: "
                            "determine it by hand"),
                "because": {f"{path}.classification.{enc.key}": value},
            })
    return out


_LIST_NAMES = {"eccn": "ECCN", "usml": "USML entry", "eu": "EU Annex I entry", "cn": "China list entry",
               "mtcr": "MTCR Annex item", "wassenaar": "Wassenaar entry", "cn_military": "China military list entry"}


def entry_head(reg: CompiledRegime, outcome: str = "not_applicable", findings: list | None = None) -> dict:
    """A regime entry's first keys, in their order (strict mode compares the order of entries
    built directly with these). `_needs` (missing path -> {(rule id, cite)}: which rules need the
    answer) and `_alone` (paths whose answer alone settles a rule) are for `decide` only."""
    h = reg.policy.header
    return {"regime": reg.id, "title": h.title, "binding": h.binding, "version": h.version, "outcome": outcome,
            "findings": [] if findings is None else findings, "missing": [], "_needs": {}, "_alone": set()}


def applies_checks(reg: CompiledRegime, ctx: Ctx, fast) -> list:
    """The checks of a regime that does not apply: each `applies`, with the facts it read."""
    applies_not, p = reg.explainer.applies_not, reg.policy
    return [applies_not(p, a, ctx, fast, k) for k, (a, _) in enumerate(reg.applies)]


def evaluate_regime(reg: CompiledRegime, ctx: Ctx, explain: bool = True) -> dict:
    p = reg.policy
    h = p.header
    day = ctx.as_of
    entry = entry_head(reg)
    needs, alone = entry["_needs"], entry["_alone"]
    if not in_force(h.start, h.end, day):
        entry["note"] = f"not in force on {day.isoformat()}"
        return entry
    # Several `applies` declarations are alternatives: their Kleene "or" (none: always applies).
    applies = True if not reg.applies else False
    app_missing: set = set()
    for a, fn in reg.applies:
        ctx.reads = []
        v = truth(fn(ctx, {}))
        if v is True:
            applies, app_missing = True, set()
            break
        if v is not False:
            applies = v
            app_missing |= v.paths
    if applies is False:
        if explain and reg.explainer is not None:
            entry["checked"] = applies_checks(reg, ctx, reg.fast_why)
        return entry
    items = ctx.root.data.get("items") or []
    item_envs = [({"item": Node(f"items[{i}]", it)}, it.get("id")) for i, it in enumerate(items)]
    tx_env = [({}, None)]
    findings: list = []
    missing: set = set()
    unknowns: list = []
    seen: set = set()          # (rule id, item id) that fired, gave way, or stayed unknown
    fired: list = []           # (CompiledRule, env, item id) whose own finding stands
    definite = "no_license_required"
    for cr in reg.rules:
        if not in_force(cr.rule.start, cr.rule.end, day):
            continue
        for env, item_id in (item_envs if cr.per_item else tx_env):
            r = resolve_rule(cr, ctx, env, item_id, day)
            if r is None:
                continue
            seen.add((cr.id, item_id))
            for path in r.missing:
                needs.setdefault(path, set()).add((cr.id, cr.rule.cite or ""))
            if r.status == "unknown":
                if len(r.missing) == 1:
                    alone.update(r.missing)
                unknowns.append(r)
                continue
            if r.status == "fired":
                fired.append((cr, env, item_id))
            findings.extend(r.findings)
            if RANK[r.outcome] > RANK[definite]:
                definite = r.outcome
            if RANK[r.potential] > RANK[r.outcome]:
                unknowns.append(r)        # holds, but an unknown could make it stricter
            else:
                missing |= r.missing      # exceptions that could not be checked
    # An unknown fact matters only where it could make the outcome stricter than what is known.
    stricter_if_known = False
    at_most = definite
    for r in unknowns:
        if RANK[r.potential] > RANK[definite]:
            stricter_if_known = True
            at_most = _stricter(at_most, r.potential)
        if RANK[r.potential] > RANK[definite] or r.status != "unknown":
            missing |= r.missing
    outcome = definite
    if stricter_if_known and definite != "prohibited":
        outcome = "indeterminate"
    if applies is not True and (RANK[definite] > RANK["no_license_required"] or stricter_if_known):
        outcome = "indeterminate"
        missing |= app_missing
        for path in app_missing:
            needs.setdefault(path, set()).add((f"{reg.id}.applies", _applies_cite(reg)))
    scope = scope_findings(reg, ctx, items) if applies is True and reg.encodes else []
    if scope:
        findings.extend(scope)
        at_most = "prohibited"
        if definite != "prohibited":
            outcome = "indeterminate"
    entry["outcome"] = outcome
    entry["findings"] = sorted(findings, key=finding_order)
    entry["missing"] = sorted(missing)
    if outcome == "indeterminate":
        entry["at_least"] = definite if applies is True else "not_applicable"
        entry["at_most"] = at_most
    if outcome == "prohibited":
        kind = denial_kind(findings)
        if kind is not None:
            entry["denial_kind"] = kind
    if p.obligations:
        entry["obligations"] = obligations_of(reg, entry["findings"])
    if explain:
        entry["checked"] = _checked(reg, ctx, day, item_envs, tx_env, seen, fired)
    return entry


def denial_kind(findings: list) -> str | None:
    """The kind of a prohibition when every prohibiting finding names one: the strictest (a ban
    outweighs a policy of denial); None otherwise."""
    kinds = [f.get("denial_kind") for f in findings if f["outcome"] == "prohibited"]
    if kinds and None not in kinds:
        return min(kinds, key=A.DENIAL_KINDS.index)
    return None


def obligations_of(reg: CompiledRegime, findings: list) -> list:
    """The duties the standing findings bring (an exception that defeats a rule brings its own
    instead: default logic), one entry per obligation with the rules and items that need it."""
    declared = {o.id: o for o in reg.policy.obligations}
    out: dict = {}
    for f in findings:
        cr = reg.all_rules.get(f["rule"])
        if cr is None:
            continue
        for oid in cr.rule.obliges:
            o = declared[oid]
            e = out.get(oid)
            if e is None:
                e = out[oid] = {"id": oid, "kind": o.kind, "text": o.text, "form": o.form, "authority": o.authority,
                                "by": o.by, "cite": o.cite or "", "rules": [], "items": []}
                if o.unverified:
                    e["unverified"] = o.unverified
            if f["rule"] not in e["rules"]:
                e["rules"].append(f["rule"])
            if f["item"] is not None and f["item"] not in e["items"]:
                e["items"].append(f["item"])
    return sorted(out.values(), key=lambda e: (A.OBLIGATION_KINDS.index(e["kind"]), e["id"]))


def _applies_cite(reg: CompiledRegime) -> str:
    return "; ".join(a.cite for a, _ in reg.applies if a.cite)


def _checked(reg: CompiledRegime, ctx: Ctx, day, item_envs, tx_env, seen: set, fired: list) -> list:
    """The rules considered that did not fire, and the exceptions considered for rules that did,
    each with the condition that kept it from holding (see explain.py)."""
    ex = reg.explainer
    if ex is None:
        return []
    fast = reg.fast_why
    if fast is not None and fast.entries is not None:
        # the compiled evaluator answers every rule's conjuncts in one call: only the rules it
        # found false are visited, the closures only where it met an unknown
        out = found_checks(reg, ctx, item_envs, seen, fast)
        if fast.strict:           # tests: the closures alone must find the same
            slow = _rule_checks(reg, ctx, day, item_envs, tx_env, seen, None)
            mine, theirs = sorted(out, key=check_order), sorted(slow, key=check_order)
            if mine != theirs or [list(c) for c in mine] != [list(c) for c in theirs]:   # keys in order too
                raise AssertionError(f"{reg.id}: compiled checks {out!r}, closures {slow!r}")
    else:
        out = _rule_checks(reg, ctx, day, item_envs, tx_env, seen, fast)
    exception_checks(reg, ctx, day, fired, out, fast)
    out.sort(key=check_order)
    return out


def exception_checks(reg: CompiledRegime, ctx: Ctx, day, fired: list, out: list, fast=None) -> None:
    """The exceptions in force of the rules that fired ((rule, env, item id)), each with the
    condition that kept it from holding, appended to `out`."""
    ex, p = reg.explainer, reg.policy
    for cr, env, item_id in fired:
        for x in reg.all_rules[cr.id].exceptions:
            r = x.rule
            if r.when is None or not in_force(r.start, r.end, day):
                continue
            why = ex.why_not(p, r, ctx, env, gated=False, fast=fast)
            if why is not None:
                out.append({"rule": r.id, "cite": r.cite or "", "item": item_id, "message": r.title,
                            "outcome": r.outcome, "exception_to": cr.id,
                            **({"authorization": r.authorization} if r.authorization else {}),
                            "failed": why["failed"], "facts": why["facts"]})


def check_order(c: dict):
    return (c.get("exception_to") is None, c["item"] or "", c["rule"])


def _check(r: A.Rule, item_id, why: dict) -> dict:
    return {"rule": r.id, "cite": r.cite or "", "item": item_id, "message": r.title, "outcome": r.outcome,
            "failed": why["failed"], "facts": why["facts"]}


def _rule_checks(reg: CompiledRegime, ctx: Ctx, day, item_envs, tx_env, seen: set, fast) -> list:
    """Every top-level rule in force at every item (or once) asked why it did not fire."""
    out = []
    p, why_not = reg.policy, reg.explainer.why_not
    for cr in reg.all_rules.values():
        r = cr.rule
        if r.exception_to is not None or r.when is None or not in_force(r.start, r.end, day):
            continue
        said = False          # a condition that does not depend on the item is reported once
        for env, item_id in (item_envs if cr.per_item else tx_env):
            if (r.id, item_id) in seen:
                continue
            why = why_not(p, r, ctx, env, True, fast)
            if why is None or (said and why["free"]):
                continue
            said = said or why["free"]
            out.append(_check(r, item_id, why))
    return out


def found_checks(reg: CompiledRegime, ctx: Ctx, item_envs, seen: set, fast) -> list:
    """`_rule_checks` from the compiled program (emit_checks.entries_fn): the same entries, in the same
    order, visiting only the rules that have a false (or unknown) condition; the program builds
    them itself where it can and calls `one` for any other. A false condition already explained
    in this decision (the same words at the same item) is not worked out again."""
    out: list = []
    p, ex = reg.policy, reg.explainer
    said: set = set()
    table = ex.check_table(reg)
    tx_env: dict = {}
    tx = ctx.root.data

    def one(rid, i, j):
        """The entry of rule `rid` at item i (-1: once), whose first false conjunct is j (None:
        an unknown was met); the program has checked that the rule is in force on the day and
        has no finding there."""
        r, parts, head = table[rid]
        env, item_id = item_envs[i] if i >= 0 else (tx_env, None)
        if j is None:
            why = ex.why_not(p, r, ctx, env, True, fast)
            if why is None:
                return
            free = why["free"]
        else:
            free = parts[j][3]
            if free and rid in said:
                return          # told once for the rule already: a condition that reads no item
            why = ex.failed(p, r, ctx, env, j, fast)   # its memo, else what the closure read
        if free:
            if rid in said:
                return
            said.add(rid)
        c = head.copy()
        c["item"], c["failed"], c["facts"] = item_id, why["failed"], why["facts"]
        out.append(c)

    fast.entries(tx, tx.get("items") or [], fast.DATE, ctx.cache, seen, said, out, one)
    return out


def finding_order(f: dict):
    return (-RANK.get(f["outcome"], 0), f["item"] or "", f["rule"])


STALE_AFTER = _dt.timedelta(days=365)
"""A regime's version older than this on the date of the law gets a warning: it may have changed."""


def evaluate(regimes: dict, tx_data: dict, as_of: _dt.date, policy_digest: str, *,
             bundled: bool = True, explain: bool = True) -> dict:
    """The decision for one validated transaction (a dict of the decision schema).

    `bundled=False` says the policies are not the ones shipped with exportctl (a warning);
    `explain=False` leaves out `checked` (for benchmarks of its cost only)."""
    ctx = Ctx(tx_data, as_of)
    ordered = regime_order(regimes.values())
    entries = [evaluate_regime(reg, ctx, explain) for reg in ordered]
    return decide(ordered, entries, ctx, tx_data, as_of, policy_digest, bundled)


def decide(ordered: list, entries: list, ctx: Ctx, tx_data: dict, as_of: _dt.date, policy_digest: str,
           bundled: bool = True) -> dict:
    """The decision from its regime entries (`evaluate_regime`'s, in decision order, from the
    same `ctx`): outcome, conflicts, questions, obligations, warnings."""
    binding = [e for e in entries if e["binding"] and e["outcome"] != "not_applicable"]
    if binding:
        outcome = max((e["outcome"] for e in binding), key=RANK.__getitem__)
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
                    "message": " ".join(c.notes) or c.title, "because": facts_of(ctx.reads),
                }
                if c.unverified:
                    entry["unverified"] = c.unverified
                conflicts.append(entry)
    missing = sorted({m for e in entries for m in e["missing"]})
    decision = {
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
    if outcome == "indeterminate":
        decision["at_least"] = max((e.get("at_least", e["outcome"]) for e in binding), key=RANK.get)
        decision["at_most"] = max((e.get("at_most", e["outcome"]) for e in binding), key=RANK.get)
    if missing:          # questions are asked of missing facts only
        from .questions import questions

        decision["questions"] = questions(tx_data, [e for e in entries if e["binding"]])
        advisory = questions(tx_data, [e for e in entries if not e["binding"]])
        if advisory:
            decision["advisory_questions"] = advisory
    else:
        decision["questions"] = []
    for e in entries:
        del e["_needs"], e["_alone"]
    decision["obligations"] = _what_to_do(decision, entries)
    decision["warnings"] = _warnings(ordered, entries, as_of, bundled)
    return decision


def _what_to_do(decision: dict, entries: list) -> list:
    """The binding regimes' obligations as one list, first the open questions if any."""
    steps = []
    if decision["outcome"] == "indeterminate" and decision["questions"]:
        steps.append({"id": "answer-questions", "kind": "answer", "regime": None,
                      "text": f"Answer the {len(decision['questions'])} open question(s) below and evaluate again: "
                              "the outcome depends on them.", "form": None, "authority": None, "by": "exporter",
                      "cite": "", "rules": [], "items": []})
    rest = [{**o, "regime": e["regime"]} for e in entries if e["binding"] and e["outcome"] != "not_applicable"
            for o in e.get("obligations", [])]
    rest.sort(key=lambda o: (A.OBLIGATION_KINDS.index(o["kind"]), o["regime"], o["id"]))
    return steps + rest


_VERSIONS: dict = {}


def _version_date(version: str) -> _dt.date | None:
    """A policy's version as a date (None when it is not one), parsed once per version string."""
    if version not in _VERSIONS:
        try:
            _VERSIONS[version] = _dt.date.fromisoformat(version)
        except ValueError:
            _VERSIONS[version] = None
    return _VERSIONS[version]


def _warnings(ordered: list, entries: list, as_of: _dt.date, bundled: bool) -> list:
    out = []
    if not bundled:
        out.append({"code": "custom-policies",
                    "message": "These policies are not the ones shipped with this exportctl version: "
                               "the policy digest identifies them."})
    for reg, e in zip(ordered, entries):
        if e["outcome"] == "not_applicable":
            continue
        version = _version_date(reg.policy.header.version or "")
        if version is not None and as_of - version > STALE_AFTER:
            out.append({"code": "law-may-have-changed", "regime": e["regime"],
                        "message": f"{e['regime']} encodes the law as of {version.isoformat()}, "
                                   f"{(as_of - version).days} days before {as_of.isoformat()}: the law may "
                                   "have changed since."})
        if e["binding"]:
            shaky = sorted({f["rule"] for f in e["findings"] if f.get("unverified") and f["outcome"] == e["outcome"]})
            if shaky:
                out.append({"code": "unverified-rule-decided", "regime": e["regime"],
                            "message": f"{e['regime']}: the outcome rests on rules whose law is not confirmed "
                                       f"({', '.join(shaky)}); see each finding's `unverified` note."})
    return out
