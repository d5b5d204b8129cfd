"""The code generator's recording mode: conditions compiled to functions that also say which
facts they read, exactly as the closures do (`ctx.reads`).

A finding's `because` and a check's `facts` are the facts its condition read. The closures
collect them, but three-valued and one closure call per node: re-running them for every fired
rule, every "no" and every regime that does not apply was most of what a full decision cost.
A recording function `f(tx, DATE, R, item, item_p)` computes the same truth value on the raw
transaction and appends to `R` the same (path, value) pairs in the same order, with the same
rules for `or` and `any` (only the reads of the operand that made them true are kept) and for
`count`/`sum` (an element that does not count leaves no reads).

Values of the transaction travel with their paths: a variable `v` has its path in `v_p`. Where
a path is not known, or the closures would meet an unknown (a missing key, a partial set that
says no, a part without its components), the function raises and the caller runs the closure:
the recording mode is only ever a shortcut to the closures' answer. In strict mode codegen.py
checks every recording call against the closure (tests)."""

from __future__ import annotations


from . import ast as A
from . import emit_nodes as py
from .emit import ExprGen, FnState, GenScope, ProgramBuilder, call_node, const_node, name_node

__all__ = ["Recorder"]


_INLINE_COST = 12        # definitions up to this size are inlined (where their arguments are names)


def _path_plus(path: py.expr, keys: tuple) -> py.expr:
    """`path.k1.k2` (one concatenation at run time, none when the path is a constant)."""
    if not keys:
        return path
    suffix = "." + ".".join(keys)
    if isinstance(path, py.Constant) and type(path.value) is str:
        return const_node(f"{path.value}{suffix}" if path.value else suffix[1:])
    return py.BinOp(path, py.Add(), const_node(suffix))


class _RecExpr(ExprGen):
    """`ExprGen` whose fact reads are recorded in `R` (see the module's docstring)."""

    def __init__(self, prog: ProgramBuilder, rec: "Recorder"):
        super().__init__(prog)
        self.rec = rec
        self.paths: dict = {}        # id(ast node) -> the ast of its path

    def path_of(self, node) -> py.expr:
        return self.paths.get(id(node)) or const_node(None)

    def _mark(self, node, path):
        self.paths[id(node)] = path
        return node

    def _Ref(self, e, sc):
        head, rest = e.parts[0], e.parts[1:]
        if head in sc.vars:
            pyname, kind = sc.vars[head]
            node, path = name_node(pyname), name_node(pyname + "_p")
            if not rest:
                return self._mark(node, path), kind
        elif head in self.prog.fact_roots:
            if head == "date":
                if rest:
                    return call_node("_raise_unknown"), "any"      # `date.x`: not a path of the transaction
                return call_node("_rd", name_node("R"), const_node("date"), name_node("DATE")), "date"
            node, path = py.Subscript(name_node("tx"), const_node(head), py.Load()), const_node(head)
        else:
            return self.named(e, sc)
        for k in rest:
            node = py.Subscript(node, const_node(k), py.Load())
        path = _path_plus(path, rest)
        return self._mark(call_node("_rd", name_node("R"), path, node), path), "json"

    def _define_call(self, owner, decl, args: list, sc):
        values = [a for a, _ in args]
        key = (owner.regime, decl.name)
        if (key not in sc.fn.inlining and all(isinstance(self.paths.get(id(a)), py.Name) for a in values)
                and self.prog.cost(decl.body, owner) <= _INLINE_COST):
            # a small body itself, its parameters bound to the argument names (and their paths):
            # the same reads as a call, without the memo's cost
            sc.fn.inlining.add(key)
            vars = {p: (a.id, "any") for p, a in zip(decl.params, values)}
            node, kind = self.gen(decl.body, GenScope(owner, vars, sc.fn, False))
            sc.fn.inlining.discard(key)
            return node, kind
        fname = self.rec.define(owner, decl)
        return call_node(fname, name_node("tx"), name_node("DATE"), name_node("R"), name_node("M"), *values,
                         *[self.path_of(a) for a in values]), self.prog.define_kind(owner, decl)

    def _Call(self, e, sc):
        if e.namespace is None and e.name == "components_of":
            a, _ = self.gen(e.args[0], sc)
            return call_node("_rcomponents_of", a, self.path_of(a)), "pcoll"
        return super()._Call(e, sc)

    def _In(self, e, sc):
        if self._static_set(e.right, sc) is not None:
            return super()._In(e, sc)
        a, _ = self.gen(e.left, sc)
        b, _ = self.gen(e.right, sc)
        node = call_node("_rmember", name_node("R"), a, b, self.path_of(b))
        return (py.UnaryOp(py.Not(), node) if e.negated else node), "bool"

    def _IsKnown(self, e, sc):
        x = e.operand
        node = None
        if isinstance(x, A.Ref):
            head, rest = x.parts[0], x.parts[1:]
            if head in sc.vars and rest:
                pyname = sc.vars[head][0]
                node = call_node("_rknown", name_node("R"), name_node(pyname), const_node(rest),
                                 name_node(pyname + "_p"))
            elif head in self.prog.fact_roots and head != "date":
                node = call_node("_rknown", name_node("R"), name_node("tx"), const_node(x.parts), const_node(""))
        if node is None:
            v, _ = self.gen(x, sc)
            node = call_node("_known_value", call_node("_rcheck", v))
        return (py.UnaryOp(py.Not(), node) if e.negated else node), "bool"

    def _Or(self, e, sc):
        # `or` keeps only the reads of the operand that made it true: with m, s the lengths of R
        # before the first and before operand k, `(m := len(R)) < 0 or e1 or (s := len(R)) < 0
        # or (e2 and _cut(R, m, s)) or ...`, which is True or False (no lambdas, no calls on the way)
        m, s = sc.fn.temp(), sc.fn.temp()
        length = call_node("len", name_node("R"))
        never = lambda n: py.Compare(py.NamedExpr(name_node(n, True), length), [py.Lt()], [const_node(0)])  # noqa: E731
        parts = [never(m)]
        for k, x in enumerate(e.operands):
            t = self.truth(x, sc)
            if k == 0:
                parts.append(t)
                continue
            parts.append(never(s))
            parts.append(py.BoolOp(py.And(), [t, call_node("_cut", name_node("R"), name_node(m), name_node(s))]))
        return py.BoolOp(py.Or(), parts), "bool"

    def _Quantifier(self, e, sc):
        b = e.body
        if isinstance(b, A.StartsWith) and isinstance(b.left, A.Ref) and len(b.left.parts) == 1 \
                and b.left.parts[0] in sc.vars:       # a variable: no read inside, as in the loop
            fast = self.any_startswith(e, sc)
            if fast is not None:
                return fast, "bool"
        coll, ckind = self.gen(e.collection, sc)
        cpath = self.path_of(coll)
        var = self.prog.fresh("_v")
        vkind = "str" if ckind == "set" else "json" if ckind in ("json", "pcoll") else "any"
        inner = sc.bind(e.var, var, vkind)

        def lam(x):
            if x is None:
                return const_node(None)
            body = self.truth(x, inner) if x is not e.value else self.gen(x, inner)[0]
            return py.Lambda(_args(var, var + "_p"), body)

        R = name_node("R")
        kind = "bool" if ckind in ("set", "pcoll") else "any"
        if e.kind == "any":
            return call_node("_rq_any", R, coll, cpath, lam(e.body)), kind
        if e.kind == "all":
            return call_node("_rq_all", R, coll, cpath, lam(e.body)), kind
        if e.kind == "count":
            return call_node("_rq_sum", R, coll, cpath, lam(e.body), const_node(None)), "any"
        return call_node("_rq_sum", R, coll, cpath, lam(e.body), lam(e.value)), "any"


