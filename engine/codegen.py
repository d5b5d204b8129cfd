"""Fast evaluation: rule conditions compiled to Python functions, built as `ast` nodes.

A drop-in for `evaluate.evaluate`: `compile_fast(regimes).evaluate(tx_data, as_of, digest)`
returns exactly the decision the closure evaluator returns. How:

* Two-valued fast path. Each condition becomes Python code over the raw transaction dicts.
  Where the closure evaluator would meet an unknown fact (an absent key), the generated code
  raises (`KeyError`, `TypeError` or `_Unknown`) and the condition's status is "unknown";
  the rule is then resolved by the three-valued closures of `compile.py`, so `missing` and
  `indeterminate` come out exactly as before. Unknown is only ever a reason to fall back,
  never an answer: a fast answer is given only where no unknown was met.
* The decision itself is made by `evaluate.evaluate`, unchanged: it is given, for this
  transaction, only the rules the fast path did not find false, with conditions that answer
  "false" where the fast path is sure and otherwise run the closures. So default logic,
  exceptions, `missing` and the order of findings are the closure evaluator's by construction,
  and only fired rules pay for explanations (their closure runs to collect `because`).
  `FastEvaluator.fired_rules` skips the decision document for screening loops.
* Rules are indexed by what they test: top-level conjuncts shared by several rules
  (`x515(item)`, `destination in D5`, `eccn startswith "9A515"`) become guards of nested
  blocks, so one decision evaluates each guard once and skips the rules behind a false one.
  Definitions without parameters (and with `item` as their only argument) are computed once
  per decision (per item), small ones inlined.
* Time: the dates at which any rule, regime or set member enters or leaves force cut the
  calendar into epochs. The program is generated and compiled once; what changes between
  epochs (sets, whether a dated rule is in force) are globals of the program, bound per epoch
  (cached): the same code objects, other globals.
* Tiered: `compile_fast` lets the closures make the first decisions and generates the
  program when a batch is under way; `FastEvaluator.prepare()` generates it at once.

No text is ever turned into code: the generator builds `ast` nodes whose only policy-derived
parts are constants (strings, numbers, set members); identifiers are numbered. The module is
compiled with `compile()` and each function taken from the code object's constants with
`types.FunctionType`.

Three modules, as Jinja2 splits its compiler from its runtime: emit.py generates the program,
runtime.py holds the helpers the generated code calls, and this module runs it (epochs,
binding, the wrappers that hand undecided rules to the closures, `compile_fast`).
"""

from __future__ import annotations

import ast
import bisect
import datetime as _dt
import gc
import types
from dataclasses import dataclass, field
from operator import itemgetter

from . import ast as A
from .compile import Compiler, Ctx
from .evaluate import (RANK, CompiledConflict, CompiledRegime, CompiledRule, applies_checks, check_order, denial_kind,
                       entry_head, make_finding,
                       finding_order, found_checks, obligations_of, decide, evaluate_regime, exception_checks,
                       regime_order, resolve_rule, scope_findings)
from .evaluate import evaluate as plain_evaluate
from .explain import APPLIED, FastHints, recorded
from .runtime import STRICT_HELPERS, UNKNOWN_ERRORS, StrictMemo, facts_of
from .semantics import in_force, truth
from .values import Node

TYPE_CHECKING = False    # typing.TYPE_CHECKING without importing typing (11 M instructions of a warm start)
if TYPE_CHECKING:
    from .emit import Code

__all__ = ["compile_fast", "FastEvaluator"]


# ---------------------------------------------------------------- programs per epoch

_PRIMED = ("exportctl-fast", "sets")


