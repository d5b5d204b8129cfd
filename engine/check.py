"""Static checks over parsed policies: names, references, fact paths against the transaction
schema, clauses, exceptions. Returns every diagnostic, not just the first."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache

from . import ast as A
from .diagnostics import Diagnostic

ANY = {"x-any": True}          # a value whose shape the checker does not know
SCALAR = {"type": "string"}    # members of a set, strings in a list
BUILTINS = {"components_of": 1, "outcome": 1}


def _suggest(name: str, options) -> str | None:
    close = difflib.get_close_matches(name, list(options), n=3, cutoff=0.6)
    return ("did you mean " + " or ".join(f"`{c}`" for c in close) + "?") if close else None


class SchemaWalk:
    """Walks the transaction schema: resolves $ref, answers 'what is at this path'."""

    def __init__(self, schema: dict):
        self.root = schema
        # a policy set's own schema (e.g. a flat benchmark transaction) may have no items
        has_item = "item" in schema.get("$defs", {})
        self.item = self.resolve({"$ref": "#/$defs/item"}) if has_item else ANY

    def resolve(self, node: dict) -> dict:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            cur = self.root
            for part in ref.lstrip("#/").split("/"):
                cur = cur[part]
            extra = {k: v for k, v in node.items() if k != "$ref"}
            node = {**cur, **extra} if extra else cur
        return node

    def child(self, node: dict, key: str):
        node = self.resolve(node)
        if node is ANY:
            return ANY
        props = node.get("properties")
        if props is None:
            return None
        if key in props:
            return self.resolve(props[key])
        return None

    def keys(self, node: dict) -> list[str]:
        return sorted(self.resolve(node).get("properties", {}))

    def element(self, node: dict):
        node = self.resolve(node)
        if node is ANY:
            return ANY
        if node.get("type") == "array":
            return self.resolve(node.get("items", ANY))
        if node.get("x-set"):
            return SCALAR
        return None


class Checker:
    def __init__(self, policies: list[A.Policy], schema: dict):
        self.policies = policies
        self.by_regime = {p.regime: p for p in policies}
        self.schema = SchemaWalk(schema)
        self.diags: list[Diagnostic] = []
        self._checked_calls: set = set()

    def err(self, code, message, span, hint=None):
        self.diags.append(Diagnostic(code, message, span, hint=hint))

    # ------------------------------------------------------------ entry point
    def run(self) -> list[Diagnostic]:
        self._descend = structure(self)
        country_codes(self)
        seen_regime: dict[str, A.Policy] = {}
        seen_rule: dict[str, A.Rule] = {}
        for p in self.policies:
            h = p.header
            if p.regime in seen_regime:
                self.err("E202", f"regime `{p.regime}` is also defined in {seen_regime[p.regime].path}", h.span)
            seen_regime[p.regime] = p
            if not h.version or not h.source:
                missing = " and ".join(x for x, v in (("version", h.version), ("source", h.source)) if not v)
                self.err("E406", f"regime `{p.regime}` has no {missing}", h.span,
                         hint='add e.g. version "2026-07-23" source "15 CFR Parts 730-774"')
            if h.start and h.end and h.end < h.start:
                self.err("E405", f"regime `{p.regime}` is in force until {h.end}, before {h.start}", h.span)
            for r in list(p.rules) + list(p.conflicts):
                if r.id in seen_rule:
                    self.err("E206", f"rule id `{r.id}` is already used at {seen_rule[r.id].span}", r.span)
                seen_rule.setdefault(r.id, r)
        for p in self.policies:
            self.check_policy(p)
        return self.diags

    def check_policy(self, p: A.Policy) -> None:
        names: dict[str, object] = {}
        for d in list(p.sets) + list(p.defines):
            if d.name in names:
                self.err("E202", f"`{d.name}` is already defined at {names[d.name].span}", d.span)
            names.setdefault(d.name, d)
        aliases = {}
        for u in p.uses:
            if u.regime not in self.by_regime:
                self.err("E203", f"`use {u.regime}`: no policy defines regime `{u.regime}`", u.span,
                         hint=_suggest(u.regime, self.by_regime))
            else:
                aliases[u.alias] = self.by_regime[u.regime]
        env = _Env(p, names, aliases)
        for s in p.sets:
            for op, term in s.terms:
                if isinstance(term, A.Ref):
                    self.resolve_set(term, env)
                else:
                    self.check_members(term)
        for a in p.applies:
            self.expr(a.condition, env, {}, where="applies")
        for d in p.defines:
            scope = {name: ANY for name in d.params}
            self.expr(d.body, env, scope, where="define")
        rules = {r.id: r for r in p.rules}
        for r in p.rules:
            self.rule_clauses(r, ("cite", "when", "then"))
            if r.start and r.end and r.end < r.start:
                self.err("E405", f"rule `{r.id}` is in force until {r.end}, before it starts on {r.start}", r.span)
            if r.exception_to is not None and r.exception_to not in rules:
                span = r.clause_spans.get("exception", [r.span])[0]
                self.err("E403", f"`{r.id}` is an exception to `{r.exception_to}`, which regime `{p.regime}` does not define",
                         span, hint=_suggest(r.exception_to, rules))
            if r.when is not None:
                self.expr(r.when, env, {"item": self.schema.item}, where="rule")
            if r.denial is not None and r.outcome != "prohibited":
                self.err("E420", f"`{r.id}` says `denial {r.denial}` but its outcome is `{r.outcome}`",
                         r.clause_spans.get("denial", [r.span])[0],
                         hint="a denial kind qualifies `then prohibited` only")
        self.exception_cycles(p, rules)
        for s in p.encodes:
            self.encodes(s, env)
        self.obligations(p)
        for c in p.conflicts:
            self.rule_clauses(c, ("cite", "with", "when"))
            for reg in c.regimes:
                if reg not in self.by_regime:
                    self.err("E203", f"conflict `{c.id}` names regime `{reg}`, which no policy defines",
                             c.clause_spans.get("with", [c.span])[0], hint=_suggest(reg, self.by_regime))
            if c.when is not None:
                self.expr(c.when, env, {}, where="conflict")

    def obligations(self, p: A.Policy) -> None:
        """Obligations are declared once, cited, named by rules of the same (binding) regime;
        once a binding regime declares any, every rule that requires a licence or authorises
        names its obligations, or says `oblige none "why"` (the coverage gate of issue 15)."""
        declared: dict = {}
        for o in p.obligations:
            if o.id in declared:
                self.err("E206", f"obligation id `{o.id}` is already used at {declared[o.id].span}", o.span)
            declared.setdefault(o.id, o)
            if o.cite is None:
                self.err("E401", f"obligation `{o.id}` has no `cite` clause", o.span,
                         hint='every duty cites the provision that imposes it: cite "15 CFR 762.6"')
            for key, spans in o.clause_spans.items():
                if len(spans) > 1 and key != "note":
                    self.err("E402", f"`{o.id}` has `{key}` twice (first at line {spans[0].line})", spans[1])
            if not p.header.binding:
                self.err("E423", f"obligation `{o.id}` in advisory regime `{p.regime}`", o.span,
                         hint="advisory regimes say how partners review; they impose no duty on the exporter")
        for r in p.rules:
            span = r.clause_spans.get("oblige", r.clause_spans.get("oblige_none", [r.span]))[0]
            for oid in r.obliges:
                if oid not in declared:
                    self.err("E422", f"`{r.id}` obliges `{oid}`, which regime `{p.regime}` does not declare", span,
                             hint=_suggest(oid, declared) or 'declare it: obligation ID KIND "what to do" cite "..."')
            if r.obliges and r.obliges_none:
                self.err("E402", f"`{r.id}` names obligations and says `oblige none`", span)
            if (p.header.binding and declared and r.outcome in ("license_required", "authorized")
                    and not r.obliges and not r.obliges_none):
                self.err("E504", f"rule `{r.id}` ({r.outcome}) names no obligations", r.span,
                         hint='say what the exporter must do: oblige ID[, ID...], or oblige none "why"')

    def encodes(self, s: A.Encodes, env: "_Env") -> None:
        """`encodes item.classification.<list> {entries}`: the path names one classification list."""
        parts = s.path.parts
        node = self.schema.item
        ok = len(parts) == 3 and parts[:2] == ("item", "classification")
        if ok and node is not ANY:
            ok = self.schema.child(self.schema.child(node, "classification") or {}, parts[2]) is not None
        if not ok:
            keys = self.schema.keys(self.schema.child(node, "classification") or {}) if node is not ANY else []
            self.err("E421", f"`encodes {s.path.dotted}`: the scope is one classification list, "
                     "item.classification.<list>", s.path.span,
                     hint=("lists: " + ", ".join(keys)) if keys else None)
        if isinstance(s.entries, A.Ref):
            self.resolve_set(s.entries, env)
        else:
            self.check_members(s.entries)
        if s.when is not None:
            self.expr(s.when, env, {"item": self.schema.item}, where="rule")
        if s.cite is None:
            self.err("E401", f"`encodes {s.path.dotted}` has no `cite` clause", s.span,
                     hint='cite the list it follows: cite "15 CFR Part 774, Supp. No. 1"')

    def rule_clauses(self, r, required) -> None:
        for key in required:
            if key not in r.clause_spans:
                self.err("E401", f"`{r.id}` has no `{key}` clause", r.span,
                         hint={"cite": 'every rule cites the law it encodes: cite "15 CFR 742.6(a)(1)"',
                               "when": "say when it applies: when <condition>",
                               "then": "say what follows: then license_required",
                               "with": "name the regimes in conflict: with us-ear, cn-export-control"}[key])
        for key, spans in r.clause_spans.items():
            if len(spans) > 1 and key != "note":
                self.err("E402", f"`{r.id}` has `{key}` twice (first at line {spans[0].line})", spans[1])

    def exception_cycles(self, p: A.Policy, rules: dict) -> None:
        for r in p.rules:
            seen = [r.id]
            cur = r
            while cur.exception_to and cur.exception_to in rules:
                nxt = cur.exception_to
                if nxt in seen:
                    self.err("E404", "exceptions form a cycle: " + " -> ".join(seen + [nxt]), r.span)
                    break
                seen.append(nxt)
                cur = rules[nxt]

    def check_members(self, lit: A.SetLiteral) -> None:
        for m in lit.members:
            if m.start and m.end and m.end < m.start:
                self.err("E405", f"set member `{m.value}` leaves on {m.end}, before it enters on {m.start}", m.span)

    # ------------------------------------------------------------ names
    def resolve_set(self, ref: A.Ref, env: "_Env"):
        target = self.lookup_decl(ref, env)
        if target is not None and not isinstance(target, A.SetDecl):
            self.err("E201", f"`{ref.dotted}` is not a set", ref.span)

    def lookup_decl(self, ref: A.Ref, env: "_Env"):
        """A set or definition named by `ref` (local `name` or imported `alias.name`)."""
        head = ref.parts[0]
        if head in env.names and len(ref.parts) == 1:
            return env.names[head]
        if head in env.aliases and len(ref.parts) == 2:
            other = env.aliases[head]
            for d in list(other.sets) + list(other.defines):
                if d.name == ref.parts[1]:
                    return d
            self.err("E201", f"regime `{other.regime}` has no set or definition `{ref.parts[1]}`", ref.span,
                     hint=_suggest(ref.parts[1], [d.name for d in list(other.sets) + list(other.defines)]))
            return None
        self.err("E201", f"unknown name `{ref.dotted}`", ref.span,
                 hint=_suggest(head, list(env.names) + list(env.aliases) + self.schema.keys(self.schema.root)
                               + list(env.scope_names)))
        return None

    # ------------------------------------------------------------ expressions
    def expr(self, e: A.Expr, env: "_Env", scope: dict, where: str):
        """Check `e`; return the schema node of its value (ANY when not a fact)."""
        if isinstance(e, A.Literal):
            return SCALAR
        if isinstance(e, A.SetLiteral):
            self.check_members(e)
            return {"x-set": True}
        if isinstance(e, A.Ref):
            return self.ref(e, env, scope, where)
        if isinstance(e, A.Call):
            return self.call(e, env, scope, where)
        if isinstance(e, A.Quantifier):
            coll = self.expr(e.collection, env, scope, where)
            elem = self.schema.element(coll) if coll is not None else ANY
            if elem is None:
                self.err("E302", f"`{e.kind} {e.var} in ...`: that is not a list or a set", e.collection.span,
                         hint="quantify over items, item.components, components_of(item), end_use or a set")
                elem = ANY
            inner = {**scope, e.var: elem}
            for sub in (e.body, e.value):
                if sub is not None:
                    self.expr(sub, env, inner, where)
            return SCALAR
        for sub in A.children(e):
            self.expr(sub, env, scope, where)
        return SCALAR

    def ref(self, e: A.Ref, env: "_Env", scope: dict, where: str):
        head = e.parts[0]
        if head in scope:
            node = scope[head]
            return self.walk(node, e, 1)
        if head == "item":
            self.err("E207", f"`item` is only known inside a rule (here: {where})", e.span,
                     hint="pass it as a parameter: define name(item) = ..." if where == "define" else
                     "use a quantifier: any item in items: ...")
            return ANY
        top = self.schema.child(self.schema.root, head)
        if top is not None:
            return self.walk(top, e, 1)
        env.scope_names = tuple(scope)
        decl = self.lookup_decl(e, env)
        if isinstance(decl, A.Define):
            if decl.params:
                self.err("E205", f"`{e.dotted}` takes {len(decl.params)} argument(s): {e.dotted}({', '.join(decl.params)})", e.span)
            return ANY
        if isinstance(decl, A.SetDecl):
            return {"x-set": True}
        return ANY

    def walk(self, node, e: A.Ref, start: int):
        for i in range(start, len(e.parts)):
            if node is ANY:
                return ANY
            nxt = self.schema.child(node, e.parts[i])
            if nxt is None:
                so_far = ".".join(e.parts[:i])
                keys = self.schema.keys(node)
                hint = _suggest(e.parts[i], keys) or (("known here: " + ", ".join(keys)) if keys else None)
                self.err("E301", f"`{e.dotted}`: the transaction has no `{e.parts[i]}` under `{so_far}`",
                         e.span, hint=hint)
                return ANY
            node = nxt
        return node

    def call(self, e: A.Call, env: "_Env", scope: dict, where: str):
        arg_types = [self.expr(a, env, scope, where) for a in e.args]
        if e.namespace is None and e.name in BUILTINS:
            if len(e.args) != BUILTINS[e.name]:
                self.err("E205", f"`{e.name}` takes {BUILTINS[e.name]} argument(s), not {len(e.args)}", e.span)
            if e.name == "components_of":
                return {"type": "array", "items": self.schema.item}
            if e.name == "outcome":
                if where not in ("conflict",):
                    self.err("E407", "`outcome(...)` compares regimes: use it in a `conflict`", e.span)
                arg = e.args[0] if e.args else None
                if not (isinstance(arg, A.Literal) and isinstance(arg.value, str)):
                    self.err("E203", "`outcome(...)` takes the id of a regime in quotes, e.g. outcome(\"us-ear\")", e.span)
                elif arg.value not in self.by_regime:
                    self.err("E203", f"`outcome(\"{arg.value}\")`: no policy defines regime `{arg.value}`", e.span,
                             hint=_suggest(arg.value, self.by_regime))
            return SCALAR
        ref = A.Ref(((e.namespace,) if e.namespace else ()) + (e.name,), e.span)
        if e.namespace is None and e.name not in env.names:
            self.err("E204", f"unknown function `{e.name}`", e.span,
                     hint=_suggest(e.name, [d.name for d in env.policy.defines] + list(BUILTINS)))
            return ANY
        decl = self.lookup_decl(ref, env)
        if decl is None:
            return ANY
        if not isinstance(decl, A.Define):
            self.err("E204", f"`{ref.dotted}` is a set, not a definition with parameters", e.span)
            return ANY
        if len(decl.params) != len(e.args):
            self.err("E205", f"`{ref.dotted}` takes {len(decl.params)} argument(s) ({', '.join(decl.params)}), "
                             f"not {len(e.args)}", e.span)
            return ANY
        key = (id(decl), tuple(id(t) for t in arg_types))
        if key not in self._checked_calls and self._descend:
            self._checked_calls.add(key)
            owner = next(p for p in self.policies if decl in p.defines)
            owner_env = env if owner is env.policy else _Env.of(owner, self.by_regime)
            self.expr(decl.body, owner_env, dict(zip(decl.params, arg_types)), where="define")
        return ANY


class _Env:
    """The names one policy sees: its own sets and definitions, and its `use` aliases."""

    def __init__(self, policy: A.Policy, names: dict, aliases: dict):
        self.policy = policy
        self.names = names
        self.aliases = aliases
        self.scope_names: tuple = ()

    @classmethod
    def of(cls, policy: A.Policy, by_regime: dict) -> "_Env":
        names = {d.name: d for d in list(policy.sets) + list(policy.defines)}
        aliases = {u.alias: by_regime[u.regime] for u in policy.uses if u.regime in by_regime}
        return cls(policy, names, aliases)


def check(policies: list[A.Policy], schema: dict) -> list[Diagnostic]:
    """All static diagnostics for a set of policies, deduplicated, in file order."""
    diags = Checker(policies, schema).run()
    seen, out = set(), []
    for d in diags:
        key = (d.code, d.message, d.span)
        if key not in seen:
            seen.add(key)
            out.append(d)
    order = {p.path: i for i, p in enumerate(policies)}
    out.sort(key=lambda d: (order.get(d.span.file, 99) if d.span else 99, d.span.line if d.span else 0,
                            d.span.col if d.span else 0))
    return out


# ---------------------------------------------------------------- cycles and depth
# Evaluation recurses through sets, definitions and `use`; these checks make sure that it ends
# and that it stays far from Python's recursion limit, whatever the policy text says.

MAX_CALL_DEPTH = 160  # nesting levels of an expression with the bodies of the definitions it calls


def _sccs(graph: dict) -> list[list]:
    """Strongly connected components (Tarjan, iterative: a long chain must not recurse)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(graph.get(nxt, ()))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    n = stack.pop()
                    on.discard(n)
                    comp.append(n)
                    if n == node:
                        break
                out.append(comp)
    return out


