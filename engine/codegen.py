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
"""

from __future__ import annotations

import ast
import bisect
import datetime as _dt
import itertools
import math
import types
from dataclasses import dataclass, field
from operator import itemgetter

from . import ast as A
from .compile import Coll, Compiler, Ctx, _combine, _members_fn, arith, compare, truth
from .compile import starts as _starts_3v
from .evaluate import ORDER, CompiledConflict, CompiledRegime, CompiledRule, _in_force, _resolve, _scope_findings
from .evaluate import evaluate as plain_evaluate
from .values import Node, SetValue, norm

__all__ = ["compile_fast", "FastEvaluator"]


class _Unknown(Exception):
    """Raised by generated code where the closure evaluator would have an unknown value."""


# What generated code raises where a fact is unknown: a missing key (`tx["end_user"]`), an
# attribute of something that is not a mapping, or an explicit `_Unknown`. Treating any of them
# as "unknown" is always safe: the rule is then decided by the three-valued closures.
_UNK = (KeyError, TypeError, _Unknown)
_U = object()            # an empty memo slot
_INLINE_COST = 24        # definitions up to this size are inlined where they are memoised
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


_HELPERS = {
    "_truth": _truth, "_eq": _eq, "_ne": _ne, "_ord": _ord, "_arith": _arith, "_member": _member,
    "_member_slow": _member_slow, "_starts": _starts, "_known": _known, "_known_value": _known_value,
    "_components_of": _components_of, "_q_any": _q_any, "_q_all": _q_all, "_q_count": _q_count,
    "_q_sum": _q_sum, "_UNK": _UNK, "_U": _U, "_NUMT": _NUMT, "_Unknown": _Unknown,
}


# ---------------------------------------------------------------- ast building blocks

def _name(n: str, store: bool = False) -> ast.Name:
    return ast.Name(n, ast.Store() if store else ast.Load())


def _const(v) -> ast.Constant:
    return ast.Constant(v)


def _call(fn: str, *args) -> ast.Call:
    return ast.Call(_name(fn), list(args), [])


def _not(e) -> ast.UnaryOp:
    return ast.UnaryOp(ast.Not(), e)


def _is(a, b, negate=False) -> ast.Compare:
    return ast.Compare(a, [ast.IsNot() if negate else ast.Is()], [b])


def _assign(n: str, value) -> ast.Assign:
    return ast.Assign([_name(n, True)], value)


def _try_unknown(body: list, on_unknown: list) -> ast.Try:
    return ast.Try(body, [ast.ExceptHandler(_name("_UNK"), None, on_unknown)], [], [])


_CMP = {"==": ast.Eq, "!=": ast.NotEq, "<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}


def _skey(e):
    """A structural key of an expression (spans ignored): equal keys, equal meaning."""
    if isinstance(e, A.Literal):
        return ("lit", type(e.value).__name__, e.value)
    if isinstance(e, A.SetLiteral):
        return ("set", tuple((m.value, m.aliases, m.start, m.end) for m in e.members))
    if isinstance(e, A.Ref):
        return ("ref", e.parts)
    if isinstance(e, A.Call):
        return ("call", e.namespace, e.name, tuple(_skey(a) for a in e.args))
    if isinstance(e, (A.Arith, A.Compare)):
        return (type(e).__name__, e.op, _skey(e.left), _skey(e.right))
    if isinstance(e, A.In):
        return ("in", e.negated, _skey(e.left), _skey(e.right))
    if isinstance(e, A.StartsWith):
        return ("sw", _skey(e.left), _skey(e.right))
    if isinstance(e, A.IsKnown):
        return ("known", e.negated, _skey(e.operand))
    if isinstance(e, (A.Neg, A.Not)):
        return (type(e).__name__, _skey(e.operand))
    if isinstance(e, (A.And, A.Or)):
        return (type(e).__name__, tuple(_skey(x) for x in e.operands))
    if isinstance(e, A.Quantifier):
        return ("q", e.kind, e.var, _skey(e.collection),
                _skey(e.body) if e.body is not None else None, _skey(e.value) if e.value is not None else None)
    return ("?", id(e))


def _conjuncts(e) -> list:
    return list(e.operands) if isinstance(e, A.And) else [e]


class _DayCtx:
    """What `_members_fn` needs to resolve a dated set literal: the date of the law."""

    __slots__ = ("as_of",)

    def __init__(self, day):
        self.as_of = day


# ---------------------------------------------------------------- the generator

@dataclass
class _Scope:
    """Where an expression is generated: its policy, bound variables, memo slots, temporaries."""

    policy: A.Policy
    vars: dict                     # policy name -> (python name, kind)
    fn: "_FnState"
    slots: bool                    # may use the function's memo slots (not inside a lambda)

    def bind(self, name: str, pyname: str, kind: str) -> "_Scope":
        return _Scope(self.policy, {**self.vars, name: (pyname, kind)}, self.fn, False)


@dataclass
class _FnState:
    """Per generated function: temporaries and memo slots (definition results)."""

    prog: "_ProgramBuilder"
    item_var: str | None = None
    tx_slots: dict = field(default_factory=dict)     # define key -> slot name (no args)
    item_slots: dict = field(default_factory=dict)   # define key -> slot name (argument: item)
    temps: itertools.count = field(default_factory=itertools.count)
    inlining: set = field(default_factory=set)       # definitions whose body is being inlined

    def temp(self) -> str:
        return f"_t{next(self.temps)}"


class _ProgramBuilder:
    """The program: every regime's rule function, its exceptions, applies and conflicts, and
    the definitions they call. Generated and compiled once; what depends on the date (sets,
    whether a dated rule is in force) is a global of the program, bound per epoch (`bind`)."""

    def __init__(self, comp: Compiler, fact_roots: frozenset):
        self.comp = comp
        self.fact_roots = fact_roots
        self.functions: list = []
        self.bindings: dict = {}        # global name -> (kind, payload): how to compute it for a day
        self._names = itertools.count()
        self._refs: dict = {}           # binding key -> global name
        self._defines: dict = {}        # (regime, name) -> function name
        self._define_kind: dict = {}
        self._cost: dict = {}

    # -- names and per-epoch globals
    def fresh(self, prefix: str) -> str:
        return f"{prefix}{next(self._names)}"

    def _ref(self, prefix: str, kind: str, key, payload) -> str:
        n = self._refs.get((kind, key))
        if n is None:
            n = self._refs[(kind, key)] = self.fresh(prefix)
            self.bindings[n] = (kind, payload)
        return n

    def constant(self, v) -> ast.expr:
        if v is None or type(v) in (bool, int, float, str):
            return _const(v)
        return _name(self._ref("_k", "const", (type(v).__name__, v), v))

    def set_ref(self, policy: A.Policy, decl: A.SetDecl) -> str:
        """The global holding a named set, as of the epoch."""
        return self._ref("_s", "set", (policy.regime, decl.name), (policy, decl))

    def literal_ref(self, lit: A.SetLiteral) -> str:
        return self._ref("_s", "lit", id(lit), lit)

    def memo_ref(self, set_name: str) -> str:
        """A dict string -> membership, for the set (filled on first sight of each string)."""
        return self._ref("_m", "memo", set_name, set_name)

    def prefixes_ref(self, set_name: str) -> str:
        return self._ref("_x", "prefixes", set_name, set_name)

    def in_force_ref(self, rule: A.Rule) -> str:
        return self._ref("_on", "in_force", id(rule), rule)

    def bind(self, day: _dt.date, sets: dict) -> dict:
        """The globals of the program on `day`; `sets` receives the named sets, resolved."""
        ns: dict = dict(_HELPERS)
        ns["__builtins__"] = __builtins__
        for n, (kind, payload) in self.bindings.items():
            if kind == "const":
                ns[n] = payload
            elif kind == "in_force":
                ns[n] = _in_force(payload.start, payload.end, day)
            elif kind in ("set", "lit"):
                ns[n] = self._set_value(kind, payload, day, sets)
        for n, (kind, payload) in self.bindings.items():
            if kind == "memo":
                sv = ns[payload]
                ns[n] = {v: norm(v) in sv.canonical for v in sv.values}
            elif kind == "prefixes":
                ns[n] = tuple(ns[payload].values)
        return ns

    def _set_value(self, kind: str, payload, day, cache: dict) -> SetValue:
        if kind == "lit":
            static = all(m.start is None and m.end is None for m in payload.members)
            return _members_fn(payload)(None if static else _DayCtx(day))
        policy, decl = payload
        key = (policy.regime, decl.name)
        sv = cache.get(key)
        if sv is None:
            parts = []
            for op, term in decl.terms:
                if isinstance(term, A.SetLiteral):
                    parts.append((op, _members_fn(term)(_DayCtx(day))))
                else:
                    parts.append((op, self._set_value("set", self.comp.lookup(policy, term.parts), day, cache)))
            sv = cache[key] = _combine(f"{policy.regime}.{decl.name}", parts, self.comp.set_partial(policy, decl))
        return sv

    # -- definitions
    def define(self, owner: A.Policy, decl: A.Define) -> str:
        key = (owner.regime, decl.name)
        got = self._defines.get(key)
        if got is not None:
            return got
        fname = self._defines[key] = self.fresh("_D")
        params = [f"_p{i}" for i in range(len(decl.params))]
        scope = _Scope(owner, {p: (q, "any") for p, q in zip(decl.params, params)}, _FnState(self), False)
        body, _ = _Expr(self).gen(decl.body, scope)
        self.add_function(fname, ["tx", "DATE"] + params, [ast.Return(body)])
        return fname

    def define_kind(self, owner: A.Policy, decl: A.Define) -> str:
        key = (owner.regime, decl.name)
        if key not in self._define_kind:
            self._define_kind[key] = "any"       # recursion: unknown kind
            self._define_kind[key] = _static_kind(self, decl.body, owner, frozenset(decl.params))
        return self._define_kind[key]

    def cost(self, e, policy: A.Policy, depth: int = 0) -> int:
        """A rough size of an expression with the definitions it calls (for picking guards)."""
        if depth > 8:
            return 1
        n = 1
        if isinstance(e, (A.Ref, A.Call)):
            parts = e.parts if isinstance(e, A.Ref) else ((e.namespace,) if e.namespace else ()) + (e.name,)
            found = self.comp.lookup(policy, parts) if parts[0] not in self.fact_roots else None
            if found is not None and isinstance(found[1], A.Define):
                key = (found[0].regime, found[1].name)
                if key not in self._cost:
                    self._cost[key] = 1
                    self._cost[key] = self.cost(found[1].body, found[0], depth + 1)
                n += self._cost[key]
        for c in A.children(e):
            n += self.cost(c, policy, depth)
        return n

    # -- functions
    def add_function(self, name: str, args: list, body: list) -> None:
        a = ast.arguments([], [ast.arg(x) for x in args], None, [], [], None, [])
        self.functions.append(ast.FunctionDef(name, a, body, [], None, None))

    def build(self, filename: str) -> dict:
        """Compile every generated function once; returns name -> code object."""
        self.module = ast.Module(self.functions, [])
        _locate(self.module)
        code = compile(self.module, filename, "exec")
        return {c.co_name: c for c in code.co_consts if isinstance(c, types.CodeType)}


_POSITIONED = (ast.expr, ast.stmt, ast.excepthandler, ast.arg)
_NODE_INFO: dict = {}


def _locate(tree) -> None:
    """Give every node the position `compile()` wants (all generated code is 'line 1').
    (`ast.fix_missing_locations` does the same, three times slower.)"""
    todo = [tree]
    pop, push, info_of = todo.pop, todo.append, _NODE_INFO.get
    AST = ast.AST
    while todo:
        node = pop()
        cls = type(node)
        info = info_of(cls)
        if info is None:
            info = _NODE_INFO[cls] = (issubclass(cls, _POSITIONED), cls._fields)
        if info[0]:
            node.lineno = 1
            node.col_offset = 0
        for f in info[1]:
            v = getattr(node, f, None)
            if type(v) is list:
                for x in v:
                    if isinstance(x, AST):
                        push(x)
            elif isinstance(v, AST):
                push(v)


def _static_kind(prog: _ProgramBuilder, e, policy: A.Policy, bound: frozenset) -> str:
    """What kind of value an expression yields, when it is known without running it:
    'bool' (exactly True or False) or 'any'."""
    if isinstance(e, (A.Compare, A.In, A.StartsWith, A.IsKnown, A.Not, A.And, A.Or)):
        return "bool"
    if isinstance(e, A.Literal) and type(e.value) is bool:
        return "bool"
    if isinstance(e, (A.Ref, A.Call)):
        parts = e.parts if isinstance(e, A.Ref) else ((e.namespace,) if e.namespace else ()) + (e.name,)
        if isinstance(e, A.Ref) and (parts[0] in bound or parts[0] in prog.fact_roots):
            return "any"
        found = prog.comp.lookup(policy, parts)
        if found is not None and isinstance(found[1], A.Define):
            return prog.define_kind(*found)
    return "any"


class _Expr:
    """Expression generator: an `A.Expr` to an `ast.expr` computing its fast value.

    Kinds tracked alongside: 'bool' (exactly True/False), 'date' (a date), 'str', 'num',
    'none', 'set' (a SetValue), 'coll' (a Coll), 'json' (a value of the transaction: a
    scalar, or a dict/list standing for a Node), 'any' (not known)."""

    def __init__(self, prog: _ProgramBuilder):
        self.prog = prog

    def truth(self, e, sc: _Scope) -> ast.expr:
        node, kind = self.gen(e, sc)
        return node if kind == "bool" else _call("_truth", node)

    def gen(self, e, sc: _Scope):
        return getattr(self, "_" + type(e).__name__)(e, sc)

    # -- atoms
    def _Literal(self, e, sc):
        v = e.value
        kind = ("bool" if type(v) is bool else "num" if type(v) in (int, float) else "str" if type(v) is str
                else "none" if v is None else "date" if type(v) is _dt.date else "any")
        return self.prog.constant(v), kind

    def _SetLiteral(self, e, sc):
        return _name(self.prog.literal_ref(e)), "set"

    def _Ref(self, e, sc):
        head, rest = e.parts[0], e.parts[1:]
        if head in sc.vars:
            pyname, kind = sc.vars[head]
            node = _name(pyname)
        elif head in self.prog.fact_roots:
            if head == "date":
                node, kind = _name("DATE"), "date"
            else:
                node, kind = ast.Subscript(_name("tx"), _const(head), ast.Load()), "json"
        else:
            found = self.prog.comp.lookup(sc.policy, e.parts)
            if found is None:
                raise ValueError(f"unresolved name {e.dotted} (run check first)")
            owner, decl = found
            if isinstance(decl, A.SetDecl):
                return _name(self.prog.set_ref(owner, decl)), "set"
            return self._define_call(owner, decl, [], sc)
        for k in rest:
            node, kind = ast.Subscript(node, _const(k), ast.Load()), "json"
        return node, kind

    def _define_call(self, owner, decl, args: list, sc: _Scope):
        kind = self.prog.define_kind(owner, decl)
        fn = sc.fn
        key = (owner.regime, decl.name)
        slots = None
        if sc.slots and not args:
            slots = fn.tx_slots
        elif (sc.slots and len(args) == 1 and fn.item_var is not None and isinstance(args[0][0], ast.Name)
              and args[0][0].id == fn.item_var):
            slots = fn.item_slots
        if slots is None:
            return _call(self.prog.define(owner, decl), _name("tx"), _name("DATE"), *[a for a, _ in args]), kind
        slot = slots.get(key)
        if slot is None:
            slot = slots[key] = f"_d{len(fn.tx_slots) + len(fn.item_slots)}"
        if key not in fn.inlining and self.prog.cost(decl.body, owner) <= _INLINE_COST:
            # a small body itself, in its own policy's scope, sharing this function's slots
            fn.inlining.add(key)
            vars = {decl.params[0]: (fn.item_var, "json")} if args else {}
            call, _ = self.gen(decl.body, _Scope(owner, vars, fn, True))
            fn.inlining.discard(key)
        else:
            call = _call(self.prog.define(owner, decl), _name("tx"), _name("DATE"), *[a for a, _ in args])
        # (slot if slot is not _U else (slot := value))
        node = ast.IfExp(_is(_name(slot), _name("_U"), negate=True), _name(slot),
                         ast.NamedExpr(_name(slot, True), call))
        return node, kind

    def _Call(self, e, sc):
        if e.namespace is None and e.name == "components_of":
            a, _ = self.gen(e.args[0], sc)
            return _call("_components_of", a), "coll"
        if e.namespace is None and e.name == "outcome":
            return ast.Subscript(_name("OUTC"), _const(e.args[0].value), ast.Load()), "str"
        owner, decl = self.prog.comp.lookup(sc.policy, ((e.namespace,) if e.namespace else ()) + (e.name,))
        args = [self.gen(a, sc) for a in e.args]
        return self._define_call(owner, decl, args, sc)

    # -- operators
    def _Arith(self, e, sc):
        a, _ = self.gen(e.left, sc)
        b, _ = self.gen(e.right, sc)
        return _call("_arith", _const(e.op), a, b), "any"

    def _Neg(self, e, sc):
        a, _ = self.gen(e.operand, sc)
        return _call("_arith", _const("-"), _const(0), a), "any"

    def _Compare(self, e, sc):
        op = e.op
        a, ka = self.gen(e.left, sc)
        b, kb = self.gen(e.right, sc)
        lit_a, lit_b = isinstance(e.left, A.Literal), isinstance(e.right, A.Literal)
        if op == "==":
            # As in the closures: plain `==`, except that a date equals its ISO string.
            if self._no_coercion(e.left, ka, e.right, kb):
                return ast.Compare(a, [ast.Eq()], [b]), "bool"
            return _call("_eq", a, b), "bool"
        if op == "!=":
            if self._no_coercion(e.left, ka, e.right, kb):
                return ast.Compare(a, [ast.NotEq()], [b]), "bool"
            return _call("_ne", a, b), "bool"
        # ordering: inline against a number, and between two dates
        num_a = lit_a and type(e.left.value) in (int, float)
        num_b = lit_b and type(e.right.value) in (int, float)
        if num_a or num_b:
            t = sc.fn.temp()
            other = a if num_b else b
            test = ast.Compare(_call("type", ast.NamedExpr(_name(t, True), other)), [ast.In()], [_name("_NUMT")])
            fast = ast.Compare(_name(t), [_CMP[op]()], [b]) if num_b else ast.Compare(a, [_CMP[op]()], [_name(t)])
            slow = _call("_ord", _const(op), _name(t), b) if num_b else _call("_ord", _const(op), a, _name(t))
            return ast.IfExp(test, fast, slow), "bool"
        if ka == "date" and kb == "date":
            return ast.Compare(a, [_CMP[op]()], [b]), "bool"
        return _call("_ord", _const(op), a, b), "bool"

    @staticmethod
    def _no_coercion(left, ka, right, kb) -> bool:
        """`!=` can be plain Python when one side is a literal and no date/string coercion can happen."""
        for lit, other_kind in ((left, kb), (right, ka)):
            if isinstance(lit, A.Literal):
                v = lit.value
                if type(v) is str:
                    if other_kind not in ("date", "any"):
                        return True
                elif type(v) is _dt.date:
                    if other_kind in ("date", "num", "none", "bool"):
                        return True
                else:
                    return True
        return False

    def _static_set(self, e, sc):
        """The global holding `e` when it is a named set or a set literal, else None."""
        if isinstance(e, A.SetLiteral):
            return self.prog.literal_ref(e)
        if isinstance(e, A.Ref) and e.parts[0] not in sc.vars and e.parts[0] not in self.prog.fact_roots:
            found = self.prog.comp.lookup(sc.policy, e.parts)
            if found is not None and isinstance(found[1], A.SetDecl):
                if self.prog.comp.set_partial(*found):
                    return None          # membership of a partial set takes `_member`, which knows
                return self.prog.set_ref(*found)
        return None

    def _In(self, e, sc):
        a, _ = self.gen(e.left, sc)
        s = self._static_set(e.right, sc)
        if s is not None:
            m = self.prog.memo_ref(s)
            t = sc.fn.temp()
            # type(t := a) is str and (m[t] if t in m else _member_slow(m, s, t))
            look = ast.IfExp(ast.Compare(_name(t), [ast.In()], [_name(m)]),
                             ast.Subscript(_name(m), _name(t), ast.Load()),
                             _call("_member_slow", _name(m), _name(s), _name(t)))
            node = ast.BoolOp(ast.And(), [_is(_call("type", ast.NamedExpr(_name(t, True), a)), _name("str")), look])
        else:
            b, _ = self.gen(e.right, sc)
            node = _call("_member", a, b)
        return (_not(node) if e.negated else node), "bool"

    def _StartsWith(self, e, sc):
        a, _ = self.gen(e.left, sc)
        prefix = None
        if isinstance(e.right, A.Literal) and type(e.right.value) is str:
            prefix = _const(e.right.value)
        else:
            s = self._static_set(e.right, sc)
            if s is not None:
                prefix = _name(self.prog.prefixes_ref(s))
        if prefix is None:
            b, _ = self.gen(e.right, sc)
            return _call("_starts", a, b), "bool"
        t = sc.fn.temp()
        test = _is(_call("type", ast.NamedExpr(_name(t, True), a)), _name("str"))
        meth = ast.Call(ast.Attribute(_name(t), "startswith", ast.Load()), [prefix], [])
        return ast.BoolOp(ast.And(), [test, meth]), "bool"

    def _IsKnown(self, e, sc):
        x = e.operand
        node = None
        if isinstance(x, A.Ref):
            head, rest = x.parts[0], x.parts[1:]
            if head in sc.vars:
                node = _call("_known", _name(sc.vars[head][0]), _const(rest)) if rest else _const(True)
            elif head in self.prog.fact_roots:
                node = _call("_known", _name("tx"), _const(x.parts))
        if node is None:
            v, _ = self.gen(x, sc)
            node = _call("_known_value", v)
        return (_not(node) if e.negated else node), "bool"

    def _Not(self, e, sc):
        return _not(self.truth(e.operand, sc)), "bool"

    def _And(self, e, sc):
        return ast.BoolOp(ast.And(), [self.truth(x, sc) for x in e.operands]), "bool"

    def _Or(self, e, sc):
        return ast.BoolOp(ast.Or(), [self.truth(x, sc) for x in e.operands]), "bool"

    def _Quantifier(self, e, sc):
        coll, ckind = self.gen(e.collection, sc)
        var = sc.fn.prog.fresh("_v")
        vkind = "str" if ckind == "set" else "json" if ckind in ("json", "coll") else "any"
        inner = sc.bind(e.var, var, vkind)

        def lam(x):
            if x is None:
                return _const(None)
            body = self.truth(x, inner) if x is not e.value else self.gen(x, inner)[0]
            return ast.Lambda(ast.arguments([], [ast.arg(var)], None, [], [], None, []), body)

        if e.kind == "any":
            return _call("_q_any", coll, lam(e.body)), ("bool" if ckind in ("set", "coll") else "any")
        if e.kind == "all":
            return _call("_q_all", coll, lam(e.body)), ("bool" if ckind in ("set", "coll") else "any")
        if e.kind == "count":
            return _call("_q_count", coll, lam(e.body)), "any"
        return _call("_q_sum", coll, lam(e.body), lam(e.value)), "any"


# ---------------------------------------------------------------- statements: conditions and the rule tree

class _CondGen:
    """Statements that set a status variable to True, False or None (unknown) for a condition.
    Top-level conjuncts are evaluated one by one, and an unknown one does not stop the search
    for a false one (Kleene: unknown and false is false)."""

    def __init__(self, prog: _ProgramBuilder, policy: A.Policy, fn: _FnState, vars: dict):
        self.prog = prog
        self.policy = policy
        self.fn = fn
        self.vars = vars
        self.ex = _Expr(prog)

    def scope(self) -> _Scope:
        return _Scope(self.policy, dict(self.vars), self.fn, True)

    def conjunct_stmts(self, conjuncts: list, st: str, init) -> list:
        """`st = init`, then each conjunct may make it False (false) or None (unknown)."""
        out = [_assign(st, init)]
        for i, c in enumerate(conjuncts):
            test = self.ex.truth(c, self.scope())
            guarded = [_try_unknown([ast.If(_not(test), [_assign(st, _const(False))], [])],
                                    [_assign(st, _const(None))])]
            if i == 0 and isinstance(init, ast.Constant) and init.value is True:
                out.extend(guarded)
            else:
                out.append(ast.If(_is(_name(st), _const(False), negate=True), guarded, []))
        return out


@dataclass
class _RuleRef:
    k: int                 # index in the regime's top-level rules
    rule: A.Rule
    conjuncts: list        # remaining conjuncts (A.Expr)
    plain: bool = False    # for the whole transaction and without exceptions: true means it fires


def _tree_stmts(cg: _CondGen, rules: list, status: ast.expr, index: ast.expr, depth: int) -> list:
    """The rule tree: conjuncts shared by several rules become guards of nested blocks."""
    out: list = []
    pending = list(rules)
    while pending:
        counts: dict = {}
        exprs: dict = {}
        for r in pending:
            for c in {_skey(c): c for c in r.conjuncts}.items():
                counts[c[0]] = counts.get(c[0], 0) + 1
                exprs.setdefault(c[0], c[1])
        best, best_score = None, 0.0
        for key, n in counts.items():
            if n < 2:
                continue
            score = n / math.sqrt(cg.prog.cost(exprs[key], cg.policy))
            if score > best_score:
                best, best_score = key, score
        if best is None:
            for r in pending:
                out.extend(_rule_stmts(cg, r, status, index))
            break
        group = [r for r in pending if any(_skey(c) == best for c in r.conjuncts)]
        pending = [r for r in pending if r not in group]
        g = f"_g{depth}"
        inner = [_RuleRef(r.k, r.rule, [c for c in r.conjuncts if _skey(c) != best], r.plain) for r in group]
        test = cg.ex.truth(exprs[best], cg.scope())
        out.append(_try_unknown([_assign(g, test)], [_assign(g, _const(None))]))
        # inside: the status so far is `g and status` (True, or None when either is unknown)
        acc = _name(g) if isinstance(status, ast.Constant) else ast.BoolOp(ast.And(), [_name(g), status])
        a = f"_a{depth}"
        block = [_assign(a, acc)] + _tree_stmts(cg, inner, _name(a), index, depth + 1)
        out.append(ast.If(_is(_name(g), _const(False), negate=True), block, []))
    return out


def _rule_stmts(cg: _CondGen, r: _RuleRef, status: ast.expr, index: ast.expr) -> list:
    out = cg.conjunct_stmts(r.conjuncts, "st", status) if r.conjuncts else [_assign("st", status)]
    hit = lambda v: ast.Expr(ast.Call(ast.Attribute(_name("hits"), "append", ast.Load()),  # noqa: E731
                                      [ast.Tuple([_const(r.k), index, _const(v)], ast.Load())], []))
    fires = ast.Expr(ast.Call(ast.Attribute(_name("fired"), "append", ast.Load()), [_const(r.rule.id)], []))
    out.append(ast.If(_name("st"), [fires if r.plain else hit(True)],
                      [ast.If(_is(_name("st"), _const(None)), [hit(None)], [])]))
    if r.rule.start is not None or r.rule.end is not None:     # dated: only in the epochs it is in force
        out = [ast.If(_name(cg.prog.in_force_ref(r.rule)), out, [])]
    return out


def _slot_inits(slots: dict) -> list:
    return [_assign(s, _name("_U")) for s in slots.values()]


# ---------------------------------------------------------------- programs per epoch

@dataclass
class _RegimeCode:
    """A regime's generated functions (names, then code objects once compiled)."""

    reg: object                     # evaluate.CompiledRegime
    fn: str | None = None           # rules(tx, items, DATE, fired) -> [(k, item index | -1, True | None)];
    # rules without exceptions that hold for the whole transaction go to `fired` (their ids)
    applies: list = field(default_factory=list)    # (tx, DATE) -> status, one per `applies`
    conflicts: list = field(default_factory=list)  # (tx, DATE, OUTC) -> status, one per conflict
    why: dict = field(default_factory=dict)        # rule id -> [(tx, DATE, item) -> status, one per conjunct]


