"""The code generator of the compiled evaluator: rule conditions to Python functions, built as
`ast` nodes (never text), compiled once per policy set (`generate`).

The generated functions call the helpers of runtime.py (bound as globals, with the per-epoch
values: sets, whether a dated rule is in force, by `ProgramBuilder.bind`); codegen.py runs
them. See codegen.py for the design and ARCHITECTURE.md for the contract with the closures.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import math
import types
from dataclasses import dataclass, field

from . import ast as A
from . import emit_nodes as py
from .compile import Compiler
from .runtime import HELPERS
from .semantics import DayCtx, combine_sets, in_force, set_literal_fn
from .values import SetValue, norm

__all__ = ["generate", "Code", "ProgramBuilder", "ExprGen", "GenScope", "FnState"]

_INLINE_COST = 24        # definitions up to this size are inlined where they are memoised


# ---------------------------------------------------------------- ast building blocks

def _name(n: str, store: bool = False) -> py.Name:
    return py.Name(n, py.Store() if store else py.Load())


def _const(v) -> py.Constant:
    return py.Constant(v)


def _call(fn: str, *args) -> py.Call:
    return py.Call(_name(fn), list(args), [])


def _not(e) -> py.UnaryOp:
    return py.UnaryOp(py.Not(), e)


def _is(a, b, negate=False) -> py.Compare:
    return py.Compare(a, [py.IsNot() if negate else py.Is()], [b])


def _assign(n: str, value) -> py.Assign:
    return py.Assign([_name(n, True)], value)


def _try_unknown(body: list, on_unknown: list) -> py.Try:
    return py.Try(body, [py.ExceptHandler(_name("_UNK"), None, on_unknown)], [], [])


# the building blocks, for the generator's recording mode (emit_reads.py) and its checks (emit_checks.py)
name_node, const_node, call_node = _name, _const, _call
not_node, is_node, assign_node, try_unknown = _not, _is, _assign, _try_unknown


_CMP = {"==": py.Eq, "!=": py.NotEq, "<": py.Lt, "<=": py.LtE, ">": py.Gt, ">=": py.GtE}


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


# ---------------------------------------------------------------- the generator

@dataclass
class GenScope:
    """Where an expression is generated: its policy, bound variables, memo slots, temporaries."""

    policy: A.Policy
    vars: dict                     # policy name -> (python name, kind)
    fn: "FnState"
    slots: bool                    # may use the function's memo slots (not inside a lambda)

    def bind(self, name: str, pyname: str, kind: str) -> "GenScope":
        return GenScope(self.policy, {**self.vars, name: (pyname, kind)}, self.fn, False)


@dataclass
class FnState:
    """Per generated function: temporaries and memo slots (definition results)."""

    prog: "ProgramBuilder"
    item_var: str | None = None
    tx_slots: dict = field(default_factory=dict)     # define key -> slot name (no args)
    item_slots: dict = field(default_factory=dict)   # define key -> slot name (argument: item)
    temps: itertools.count = field(default_factory=itertools.count)
    inlining: set = field(default_factory=set)       # definitions whose body is being inlined

    def temp(self) -> str:
        return f"_t{next(self.temps)}"


class ProgramBuilder:
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

    def constant(self, v) -> py.expr:
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

    def suffixed_ref(self, set_name: str, suffix: str) -> str:
        """The tuple of the set's string members each followed by `suffix`, as of the epoch."""
        return self._ref("_x", "suffixed", (set_name, suffix), (set_name, suffix))

    def in_force_ref(self, rule: A.Rule) -> str:
        return self._ref("_on", "in_force", id(rule), rule)

    def bind(self, day: _dt.date, sets: dict) -> dict:
        """The globals of the program on `day`; `sets` receives the named sets, resolved."""
        ns: dict = dict(HELPERS)
        ns["__builtins__"] = __builtins__
        for n, (kind, payload) in self.bindings.items():
            if kind == "const":
                ns[n] = payload
            elif kind == "in_force":
                ns[n] = in_force(payload.start, payload.end, day)
            elif kind in ("set", "lit"):
                ns[n] = self._set_value(kind, payload, day, sets)
        for n, (kind, payload) in self.bindings.items():
            if kind == "memo":
                sv = ns[payload]
                ns[n] = {v: norm(v) in sv.canonical for v in sv.values}
            elif kind == "prefixes":
                ns[n] = tuple(ns[payload].values)
            elif kind == "suffixed":
                ns[n] = tuple(v + payload[1] for v in ns[payload[0]].values if type(v) is str)
        return ns

    def _set_value(self, kind: str, payload, day, cache: dict) -> SetValue:
        if kind == "lit":
            static = all(m.start is None and m.end is None for m in payload.members)
            return set_literal_fn(payload)(None if static else DayCtx(day))
        policy, decl = payload
        key = (policy.regime, decl.name)
        sv = cache.get(key)
        if sv is None:
            parts = []
            for op, term in decl.terms:
                if isinstance(term, A.SetLiteral):
                    parts.append((op, set_literal_fn(term)(DayCtx(day))))
                else:
                    parts.append((op, self._set_value("set", self.comp.lookup(policy, term.parts), day, cache)))
            sv = cache[key] = combine_sets(f"{policy.regime}.{decl.name}", parts, self.comp.set_partial(policy, decl))
        return sv

    # -- definitions
    def define(self, owner: A.Policy, decl: A.Define) -> str:
        key = (owner.regime, decl.name)
        got = self._defines.get(key)
        if got is not None:
            return got
        fname = self._defines[key] = self.fresh("_D")
        params = [f"_p{i}" for i in range(len(decl.params))]
        scope = GenScope(owner, {p: (q, "any") for p, q in zip(decl.params, params)}, FnState(self), False)
        body, _ = ExprGen(self).gen(decl.body, scope)
        self.add_function(fname, ["tx", "DATE"] + params, [py.Return(body)])
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
        a = py.arguments([], [py.arg(x) for x in args], None, [], [], None, [])
        self.functions.append(py.FunctionDef(name, a, body, [], None, None))

    def build(self, filename: str) -> dict:
        """Compile every generated function once; returns name -> code object. (Every node is at
        line 1 by its class: emit_nodes.)"""
        self.module = py.Module(self.functions, [])
        code = compile(self.module, filename, "exec")
        return {c.co_name: c for c in code.co_consts if isinstance(c, types.CodeType)}