def _cycle_path(graph: dict, start, members: set) -> list:
    """One cycle through `start` inside its component, for the message (breadth-first)."""
    prev = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in graph.get(node, ()):
            if nxt == start:
                path = [node]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if nxt in members and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    return [start, start]


class _Calls:
    """Every call of a definition in one expression: (callee key, call node, nesting depth,
    positions of arguments that are structurally smaller than the caller's parameter there)."""

    def __init__(self, checker: "Checker", policy: A.Policy, params: tuple = ()):
        self.c = checker
        self.policy = policy
        self.params = params
        self.found: list = []
        self.depth = 0

    def resolve(self, parts: tuple, scope: dict):
        head = parts[0]
        if head in scope or head == "item" or self.c.schema.child(self.c.schema.root, head) is not None:
            return None
        if len(parts) == 1:
            d = next((d for d in self.policy.defines if d.name == head), None)
            return (self.policy.regime, d.name) if d is not None else None
        if len(parts) == 2:
            use = next((u for u in self.policy.uses if u.alias == head), None)
            other = self.c.by_regime.get(use.regime) if use else None
            if other is not None:
                d = next((d for d in other.defines if d.name == parts[1]), None)
                return (other.regime, d.name) if d is not None else None
        return None

    def walk(self, e, scope: dict, level: int = 1) -> None:
        """`scope`: bound names -> the parameter index they are a component of (or None)."""
        self.depth = max(self.depth, level)
        if isinstance(e, A.Ref):
            key = self.resolve(e.parts, scope)
            if key is not None:
                self.found.append((key, e, level, frozenset()))
            return
        if isinstance(e, A.Call):
            if not (e.namespace is None and e.name in BUILTINS):
                parts = ((e.namespace,) if e.namespace else ()) + (e.name,)
                key = self.resolve(parts, scope)
                if key is not None:
                    smaller = frozenset(i for i, a in enumerate(e.args)
                                        if isinstance(a, A.Ref) and len(a.parts) == 1
                                        and scope.get(a.parts[0]) == i)
                    self.found.append((key, e, level, smaller))
            for a in e.args:
                self.walk(a, scope, level + 1)
            return
        if isinstance(e, A.Quantifier):
            self.walk(e.collection, scope, level + 1)
            inner = {**scope, e.var: self.component_of(e.collection, scope)}
            for sub in (e.value, e.body):
                if sub is not None:
                    self.walk(sub, inner, level + 1)
            return
        for sub in A.children(e):
            self.walk(sub, scope, level + 1)

    def component_of(self, coll, scope: dict):
        """The parameter index whose component tree `coll` lists (`p.components`, `components_of(p)`
        with p a parameter or a component of one), else None."""
        target = None
        if isinstance(coll, A.Ref) and len(coll.parts) == 2 and coll.parts[1] == "components":
            target = coll.parts[0]
        elif (isinstance(coll, A.Call) and coll.namespace is None and coll.name == "components_of"
              and len(coll.args) == 1 and isinstance(coll.args[0], A.Ref) and len(coll.args[0].parts) == 1):
            target = coll.args[0].parts[0]
        got = scope.get(target) if target is not None else None
        if isinstance(got, tuple):      # ("param", index)
            return got[1]
        return got if isinstance(got, int) else None


