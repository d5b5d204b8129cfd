"""AST to Python closures. No text is ever turned into code: every node becomes a closure
`f(ctx, env)` over already-compiled children.

Three-valued: a closure returns True, False, None (null), a number, a string, a date, a
Node (part of the transaction), a SetValue, a Coll, or an Unknown carrying the fact paths
that would settle it. `ctx.reads` collects (path, value) of the facts consulted, so a
finding can say `because`; `or` and `any` keep only the reads of the operand that made
them true."""

from __future__ import annotations

import bisect
import datetime as _dt

from . import ast as A
from .semantics import arith, combine_sets, compare, member, set_literal_fn, starts, truth
from .values import Coll, Node, SetValue, Unknown, unknown_union


class Ctx:
    """Per-evaluation state: the transaction, the date of the law, what was read, caches."""

    __slots__ = ("root", "as_of", "reads", "cache", "outcomes")

    def __init__(self, data: dict, as_of: _dt.date):
        self.root = Node("", data)
        self.as_of = as_of
        self.reads: list = []
        self.cache: dict = {}
        self.outcomes: dict = {}


def _attr(ctx: Ctx, v, key: str):
    if type(v) is Node:
        d = v.data
        if type(d) is dict:
            p = f"{v.path}.{key}" if v.path else key
            if key in d:
                x = d[key]
                t = type(x)
                if t is dict or t is list:
                    return Node(p, x)
                if key == "date" and t is str and v.path == "":
                    x = _dt.date.fromisoformat(x)
                ctx.reads.append((p, x))
                return x
            return Unknown(frozenset((p,)))
        return None
    if type(v) is Unknown:
        return v.extend(key)
    return None


def _elements(ctx: Ctx, v):
    """A collection as (elements, missing paths), or an Unknown."""
    t = type(v)
    if t is Node and type(v.data) is list:
        out = []
        for i, x in enumerate(v.data):
            p = f"{v.path}[{i}]"
            if type(x) is dict or type(x) is list:
                out.append(Node(p, x))
            else:
                ctx.reads.append((p, x))
                out.append(x)
        return out, frozenset()
    if t is Coll:
        return v.elements, v.missing
    if t is SetValue:
        return list(v.values), frozenset()
    if t is Unknown:
        return v
    if v is None:
        return [], frozenset()
    return None


def components_of(ctx: Ctx, v):
    """Every component at any depth. A part whose `components` are not given leaves the
    collection partly unknown: its path goes to `missing`."""
    if type(v) is Unknown:
        return v
    if type(v) is not Node or type(v.data) is not dict:
        return Coll([])
    out: list = []
    missing: set = set()
    stack = [v]
    while stack:
        node = stack.pop()
        comps = node.data.get("components")
        p = f"{node.path}.components"
        if comps is None:
            missing.add(p)
            continue
        for i, c in enumerate(comps):
            child = Node(f"{p}[{i}]", c)
            out.append(child)
            stack.append(child)
    out.sort(key=lambda n: n.path)
    return Coll(out, frozenset(missing))


# ---------------------------------------------------------------- compiler

class Scope:
    """What a name means where it is compiled."""

    def __init__(self, compiler: "Compiler", policy: A.Policy, vars: frozenset):
        self.compiler = compiler
        self.policy = policy
        self.vars = vars

    def bind(self, *names) -> "Scope":
        return Scope(self.compiler, self.policy, self.vars | frozenset(names))