@dataclass
class _Code:
    builder: _ProgramBuilder
    regimes: list                   # _RegimeCode, in decision order
    exceptions: dict                # rule id -> function name (tx, DATE, item) -> status
    code: dict                      # function name -> code object


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
    w_conflicts: list = field(default_factory=list)    # reg.conflicts, wrapped
    why: dict = field(default_factory=dict)            # rule id -> fast functions of its conjuncts (explain.py)


@dataclass
class _Program:
    regimes: list                   # _RegimePlan, in decision order
    exceptions: dict                # rule id -> fast function (tx, DATE, item)
    sets: dict                      # the closure evaluator's cache entries of the named sets, for the epoch

    def prime(self, ctx: Ctx) -> None:
        """Give a closure context the epoch's named sets, so that it does not rebuild them."""
        if _PRIMED not in ctx.cache:
            ctx.cache.update(self.sets)


def _status_fn(prog: _ProgramBuilder, policy: A.Policy, cond, args: list, item: bool) -> str:
    """A function `name(*args) -> True | False | None` for one condition."""
    name = prog.fresh("_F")
    fn = _FnState(prog)
    if item:
        fn.item_var = "item"
    cg = _CondGen(prog, policy, fn, {"item": ("item", "json")} if item else {})
    stmts = cg.conjunct_stmts(_conjuncts(cond), "st", _const(True))
    prog.add_function(name, args, _slot_inits(fn.tx_slots) + _slot_inits(fn.item_slots) + stmts
                      + [ast.Return(_name("st"))])
    return name


