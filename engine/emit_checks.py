"""The code generator's checks: the function that finds, for every rule that did not fire, the
first condition that was false and its check entry (`checked`), with memos across decisions
keyed by the values a condition can read.

A check's entry is a function of the values its condition can read (on one epoch's sets):
`read_sources` finds those facts statically, and the generated function keeps each entry, and
each group of rules false at a first conjunct that reads the same facts, under those values
(runtime._entry, runtime._gstore). Strict mode (tests) never answers from these memos: it
records every check again and compares it with what they hold."""

from __future__ import annotations


from . import ast as A
from . import emit_nodes as py
from .emit import CondGen as _CondGen
from .emit import FnState, ProgramBuilder
from .emit import append_stmt as _append
from .emit import assign_node as _assign
from .emit import call_node as _call
from .emit import conjuncts_of as _conjuncts
from .emit import const_node as _const
from .emit import is_node as _is
from .emit import name_node as _name
from .emit import not_node as _not
from .emit import slot_inits as _slot_inits
from .emit import try_unknown as _try_unknown

__all__ = ["entries_fn", "read_sources"]


def read_sources(prog: ProgramBuilder, policy: A.Policy, e, item: bool):
    """Every fact a condition can read, found statically: a tuple of (root, keys) with root 0
    (the transaction), 1 (`item`) or 2 (`date`); None where that cannot be said (a quantifier,
    `outcome()`, a definition called with an expression). What a condition records is then a
    function of the values at those paths (on one epoch's sets): the key of `runtime._entry`'s
    memo across decisions."""
    out: dict = {}

    def walk(x, pol, vars: dict, depth: int) -> bool:
        if depth > 24:
            return False
        if isinstance(x, (A.Literal, A.SetLiteral)):
            return True
        if isinstance(x, A.Ref):
            head, rest = x.parts[0], x.parts[1:]
            if head in vars:
                src = vars[head]
                if src is None:
                    return False
                out.setdefault((src[0], src[1] + rest), None)
                return True
            if head in prog.fact_roots:
                if head == "date":
                    if rest:
                        return False
                    out.setdefault((2, ()), None)
                    return True
                out.setdefault((0, x.parts), None)
                return True
            found = prog.comp.lookup(pol, x.parts)
            if found is None:
                return False
            owner, decl = found
            if isinstance(decl, A.SetDecl):
                return True
            return not decl.params and walk(decl.body, owner, {}, depth + 1)
        if isinstance(x, A.Call):
            if x.namespace is None and x.name in ("components_of", "outcome"):
                return False
            found = prog.comp.lookup(pol, ((x.namespace,) if x.namespace else ()) + (x.name,))
            if found is None or not isinstance(found[1], A.Define) or len(found[1].params) != len(x.args):
                return False
            owner, decl = found
            bound = {}
            for name, a in zip(decl.params, x.args):
                if not isinstance(a, A.Ref) or not (a.parts[0] in vars or a.parts[0] in prog.fact_roots):
                    return False
                if a.parts[0] in vars:          # the body's own uses of the parameter say what is read
                    src = vars[a.parts[0]]
                    bound[name] = (src[0], src[1] + a.parts[1:])
                elif a.parts[0] == "date":
                    return False
                else:
                    bound[name] = (0, a.parts)
            return walk(decl.body, owner, bound, depth + 1)
        if isinstance(x, A.Quantifier):
            return False
        return all(walk(c, pol, vars, depth + 1) for c in A.children(x))

    ok = walk(e, policy, {"item": (1, ())} if item else {}, 0)
    return tuple(out) if ok else None