class Compiler:
    """Compiles every policy of a set; imported sets and definitions are shared closures."""

    def __init__(self, policies: list[A.Policy], fact_roots: frozenset):
        self.policies = {p.regime: p for p in policies}
        self.fact_roots = fact_roots
        self._sets: dict = {}
        self._defines: dict = {}
        self._set_values: dict = {}   # (set, epoch) -> SetValue
        self._set_changes: dict = {}  # set -> the days its membership changes
        self._depth = 0               # > 0 while compiling inside an expression
        self._names: dict = {}        # id(policy) -> (policy, its sets and definitions by name)

    # -- declarations
    def lookup(self, policy: A.Policy, parts: tuple) -> tuple[A.Policy, object] | None:
        if len(parts) == 1:
            d = self._declared(policy).get(parts[0])
            if d is not None:
                return policy, d
        if len(parts) == 2:
            for u in policy.uses:
                if u.alias == parts[0] and u.regime in self.policies:
                    other = self.policies[u.regime]
                    d = self._declared(other).get(parts[1])
                    if d is not None:
                        return other, d
        return None

    def _declared(self, policy: A.Policy) -> dict:
        """A policy's sets, then definitions, by name (the first of a name wins, as a scan in
        that order finds it): a name is looked up on every reference a closure compiles."""
        seen = self._names.get(id(policy))
        if seen is None or seen[0] is not policy:
            names: dict = {}
            for d in (*policy.sets, *policy.defines):
                names.setdefault(d.name, d)
            seen = self._names[id(policy)] = (policy, names)
        return seen[1]

    def set_fn(self, policy: A.Policy, decl: A.SetDecl):
        key = (policy.regime, decl.name)
        if key in self._sets:
            return self._sets[key]
        holder: list = []
        self._sets[key] = lambda ctx: holder[0](ctx)
        parts = []
        changes: set = set()        # the days on which a member enters or leaves
        for op, term in decl.terms:
            if isinstance(term, A.SetLiteral):
                parts.append((op, set_literal_fn(term)))
                for m in term.members:
                    if m.start:
                        changes.add(m.start)
                    if m.end:
                        changes.add(m.end + _dt.timedelta(days=1))
            else:
                found = self.lookup(policy, term.parts)
                other, d = found
                parts.append((op, self.set_fn(other, d)))
                changes |= self._set_changes.get((other.regime, d.name), set())
        self._set_changes[key] = changes
        breaks = sorted(changes)
        name = f"{policy.regime}.{decl.name}"
        partial = self.set_partial(policy, decl)
        cache_key = ("set",) + key
        by_epoch = self._set_values

        def fn(ctx):
            v = ctx.cache.get(cache_key)
            if v is None:
                # A set depends only on the date of the law, and changes only on its members'
                # dates: it is built once per epoch between two such dates, not per transaction.
                epoch_key = (cache_key, bisect.bisect_right(breaks, ctx.as_of))
                v = by_epoch.get(epoch_key)
                if v is None:
                    v = combine_sets(name, [(op, f(ctx)) for op, f in parts], partial)
                    by_epoch[epoch_key] = v
                ctx.cache[cache_key] = v
            return v

        holder.append(fn)
        self._sets[key] = fn
        return fn

    def set_partial(self, policy: A.Policy, decl: A.SetDecl, seen: frozenset = frozenset()) -> str | None:
        """Why a named set is incomplete (its own `partial` clause, or a set it is built from),
        or None: such a set can make a membership test true, never false."""
        if decl.partial:
            return decl.partial
        for _, term in decl.terms:
            if isinstance(term, A.Ref):
                found = self.lookup(policy, term.parts)
                if found is not None and (found[0].regime, found[1].name) not in seen:
                    why = self.set_partial(found[0], found[1], seen | {(policy.regime, decl.name)})
                    if why:
                        return why
        return None

    def define_fn(self, policy: A.Policy, decl: A.Define):
        """A definition as `f(ctx, args)`; results are memoised per evaluation, reads replayed."""
        key = (policy.regime, decl.name)
        if key in self._defines:
            return self._defines[key]
        holder: list = []
        self._defines[key] = lambda ctx, args: holder[0](ctx, args)
        body = self.expr(decl.body, Scope(self, policy, frozenset(decl.params)))
        params = decl.params
        tag = ("def",) + key

        def fn(ctx, args):
            try:
                ck = (tag, tuple(a.path if type(a) is Node else a for a in args))
                hit = ctx.cache.get(ck)
            except TypeError:
                ck, hit = None, None
            if hit is not None:
                value, reads = hit
                ctx.reads.extend(reads)
                return value
            mark = len(ctx.reads)
            value = body(ctx, dict(zip(params, args)))
            if ck is not None:
                ctx.cache[ck] = (value, ctx.reads[mark:])
            return value

        holder.append(fn)
        self._defines[key] = fn
        return fn

    # -- expressions
    def expr(self, e: A.Expr, scope: Scope):
        """The closure of `e`. A whole expression (a rule's condition, a definition's body) is
        compiled on its first call, so a start that decides one transaction builds only the
        closures it runs; its parts are compiled with it, at once."""
        if self._depth:
            return getattr(self, "_" + type(e).__name__)(e, scope)
        fn = None

        def lazy(ctx, env):
            nonlocal fn
            if fn is None:
                fn = self._now(e, scope)
            return fn(ctx, env)

        return lazy

    def _now(self, e: A.Expr, scope: Scope):
        self._depth += 1
        try:
            return getattr(self, "_" + type(e).__name__)(e, scope)
        finally:
            self._depth -= 1

    def _operands(self, operands, scope) -> list:
        """The closures of an `and`/`or`: the first compiled now, each later one on its first
        call (it then takes its own place in the list), since evaluation stops at the first
        operand that settles it and a start that decides one transaction need not compile what
        it never reaches."""
        fs = [self.expr(x, scope) for x in operands[:1]]
        for i, x in enumerate(operands[1:], 1):
            fs.append(self._later(fs, i, x, scope))
        return fs

    def _later(self, fs: list, i: int, e: A.Expr, scope):
        def later(ctx, env):
            f = fs[i] = self._now(e, scope)
            return f(ctx, env)
        return later

    def _Literal(self, e, scope):
        v = e.value
        return lambda ctx, env: v

    def _SetLiteral(self, e, scope):
        members = set_literal_fn(e)
        static = all(m.start is None and m.end is None for m in e.members)
        if static:
            value = members(None)
            return lambda ctx, env: value
        return lambda ctx, env: members(ctx)

    def _Ref(self, e, scope):
        head, rest = e.parts[0], e.parts[1:]
        if head in scope.vars:
            base = lambda ctx, env: env[head]  # noqa: E731
        elif head in self.fact_roots:
            base = lambda ctx, env: _attr(ctx, ctx.root, head)  # noqa: E731
        else:
            found = self.lookup(scope.policy, e.parts)
            if found is None:
                raise ValueError(f"unresolved name {e.dotted} (run check first)")
            owner, decl = found
            if isinstance(decl, A.SetDecl):
                f = self.set_fn(owner, decl)
                return lambda ctx, env: f(ctx)
            f = self.define_fn(owner, decl)
            return lambda ctx, env: f(ctx, ())
        if not rest:
            return base
        if len(rest) == 1:
            k = rest[0]
            return lambda ctx, env: _attr(ctx, base(ctx, env), k)

        def chain(ctx, env):
            v = base(ctx, env)
            for k in rest:
                v = _attr(ctx, v, k)
            return v

        return chain

    def _Call(self, e, scope):
        args = [self.expr(a, scope) for a in e.args]
        if e.namespace is None and e.name == "components_of":
            a0 = args[0]
            return lambda ctx, env: components_of(ctx, a0(ctx, env))
        if e.namespace is None and e.name == "outcome":
            regime = e.args[0].value
            return lambda ctx, env: ctx.outcomes.get(regime, Unknown(frozenset((f"outcome({regime})",))))
        owner, decl = self.lookup(scope.policy, ((e.namespace,) if e.namespace else ()) + (e.name,))
        f = self.define_fn(owner, decl)
        if len(args) == 1:
            a0 = args[0]
            return lambda ctx, env: f(ctx, (a0(ctx, env),))
        return lambda ctx, env: f(ctx, tuple(a(ctx, env) for a in args))

    def _Arith(self, e, scope):
        l, r, op = self.expr(e.left, scope), self.expr(e.right, scope), e.op
        return lambda ctx, env: arith(op, l(ctx, env), r(ctx, env))

    def _Neg(self, e, scope):
        f = self.expr(e.operand, scope)
        return lambda ctx, env: arith("-", 0, f(ctx, env))

    def _Compare(self, e, scope):
        l, r, op = self.expr(e.left, scope), self.expr(e.right, scope), e.op
        if op == "==":
            def eq(ctx, env):
                a, b = l(ctx, env), r(ctx, env)
                ta = type(a)
                if ta is type(b) and ta is not Unknown:
                    return a == b
                return compare(op, a, b)   # unknowns, and a date against its ISO string
            return eq
        return lambda ctx, env: compare(op, l(ctx, env), r(ctx, env))

    def _In(self, e, scope):
        l, r = self.expr(e.left, scope), self.expr(e.right, scope)
        neg = e.negated

        def in_(ctx, env):
            mark = len(ctx.reads)
            a = l(ctx, env)
            b = r(ctx, env)
            v = member(ctx, a, b)
            if v is False and type(b) is SetValue and b.partial is not None:
                # a partial list cannot say "not on it": the answer is a question for a person
                what = ctx.reads[-1][0] if len(ctx.reads) > mark else str(a)
                return Unknown(frozenset((f"{what} in {b.name}",)))
            return (v if type(v) is Unknown else not v) if neg else v
        return in_

    def _StartsWith(self, e, scope):
        l, r = self.expr(e.left, scope), self.expr(e.right, scope)
        return lambda ctx, env: starts(l(ctx, env), r(ctx, env))

    def _IsKnown(self, e, scope):
        f, neg = self.expr(e.operand, scope), e.negated
        return lambda ctx, env: (type(f(ctx, env)) is Unknown) == neg

    def _Not(self, e, scope):
        f = self.expr(e.operand, scope)

        def not_(ctx, env):
            v = truth(f(ctx, env))
            return v if type(v) is Unknown else not v
        return not_

    def _And(self, e, scope):
        fs = self._operands(e.operands, scope)

        def and_(ctx, env):
            unknown = None
            for f in fs:
                v = truth(f(ctx, env))
                if v is False:
                    return False
                if v is not True:
                    unknown = v if unknown is None else unknown_union((unknown, v))
            return True if unknown is None else unknown
        return and_

    def _Or(self, e, scope):
        fs = self._operands(e.operands, scope)

        def or_(ctx, env):
            unknown = None
            reads = ctx.reads
            mark = len(reads)
            for f in fs:
                start = len(reads)
                v = truth(f(ctx, env))
                if v is True:
                    del reads[mark:start]
                    return True
                if v is not False:
                    unknown = v if unknown is None else unknown_union((unknown, v))
            return False if unknown is None else unknown
        return or_

    def _Quantifier(self, e, scope):
        coll = self.expr(e.collection, scope)
        inner = scope.bind(e.var)
        body = self.expr(e.body, inner) if e.body is not None else None
        value = self.expr(e.value, inner) if e.value is not None else None
        var, kind = e.var, e.kind

        def quantify(ctx, env):
            got = _elements(ctx, coll(ctx, env))
            if got is None:
                return None
            if type(got) is Unknown:
                return got
            elements, missing = got
            reads = ctx.reads
            unknowns = [Unknown(missing)] if missing else []
            total = 0
            mark = len(reads)
            for x in elements:
                start = len(reads)
                benv = dict(env)
                benv[var] = x
                v = truth(body(ctx, benv)) if body is not None else True
                if kind == "any":
                    if v is True:
                        del reads[mark:start]
                        return True
                elif kind == "all":
                    if v is False:
                        return False
                elif v is False:
                    del reads[start:]
                    continue
                if type(v) is Unknown:
                    unknowns.append(v)
                    del reads[start:]
                    continue
                if kind == "count":
                    total += 1
                elif kind == "sum":
                    x_val = value(ctx, benv)
                    if type(x_val) is Unknown:
                        unknowns.append(x_val)
                    elif x_val is not None:
                        total += x_val
            if unknowns:
                return unknown_union(unknowns)
            if kind == "any":
                return False
            if kind == "all":
                return True
            return total
        return quantify


def mentions_item(e: A.Expr, bound: frozenset = frozenset()) -> bool:
    """Whether `item` occurs free in `e`: such a rule is evaluated once per item."""
    if isinstance(e, A.Ref):
        return e.parts[0] == "item" and "item" not in bound
    if isinstance(e, A.Quantifier):
        if mentions_item(e.collection, bound):
            return True
        inner = bound | {e.var}
        return any(mentions_item(x, inner) for x in (e.body, e.value) if x is not None)
    return any(mentions_item(c, bound) for c in A.children(e))