def structure(checker: "Checker") -> bool:
    """Report cycles among `use`, sets and definitions, and expressions that nest too deeply
    through the definitions they call. Returns True when the checker may descend into
    definition bodies at each call (no cycle or chain that would make it recurse unboundedly)."""
    ok = True
    policies = checker.policies
    # -- use
    graph = {p.regime: [u.regime for u in p.uses if u.regime in checker.by_regime] for p in policies}
    for comp in _sccs(graph):
        members = set(comp)
        if len(comp) == 1 and comp[0] not in graph.get(comp[0], ()):
            continue
        for reg in sorted(members):
            p = checker.by_regime[reg]
            for u in p.uses:
                if u.regime in members:
                    path = _cycle_path(graph, reg, members)
                    checker.err("E210", "`use` forms a cycle: " + " -> ".join(path), u.span,
                                hint="move what both regimes need into a third policy that both `use`")
    # -- sets
    sgraph: dict = {}
    sspan: dict = {}
    for p in policies:
        for s in p.sets:
            key = (p.regime, s.name)
            sgraph.setdefault(key, [])
            for _, term in s.terms:
                if isinstance(term, A.Ref):
                    tgt = _set_target(checker, p, term.parts)
                    if tgt is not None:
                        sgraph[key].append(tgt)
                        sspan.setdefault((key, tgt), term.span)
    for comp in _sccs(sgraph):
        members = set(comp)
        if len(comp) == 1 and comp[0] not in sgraph.get(comp[0], ()):
            continue
        for key in sorted(members):
            for tgt in sgraph[key]:
                if tgt in members:
                    path = _cycle_path(sgraph, key, members)
                    names = " -> ".join(f"{r}.{n}" if r != key[0] else n for r, n in path)
                    checker.err("E208", f"set `{key[1]}` is built from itself: {names}", sspan[(key, tgt)],
                                hint="a set is built from other sets and literal members; remove the term that leads back")
    # -- definitions
    calls: dict = {}
    body_depth: dict = {}
    decls: dict = {}
    for p in policies:
        for d in p.defines:
            key = (p.regime, d.name)
            w = _Calls(checker, p, d.params)
            w.walk(d.body, {name: ("param", i) for i, name in enumerate(d.params)})
            calls[key] = w.found
            body_depth[key] = w.depth
            decls[key] = d
    dgraph = {k: [c[0] for c in v if c[0] in calls] for k, v in calls.items()}
    comps = _sccs(dgraph)      # in reverse topological order: callees first
    comp_of = {k: i for i, comp in enumerate(comps) for k in comp}
    for comp in comps:
        members = set(comp)
        recursive = len(comp) > 1 or comp[0] in dgraph.get(comp[0], ())
        if not recursive:
            continue
        edges = [(k, c) for k in comp for c in calls[k] if c[0] in members]
        common = None
        for _, (_, _, _, smaller) in edges:
            common = set(smaller) if common is None else common & smaller
        if common:
            continue  # every recursive call passes a component of the same parameter: it ends
        ok = False
        blamed = [(k, c) for k, c in edges if not c[3]] or edges[:1]
        for k, (tgt, node, _, smaller) in blamed:
            path = _cycle_path(dgraph, k, members)
            names = " -> ".join(n for _, n in path)
            checker.err("E209", f"`{k[1]}` calls itself without getting smaller ({names}): evaluation would not end",
                        node.span, hint="recursion may only descend into components: "
                                        "define f(x) = ... any c in x.components: f(c)")
    # depth: the deepest nesting of a definition's body together with the definitions it calls
    eff: dict = {}
    for comp in comps:
        for k in comp:
            worst = body_depth[k]
            for tgt, _node, level, _ in calls[k]:
                if tgt in eff and comp_of.get(tgt) != comp_of[k]:
                    worst = max(worst, level + eff[tgt])
            eff[k] = worst
    for comp in comps:
        for k in comp:
            if eff[k] > MAX_CALL_DEPTH:
                deepest = max((c for c in calls[k] if c[0] in eff and comp_of[c[0]] != comp_of[k]),
                              key=lambda c: c[2] + eff[c[0]], default=None)
                inner_deep = deepest is not None and eff[deepest[0]] > MAX_CALL_DEPTH
                if not inner_deep:
                    ok = False
                    span = deepest[1].span if deepest is not None else decls[k].span
                    checker.err("E212", f"`{k[1]}` nests {eff[k]} levels deep with the definitions it calls, "
                                        f"more than {MAX_CALL_DEPTH}", span,
                                hint="flatten the chain of definitions (a definition that only wraps another adds a level)")
    checker.effective_depth = eff
    for p in policies:
        exprs = [a.condition for a in p.applies] + [r.when for r in list(p.rules) + list(p.conflicts)]
        for e in exprs:
            if e is None:
                continue
            w = _Calls(checker, p)
            w.walk(e, {})
            for tgt, node, level, _ in w.found:
                if tgt in eff and level + eff[tgt] > MAX_CALL_DEPTH and eff[tgt] <= MAX_CALL_DEPTH:
                    ok = False
                    checker.err("E212", f"this expression nests {level + eff[tgt]} levels deep with the definitions "
                                        f"it calls, more than {MAX_CALL_DEPTH}", node.span,
                                hint="flatten the chain of definitions (a definition that only wraps another adds a level)")
    return ok


