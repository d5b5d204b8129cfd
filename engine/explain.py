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

from . import ast as A
from .compile import Compiler, Scope, mentions_item
from .semantics import truth


def conjuncts(e: A.Expr) -> tuple:
    """The top-level `and` operands of a condition (the condition itself when it is not an `and`)."""
    return e.operands if isinstance(e, A.And) else (e,)


def source_of(text: str, span) -> str:
    """The policy text a span covers, white space folded (what the lawyer wrote)."""
    if not span or span.line <= 0 or not span.end_line:
        return ""
    lines = text.split("\n", span.end_line)
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

    def plan(self, policy: A.Policy, rule: A.Rule) -> list:
        """[(text, closure, is_guard)] for the rule's conjuncts."""
        hit = self._rules.get(rule.id)
        if hit is None:
            scope = Scope(self.comp, policy, frozenset({"item"}))
            hit = []
            for c in conjuncts(rule.when):
                hit.append((source_of(policy.text, c.span), self.comp.expr(c, scope),
                            self.guards.mentions(policy, c), not mentions_item(c)))
            self._rules[rule.id] = hit
        return hit

    def applies_not(self, policy: A.Policy, applies: A.Applies, ctx) -> dict:
        """Why an `applies when` declaration is false, with the facts it read."""
        key = ("applies", policy.regime, applies.span.line, applies.span.col)
        hit = self._rules.get(key)
        if hit is None:
            hit = self._rules[key] = (source_of(policy.text, applies.condition.span),
                                      self.comp.expr(applies.condition, Scope(self.comp, policy, frozenset())))
        text, fn = hit
        ctx.reads = []
        fn(ctx, {})
        return {"failed": text, "facts": facts_of(ctx.reads)}

    def why_not(self, policy: A.Policy, rule: A.Rule, ctx, env: dict, gated: bool,
                fast: tuple | None = None) -> dict | None:
        """The first false conjunct of a rule whose condition is false, with the facts it read;
        None when the rule was not considered (`gated`: a classification guard was false).

        `fast` (from codegen: each conjunct compiled, two-valued) answers the guards and finds the
        false conjunct without the closures; a conjunct it cannot answer (an unknown fact) is asked
        of its closure (Kleene), and the false one's closure runs once for the facts it reads."""
        plan = self.plan(policy, rule)
        quick = fast[0].get(rule.id) if fast is not None else None
        if quick is None or len(quick) != len(plan):
            quick, DATE = (None,) * len(plan), None
        else:
            DATE = fast[1]
        it = env.get("item")
        raw = it.data if it is not None else None
        tx = ctx.root.data

        def answer(fn, q):
            """(truth, whether ctx.reads now holds this conjunct's closure's reads)"""
            st = q(tx, DATE, raw) if q is not None else None
            if st is not None:
                return st, False
            ctx.reads = []
            return truth(fn(ctx, env)), True

        if gated:
            where = it.path if it is not None else ""
            for (text, fn, guard, _), q in zip(plan, quick):
                if guard:
                    # rules share their guards (`x515(item)`): each is answered once per item
                    key = ("guard", policy.regime, text, where)
                    held = ctx.cache.get(key)
                    if held is None:
                        held = ctx.cache[key] = answer(fn, q)[0] is True
                    if not held:
                        return None
        for j, ((text, fn, guard, free), q) in enumerate(zip(plan, quick)):
            if gated and guard:
                continue
            st, read = answer(fn, q)
            if st is not False:
                continue
            key = ("free", policy.regime, id(plan), j)
            hit = ctx.cache.get(key) if free else None   # the same for every item: read once a decision
            if hit is None:
                if not read:
                    ctx.reads = []
                    fn(ctx, env)          # the closure of that one conjunct: the facts it reads
                hit = {"failed": text, "facts": facts_of(ctx.reads), "free": free}
                if free:
                    ctx.cache[key] = hit
            return hit
        return None


def facts_of(reads: list) -> dict:
    """The facts an evaluation read, by path, first value kept, dates as ISO strings (a finding's
    `because`, a check's `facts`)."""
    out: dict = {}
    for path, value in reads:
        if path not in out:
            out[path] = value.isoformat() if isinstance(value, _dt.date) else value
    return out