def _generate(ev: "FastEvaluator") -> _Code:
    """Generate and compile the program of every regime (once: it serves every epoch)."""
    prog = _ProgramBuilder(ev._comp, ev.fact_roots)
    out: list = []
    exc_fns: dict = {}
    conj_fns: dict = {}
    for reg in ev._ordered:
        p = reg.policy
        rc = _RegimeCode(reg)
        out.append(rc)
        rc.conflicts = [_status_fn(prog, p, cc.conflict.when, ["tx", "DATE", "OUTC"], False) for cc in reg.conflicts]
        rc.applies = [_status_fn(prog, p, a.condition, ["tx", "DATE"], False) for a, _ in reg.applies]
        # the rule function: the tree of every rule, per transaction then per item
        fn = _FnState(prog)
        tx_rules = [_RuleRef(k, cr.rule, _conjuncts(cr.rule.when), not cr.exceptions)
                    for k, cr in enumerate(reg.rules) if not cr.per_item]
        item_rules = [_RuleRef(k, cr.rule, _conjuncts(cr.rule.when)) for k, cr in enumerate(reg.rules) if cr.per_item]
        body = _tree_stmts(_CondGen(prog, p, fn, {}), tx_rules, _const(True), _const(-1), 0)
        if item_rules:
            fn.item_var = "item"
            cg_item = _CondGen(prog, p, fn, {"item": ("item", "json")})
            loop_body = _tree_stmts(cg_item, item_rules, _const(True), _name("_i"), 0)
            body.append(ast.For(ast.Tuple([_name("_i", True), _name("item", True)], ast.Store()),
                                _call("enumerate", _name("items")), _slot_inits(fn.item_slots) + loop_body, []))
        body = [_assign("hits", ast.List([], ast.Load()))] + _slot_inits(fn.tx_slots) + body + [ast.Return(_name("hits"))]
        rc.fn = prog.fresh("_R")
        prog.add_function(rc.fn, ["tx", "items", "DATE", "fired"], body)
        # each top-level conjunct of each rule as its own function, for the checks behind a "no"
        # (explain.py): guards shared by several rules are generated once
        for cr in reg.rules:
            names = []
            for c in _conjuncts(cr.rule.when):
                key = (p.regime, _skey(c), cr.per_item)
                if key not in conj_fns:
                    conj_fns[key] = _status_fn(prog, p, c, ["tx", "DATE", "item"], cr.per_item)
                names.append(conj_fns[key])
            rc.why[cr.id] = names
        stack = [x for cr in reg.rules for x in cr.exceptions]
        while stack:
            x = stack.pop()
            stack.extend(x.exceptions)
            if x.id not in exc_fns:
                exc_fns[x.id] = _status_fn(prog, p, x.rule.when, ["tx", "DATE", "item"], True)
    code = prog.build("<exportctl-fast>")
    return _Code(prog, out, exc_fns, code)