def _method(obj: py.expr, method: str, *args) -> py.Call:
    return py.Call(py.Attribute(obj, method, py.Load()), list(args), [])


def _args(*names: str) -> py.arguments:
    return py.arguments([], [py.arg(n) for n in names], None, [], [], None, [])


class Recorder:
    """Generates recording functions into a program (`ProgramBuilder`) and keeps their names."""

    def __init__(self, prog: ProgramBuilder):
        self.prog = prog
        self.ex = _RecExpr(prog, self)
        self._defines: dict = {}
        self._conds: dict = {}

    def define(self, owner: A.Policy, decl: A.Define) -> str:
        key = (owner.regime, decl.name)
        got = self._defines.get(key)
        if got is not None:
            return got
        fname = self._defines[key] = self.prog.fresh("_RD")
        params = [f"_p{i}" for i in range(len(decl.params))]
        scope = GenScope(owner, {p: (q, "any") for p, q in zip(decl.params, params)}, FnState(self.prog), False)
        body, _ = self.ex.gen(decl.body, scope)
        # memoised per decision in M with the reads it made, replayed on a hit, as the closures do:
        # k = _rkey(name, args, paths); if k in M: R.extend(reads) and return; else compute, keep
        if len(params) == 1:
            k = call_node("_rkey1", const_node(fname), name_node("_p0"), name_node("_p0_p"))
        elif not params:
            k = py.Tuple([const_node(fname)], py.Load())
        else:
            k = call_node("_rkey", const_node(fname), py.Tuple([name_node(q) for q in params], py.Load()),
                          py.Tuple([name_node(q + "_p") for q in params], py.Load()))
        hit = py.NamedExpr(name_node("_h", True), _method(name_node("M"), "get", name_node("_k")))
        stmts = [
            py.Assign([name_node("_k", True)], k),
            py.If(py.BoolOp(py.And(), [py.Compare(name_node("_k"), [py.IsNot()], [const_node(None)]),
                                          py.Compare(hit, [py.IsNot()], [const_node(None)])]),
                   [py.Expr(_method(name_node("R"), "extend", py.Subscript(name_node("_h"), const_node(1),
                                                                                    py.Load()))),
                    py.Return(py.Subscript(name_node("_h"), const_node(0), py.Load()))], []),
            py.Assign([name_node("_m", True)], call_node("len", name_node("R"))),
            py.Assign([name_node("_r", True)], body),
            py.If(py.Compare(name_node("_k"), [py.IsNot()], [const_node(None)]),
                   [py.Assign([py.Subscript(name_node("M"), name_node("_k"), py.Store())],
                               py.Tuple([name_node("_r"), py.Subscript(name_node("R"), py.Slice(name_node("_m"), None, None),
                                                                         py.Load())], py.Load()))], []),
            py.Return(name_node("_r")),
        ]
        self.prog.add_function(fname, ["tx", "DATE", "R", "M"] + params + [q + "_p" for q in params], stmts)
        return fname

    def condition(self, policy: A.Policy, cond: A.Expr | None, item: bool) -> str | None:
        """A function `(tx, DATE, R, M, item, item_p) -> bool` that records what `cond` reads
        (`item` is bound only where the condition is evaluated per item); one per condition."""
        if cond is None:
            return None
        key = (policy.regime, id(cond), item)
        got = self._conds.get(key)
        if got is not None:
            return got
        name = self._conds[key] = self.prog.fresh("_T")
        vars = {"item": ("item", "json")} if item else {}
        scope = GenScope(policy, vars, FnState(self.prog), False)
        body = self.ex.truth(cond, scope)
        self.prog.add_function(name, ["tx", "DATE", "R", "M", "item", "item_p"], [py.Return(body)])
        return name