@dataclass
class _RegimePlan:
    """A regime on the days of one epoch."""

    reg: object                     # evaluate.CompiledRegime
    in_force: bool
    rules: list                     # the regime's top-level CompiledRules (index k)
    ids: list
    simple: list                    # per k: no exception in force, so a true condition just fires
    index: dict = field(default_factory=dict)      # rule id -> k
    fn: object = None
    applies: list = field(default_factory=list)
    w_exceptions: list = field(default_factory=list)   # per k: its exceptions, wrapped
    t_exceptions: list = field(default_factory=list)   # the same, trusting a true fast answer (no `because`)
    exc_fast: list = field(default_factory=list)       # per k: fast functions of its exceptions in force
    w_applies: list = field(default_factory=list)      # reg.applies, wrapped
    x_applies: list = field(default_factory=list)      # the same, for a decision with its checks (see _wrap_applies)
    w_conflicts: list = field(default_factory=list)    # reg.conflicts, wrapped
    why: dict = field(default_factory=dict)            # rule id -> fast functions of its conjuncts (explain.py)
    rec_why: dict = field(default_factory=dict)        # rule id -> recording functions of its conjuncts
    rec_applies: list = field(default_factory=list)    # recording functions of `applies`
    entries: object = None                             # emit_checks.entries_fn: the checks behind a "no"
    static: object = None           # the regime for `evaluate.decide` (its conflicts wrapped) and when not in force
    lately: int = 0                 # > 0: the regime has mostly not applied lately (`_direct`)


@dataclass
class _Program:
    regimes: list                   # _RegimePlan, in decision order
    exceptions: dict                # rule id -> fast function (tx, DATE, item)
    sets: dict                      # the closure evaluator's cache entries of the named sets, for the epoch
    recorders: dict = field(default_factory=dict)   # rule id -> recording function of its condition
    ordered: list = field(default_factory=list)     # each plan's `static`, in decision order

    def prime(self, ctx: Ctx) -> None:
        """Give a closure context the epoch's named sets, so that it does not rebuild them."""
        if _PRIMED not in ctx.cache:
            ctx.cache.update(self.sets)


def _bind(ev: "FastEvaluator", code: Code, day: _dt.date) -> _Program:
    """The program on the days of one epoch: the compiled functions with that epoch's globals."""
    resolved: dict = {}
    ns = code.builder.bind(day, resolved)
    # the same SetValues the closures would build for this day, under their cache keys
    # (compile.Compiler.set_fn), so that explanations and fallbacks do not rebuild them
    sets = {("set",) + key: sv for key, sv in resolved.items()}
    sets[_PRIMED] = True
    program = _Program([], {}, sets)
    ns["_XE"] = StrictMemo() if ev.strict else {}     # the checks' memos across decisions, per epoch
    ns["_XG"] = StrictMemo() if ev.strict else {}
    if ev.strict:
        ns.update(STRICT_HELPERS)
    for name, c in code.code.items():
        ns[name] = types.FunctionType(c, ns, name)
    exceptions = program.exceptions
    exceptions.update((rid, ns[n]) for rid, n in code.exceptions.items())
    plans = program.regimes
    for rc in code.regimes:
        reg = rc.reg
        p = reg.policy
        plan = _RegimePlan(reg, in_force(p.header.start, p.header.end, day), reg.rules, [cr.id for cr in reg.rules],
                           [not any(in_force(x.rule.start, x.rule.end, day) for x in cr.exceptions) for cr in reg.rules])
        plan.index = {rid: k for k, rid in enumerate(plan.ids)}
        plans.append(plan)
        plan.w_conflicts = [CompiledConflict(cc.conflict, _wrap_conflict(ev, program, cc.cond, ns[f]))
                            for cc, f in zip(reg.conflicts, rc.conflicts)]
        plan.static = CompiledRegime(reg.policy, reg.applies, [], reg.all_rules, plan.w_conflicts, reg.digest,
                                     reg.encodes, reg.explainer)
        program.ordered.append(plan.static)
        if not plan.in_force:
            continue
        plan.fn = ns[rc.fn]
        plan.why = {rid: [ns[f] for f in names] for rid, names in rc.why.items()}
        plan.rec_why = {rid: [ns[f] for f in names] for rid, names in rc.rec_why.items()}
        plan.rec_applies = [ns[f] for f in rc.rec_applies]
        plan.entries = ns[rc.entries] if rc.entries else None
        program.recorders.update((rid, ns[f]) for rid, f in rc.rec_rules.items() if f is not None)
        plan.applies = [ns[f] for f in rc.applies]
        plan.w_applies = [(a, _wrap_applies(ev, program, fn, ns[f])) for (a, fn), f in zip(reg.applies, rc.applies)]
        plan.x_applies = [(a, _wrap_applies(ev, program, fn, ns[f], ns[r], (reg.id, k), [0]))
                          for k, ((a, fn), f, r) in enumerate(zip(reg.applies, rc.applies, rc.rec_applies))]
        plan.w_exceptions = [[_wrap_exception(ev, program, x, day) for x in cr.exceptions] for cr in reg.rules]
        plan.t_exceptions = [[_wrap_exception(ev, program, x, day, True) for x in cr.exceptions] for cr in reg.rules]
        plan.exc_fast = [tuple(exceptions[x.id] for x in cr.exceptions if in_force(x.rule.start, x.rule.end, day))
                         for cr in reg.rules]
    return program


