"""Why a rule did not fire: the checks behind a "no".

A lawyer defending "no licence required" must show what was looked at. For every rule that was
*considered* (its guard on the item's classification held, or it has no such guard) but did not
fire, the explanation is the first top-level condition (conjunct) that was false, in the
policy's own words, with the facts it read. Exceptions of a rule that fired are explained the
same way ("STA was considered: destination is not in A:5").

Conjunct closures are compiled on first use, so a decision that never needs an explanation
(nothing considered) pays nothing for them."""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass

from . import ast as A
from .compile import Compiler, Scope, mentions_item
from .runtime import UNKNOWN_ERRORS, facts_of
from .semantics import truth


APPLIED = "exportctl-applies-reads"
"""ctx.cache key prefix: (APPLIED, regime, k) -> what the kth `applies` of a regime read, when
the compiled evaluator recorded it while deciding (codegen)."""


@dataclass
class FastHints:
    """What the compiled evaluator lends one decision's explanations (codegen.py): each rule's
    conjuncts two-valued (`why`), and recording functions (emit_reads.py) that give a
    condition's truth with the facts it read without running the closures."""

    why: dict              # rule id -> [fast function per conjunct]
    DATE: _dt.date
    rec_why: dict          # rule id (exceptions too) -> [recording function per conjunct]
    rec_applies: list      # one recording function per `applies`
    strict: bool = False   # check every recording against its closure (tests)
    entries: object = None  # the checks behind a "no", built by the program (emit_checks.entries_fn)


def recorded(rec, ctx, env: dict, DATE, real=None):
    """A recording function's truth value, its reads appended to `ctx.reads`; None where it
    cannot answer (an unknown fact, a path it does not know): the caller runs the closure.
    With `real` (strict mode), the closure runs too and must agree, reads and all."""
    R = ctx.reads
    mark = len(R)
    it = env.get("item")
    try:
        v = rec(ctx.root.data, DATE, R, ctx.cache, None if it is None else it.data, None if it is None else it.path)
    except Exception as e:
        if real is not None and not isinstance(e, UNKNOWN_ERRORS):
            raise
        del R[mark:]
        return None
    if real is not None:
        ctx.reads = []
        w = truth(real(ctx, env))
        theirs, ctx.reads = ctx.reads, R
        if w is not v or theirs != R[mark:]:
            raise AssertionError(f"recording mode gave {v!r} reading {R[mark:]!r}; the closures {w!r} reading {theirs!r}")
    return v


def conjuncts(e: A.Expr) -> tuple:
    """The top-level `and` operands of a condition (the condition itself when it is not an `and`)."""
    return e.operands if isinstance(e, A.And) else (e,)


@functools.lru_cache(maxsize=32)
def _lines(text: str) -> list:
    """A policy's lines, split once (every explanation quotes its policy)."""
    return text.split("\n")


def source_of(text: str, span) -> str:
    """The policy text a span covers, white space folded (what the lawyer wrote)."""
    if not span or span.line <= 0 or not span.end_line:
        return ""
    lines = _lines(text)
    if span.end_line > len(lines):
        return ""
    if span.line == span.end_line:
        part = lines[span.line - 1][span.col - 1:span.end_col - 1]
    else:
        part = "\n".join([lines[span.line - 1][span.col - 1:]] + lines[span.line:span.end_line - 1]
                         + [lines[span.end_line - 1][:span.end_col - 1]])
    return " ".join(part.split())


class Guards:
    """Which expressions test an item's classification, directly or through definitions."""

    def __init__(self, comp: Compiler):
        self.comp = comp
        self._memo: dict = {}

    def mentions(self, policy: A.Policy, e: A.Expr, seen: frozenset = frozenset()) -> bool:
        stack = [e]
        while stack:
            x = stack.pop()
            if isinstance(x, A.Ref):
                if "classification" in x.parts:
                    return True
                if self._define_mentions(policy, x.parts, seen):
                    return True
            elif isinstance(x, A.Call):
                parts = (x.namespace, x.name) if x.namespace else (x.name,)
                if self._define_mentions(policy, parts, seen):
                    return True
            stack.extend(A.children(x))
        return False

    def _define_mentions(self, policy: A.Policy, parts: tuple, seen: frozenset) -> bool:
        found = self.comp.lookup(policy, parts)
        if found is None or not isinstance(found[1], A.Define):
            return False
        key = (found[0].regime, found[1].name)
        if key in self._memo:
            return self._memo[key]
        if key in seen:
            return False
        r = self.mentions(found[0], found[1].body, seen | {key})
        self._memo[key] = r
        return r


