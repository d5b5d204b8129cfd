"""What the generated code of the compiled evaluator calls (as Jinja2 keeps `runtime.py` apart
from its compiler): each helper mirrors an operator of semantics.py on fast values, where raw
dicts and lists stand for the closure evaluator's `Node`s.

Where the closure evaluator would meet an unknown fact, a helper raises (`_Unknown`, or the
generated code's own `KeyError`/`TypeError`): unknown is only ever a reason to fall back to the
closures, never an answer. The generated module sees these under the names of `HELPERS`.
"""

from __future__ import annotations

import datetime as _dt
from operator import itemgetter

from .semantics import arith, compare
from .semantics import starts as _starts_3v
from .values import Coll, SetValue, norm

__all__ = ["HELPERS", "STRICT_HELPERS", "PathColl", "StrictMemo", "UNKNOWN_ERRORS", "value_key"]


class _Unknown(Exception):
    """Raised by generated code where the closure evaluator would have an unknown value."""


# What generated code raises where a fact is unknown: a missing key (`tx["end_user"]`), an
# attribute of something that is not a mapping, or an explicit `_Unknown`. Treating any of them
# as "unknown" is always safe: the rule is then decided by the three-valued closures.
_UNK = (KeyError, TypeError, _Unknown)
UNKNOWN_ERRORS = _UNK
_U = object()            # an empty memo slot
_OBJ = frozenset({dict, list, Coll, SetValue})   # values the closure evaluator wraps or compares by identity
_NUMT = frozenset({int, float})


# ---------------------------------------------------------------- runtime helpers
# Each mirrors the closure evaluator's operator on fast values: raw dicts and lists stand for
# `Node`s, everything else is the same Python value.

def _truth(v):
    if v is True or v is False:
        return v
    if v is None:
        return False
    t = type(v)
    if t is dict or t is list:
        return True
    return bool(v)


def _eq(a, b):
    if type(a) in _OBJ and type(b) in _OBJ:
        raise _Unknown           # identity vs structure: let the closures decide
    return compare("==", a, b)   # a date equals its ISO string, as in the closures


def _ne(a, b):
    if type(a) in _OBJ and type(b) in _OBJ:
        raise _Unknown
    return compare("!=", a, b)


def _ord(op, a, b):
    if type(a) in _OBJ or type(b) in _OBJ:
        return False             # a Node never orders
    return compare(op, a, b)


def _arith(op, a, b):
    if type(a) in _OBJ or type(b) in _OBJ:
        return None
    return arith(op, a, b)


def _member(a, b):
    tb = type(b)
    if tb is SetValue:
        if type(a) is str and norm(a) in b.canonical:
            return True
        if b.partial is not None:
            raise _Unknown       # a partial list cannot say "not on it": the closures word the question
        return False
    if tb is list:
        return False if type(a) in _OBJ else a in b
    if tb is Coll:
        if type(a) in _OBJ:
            raise _Unknown
        if a in b.elements:
            return True
        if b.missing:
            raise _Unknown
        return False
    if tb is str:
        return type(a) is str and a in b
    return False


def _starts(a, b):
    """`a startswith b` on the fast path: an unknown (a partial set of prefixes) falls back."""
    v = _starts_3v(a, b)
    if type(v) is not bool:
        raise _Unknown
    return v


def _member_slow(memo: dict, sv: SetValue, a: str) -> bool:
    r = norm(a) in sv.canonical
    if len(memo) < 8192:
        memo[a] = r
    return r


def _known(v, keys) -> bool:
    for k in keys:
        if type(v) is dict:
            if k not in v:
                return False
            v = v[k]
        else:
            return True
    return True


def _known_value(v) -> bool:
    return True