# -- the closure evaluator's objects, with conditions that try the fast path first.
# `evaluate.evaluate` itself decides: these wrappers only answer "false" (or, for `applies`,
# true or false) where the fast path is sure, and otherwise run the closure.

def _wrap_exception(ev: "FastEvaluator", program: _Program, x, day, trust: bool = False):
    """`x` with a condition that is false where the fast path finds it false; with `trust`, also
    true where the fast path finds it true (no closure run: no `because`, for `fired_rules`)."""
    if not in_force(x.rule.start, x.rule.end, day):
        return x
    fast, rec = program.exceptions[x.id], program.recorders.get(x.id)
    real, prime, dates, strict = x.cond, program.prime, ev._dates, ev.strict

    def cond(ctx, env):
        tx = ctx.root.data
        it = env.get("item")
        DATE = dates[tx["date"]]
        st = fast(tx, DATE, None if it is None else it.data)
        if st is False or (st is True and trust):
            return st
        if st is True and rec is not None:        # holds: what it read, without the closure
            v = recorded(rec, ctx, env, DATE, real if strict else None)
            if v is not None:
                return v
        prime(ctx)
        return real(ctx, env)

    return CompiledRule(x.rule, cond, x.per_item, [_wrap_exception(ev, program, y, day, trust) for y in x.exceptions])


def _wrap_applies(ev: "FastEvaluator", program: _Program, real, fast, rec=None, key=None, score=None):
    """An `applies` condition, two-valued first. With `rec` (a decision with its checks): an
    `applies` that has mostly been false lately is evaluated by its recording function instead,
    whose reads are kept for the check of a regime that does not apply (one evaluation instead
    of two); `score` is that history, per `applies`, shared by every decision of the epoch."""
    prime, dates = program.prime, ev._dates
    strict = ev.strict

    def fn(ctx, env):
        tx = ctx.root.data
        DATE = dates[tx["date"]]
        st = None
        if rec is not None and score[0] > 0:
            mark = len(ctx.reads)
            st = recorded(rec, ctx, env, DATE, real if strict else None)
            if st is False:
                ctx.cache[(APPLIED,) + key] = ctx.reads[mark:]
        if st is None:
            st = fast(tx, DATE)
        if rec is not None:
            score[0] = max(score[0] - 1, -4) if st is True else min(score[0] + 1, 4)
        if st is None:
            prime(ctx)
            return real(ctx, env)
        return st

    return fn


def _wrap_conflict(ev: "FastEvaluator", program: _Program, real, fast):
    prime, dates = program.prime, ev._dates

    def cond(ctx, env):
        tx = ctx.root.data
        if fast(tx, dates[tx["date"]], ctx.outcomes) is False:
            return False
        prime(ctx)
        return real(ctx, env)

    return cond