_PRIMED = ("exportctl-fast", "sets")


def _bind(ev: "FastEvaluator", code: _Code, day: _dt.date) -> _Program:
    """The program on the days of one epoch: the compiled functions with that epoch's globals."""
    resolved: dict = {}
    ns = code.builder.bind(day, resolved)
    # the same SetValues the closures would build for this day, under their cache keys
    # (compile.Compiler.set_fn), so that explanations and fallbacks do not rebuild them
    sets = {("set",) + key: sv for key, sv in resolved.items()}
    sets[_PRIMED] = True
    program = _Program([], {}, sets)
    for name, c in code.code.items():
        ns[name] = types.FunctionType(c, ns, name)
    exceptions = program.exceptions
    exceptions.update((rid, ns[n]) for rid, n in code.exceptions.items())
    plans = program.regimes
    for rc in code.regimes:
        reg = rc.reg
        p = reg.policy
        plan = _RegimePlan(reg, _in_force(p.header.start, p.header.end, day), reg.rules, [cr.id for cr in reg.rules],
                           [not any(_in_force(x.rule.start, x.rule.end, day) for x in cr.exceptions) for cr in reg.rules])
        plan.index = {rid: k for k, rid in enumerate(plan.ids)}
        plans.append(plan)
        plan.w_conflicts = [CompiledConflict(cc.conflict, _wrap_conflict(ev, program, cc.cond, ns[f]))
                            for cc, f in zip(reg.conflicts, rc.conflicts)]
        if not plan.in_force:
            continue
        plan.fn = ns[rc.fn]
        plan.why = {rid: [ns[f] for f in names] for rid, names in rc.why.items()}
        plan.applies = [ns[f] for f in rc.applies]
        plan.w_applies = [(a, _wrap_applies(ev, program, fn, ns[f])) for (a, fn), f in zip(reg.applies, rc.applies)]
        plan.w_exceptions = [[_wrap_exception(ev, program, x, day) for x in cr.exceptions] for cr in reg.rules]
        plan.t_exceptions = [[_wrap_exception(ev, program, x, day, True) for x in cr.exceptions] for cr in reg.rules]
        plan.exc_fast = [tuple(exceptions[x.id] for x in cr.exceptions if _in_force(x.rule.start, x.rule.end, day))
                         for cr in reg.rules]
    return program