def _value_key(sources: tuple, per: bool, pre: dict) -> list:
    """The values at `read_sources`' paths as parts of a memo key, each with its type (1, 1.0 and
    True are equal keys in Python, not the same JSON; a float by its hex: -0.0 is not 0.0): a key
    of the transaction as a pair made once per call (`pre`: key -> its variable, see
    `_value_pairs`), a key of the item inline, deeper paths by `runtime.value_key`."""
    if not all(len(keys) == 1 or root == 2 for root, keys in sources):
        return [_call("_vk", _name("tx"), _name("item") if per else _const(None), _name("DATE"), _const(sources))]
    out: list = []
    for n, (root, keys) in enumerate(sources):
        if root == 2:
            out.append(_name("DATE"))
        elif root == 0:
            name = pre.get(keys[0])
            if name is None:
                name = pre[keys[0]] = f"_ks{len(pre)}"
            out.append(_name(name))
        else:
            out.extend(_value_pair(f"_xv{n}", _name("item"), keys[0]))
    return out


def _value_pair(v: str, root: py.expr, key: str) -> list:
    """`root[key]` (absent: `_U`) as two parts of a memo key: its value (a float by its hex), its type."""
    get = py.Call(py.Attribute(root, "get", py.Load()), [_const(key), _name("_U")], [])
    test = _is(_call("type", py.NamedExpr(_name(v, True), get)), _name("float"))
    return [py.IfExp(test, py.Call(py.Attribute(_name(v), "hex", py.Load()), [], []), _name(v)), _call("type", _name(v))]


def _ungrouped(body: list) -> list:
    """A rule generated for a group of one: without the group's test (`_gp` is None)."""
    return [py.Assign([_name("_gp", True)], _const(None)), py.Assign([_name("_g0", True)], py.List([], py.Load())),
            py.Assign([_name("_gs", True)], py.List([], py.Load())), py.Assign([_name("_gok", True)], _const(True))] + body


def _group_stmts(srcs: tuple, rules: list, pre: dict) -> list:
    """Rules for the whole transaction whose first conjuncts read the same facts: which of them
    are false at that conjunct, and their checks, depend only on those facts' values; kept
    across decisions in `_XG` (one epoch's) under them, copied per decision. The other rules of
    the group (`_gp`) are asked as usual. Where a check cannot be told without the closures
    (`_gok` false), nothing is kept. Checks come out by rule id within a group, not overall."""
    key = py.Tuple([_const(("group", rules[0][0]))] + _value_key(srcs, False, pre), py.Load())
    out = [_assign("_gk", key),
           py.Try([_assign("_g", py.Call(py.Attribute(_name("_XG"), "get", py.Load()), [_name("_gk")], []))],
                   [py.ExceptHandler(_name("TypeError"), None, [_assign("_g", _const(None))])], [], []),
           _assign("_g0", py.List([], py.Load())), _assign("_gs", py.List([], py.Load())), _assign("_gok", _const(True)),
           py.If(_is(_name("_g"), _const(None), negate=True),
                  [py.Expr(py.Call(py.Attribute(_name("out"), "extend", py.Load()),
                                     [_call("map", _name("_copy"), py.Subscript(_name("_g"), _const(0), py.Load()))], [])),
                   _assign("_gp", py.Subscript(_name("_g"), _const(1), py.Load()))],
                  [_assign("_gp", _const(None))])]
    for _, body in rules:
        out.extend(body)
    out.append(py.If(py.BoolOp(py.And(), [_is(_name("_gp"), _const(None)), _name("_gok")]),
                      [py.Expr(_call("_gstore", _name("_XG"), _name("_gk"), _name("_g0"), _name("_gs")))], []))
    return out


def _value_pairs(pre: dict) -> list:
    """The assignments of `_value_key`'s pairs of the transaction, at the top of the function."""
    return [_assign(name, py.Tuple(_value_pair("_xv", _name("tx"), key), py.Load())) for key, name in pre.items()]