def _wrap_hit(program: _Program, real, statuses: dict, strict: bool, rec=None, DATE=None):
    """A rule's condition for one decision: false wherever the fast path found it false; where
    it found it true, the recording function (if any) says what it read."""
    prime = program.prime

    def cond(ctx, env):
        it = env.get("item")
        st = statuses.get(None if it is None else id(it.data), False)
        if st is False:
            return False
        if st is True and rec is not None:
            v = recorded(rec, ctx, env, DATE, real if strict else None)
            if v is not None:
                return v
        prime(ctx)
        v = real(ctx, env)
        if strict and statuses[None if it is None else id(it.data)] is True and truth(v) is not True:
            raise AssertionError(f"the fast path found a rule true, the closure evaluator found {v!r}")
        return v

    return cond


_by_rule = itemgetter("rule")


def _same(a, b) -> bool:
    """Equal, and mappings with their keys in the same order (the same JSON)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        return list(a) == list(b) and all(_same(v, b[k]) for k, v in a.items())
    if type(a) is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def _always_true(ctx, env):
    return True


# ---------------------------------------------------------------- the evaluator

class _Fallback(Exception):
    """The transaction cannot take the fast path (e.g. its date is not a date)."""


class FastEvaluator:
    """Decides transactions with the compiled rules; same decisions as `evaluate.evaluate`.

    Tiered: the first `warmup` decisions are made by the closure evaluator, and the program is
    generated when the next one comes (a single CLI evaluation, or a batch of a few hundred,
    does not pay for code generation that saves less than it costs: see `WARMUP`); `prepare()`
    generates it at once.
    `strict=True` (tests) re-raises errors of the fast path instead of quietly answering with
    the closure evaluator alone."""

    def __init__(self, regimes: dict, fact_roots: frozenset, strict: bool = False, warmup: int = 0):
        self.regimes = regimes
        self.fact_roots = fact_roots
        self.strict = strict
        self.warmup = warmup
        policies = [r.policy for r in regimes.values()]
        self._comp = Compiler(policies, fact_roots)
        self._ordered = regime_order(regimes.values())
        self._policies = policies
        self._break_days: list | None = None
        self._code: Code | None = None
        self._epochs: dict = {}        # epoch index -> _Program
        self._by_day: dict = {}        # date -> _Program
        self._dates: dict = {}         # ISO string -> date
        self.fallbacks = 0             # transactions decided by the closure evaluator alone

    # -- programs
    @property
    def _breaks(self) -> list:
        """The epochs' first days (`_breakpoints`), worked out when the first program is: a start
        that decides one transaction during the warm-up never needs them (3 ms)."""
        if self._break_days is None:
            self._break_days = _breakpoints(self._policies)
        return self._break_days

    def program(self, day: _dt.date) -> _Program:
        p = self._by_day.get(day)
        if p is None:
            e = bisect.bisect_right(self._breaks, day)
            p = self._epochs.get(e)
            if p is None:
                # Generating makes some 10^5 AST nodes and code objects, none of them garbage: with
                # the collector running, its passes took a third of the time (0.38-0.58 s against
                # 0.25 s for the bundled policies' first program)
                collecting = gc.isenabled()
                gc.disable()
                try:
                    if self._code is None:
                        self._code = self._generate()
                    p = self._epochs[e] = _bind(self, self._code, day)
                finally:
                    if collecting:
                        gc.enable()
            if len(self._by_day) > 20000:
                self._by_day.clear()
            self._by_day[day] = p
        return p

    def _generate(self):
        # imported here, not at the top: a start that decides a few transactions never needs them
        from .emit import generate
        from .emit_checks import entries_fn
        from .emit_reads import Recorder

        return generate(self._comp, self.fact_roots, self._ordered, Recorder, entries_fn)

    def expect_many(self) -> None:
        """Many decisions are coming (a long batch): generate the program after `EAGER_WARMUP`
        decisions instead of `warmup`, since it will pay for itself."""
        self.warmup = min(self.warmup, EAGER_WARMUP)

    def prepare(self) -> int:
        """Compile the program of every epoch now instead of on first use; returns how many."""
        for d in [_dt.date.min] + list(self._breaks):
            self.program(d)
        return len(self._epochs)

    def dump(self) -> str:
        """The generated Python, for reading (the per-epoch globals `_s*`, `_on*`... are not shown)."""
        if self._code is None:
            self._code = self._generate()
        return ast.unparse(self._code.builder.module)

    def _date(self, tx: dict) -> _dt.date:
        s = tx.get("date")
        d = self._dates.get(s) if type(s) is str else None
        if d is None:
            if type(s) is not str:
                raise _Fallback
            try:
                d = _dt.date.fromisoformat(s)
            except ValueError:
                raise _Fallback from None
            if len(self._dates) > 20000:
                self._dates.clear()
            self._dates[s] = d
        return d

    # -- the decision
    def evaluate(self, tx_data: dict, as_of: _dt.date, policy_digest: str, **options) -> dict:
        """The decision for one validated transaction: exactly `evaluate.evaluate(...)` (same options)."""
        if self.warmup and self._code is None:
            self.warmup -= 1
            return plain_evaluate(self.regimes, tx_data, as_of, policy_digest, **options)
        try:
            return self._decide(tx_data, as_of, policy_digest, **options)
        except Exception as e:
            if self.strict and not isinstance(e, _Fallback):
                raise
            self.fallbacks += 1
            return plain_evaluate(self.regimes, tx_data, as_of, policy_digest, **options)

    def _decide(self, tx: dict, day: _dt.date, policy_digest: str, bundled: bool = True, explain: bool = True) -> dict:
        """The decision: each regime's entry built directly where the fast path is sure of
        everything (`_direct`), else by `evaluate.evaluate_regime` with the rules the fast path
        did not find false, each with a condition that is false where the fast path found it false."""
        DATE = self._date(tx)
        prog = self.program(day)
        items = tx.get("items") or []
        ctx = Ctx(tx, day)
        entries = []
        for plan in prog.regimes:
            if not plan.in_force:
                entries.append(evaluate_regime(plan.static, ctx, explain))
                continue
            fired: list = []
            hits = plan.fn(tx, items, DATE, fired)
            e = self._direct(plan, prog, tx, items, DATE, ctx, hits, fired, explain)
            if e is None:
                e = evaluate_regime(self._regime(plan, prog, items, DATE, hits, fired, explain), ctx, explain)
            elif self.strict:          # tests: the general path must build the same entry, keys in order
                want = evaluate_regime(self._regime(plan, prog, items, DATE, hits, fired, explain), Ctx(tx, day), explain)
                if not _same(e, want):
                    raise AssertionError(f"{plan.reg.id}: built directly {e!r}, by evaluate_regime {want!r}")
            entries.append(e)
        return decide(prog.ordered, entries, ctx, tx, day, policy_digest, bundled)

    def _regime(self, plan: _RegimePlan, prog: _Program, items: list, DATE, hits: list, fired: list,
                explain: bool) -> CompiledRegime:
        """The compiled regime for one decision: only the rules the fast path did not find false."""
        reg = plan.reg
        by_rule: dict = {}
        for k, i, st in hits:
            by_rule.setdefault(k, {})[None if i < 0 else id(items[i])] = st
        for rid in fired:
            by_rule[plan.index[rid]] = {None: True}
        recs = prog.recorders
        rules = [CompiledRule(plan.rules[k].rule,
                              _wrap_hit(prog, plan.rules[k].cond, by_rule[k], self.strict, recs.get(plan.ids[k]), DATE),
                              plan.rules[k].per_item, plan.w_exceptions[k]) for k in sorted(by_rule)]
        return CompiledRegime(reg.policy, plan.x_applies if explain else plan.w_applies, rules, reg.all_rules,
                              plan.w_conflicts, reg.digest, reg.encodes, reg.explainer,
                              FastHints(plan.why, DATE, plan.rec_why, plan.rec_applies, self.strict, plan.entries))

    def _direct(self, plan: _RegimePlan, prog: _Program, tx: dict, items: list, DATE, ctx: Ctx, hits: list,
                fired: list, explain: bool) -> dict | None:
        """A regime's entry built from the fast path's answers alone, what `evaluate_regime` builds
        when nothing is unknown: it applies for certain, every rule is true or false, no exception
        holds. Items outside an encoded scope add their findings as `evaluate_regime` adds them.
        None otherwise (the general path decides)."""
        reg = plan.reg
        if plan.applies:
            st = None
            if explain and plan.lately > 0 and plan.rec_applies:
                st = self._applies_recorded(plan, ctx, tx, DATE)
            if st is None:
                for f in plan.applies:
                    st = f(tx, DATE)
                    if st is not False:
                        break
            plan.lately = max(plan.lately - 1, -4) if st is True else min(plan.lately + 1, 4)
            if st is False:
                return self._not_applicable(plan, prog, ctx, DATE, explain)
            if st is not True:         # unknown: the general path says what is missing
                return None
        index, simple, exc_fast = plan.index, plan.simple, plan.exc_fast
        fire = [(index[rid], -1) for rid in fired]
        for k, i, st in hits:
            if st is not True:
                return None
            if not simple[k]:
                raw = items[i] if i >= 0 else None
                for f in exc_fast[k]:
                    if f(tx, DATE, raw) is not False:
                        return None    # an exception that may hold: default logic decides
            fire.append((k, i))
        fire.sort()
        rules, recs, M, strict = plan.rules, prog.recorders, ctx.cache, self.strict
        findings: list = []
        seen: set = set()
        with_exceptions: list = []
        definite = "no_license_required"
        for k, i in fire:
            cr = rules[k]
            r = cr.rule
            if i < 0:
                raw = path = item_id = None
            else:
                raw, path = items[i], f"items[{i}]"
                item_id = raw.get("id")
            rec = recs.get(r.id)
            if rec is None:
                return None
            R: list = []
            try:
                v = rec(tx, DATE, R, M, raw, path)
            except Exception as e:
                if strict and not isinstance(e, UNKNOWN_ERRORS):
                    raise
                return None
            if v is not True:
                return None
            because = facts_of(R)
            findings.append(make_finding(r, item_id, because))
            seen.add((r.id, item_id))
            if RANK[r.outcome] > RANK[definite]:
                definite = r.outcome
            if cr.exceptions:
                with_exceptions.append((cr, i, item_id))
        outcome = at_most = definite
        if reg.encodes:
            prog.prime(ctx)
            scope = scope_findings(reg, ctx, items)
            if scope:
                findings += scope
                at_most = "prohibited"
                if definite != "prohibited":
                    outcome = "indeterminate"
        if len(findings) > 1:
            findings.sort(key=finding_order)
        entry = entry_head(reg, outcome, findings)
        if outcome == "indeterminate":
            entry["at_least"], entry["at_most"] = definite, at_most
        elif definite == "prohibited":
            kind = denial_kind(findings)
            if kind is not None:
                entry["denial_kind"] = kind
        if reg.policy.obligations:
            entry["obligations"] = obligations_of(reg, findings)
        if explain:
            if reg.explainer is None:
                entry["checked"] = []
                return entry
            if plan.entries is None:
                return None
            fast = FastHints(plan.why, DATE, plan.rec_why, plan.rec_applies, self.strict, plan.entries)
            item_envs = [({"item": Node(f"items[{i}]", it)}, it.get("id")) for i, it in enumerate(items)]
            out = found_checks(reg, ctx, item_envs, seen, fast)
            exc: list = []
            if with_exceptions:
                exception_checks(reg, ctx, ctx.as_of, [(cr, item_envs[i][0] if i >= 0 else {}, item_id)
                                                       for cr, i, item_id in with_exceptions], exc, fast)
            if items:
                out += exc
                out.sort(key=check_order)
            else:              # every check of the program is for the transaction: in order by rule id,
                out.sort(key=_by_rule)          # the exceptions' before them (evaluate.check_order)
                if exc:
                    if len(exc) > 1:
                        exc.sort(key=check_order)
                    out = exc + out
            entry["checked"] = out
        return entry

    def _applies_recorded(self, plan: _RegimePlan, ctx: Ctx, tx: dict, DATE) -> bool | None:
        """False when every `applies` of the regime is false by its recording function, whose
        reads are then kept where `applies_not` finds them (one evaluation for both, as
        `_wrap_applies` does for the general path); None otherwise (the fast path decides).
        Used for a regime that has mostly not applied lately. Strict mode keeps nothing, so
        that `applies_not` records each again against its closure."""
        R: list = []
        M = ctx.cache
        kept = []
        for rec in plan.rec_applies:
            mark = len(R)
            try:
                v = rec(tx, DATE, R, M, None, None)
            except Exception as e:
                if self.strict and not isinstance(e, UNKNOWN_ERRORS):
                    raise
                return None
            if v is not False:
                return None
            kept.append(R[mark:])
        if not self.strict:
            rid = plan.reg.id
            for k, reads in enumerate(kept):
                M[(APPLIED, rid, k)] = reads
        return False

    def _not_applicable(self, plan: _RegimePlan, prog: _Program, ctx: Ctx, DATE, explain: bool) -> dict:
        """The entry of a regime whose every `applies` the fast path found false: what
        `evaluate_regime` builds, with the check of each `applies` (the facts it read)."""
        reg = plan.reg
        entry = entry_head(reg)
        if explain and reg.explainer is not None:
            prog.prime(ctx)
            entry["checked"] = applies_checks(reg, ctx, FastHints(plan.why, DATE, plan.rec_why, plan.rec_applies,
                                                                  self.strict, plan.entries))
        return entry

    # -- fired rules only (no explanations): what a screening loop needs
    def fired_rules(self, tx: dict, as_of: _dt.date | None = None) -> list:
        """The ids of the rules with findings in `evaluate(...)`, in no particular order, without
        building the decision: `[f["rule"] for r in decision["regimes"] for f in r["findings"]]`.
        `as_of` defaults to the transaction's date."""
        if self.warmup and self._code is None:
            self.warmup -= 1
            return self._plain_fired(tx, as_of)
        try:
            DATE = self._date(tx)
            return self._fired(tx, as_of or DATE, DATE)
        except Exception as e:
            if self.strict and not isinstance(e, _Fallback):
                raise
            self.fallbacks += 1
            return self._plain_fired(tx, as_of)

    def _plain_fired(self, tx: dict, as_of) -> list:
        d = plain_evaluate(self.regimes, tx, as_of or _dt.date.fromisoformat(tx["date"]), "")
        return [f["rule"] for r in d["regimes"] for f in r["findings"]]

    def _fired(self, tx: dict, day: _dt.date, DATE: _dt.date) -> list:
        prog = self._by_day.get(day) or self.program(day)
        out: list = []
        ctx = None
        for plan in prog.regimes:
            if not plan.in_force:
                continue
            if plan.applies:
                for f in plan.applies:
                    st = f(tx, DATE)
                    if st is not False:
                        break
                if st is None:                  # unknown: the closures say whether it may apply
                    ctx = ctx or Ctx(tx, day)
                    prog.prime(ctx)
                    st = self._applies(plan, ctx)
                if st is False:
                    continue
            else:
                st = True
            items = tx.get("items") or []
            if st is True and plan.reg.encodes:        # items outside the encoded scope are findings too
                ctx = ctx or Ctx(tx, day)
                prog.prime(ctx)
                out.extend(f["rule"] for f in scope_findings(plan.reg, ctx, items))
            simple, ids, exc_fast = plan.simple, plan.ids, plan.exc_fast
            for k, i, st in plan.fn(tx, items, DATE, out):
                if st is True:
                    if simple[k]:
                        out.append(ids[k])
                        continue
                    raw = items[i] if i >= 0 else None
                    for f in exc_fast[k]:
                        if f(tx, DATE, raw) is not False:
                            break
                    else:               # no exception holds, or could: the rule fires
                        out.append(ids[k])
                        continue
                # an exception that holds, or an unknown: `evaluate._resolve` decides, with
                # the fast path's answers where it has them
                ctx = ctx or Ctx(tx, day)
                prog.prime(ctx)
                cr = plan.rules[k]
                if i < 0:
                    env, item_id = {}, None
                else:
                    env, item_id = {"item": Node(f"items[{i}]", items[i])}, items[i].get("id")
                cr = CompiledRule(cr.rule, _always_true if st is True else cr.cond, cr.per_item,
                                  plan.t_exceptions[k])
                r = resolve_rule(cr, ctx, env, item_id, day)
                if r is not None and r.status != "unknown":
                    out.extend(f["rule"] for f in r.findings)
        return out

    @staticmethod
    def _applies(plan: _RegimePlan, ctx: Ctx):
        """Whether the regime applies: True, False, or unknown (any other value)."""
        unknown = False
        for _, fn in plan.w_applies:
            ctx.reads = []
            v = truth(fn(ctx, {}))
            if v is True:
                return True
            if v is not False:
                unknown = True
        return None if unknown else False