# -- the closure evaluator's objects, with conditions that try the fast path first.
# `evaluate.evaluate` itself decides: these wrappers only answer "false" (or, for `applies`,
# true or false) where the fast path is sure, and otherwise run the closure.

def _wrap_exception(ev: "FastEvaluator", program: _Program, x, day, trust: bool = False):
    """`x` with a condition that is false where the fast path finds it false; with `trust`, also
    true where the fast path finds it true (no closure run: no `because`, for `fired_rules`)."""
    if not _in_force(x.rule.start, x.rule.end, day):
        return x
    fast = program.exceptions[x.id]
    real, prime, dates = x.cond, program.prime, ev._dates

    def cond(ctx, env):
        tx = ctx.root.data
        it = env.get("item")
        st = fast(tx, dates[tx["date"]], None if it is None else it.data)
        if st is False or (st is True and trust):
            return st
        prime(ctx)
        return real(ctx, env)

    return CompiledRule(x.rule, cond, x.per_item, [_wrap_exception(ev, program, y, day, trust) for y in x.exceptions])


def _wrap_applies(ev: "FastEvaluator", program: _Program, real, fast):
    prime, dates = program.prime, ev._dates

    def fn(ctx, env):
        tx = ctx.root.data
        st = fast(tx, dates[tx["date"]])
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