def _static_kind(prog: ProgramBuilder, e, policy: A.Policy, bound: frozenset) -> str:
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


class ExprGen:
    """Expression generator: an `A.Expr` to an `py.expr` computing its fast value.

    Kinds tracked alongside: 'bool' (exactly True/False), 'date' (a date), 'str', 'num',
    'none', 'set' (a SetValue), 'coll' (a Coll), 'json' (a value of the transaction: a
    scalar, or a dict/list standing for a Node), 'any' (not known)."""

    def __init__(self, prog: ProgramBuilder):
        self.prog = prog

    def truth(self, e, sc: GenScope) -> py.expr:
        node, kind = self.gen(e, sc)
        return node if kind == "bool" else _call("_truth", node)

    def gen(self, e, sc: GenScope):
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
                node, kind = py.Subscript(_name("tx"), _const(head), py.Load()), "json"
        else:
            return self.named(e, sc)
        for k in rest:
            node, kind = py.Subscript(node, _const(k), py.Load()), "json"
        return node, kind

    def named(self, e, sc):
        """A name that is neither a fact nor a variable: a set, or a definition without arguments."""
        found = self.prog.comp.lookup(sc.policy, e.parts)
        if found is None:
            raise ValueError(f"unresolved name {e.dotted} (run check first)")
        owner, decl = found
        if isinstance(decl, A.SetDecl):
            return _name(self.prog.set_ref(owner, decl)), "set"
        return self._define_call(owner, decl, [], sc)

    def _define_call(self, owner, decl, args: list, sc: GenScope):
        kind = self.prog.define_kind(owner, decl)
        fn = sc.fn
        key = (owner.regime, decl.name)
        slots = None
        if sc.slots and not args:
            slots = fn.tx_slots
        elif (sc.slots and len(args) == 1 and fn.item_var is not None and isinstance(args[0][0], py.Name)
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
            call, _ = self.gen(decl.body, GenScope(owner, vars, fn, True))
            fn.inlining.discard(key)
        else:
            call = _call(self.prog.define(owner, decl), _name("tx"), _name("DATE"), *[a for a, _ in args])
        # (slot if slot is not _U else (slot := value))
        node = py.IfExp(_is(_name(slot), _name("_U"), negate=True), _name(slot),
                         py.NamedExpr(_name(slot, True), call))
        return node, kind

    def _Call(self, e, sc):
        if e.namespace is None and e.name == "components_of":
            a, _ = self.gen(e.args[0], sc)
            return _call("_components_of", a), "coll"
        if e.namespace is None and e.name == "outcome":
            return py.Subscript(_name("OUTC"), _const(e.args[0].value), py.Load()), "str"
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
                return py.Compare(a, [py.Eq()], [b]), "bool"
            return _call("_eq", a, b), "bool"
        if op == "!=":
            if self._no_coercion(e.left, ka, e.right, kb):
                return py.Compare(a, [py.NotEq()], [b]), "bool"
            return _call("_ne", a, b), "bool"
        # ordering: inline against a number, and between two dates
        num_a = lit_a and type(e.left.value) in (int, float)
        num_b = lit_b and type(e.right.value) in (int, float)
        if num_a or num_b:
            t = sc.fn.temp()
            other = a if num_b else b
            test = py.Compare(_call("type", py.NamedExpr(_name(t, True), other)), [py.In()], [_name("_NUMT")])
            fast = py.Compare(_name(t), [_CMP[op]()], [b]) if num_b else py.Compare(a, [_CMP[op]()], [_name(t)])
            slow = _call("_ord", _const(op), _name(t), b) if num_b else _call("_ord", _const(op), a, _name(t))
            return py.IfExp(test, fast, slow), "bool"
        if ka == "date" and kb == "date":
            return py.Compare(a, [_CMP[op]()], [b]), "bool"
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
            look = py.IfExp(py.Compare(_name(t), [py.In()], [_name(m)]),
                             py.Subscript(_name(m), _name(t), py.Load()),
                             _call("_member_slow", _name(m), _name(s), _name(t)))
            node = py.BoolOp(py.And(), [_is(_call("type", py.NamedExpr(_name(t, True), a)), _name("str")), look])
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
        test = _is(_call("type", py.NamedExpr(_name(t, True), a)), _name("str"))
        meth = py.Call(py.Attribute(_name(t), "startswith", py.Load()), [prefix], [])
        return py.BoolOp(py.And(), [test, meth]), "bool"

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
        return py.BoolOp(py.And(), [self.truth(x, sc) for x in e.operands]), "bool"

    def _Or(self, e, sc):
        return py.BoolOp(py.Or(), [self.truth(x, sc) for x in e.operands]), "bool"

    def any_startswith(self, e, sc):
        """`any s in SET: x startswith s + "-"` over a named set that is not partial, or a set
        literal, with `x` not reading `s`: one `str.startswith` over the prefixes, made once per
        epoch, instead of a concatenation and a test per member (the same answer: `_starts` of a
        string and a concatenated member; no member, no prefix: false without reading `x`).
        None where the quantifier is not of that form."""
        b = e.body
        if e.kind != "any" or not isinstance(b, A.StartsWith):
            return None
        r = b.right
        if not (isinstance(r, A.Arith) and r.op == "+" and isinstance(r.left, A.Ref) and r.left.parts == (e.var,)
                and isinstance(r.right, A.Literal) and type(r.right.value) is str):
            return None
        stack = [b.left]
        while stack:
            x = stack.pop()
            if isinstance(x, A.Ref) and x.parts[0] == e.var:
                return None
            if isinstance(x, A.Quantifier) and x.var == e.var:
                return None
            stack.extend(c for c in A.children(x) if c is not None)
        s = self._static_set(e.collection, sc)
        if s is None:
            return None
        pre = _name(self.prog.suffixed_ref(s, r.right.value))
        a, _ = self.gen(b.left, sc)
        t = sc.fn.temp()
        return py.BoolOp(py.And(), [
            py.Compare(_call("len", pre), [py.Gt()], [_const(0)]),
            _is(_call("type", py.NamedExpr(_name(t, True), a)), _name("str")),
            py.Call(py.Attribute(_name(t), "startswith", py.Load()), [pre], [])])

    def _Quantifier(self, e, sc):
        fast = self.any_startswith(e, sc)
        if fast is not None:
            return fast, "bool"
        coll, ckind = self.gen(e.collection, sc)
        var = sc.fn.prog.fresh("_v")
        vkind = "str" if ckind == "set" else "json" if ckind in ("json", "coll") else "any"
        inner = sc.bind(e.var, var, vkind)

        def lam(x):
            if x is None:
                return _const(None)
            body = self.truth(x, inner) if x is not e.value else self.gen(x, inner)[0]
            return py.Lambda(py.arguments([], [py.arg(var)], None, [], [], None, []), body)

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

    def __init__(self, prog: ProgramBuilder, policy: A.Policy, fn: FnState, vars: dict):
        self.prog = prog
        self.policy = policy
        self.fn = fn
        self.vars = vars
        self.ex = ExprGen(prog)

    def scope(self) -> GenScope:
        return GenScope(self.policy, dict(self.vars), self.fn, True)

    def conjunct_stmts(self, conjuncts: list, st: str, init) -> list:
        """`st = init`, then each conjunct may make it False (false) or None (unknown)."""
        out = [_assign(st, init)]
        for i, c in enumerate(conjuncts):
            test = self.ex.truth(c, self.scope())
            guarded = [_try_unknown([py.If(_not(test), [_assign(st, _const(False))], [])],
                                    [_assign(st, _const(None))])]
            if i == 0 and isinstance(init, py.Constant) and init.value is True:
                out.extend(guarded)
            else:
                out.append(py.If(_is(_name(st), _const(False), negate=True), guarded, []))
        return out


@dataclass
class _RuleRef:
    k: int                 # index in the regime's top-level rules
    rule: A.Rule
    conjuncts: list        # remaining conjuncts (A.Expr)
    plain: bool = False    # for the whole transaction and without exceptions: true means it fires


def _tree_stmts(cg: _CondGen, rules: list, status: py.expr, index: py.expr, depth: int) -> list:
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
        acc = _name(g) if isinstance(status, py.Constant) else py.BoolOp(py.And(), [_name(g), status])
        a = f"_a{depth}"
        block = [_assign(a, acc)] + _tree_stmts(cg, inner, _name(a), index, depth + 1)
        out.append(py.If(_is(_name(g), _const(False), negate=True), block, []))
    return out


def _rule_stmts(cg: _CondGen, r: _RuleRef, status: py.expr, index: py.expr) -> list:
    out = cg.conjunct_stmts(r.conjuncts, "st", status) if r.conjuncts else [_assign("st", status)]
    hit = lambda v: _append("hits", py.Tuple([_const(r.k), index, _const(v)], py.Load()))  # noqa: E731
    fires = _append("fired", _const(r.rule.id))
    out.append(py.If(_name("st"), [fires if r.plain else hit(True)],
                      [py.If(_is(_name("st"), _const(None)), [hit(None)], [])]))
    if r.rule.start is not None or r.rule.end is not None:     # dated: only in the epochs it is in force
        out = [py.If(_name(cg.prog.in_force_ref(r.rule)), out, [])]
    return out


def _append(target: str, value) -> py.Expr:
    """`target.append(value)`: how generated functions report to their caller."""
    return py.Expr(py.Call(py.Attribute(_name(target), "append", py.Load()), [value], []))


def _slot_inits(slots: dict) -> list:
    return [_assign(s, _name("_U")) for s in slots.values()]


# ---------------------------------------------------------------- the program

@dataclass
class _RegimeCode:
    """A regime's generated functions (names, then code objects once compiled)."""

    reg: object                     # evaluate.CompiledRegime
    fn: str | None = None           # rules(tx, items, DATE, fired) -> [(k, item index | -1, True | None)];
    # rules without exceptions that hold for the whole transaction go to `fired` (their ids)
    applies: list = field(default_factory=list)    # (tx, DATE) -> status, one per `applies`
    conflicts: list = field(default_factory=list)  # (tx, DATE, OUTC) -> status, one per conflict
    why: dict = field(default_factory=dict)        # rule id -> [(tx, DATE, item) -> status, one per conjunct]
    # recording functions (emit_reads.py): (tx, DATE, R[, item, item_p]) -> bool, appending the reads
    rec_rules: dict = field(default_factory=dict)  # rule id (and exceptions) -> its whole condition
    rec_why: dict = field(default_factory=dict)    # rule id -> one per conjunct
    rec_applies: list = field(default_factory=list)
    entries: str | None = None                     # see emit_checks.entries_fn


@dataclass
class Code:
    builder: ProgramBuilder
    regimes: list                   # _RegimeCode, in decision order
    exceptions: dict                # rule id -> function name (tx, DATE, item) -> status
    code: dict                      # function name -> code object


def _status_fn(prog: ProgramBuilder, policy: A.Policy, cond, args: list, item: bool) -> str:
    """A function `name(*args) -> True | False | None` for one condition."""
    name = prog.fresh("_F")
    fn = FnState(prog)
    if item:
        fn.item_var = "item"
    cg = _CondGen(prog, policy, fn, {"item": ("item", "json")} if item else {})
    stmts = cg.conjunct_stmts(_conjuncts(cond), "st", _const(True))
    prog.add_function(name, args, _slot_inits(fn.tx_slots) + _slot_inits(fn.item_slots) + stmts
                      + [py.Return(_name("st"))])
    return name


def generate(comp: Compiler, fact_roots: frozenset, ordered: list, recorder, checks=None) -> Code:
    """Generate and compile the program of every regime of `ordered` (the compiled regimes in
    decision order), once: it serves every epoch. `recorder`: emit_reads.Recorder; `checks`:
    emit_checks.entries_fn (None: no checks function, `checked` is found by explain.py)."""
    prog = ProgramBuilder(comp, fact_roots)
    rec = recorder(prog)          # emit_reads.Recorder (it builds on this module's generator)
    out: list = []
    exc_fns: dict = {}
    conj_fns: dict = {}
    for reg in ordered:
        p = reg.policy
        rc = _RegimeCode(reg)
        out.append(rc)
        rc.conflicts = [_status_fn(prog, p, cc.conflict.when, ["tx", "DATE", "OUTC"], False) for cc in reg.conflicts]
        rc.applies = [_status_fn(prog, p, a.condition, ["tx", "DATE"], False) for a, _ in reg.applies]
        rc.rec_applies = [rec.condition(p, a.condition, False) for a, _ in reg.applies]
        # the rule function: the tree of every rule, per transaction then per item
        fn = FnState(prog)
        tx_rules = [_RuleRef(k, cr.rule, _conjuncts(cr.rule.when), not cr.exceptions)
                    for k, cr in enumerate(reg.rules) if not cr.per_item]
        item_rules = [_RuleRef(k, cr.rule, _conjuncts(cr.rule.when)) for k, cr in enumerate(reg.rules) if cr.per_item]
        body = _tree_stmts(_CondGen(prog, p, fn, {}), tx_rules, _const(True), _const(-1), 0)
        if item_rules:
            fn.item_var = "item"
            cg_item = _CondGen(prog, p, fn, {"item": ("item", "json")})
            loop_body = _tree_stmts(cg_item, item_rules, _const(True), _name("_i"), 0)
            body.append(py.For(py.Tuple([_name("_i", True), _name("item", True)], py.Store()),
                                _call("enumerate", _name("items")), _slot_inits(fn.item_slots) + loop_body, []))
        body = [_assign("hits", py.List([], py.Load()))] + _slot_inits(fn.tx_slots) + body + [py.Return(_name("hits"))]
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
            rc.rec_why[cr.id] = [rec.condition(p, c, cr.per_item) for c in _conjuncts(cr.rule.when)]
            rc.rec_rules[cr.id] = rec.condition(p, cr.rule.when, cr.per_item)
        if reg.explainer is not None and checks is not None:
            rc.entries = checks(prog, reg, rc.rec_why)
        stack = [x for cr in reg.rules for x in cr.exceptions]
        while stack:
            x = stack.pop()
            stack.extend(x.exceptions)
            rc.rec_rules[x.id] = rec.condition(p, x.rule.when, True)
            if x.rule.when is not None:
                rc.rec_why[x.id] = [rec.condition(p, c, True) for c in _conjuncts(x.rule.when)]
            if x.id not in exc_fns:
                exc_fns[x.id] = _status_fn(prog, p, x.rule.when, ["tx", "DATE", "item"], True)
    code = prog.build("<exportctl-fast>")
    return Code(prog, out, exc_fns, code)


# for the checks' generator (emit_checks.py)
CondGen, conjuncts_of, append_stmt, slot_inits = _CondGen, _conjuncts, _append, _slot_inits