def _walk_sets(e, out: list) -> None:
    if isinstance(e, A.SetLiteral):
        out.append(e)
    for c in A.children(e):
        _walk_sets(c, out)


def _breakpoints(policies: list) -> list:
    """Every date on which something enters force (its `from`) or leaves it (the day after its
    `until`): between two consecutive breakpoints the rules and sets in force are the same."""
    days: set = set()

    def add(start, end):
        if start is not None:
            days.add(start)
        if end is not None and end < _dt.date.max:
            days.add(end + _dt.timedelta(days=1))

    literals: list = []
    for p in policies:
        add(p.header.start, p.header.end)
        for r in p.rules:
            add(r.start, r.end)
            if r.when is not None:
                _walk_sets(r.when, literals)
        for s in p.sets:
            for _, term in s.terms:
                if isinstance(term, A.SetLiteral):
                    literals.append(term)
        for d in p.defines:
            _walk_sets(d.body, literals)
        for a in p.applies:
            _walk_sets(a.condition, literals)
        for c in p.conflicts:
            if c.when is not None:
                _walk_sets(c.when, literals)
    for lit in literals:
        for m in lit.members:
            add(m.start, m.end)
    return sorted(days)


# ---------------------------------------------------------------- entry point (cached)

_CACHE: dict = {}