def _wrap_hit(program: _Program, real, statuses: dict, strict: bool):
    """A rule's condition for one decision: false wherever the fast path found it false."""
    prime = program.prime

    def cond(ctx, env):
        it = env.get("item")
        if statuses.get(None if it is None else id(it.data), False) is False:
            return False
        prime(ctx)
        v = real(ctx, env)
        if strict and statuses[None if it is None else id(it.data)] is True and truth(v) is not True:
            raise AssertionError(f"the fast path found a rule true, the closure evaluator found {v!r}")
        return v

    return cond


def _always_true(ctx, env):
    return True


# ---------------------------------------------------------------- the evaluator

class _Fallback(Exception):
    """The transaction cannot take the fast path (e.g. its date is not a date)."""


class FastEvaluator:
    """Decides transactions with the compiled rules; same decisions as `evaluate.evaluate`.

    Tiered: the first `warmup` decisions are made by the closure evaluator, and the program is
    generated when the next one comes (a single CLI evaluation does not pay ~30 ms of code
    generation to save a fraction of a millisecond); `prepare()` generates it at once.
    `strict=True` (tests) re-raises errors of the fast path instead of quietly answering with
    the closure evaluator alone."""

    def __init__(self, regimes: dict, fact_roots: frozenset, strict: bool = False, warmup: int = 0):
        self.regimes = regimes
        self.fact_roots = fact_roots
        self.strict = strict
        self.warmup = warmup
        policies = [r.policy for r in regimes.values()]
        self._comp = Compiler(policies, fact_roots)
        self._ordered = sorted(regimes.values(), key=lambda r: (ORDER.index(r.id) if r.id in ORDER else 99, r.id))
        self._breaks = _breakpoints(policies)
        self._code: _Code | None = None
        self._epochs: dict = {}        # epoch index -> _Program
        self._by_day: dict = {}        # date -> _Program
        self._dates: dict = {}         # ISO string -> date
        self.fallbacks = 0             # transactions decided by the closure evaluator alone

    # -- programs
    def program(self, day: _dt.date) -> _Program:
        p = self._by_day.get(day)
        if p is None:
            e = bisect.bisect_right(self._breaks, day)
            p = self._epochs.get(e)
            if p is None:
                if self._code is None:
                    self._code = _generate(self)
                p = self._epochs[e] = _bind(self, self._code, day)
            if len(self._by_day) > 20000:
                self._by_day.clear()
            self._by_day[day] = p
        return p

    def prepare(self) -> int:
        """Compile the program of every epoch now instead of on first use; returns how many."""
        for d in [_dt.date.min] + list(self._breaks):
            self.program(d)
        return len(self._epochs)

    def dump(self) -> str:
        """The generated Python, for reading (the per-epoch globals `_s*`, `_on*`... are not shown)."""
        if self._code is None:
            self._code = _generate(self)
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
            regimes = self._regimes_for(tx_data, as_of)
            return plain_evaluate(regimes, tx_data, as_of, policy_digest, **options)
        except Exception as e:
            if self.strict and not isinstance(e, _Fallback):
                raise
            self.fallbacks += 1
            return plain_evaluate(self.regimes, tx_data, as_of, policy_digest, **options)

    def _regimes_for(self, tx: dict, day: _dt.date) -> dict:
        """The compiled regimes for one decision: only the rules the fast path did not find false,
        each with a condition that is false where the fast path found it false."""
        DATE = self._date(tx)
        prog = self.program(day)
        items = tx.get("items") or []
        out = {}
        for plan in prog.regimes:
            reg = plan.reg
            if not plan.in_force:
                out[reg.id] = CompiledRegime(reg.policy, reg.applies, [], reg.all_rules, plan.w_conflicts, reg.digest,
                                             reg.encodes, reg.explainer)
                continue
            by_rule: dict = {}
            fired: list = []
            for k, i, st in plan.fn(tx, items, DATE, fired):
                by_rule.setdefault(k, {})[None if i < 0 else id(items[i])] = st
            for rid in fired:
                by_rule[plan.index[rid]] = {None: True}
            rules = [CompiledRule(plan.rules[k].rule, _wrap_hit(prog, plan.rules[k].cond, by_rule[k], self.strict),
                                  plan.rules[k].per_item, plan.w_exceptions[k]) for k in sorted(by_rule)]
            out[reg.id] = CompiledRegime(reg.policy, plan.w_applies, rules, reg.all_rules, plan.w_conflicts, reg.digest,
                                         reg.encodes, reg.explainer, (plan.why, DATE))
        return out

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
                out.extend(f["rule"] for f in _scope_findings(plan.reg, ctx, items))
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
                r = _resolve(cr, ctx, env, item_id, day)
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


WARMUP = 16     # decisions made by the closures before the program is generated (compile_fast)


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