def _set_target(checker: "Checker", p: A.Policy, parts: tuple):
    if len(parts) == 1 and any(s.name == parts[0] for s in p.sets):
        return (p.regime, parts[0])
    if len(parts) == 2:
        use = next((u for u in p.uses if u.alias == parts[0]), None)
        other = checker.by_regime.get(use.regime) if use else None
        if other is not None and any(s.name == parts[1] for s in other.sets):
            return (other.regime, parts[1])
    return None


# ---------------------------------------------------------------- country codes in sets

_COUNTRY_TITLE = re.compile(r"countr|destination|member states|participating states|partners|country group", re.I)
_CODE = re.compile(r"^[A-Z]{2}$")
_USUAL_MISTAKES = {"UK": "GB", "EL": "GR", "EN": "GB", "SP": "ES", "KV": "XK"}


@lru_cache(maxsize=1)
def iso_alpha2() -> frozenset:
    """ISO 3166-1 alpha-2 codes, and XK (Kosovo), which the transaction schema allows."""
    import pycountry

    return frozenset(c.alpha_2 for c in pycountry.countries) | {"XK"}


def _country_fields(schema: dict) -> set:
    """Names of the transaction's fields that hold a country (a `$defs/country` or a list of them)."""
    out: set = set()
    todo = [schema]
    seen = 0
    while todo and seen < 10_000:
        node = todo.pop()
        seen += 1
        if isinstance(node, dict):
            for k, v in (node.get("properties") or {}).items():
                ref = v.get("$ref") or (v.get("items") or {}).get("$ref") if isinstance(v, dict) else None
                if ref == "#/$defs/country":
                    out.add(k)
            todo.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            todo.extend(v for v in node if isinstance(v, (dict, list)))
    return out