# Decisions made by the closures before the program is generated (compile_fast). Generating
# costs a batch of the bundled policies about 1.3 G instructions (some 0.5 s: the code, then
# its memos filling), and each compiled decision saves about 2.3 M against the closures
# (measured 2026-11-30 by callgrind, the whole CLI, records of one epoch), so it pays from about
# 540 records on. At 16, batches of 17 to 540 records ran slower than with no code at all (50
# records: 1.4 s against 0.5 s); at 256 a batch that size never pays for it, and a longer one
# would spend 240 more decisions in the closures (about 0.2 s) had the CLI not seen it coming
# (input files of batch.LONG_INPUT bytes or more: `FastEvaluator.expect_many`, as at 16).
WARMUP = 256
EAGER_WARMUP = 16     # for a batch known to be long (`FastEvaluator.expect_many`)


def compile_fast(regimes, schema_folder: str | None = None, *, strict: bool = False) -> FastEvaluator:
    """The fast evaluator of compiled regimes, built once and cached.

    `regimes` is `PolicySet.regimes` with `schema_folder` its `PolicySet.schema_folder` (None:
    the bundled schema, whose top-level properties are the fact names, as for the closures), or
    the PolicySet itself: `compile_fast(ps).evaluate(tx.data, day, ps.digest)`. The program is
    generated after `WARMUP` decisions (at once in strict mode)."""
    ps = None
    if not isinstance(regimes, dict):
        ps, regimes = regimes, None
    key = (id(ps) if ps is not None else id(regimes), schema_folder, strict)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is (ps if ps is not None else regimes):
        return hit[1]
    from .facts import schema

    if ps is not None:
        regimes, schema_folder = ps.regimes, ps.schema_folder
    roots = frozenset(schema("transaction", schema_folder)["properties"])
    ev = FastEvaluator(regimes, roots, strict, 0 if strict else WARMUP)
    if len(_CACHE) >= 8:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (ps if ps is not None else regimes, ev)   # held, so that its id is not reused while cached
    return ev
