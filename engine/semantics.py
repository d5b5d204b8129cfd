"""The meaning of the language's operators, shared by both evaluators.

The closure evaluator (compile.py, evaluate.py) and the compiled one (codegen.py, whose
generated code calls runtime.py) must give the same decisions: every operator whose meaning
could drift between them is defined here once, by public name, and both import it.
Three-valued: an `Unknown` operand gives an `Unknown` (or, for `and`/`or`, what Kleene says).
"""

from __future__ import annotations

import datetime as _dt
import operator

from . import ast as A
from .values import Coll, Node, SetValue, Unknown, norm, unknown_union

__all__ = ["truth", "compare", "arith", "member", "starts", "in_force", "within", "set_literal_fn",
           "combine_sets", "DayCtx"]


# ---------------------------------------------------------------- truth

def truth(v):
    """The truth value of `v`: True, False, or an Unknown."""
    if v is True or v is False or type(v) is Unknown:
        return v
    if v is None:
        return False
    return bool(v)


# ---------------------------------------------------------------- comparison, arithmetic, membership, prefixes

def _coerce_pair(a, b):
    if type(a) is _dt.date and type(b) is str:
        try:
            return a, _dt.date.fromisoformat(b)
        except ValueError:
            return a, b
    if type(b) is _dt.date and type(a) is str:
        try:
            return _dt.date.fromisoformat(a), b
        except ValueError:
            return a, b
    return a, b


_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def compare(op: str, a, b):
    ua, ub = type(a) is Unknown, type(b) is Unknown
    if ua or ub:
        return unknown_union([x for x in (a, b) if type(x) is Unknown])
    a, b = _coerce_pair(a, b)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if a is None or b is None:
        return False
    try:
        return _ORDER[op](a, b)
    except TypeError:
        return False


def arith(op: str, a, b):
    if type(a) is Unknown or type(b) is Unknown:
        return unknown_union([x for x in (a, b) if type(x) is Unknown])
    if a is None or b is None:
        return None
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b if b else None
    except TypeError:
        return None


def member(ctx, a, b):
    """`a in b`: b is a set (names compare without case and punctuation) or a list of the facts."""
    if type(a) is Unknown:
        return a
    tb = type(b)
    if tb is SetValue:
        if a is None:
            return False
        return norm(a) in b.canonical if type(a) is str else False
    if tb is Unknown:
        return b
    if tb is Node and type(b.data) is list:
        ctx.reads.append((b.path, b.data))
        return a in b.data
    if tb is Coll:
        if a in b.elements:
            return True
        return Unknown(b.missing) if b.missing else False
    if b is None:
        return False
    if tb is str:
        return type(a) is str and a in b
    return False


def starts(a, b):
    if type(a) is Unknown:
        return a
    if type(b) is Unknown:
        return b
    if type(a) is not str:
        return False
    if type(b) is str:
        return a.startswith(b)
    if type(b) is SetValue:
        if a.startswith(tuple(b.values)):
            return True
        if b.partial is not None:
            return Unknown(frozenset((f"{a} startswith {b.name}",)))
        return False
    return False


def within(value: str, entries: tuple) -> bool:
    """`9A515.a.1` is within `9A515` and `9`, `XV(e)(12)` within `XV(e)` and `XV`; but `XVI(a)` is not
    within `XV`, nor `10.A.1` within `1`: a prefix that ends inside a run of digits or of roman
    numerals does not count."""
    for e in entries:
        if value == e:
            return True
        if e and value.startswith(e):
            a, b = e[-1], value[len(e)]
            if not ((a.isdigit() and b.isdigit()) or (a in "IVXLC" and b in "IVXLC")):
                return True
    return False


# ---------------------------------------------------------------- dates: what is in force, sets as of a day

def in_force(start, end, day) -> bool:
    """Whether something dated `from start until end` (both optional, inclusive) holds on `day`."""
    return (start is None or day >= start) and (end is None or day <= end)



class DayCtx:
    """The least a set literal needs to resolve its dated members: the date of the law."""

    __slots__ = ("as_of",)

    def __init__(self, day):
        self.as_of = day


def set_literal_fn(lit: A.SetLiteral):
    """A set literal as `f(ctx) -> SetValue` for the date of the law (`ctx.as_of`)."""
    members = lit.members

    def fn(ctx):
        day = ctx.as_of if ctx is not None else None
        values, canonical = [], {}
        for m in members:
            if day is not None and ((m.start and day < m.start) or (m.end and day > m.end)):
                continue
            values.append(m.value)
            canonical[norm(m.value)] = m.value
            for a in m.aliases:
                canonical[norm(a)] = m.value
        return SetValue("{...}", tuple(values), canonical)

    return fn


def combine_sets(name: str, parts, partial: str | None = None) -> SetValue:
    """A named set from its terms `[(op, SetValue)]`, `+` adding and `-` removing members
    (compared as `norm` compares them), in declaration order."""
    values: list = []
    canonical: dict = {}
    for op, sv in parts:
        if op == "+":
            for v in sv.values:
                if norm(v) not in canonical:
                    values.append(v)
            for k, v in sv.canonical.items():
                canonical.setdefault(k, v)
        else:
            drop = {sv.canonical[k] for k in sv.canonical}
            values = [v for v in values if v not in drop and norm(v) not in sv.canonical]
            canonical = {k: v for k, v in canonical.items() if v in values}
    return SetValue(name, tuple(values), canonical, partial)