class Explainer:
    """Compiled conjuncts of each rule, on first use."""

    def __init__(self, comp: Compiler):
        self.comp = comp
        self.guards = Guards(comp)
        self._rules: dict = {}

    def plan(self, policy: A.Policy, rule: A.Rule) -> tuple:
        """(conjuncts, guard indices) of a rule: each conjunct as (text, closure, is_guard,
        is_free of `item`, cache key), compiled on first use."""
        hit = self._rules.get(rule.id)
        if hit is None:
            scope = Scope(self.comp, policy, frozenset({"item"}))
            parts = []
            for j, c in enumerate(conjuncts(rule.when)):
                text = source_of(policy.text, c.span)
                guard = self.guards.mentions(policy, c)
                # guards are shared by rules (`x515(item)`): keyed by their text, answered once per
                # item; a false conjunct is explained once per decision (and item, if it reads
                # one), whichever rules share its text: the same words read the same facts
                key = ("guard", policy.regime, text) if guard else ("failed", policy.regime, text)
                parts.append((text, self.comp.expr(c, scope), guard, not mentions_item(c), key))
            hit = self._rules[rule.id] = (parts, [j for j, x in enumerate(parts) if x[2]])
        return hit

    def applies_not(self, policy: A.Policy, applies: A.Applies, ctx, fast: FastHints | None = None,
                    k: int = 0) -> dict:
        """The check of the `k`th `applies when` declaration, found false: its text and the facts
        it read, with the rule id, cite and message of a regime's check."""
        hit = self._rules.get(id(applies))
        if hit is None:
            text = source_of(policy.text, applies.condition.span)
            hit = self._rules[id(applies)] = (
                {"rule": f"{policy.regime}.applies", "cite": applies.cite or "", "item": None,
                 "message": "when the regime applies", "failed": text},
                self.comp.expr(applies.condition, Scope(self.comp, policy, frozenset())),
                applies)        # held: its id stays its own
        head, fn, _ = hit
        kept = ctx.cache.get((APPLIED, policy.regime, k))      # recorded while deciding (codegen)
        if kept is None:
            ctx.reads = []
            if fast is None or k >= len(fast.rec_applies) or \
                    recorded(fast.rec_applies[k], ctx, {}, fast.DATE, fn if fast.strict else None) is None:
                ctx.reads = []
                fn(ctx, {})
            kept = ctx.reads
        entry = head.copy()
        entry["facts"] = facts_of(kept)
        return entry

    def why_not(self, policy: A.Policy, rule: A.Rule, ctx, env: dict, gated: bool,
                fast: FastHints | None = None) -> dict | None:
        """The first false conjunct of a rule whose condition is false, with the facts it read;
        None when the rule was not considered (`gated`: a classification guard was false).

        `fast` (from codegen: each conjunct compiled, two-valued) answers the guards and finds the
        false conjunct without the closures, and its recording functions say what the false one
        read; a conjunct neither can answer (an unknown fact) is asked of its closure (Kleene)."""
        parts, guards = self.plan(policy, rule)
        n = len(parts)
        quick = rec = None
        DATE, strict = None, False
        if fast is not None:
            quick, rec, DATE, strict = fast.why.get(rule.id), fast.rec_why.get(rule.id), fast.DATE, fast.strict
            if quick is not None and len(quick) != n:
                quick = None
            if rec is not None and len(rec) != n:
                rec = None
        it = env.get("item")
        raw = it.data if it is not None else None
        tx = ctx.root.data
        cache = ctx.cache

        def answer(j):
            """(truth of conjunct j, whether ctx.reads now holds its reads)"""
            if quick is not None:
                st = quick[j](tx, DATE, raw)
                if st is not None:
                    return st, False
            fn = parts[j][1]
            ctx.reads = []
            if rec is not None and quick is None:   # no two-valued function (an exception): record it
                v = recorded(rec[j], ctx, env, DATE, fn if strict else None)
                if v is not None:
                    return v, True
                ctx.reads = []
            return truth(fn(ctx, env)), True

        if gated and guards:
            where = it.path if it is not None else ""
            for j in guards:
                key = (parts[j][4], where)
                held = cache.get(key)
                if held is None:
                    held = cache[key] = answer(j)[0] is True
                if not held:
                    return None
        for j in range(n):
            if gated and parts[j][2]:
                continue
            st, read = answer(j)
            if st is False:
                return self.failed(policy, rule, ctx, env, j, fast, read)
        return None

    def check_table(self, reg) -> dict:
        """rule id -> (rule, its conjuncts as `plan` gives them, the constant part of its check)
        for every rule of a compiled regime: what the compiled checks' answers are turned into,
        prepared once."""
        key = ("table", reg.id, id(reg.all_rules))
        table = self._rules.get(key)
        if table is None or table[0] is not reg.all_rules:
            rows = {}
            for rid, cr in reg.all_rules.items():
                r = cr.rule
                if r.when is None:
                    continue
                rows[rid] = (r, self.plan(reg.policy, r)[0],
                             {"rule": r.id, "cite": r.cite or "", "item": None, "message": r.title,
                              "outcome": r.outcome, "failed": None, "facts": None})
            table = self._rules[key] = (reg.all_rules, rows)
        return table[1]

    def free(self, policy: A.Policy, rule: A.Rule, j: int) -> bool:
        """Whether conjunct j of a rule reads no `item` (its explanation is the same for every item)."""
        return self.plan(policy, rule)[0][j][3]

    def failed(self, policy: A.Policy, rule: A.Rule, ctx, env: dict, j: int, fast: FastHints | None,
               read: bool = False) -> dict:
        """Conjunct j of a rule, found false: its text and the facts it read (`read`: ctx.reads
        holds them already), worked out once per decision for each text (and item)."""
        text, fn, guard, free, key = self.plan(policy, rule)[0][j]
        if not free:
            it = env.get("item")
            key = (key, it.path if it is not None else "")
        hit = None if read else ctx.cache.get(key)     # read: the closure's own reads (no memo)
        if hit is None:
            if not read:              # what that one conjunct reads: recorded, else its closure
                ctx.reads = []
                rec = fast.rec_why.get(rule.id) if fast is not None else None
                if rec is None or len(rec) <= j or recorded(rec[j], ctx, env, fast.DATE,
                                                            fn if fast.strict else None) is not False:
                    ctx.reads = []
                    fn(ctx, env)
            hit = ctx.cache[key] = {"failed": text, "facts": facts_of(ctx.reads), "free": free}
        return hit