def entries_fn(prog: ProgramBuilder, reg, rec_why: dict) -> str:
    """`entries(tx, items, DATE, M, seen, said, out, slow)`: the checks behind a "no" (those of
    the rules for the whole transaction first, not sorted), what
    `explain.Explainer.why_not` finds for every top-level rule at every item (or once), built by
    the program with the two-valued answers: nothing when a classification guard is false or no
    conjunct is; for the first false conjunct, the check entry, its facts from the conjunct's
    recording function, memoised in `M` (the decision's cache) under `Explainer.failed`'s key.
    Where that cannot answer (an unknown met, no recording function, a recording that raised),
    `slow(rule id, item index | -1, j | None)` (evaluate.found_checks) makes that one entry with
    the closures. `seen`: (rule id, item id) of the findings; `said`: rules whose item-free
    condition was told already."""
    p = reg.policy
    fn = FnState(prog)
    tx_body: list = []
    item_body: list = []
    M = _name("M")
    pre: dict = {}            # a fact of the transaction in memo keys -> its (value, type) variable
    groups: dict = {}         # read_sources of a first conjunct -> [(rule id, statements)] (_group_stmts)
    for cr in reg.rules:
        r = cr.rule
        if r.when is None:
            continue
        parts, guards = reg.explainer.plan(p, r)
        cs = _conjuncts(r.when)
        if len(cs) != len(parts):
            continue
        recs = rec_why.get(cr.id) or []
        per = cr.per_item
        if per:
            fn.item_var = "item"
        cg = _CondGen(prog, p, fn, {"item": ("item", "json")} if per else {})
        index, item_id = (_name("_i"), _name("_id")) if per else (_const(-1), _const(None))
        slow = lambda j: py.Expr(_call("slow", _const(r.id), index, _const(j)))  # noqa: E731
        chain: list = []
        for j in reversed([j for j in range(len(cs)) if j not in guards]):
            chain = [py.If(_not(cg.ex.truth(cs[j], cg.scope())), [_assign("_j", _const(j))], chain)]
        if not chain:
            continue
        if guards:
            tests = [cg.ex.truth(cs[j], cg.scope()) for j in guards]
            chain = [py.If(tests[0] if len(tests) == 1 else py.BoolOp(py.And(), tests), chain, [])]
        group = None
        if not per and not guards and recs and recs[0] is not None:
            g_srcs = read_sources(prog, p, cs[0], False)
            if g_srcs and all(root == 0 and len(keys) == 1 for root, keys in g_srcs):
                group = g_srcs
        body = [_assign("_j", _const(-1)), _try_unknown(chain, [_assign("_j", _const(None))])]
        act: list = [slow(None)]
        for j in reversed([j for j in range(len(cs)) if j not in guards]):
            text, _, _, free, key = parts[j]
            if j >= len(recs) or recs[j] is None:
                told = [slow(j)]
            else:
                k = _const(key) if free or not per else py.Tuple([_const(key), _name("_p")], py.Load())
                entry = py.Dict([_const(x) for x in ("rule", "cite", "item", "message", "outcome", "failed", "facts")],
                                 [_const(r.id), _const(r.cite or ""), item_id, _const(r.title), _const(r.outcome),
                                  py.Subscript(_name("_w"), _const("failed"), py.Load()),
                                  py.Subscript(_name("_w"), _const("facts"), py.Load())])
                add = [_append("out", entry)]
                if free and per:
                    add.insert(0, py.Expr(py.Call(py.Attribute(_name("said"), "add", py.Load()), [_const(r.id)], [])))
                why_args = [M, k, _const(text), _const(free), _name(recs[j]), _name("tx"), _name("DATE"),
                            _name("item") if per else _const(None), _name("_p") if per else _const(None)]
                # per item, not memoised: keys of an item's path and id rarely come back in a batch
                srcs = None if per else read_sources(prog, p, cs[j], per)
                if srcs is not None:
                    # the whole entry, memoised across decisions (runtime._entry) by the values the
                    # conjunct can read: a copy of it is the check
                    key_parts = [_const((r.id, j))] + ([_name("_p"), item_id] if per else []) + _value_key(srcs, per, pre)
                    copy = py.Call(py.Attribute(_name("_e"), "copy", py.Load()), [], [])
                    told = [_assign("_xk", py.Tuple(key_parts, py.Load())),
                            py.Try([_assign("_e", py.Call(py.Attribute(_name("_XE"), "get", py.Load()),
                                                            [_name("_xk")], []))],
                                    [py.ExceptHandler(_name("TypeError"), None, [_assign("_e", _const(None))])], [], []),
                            py.If(_is(_name("_e"), _const(None)),
                                   [_assign("_e", _call("_entry", _name("_XE"), _name("_xk"),
                                                        _const((r.id, r.cite or "", r.title, r.outcome)), item_id,
                                                        *why_args))], []),
                            py.If(_is(_name("_e"), _const(None)), [slow(j)], add[:-1] + [_append("out", copy)])]
                    if group is not None and j == 0:      # the group's memo keeps it (see below)
                        told[-1].body.append(_assign("_gok", _const(False)))
                        told[-1].orelse.append(_append("_g0", _name("_e")))
                else:
                    told = [_assign("_w", py.Call(py.Attribute(M, "get", py.Load()), [k], [])),
                            py.If(_is(_name("_w"), _const(None)), [_assign("_w", _call("_why", *why_args))], []),
                            py.If(_is(_name("_w"), _const(None)), [slow(j)], add)]
                if free and per:       # told once for the rule, at the first item where it is false
                    told = [py.If(py.Compare(_const(r.id), [py.NotIn()], [_name("said")]), told, [])]
            act = [py.If(py.Compare(_name("_j"), [py.Eq()], [_const(j)]), told, act)]
        body.append(py.If(py.Compare(_name("_j"), [py.NotEq()], [_const(-1)]), act, []))
        seen = py.BoolOp(py.Or(), [_not(_name("seen")),
                                     py.Compare(py.Tuple([_const(r.id), item_id], py.Load()), [py.NotIn()], [_name("seen")])])
        if group is not None:      # not false at its first conjunct: asked again in every decision
            gs = _append("_gs", _const(r.id))
            body.append(py.If(py.Compare(_name("_j"), [py.NotEq()], [_const(0)]), [gs], []))
            body = [py.If(seen, body, [gs])]
            body = [py.If(py.BoolOp(py.Or(), [_is(_name("_gp"), _const(None)),
                                                 py.Compare(_const(r.id), [py.In()], [_name("_gp")])]), body, [])]
        else:
            body = [py.If(seen, body, [])]
        if r.start is not None or r.end is not None:     # dated: only in the epochs it is in force
            body = [py.If(_name(prog.in_force_ref(r)), body, [])]
        if per:
            item_body.extend(body)
        elif group is not None:
            groups.setdefault(group, []).append((r.id, body))
        else:
            tx_body.append((r.id, body))
    for srcs, rules in groups.items():
        rules.sort(key=lambda x: x[0])
        if len(rules) < 2:
            tx_body.extend((rid, _ungrouped(b)) for rid, b in rules)
            continue
        tx_body.append((rules[0][0], _group_stmts(srcs, rules, pre)))
    name = prog.fresh("_Y")
    body = _slot_inits(fn.tx_slots) + _value_pairs(pre) + [stmt for _, b in sorted(tx_body, key=lambda x: x[0]) for stmt in b]
    if item_body:
        head = [_assign("_p", py.BinOp(_const("items[%d]"), py.Mod(), _name("_i"))),
                _assign("_id", py.Call(py.Attribute(_name("item"), "get", py.Load()), [_const("id")], []))]
        body.append(py.For(py.Tuple([_name("_i", True), _name("item", True)], py.Store()),
                            _call("enumerate", _name("items")), head + _slot_inits(fn.item_slots) + item_body, []))
    prog.add_function(name, ["tx", "items", "DATE", "M", "seen", "said", "out", "slow"], body + [py.Return(_const(None))])
    return name