def country_codes(checker: "Checker") -> None:
    """A two-letter upper-case member of a set of countries (a set compared with a country field,
    one built into such a set, or one whose title says it lists countries) must be an ISO 3166-1
    alpha-2 code: `UK` for GB would silently never match."""
    fields = _country_fields(checker.schema.root) or {"destination", "ship_from", "country", "origin"}
    marked: set = set()
    for p in checker.policies:
        for s in p.sets:
            if s.title and _COUNTRY_TITLE.search(s.title):
                marked.add((p.regime, s.name))
        exprs = ([a.condition for a in p.applies] + [d.body for d in p.defines]
                 + [r.when for r in list(p.rules) + list(p.conflicts) if r.when is not None])
        todo = list(exprs)
        while todo:
            e = todo.pop()
            if isinstance(e, A.In) and isinstance(e.left, A.Ref) and e.left.parts[-1] in fields \
                    and isinstance(e.right, A.Ref):
                tgt = _set_target(checker, p, e.right.parts)
                if tgt is not None:
                    marked.add(tgt)
            todo.extend(A.children(e))
    by_key = {(p.regime, s.name): (p, s) for p in checker.policies for s in p.sets}
    todo = list(marked)
    while todo:      # a set built into a country set lists countries too
        p, s = by_key[todo.pop()]
        for _, term in s.terms:
            if isinstance(term, A.Ref):
                tgt = _set_target(checker, p, term.parts)
                if tgt is not None and tgt not in marked:
                    marked.add(tgt)
                    todo.append(tgt)
    codes = iso_alpha2()
    for key in sorted(marked):
        p, s = by_key[key]
        for _, term in s.terms:
            if not isinstance(term, A.SetLiteral):
                continue
            for m in term.members:
                if _CODE.match(m.value) and m.value not in codes:
                    guess = _USUAL_MISTAKES.get(m.value)
                    options = [guess] if guess else difflib.get_close_matches(m.value, sorted(codes), n=3, cutoff=0.5)
                    hint = ("did you mean " + " or ".join(f"`{o}`" for o in options) + "? " if options else "") + \
                        "set members compared with countries are ISO 3166-1 alpha-2 codes (XK for Kosovo)"
                    checker.err("E211", f"`{m.value}` in set `{s.name}` is not an ISO 3166-1 country code", m.span,
                                hint=hint)