def _components_of(v) -> Coll:
    """Every component at any depth, in the closure evaluator's order (sorted by path)."""
    if type(v) is not dict:
        return Coll([])
    out: list = []
    missing = False
    stack = [(v, "")]
    while stack:
        node, p = stack.pop()
        comps = node.get("components")
        if comps is None:
            missing = True
            continue
        p = p + ".components"
        for i, c in enumerate(comps):
            key = f"{p}[{i}]"
            out.append((key, c))
            stack.append((c, key))
    out.sort(key=itemgetter(0))
    return Coll([c for _, c in out], frozenset(("?",)) if missing else frozenset())


def _elements(v):
    t = type(v)
    if t is list:
        return v, False
    if t is Coll:
        return v.elements, bool(v.missing)
    if t is SetValue:
        return list(v.values), False
    if v is None:
        return [], False
    return None


def _q_any(coll, body):
    got = _elements(coll)
    if got is None:
        return None
    elements, unknown = got
    for x in elements:
        try:
            if body(x):
                return True
        except _UNK:
            unknown = True
    if unknown:
        raise _Unknown
    return False


def _q_all(coll, body):
    got = _elements(coll)
    if got is None:
        return None
    elements, unknown = got
    for x in elements:
        try:
            if not body(x):
                return False
        except _UNK:
            unknown = True
    if unknown:
        raise _Unknown
    return True


def _q_count(coll, where):
    got = _elements(coll)
    if got is None:
        return None
    elements, unknown = got
    if unknown:
        raise _Unknown
    if where is None:
        return len(elements)
    total = 0
    for x in elements:
        if where(x):
            total += 1
    return total


def _q_sum(coll, where, value):
    got = _elements(coll)
    if got is None:
        return None
    elements, unknown = got
    if unknown:
        raise _Unknown
    total = 0
    for x in elements:
        if where is not None and not where(x):
            continue
        v = value(x)
        if v is not None:
            total += v
    return total


# ---------------------------------------------------------------- recording helpers
# For the generator's recording mode (emit_reads.py): the same operators, appending to `R` the
# (path, value) of every fact read exactly as the closures append to `ctx.reads`. Values of the
# transaction travel with their paths; where a path is not known, or the closures would meet an
# unknown, they raise: the caller then runs the closure.

class PathColl:
    """Every component at any depth, each with its path (`components_of` in recording mode)."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list):
        self.pairs = pairs


_OBJ_R = _OBJ | {PathColl}


def _rd(R, p, v):
    """A fact read: recorded when it is a value (a mapping or a list is a node, not a read)."""
    t = type(v)
    if t is not dict and t is not list:
        R.append((p, v))
    return v


def _rcomponents_of(v, p):
    if type(v) is not dict:
        return PathColl([])
    if p is None:
        raise _Unknown
    out: list = []
    stack = [(v, p)]
    while stack:
        node, q = stack.pop()
        comps = node.get("components")
        if comps is None:
            raise _Unknown       # a part whose components are not given: the closures say what is missing
        q = q + ".components"
        for i, c in enumerate(comps):
            key = f"{q}[{i}]"
            out.append((c, key))
            stack.append((c, key))
    out.sort(key=itemgetter(1))
    return PathColl(out)


def _relements(R, coll, p):
    t = type(coll)
    if t is list:
        if p is None:
            raise _Unknown
        out = []
        for i, x in enumerate(coll):
            q = f"{p}[{i}]"
            if type(x) is not dict and type(x) is not list:
                R.append((q, x))
            out.append((x, q))
        return out
    if t is PathColl:
        return coll.pairs
    if t is SetValue:
        return [(v, None) for v in coll.values]
    if coll is None:
        return []
    if t is Coll:
        raise _Unknown
    return None


def _rq_any(R, coll, p, body):
    els = _relements(R, coll, p)
    if els is None:
        return None
    mark = len(R)
    for x, q in els:
        start = len(R)
        if _truth(body(x, q)):
            del R[mark:start]        # `any` keeps the reads of the element that made it true
            return True
    return False


def _rq_all(R, coll, p, body):
    els = _relements(R, coll, p)
    if els is None:
        return None
    for x, q in els:
        if not _truth(body(x, q)):
            return False
    return True


def _rq_sum(R, coll, p, where, value):
    """`sum` (and, without `value`, `count`): an element that does not count leaves no reads."""
    els = _relements(R, coll, p)
    if els is None:
        return None
    total = 0
    for x, q in els:
        start = len(R)
        if where is not None and not _truth(where(x, q)):
            del R[start:]
            continue
        v = value(x, q) if value is not None else 1
        if v is not None:
            total += v
    return total


def _raise_unknown():
    raise _Unknown


def _cut(R, m, s):
    """`or` made true by a later operand: drop the reads of the operands before it."""
    del R[m:s]
    return True


def _rkey(name, args, paths):
    """A definition's memo key for one decision, as the closures key it (a node by its path, a
    value by itself); None (no memo) for a node whose path is not known."""
    key = [name]
    for a, p in zip(args, paths):
        t = type(a)
        if t is dict or t is list:
            if p is None:
                return None
            key.append(p)
        elif t is PathColl:
            return None
        else:
            key.append(a)
    try:
        hash(key := tuple(key))
    except TypeError:
        return None
    return key


def _rkey1(name, a, p):
    """`_rkey` for a definition of one parameter."""
    t = type(a)
    if t is dict or t is list:
        return None if p is None else (name, p)
    if t is PathColl:
        return None
    return (name, a)


def _rmember(R, a, b, p):
    tb = type(b)
    if tb is list:
        if p is None:
            raise _Unknown
        R.append((p, b))             # the closures read a list of the facts whole
        return False if type(a) in _OBJ_R else a in b
    if tb is PathColl or type(a) is PathColl:
        raise _Unknown
    return _member(a, b)


def _rknown(R, v, keys, p):
    """`x.a.b is known`, reading as the closures read (a null or a value on the way: known)."""
    for k in keys:
        if type(v) is not dict:
            return True
        if k not in v:
            return False
        if p is None:
            raise _Unknown
        v = v[k]
        p = f"{p}.{k}" if p else k
        if type(v) is not dict and type(v) is not list:
            R.append((p, v))
    return True


def _rcheck(v):
    """A value the recording mode cannot compare as the closures do (a collection with paths)."""
    if type(v) is PathColl:
        raise _Unknown
    return v


def facts_of(reads: list) -> dict:
    """The facts an evaluation read, by path, first value kept, dates as ISO strings (a finding's
    `because`, a check's `facts`)."""
    out: dict = {}
    for path, value in reads:
        if path not in out:
            out[path] = value.isoformat() if isinstance(value, _dt.date) else value
    return out


def _why(M: dict, key, text: str, free: bool, rec, tx, DATE, item, item_p):
    """A conjunct found false, explained by its recording function: `Explainer.failed`'s entry,
    kept in the decision's memo M; None where the recording cannot say (the caller asks the
    closures)."""
    R: list = []
    try:
        v = rec(tx, DATE, R, M, item, item_p)
    except Exception:
        return None
    if v is not False:
        return None
    w = M[key] = {"failed": text, "facts": facts_of(R), "free": free}
    return w


_BRK = object()          # in a memo key: the path stopped at a value that is not a mapping


def value_key(tx, item, DATE, sources):
    """The values a condition can read (`emit_checks.read_sources`), as a key: each with its type (1,
    1.0 and True are equal in Python, not in JSON; a float by its hex, so -0.0 is not 0.0), a
    list as a tuple of the same. Raises TypeError where a value cannot be a key (a mapping)."""
    out = []
    for root, keys in sources:
        v = tx if root == 0 else item if root == 1 else DATE
        for k in keys:
            if type(v) is dict:
                v = v.get(k, _U)
            else:
                out.append(_BRK)
                break
        t = type(v)
        if t is float:
            v = v.hex()
        elif t is list:
            v = tuple([(x.hex(), float) if type(x) is float else (x, type(x)) for x in v])
        out.append(v)
        out.append(t)
    return tuple(out)


_XM_SIZE = 1 << 16       # entries kept by one epoch's memo before it starts again


def _entry(X, xk, head, item_id, M, key, text, free, rec, tx, DATE, item, item_p):
    """A rule's check whose conjunct `key` is false, its facts recorded (`_why`, or the decision's
    memo M), kept in X (one epoch's) under `xk`: the rule, the conjunct, the item's path and id,
    and the values the conjunct can read, which decide what it records. None where the
    recording cannot say (the caller asks the closures). X's entries are copied, never handed out."""
    w = M.get(key)
    if w is None:
        w = _why(M, key, text, free, rec, tx, DATE, item, item_p)
        if w is None:
            return None
    rid, cite, message, outcome = head
    e = {"rule": rid, "cite": cite, "item": item_id, "message": message, "outcome": outcome,
         "failed": w["failed"], "facts": w["facts"]}
    try:
        if len(X) >= _XM_SIZE:
            X.clear()
        X[xk] = e
    except TypeError:        # a value that cannot be a key (a list of mappings, say): no memo
        pass
    return e


class StrictMemo(dict):
    """`_entry`'s memo in strict mode (tests): it never answers, so every check is recorded again,
    and `_entry_strict` compares it with what the memo holds."""

    __slots__ = ()

    def get(self, key, default=None):
        hash(key)            # the TypeError of an unhashable key, as a dict's
        return default


def _entry_strict(X, xk, head, item_id, M, key, text, free, rec, tx, DATE, item, item_p):
    try:
        old = dict.get(X, xk)
    except TypeError:
        old = None
    e = _entry(X, xk, head, item_id, M, key, text, free, rec, tx, DATE, item, item_p)
    if old is not None and (e is None or e != old or list(e["facts"]) != list(old["facts"])):
        raise AssertionError(f"memoised check {old!r}, recorded now {e!r} (key {xk!r})")
    return e


def _gstore(X, key, g0: list, gs: list) -> None:
    """Keep a group's checks (emit._group_stmts): the entries of the rules false at their first
    conjunct, and the other rules, which every decision asks again."""
    try:
        if len(X) >= _XM_SIZE:
            X.clear()
        X[key] = (tuple(g0), frozenset(gs))
    except TypeError:
        pass


def _gstore_strict(X, key, g0: list, gs: list) -> None:
    """`_gstore` for tests: what a group keeps must be what it finds now, keys in order."""
    try:
        old = dict.get(X, key)
    except TypeError:
        old = None
    if old is not None and (old[1] != frozenset(gs) or list(old[0]) != g0
                            or [list(e) + list(e["facts"]) for e in old[0]] != [list(e) + list(e["facts"]) for e in g0]):
        raise AssertionError(f"memoised group {old!r}, found now {(g0, gs)!r} (key {key!r})")
    _gstore(X, key, g0, gs)


STRICT_HELPERS = {"_entry": _entry_strict, "_gstore": _gstore_strict}
"""The memos' helpers in strict mode (tests): each answer of a memo is compared with a fresh one."""

HELPERS = {
    "_truth": _truth, "_eq": _eq, "_ne": _ne, "_ord": _ord, "_arith": _arith, "_member": _member,
    "_member_slow": _member_slow, "_starts": _starts, "_known": _known, "_known_value": _known_value,
    "_components_of": _components_of, "_q_any": _q_any, "_q_all": _q_all, "_q_count": _q_count,
    "_q_sum": _q_sum, "_UNK": _UNK, "_U": _U, "_NUMT": _NUMT, "_Unknown": _Unknown,
    "_rd": _rd, "_rcomponents_of": _rcomponents_of, "_rq_any": _rq_any, "_rq_all": _rq_all,
    "_rq_sum": _rq_sum, "_rmember": _rmember, "_rknown": _rknown,
    "_rcheck": _rcheck, "_cut": _cut, "_why": _why, "_raise_unknown": _raise_unknown, "_rkey": _rkey, "_rkey1": _rkey1,
    "_vk": value_key, "_entry": _entry, "_gstore": _gstore, "_copy": dict.copy,
}

