"""The compiled evaluator (engine/codegen.py) against the closure evaluator (engine/evaluate.py).

Both must return the same decision (outcome, findings and their order, because, missing,
conflicts) and the fast path's fired-rule list must equal the findings' rules, on:
every golden case of the bundled policies and of the benchmark ruleset; every example
transaction under examples/transactions/ (at its own date and at dates where the law
changes); generated transactions (hypothesis, drawn from the transaction schema with values
harvested from the policies, absent keys and nulls included); and a policy that uses every
construct of the language. The fast path runs in strict mode: an error in generated code
fails the test instead of falling back to the closures.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exportctl import ast as A
from exportctl import cases as C
from exportctl import facts
from exportctl.codegen import FastEvaluator, compile_fast
from exportctl.evaluate import evaluate
from exportctl.policyset import load, policies_root

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "transactions"
BENCH_RULESET = ROOT / "benchmarks" / "peers" / "ruleset"

# CI runs a quarter of the generated transactions (the decisions now carry `checked`, which the
# closure evaluator computes slowly); EXPORTCTL_DEEP_TESTS=1 runs them all.
DEEP = os.environ.get("EXPORTCTL_DEEP_TESTS") == "1"


def _n(full: int) -> int:
    return full if DEEP else max(50, full // 4)


PROFILE = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.filter_too_much])


def _policyset(root):
    ps = load(root)
    if ps.errors or not ps.policies:
        pytest.skip(f"no usable policies under {root}")
    return ps


def _fast(ps) -> FastEvaluator:
    return compile_fast(ps.regimes, ps.schema_folder, strict=True)


def _disagreement(ps, ev, data: dict, as_of: _dt.date) -> str | None:
    """None when both evaluators agree on `data`, else what differs."""
    plain = evaluate(ps.regimes, data, as_of, ps.digest)
    fast = ev.evaluate(data, as_of, ps.digest)
    if fast != plain:
        for key in plain:
            if plain[key] != fast.get(key):
                return f"{key}: closures {plain[key]!r}\n      compiled {fast.get(key)!r}"
        return "the decisions differ"
    if json.dumps(fast, default=str) != json.dumps(plain, default=str):
        return "the decisions are equal but not the same JSON (keys in another order)"
    want = sorted(f["rule"] for r in plain["regimes"] for f in r["findings"])
    got = sorted(ev.fired_rules(data, as_of))
    if got != want:
        return f"fired_rules: {got} but the findings name {want}"
    return None


def _law_changes(ps, around: int = 1) -> list[_dt.date]:
    """A few dates on which the law changes, with the day before."""
    days = sorted({d for p in ps.policies for r in p.rules for d in (r.start, r.end) if d is not None})
    picks = days[:: max(1, len(days) // 6)][:6]
    return sorted({d + _dt.timedelta(days=k) for d in picks for k in (-around, 0)})


# ---------------------------------------------------------------- golden cases and examples

def _golden(ps):
    """(case, transaction, as_of) of every golden case of `ps` that reads as a transaction (an
    invalid case is the golden-case runner's business)."""
    cases, _ = C.load_cases(ps)
    for case in cases:
        if case.error is not None:
            continue
        try:
            tx = facts.from_data(case.transaction, case.file, folder=ps.schema_folder)
        except Exception:
            continue
        yield case, tx, _dt.date.fromisoformat(case.spec["as_of"]) if case.spec.get("as_of") else tx.date


@pytest.mark.parametrize("root", [None, BENCH_RULESET], ids=["bundled", "benchmark"])
def test_golden_cases_agree(root):
    ps = _policyset(root)
    ev = _fast(ps)
    compared, problems = 0, []
    for case, tx, as_of in _golden(ps):
        compared += 1
        why = _disagreement(ps, ev, tx.data, as_of)
        if why:
            problems.append(f"{case.file}: {case.name}\n    {why}")
    if not compared:
        pytest.skip("no golden cases")
    assert not problems, f"{len(problems)} of {compared} cases differ:\n" + "\n".join(problems[:5])
    assert ev.fallbacks == 0


def test_examples_agree_at_their_date_and_when_the_law_changes():
    if not EXAMPLES.is_dir() or not any(EXAMPLES.glob("*.yaml")):
        pytest.skip("no example transactions yet")
    ps = _policyset(None)
    ev = _fast(ps)
    records = [r for r in facts.read_path(str(EXAMPLES), ps.schema_folder) if r.transaction is not None]
    problems = []
    for rec in records:
        for as_of in [rec.transaction.date] + _law_changes(ps):
            why = _disagreement(ps, ev, rec.transaction.data, as_of)
            if why:
                problems.append(f"{rec.source} as of {as_of}\n    {why}")
    assert records
    assert not problems, "\n".join(problems[:5])


# ---------------------------------------------------------------- generated transactions

_COUNTRY = re.compile(r"^[A-Z]{2}$")


class _Pools:
    """Values worth drawing: those the policies mention (so that rules fire and near-miss),
    a few others, and spelling variants of names (membership ignores case and punctuation)."""

    def __init__(self, ps):
        self.strings: set[str] = set()
        self.numbers: set[float] = set()
        self.dates: set[_dt.date] = set()
        for p in ps.policies:
            for s in p.sets:
                for _, term in s.terms:
                    if isinstance(term, A.SetLiteral):
                        self._members(term)
            nodes = [d.body for d in p.defines] + [a.condition for a in p.applies]
            nodes += [r.when for r in p.rules if r.when is not None]
            nodes += [c.when for c in p.conflicts if c.when is not None]
            for n in nodes:
                self._walk(n)
            for r in p.rules:
                self.dates.update(d for d in (r.start, r.end) if d)
        self.countries = sorted({s for s in self.strings if _COUNTRY.match(s)} | {"US", "FR", "DE", "CN", "RU", "BR", "XK"})
        self.names = sorted(s for s in self.strings if " " in s)
        self.names += [n.upper() + "." for n in self.names[:20]] + ["Acme Space Ltd"]

    def _members(self, lit):
        for m in lit.members:
            self.strings.add(m.value)
            self.strings.update(m.aliases)
            self.dates.update(d for d in (m.start, m.end) if d)

    def _walk(self, e):
        if isinstance(e, A.Literal):
            v = e.value
            if type(v) is str:
                self.strings.add(v)
            elif type(v) in (int, float):
                self.numbers.add(v)
            elif type(v) is _dt.date:
                self.dates.add(v)
        if isinstance(e, A.SetLiteral):
            self._members(e)
        for c in A.children(e):
            self._walk(c)

    def matching(self, pattern: str | None, extend: bool = False) -> list[str]:
        if not pattern:
            return []
        rx = re.compile(pattern)
        out = set()
        for s in self.strings:
            for cand in ((s, s + ".a", s + ".x", s + "(a)", s + ".a.1") if extend else (s,)):
                if rx.match(cand):
                    out.add(cand)
        return sorted(out)


def _strategy(schema: dict, pools: _Pools, optional_p: bool = True):
    """A hypothesis strategy for schema-valid transactions, built from the JSON Schema."""
    defs = schema.get("$defs", {})

    def resolve(node):
        while "$ref" in node:
            node = {**defs[node["$ref"].split("/")[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def date_strategy():
        near = sorted(pools.dates)
        return st.one_of(
            st.sampled_from(near).flatmap(lambda d: st.sampled_from([d - _dt.timedelta(days=1), d, d + _dt.timedelta(days=1)]))
            if near else st.nothing(),
            st.dates(_dt.date(2010, 1, 1), _dt.date(2030, 12, 31)),
        ).map(lambda d: d.isoformat())

    def number_strategy(node, key):
        lo = node.get("minimum", 0)
        near = sorted(x for x in pools.numbers if x >= lo)
        options = [st.integers(lo, 10_000), st.floats(lo, 1e9, allow_nan=False, allow_infinity=False)]
        if near:
            options.insert(0, st.sampled_from(near).flatmap(
                lambda x: st.sampled_from([x, x + 1, max(lo, x - 1), x * 1.0001 if x else 0.5])))
        s = st.one_of(*options)
        if "maximum" in node:
            s = s.filter(lambda x, m=node["maximum"]: x <= m)
        return s

    def string_strategy(node, key):
        if node.get("format") == "date" or key == "date":
            return date_strategy()
        pattern = node.get("pattern")
        if pattern and pattern.startswith("^[A-Z]{2}"):
            return st.sampled_from(pools.countries)
        if key in ("name",):
            return st.sampled_from(pools.names) if pools.names else st.text(min_size=1, max_size=8)
        found = pools.matching(pattern, extend=True)
        base = st.from_regex(pattern, fullmatch=True) if pattern else st.text(min_size=1, max_size=6)
        return st.one_of(st.sampled_from(found), base) if found else base

    def of(node, key=None, depth=0):
        node = resolve(node)
        if "enum" in node:
            return st.sampled_from(node["enum"])
        t = node.get("type")
        if isinstance(t, list):
            return st.one_of(*[of({**node, "type": x}, key, depth) for x in t])
        if t == "null":
            return st.none()
        if t == "boolean":
            return st.booleans()
        if t in ("number", "integer"):
            return number_strategy(node, key)
        if t == "string":
            return string_strategy(node, key)
        if t == "array":
            if key == "components" and depth >= 2:
                return st.just([])
            items = of(node.get("items", {}), key, depth + 1)
            lo = node.get("minItems", 0)
            s = st.lists(items, min_size=lo, max_size=max(lo, 3))
            if node.get("uniqueItems"):
                s = st.lists(items, min_size=lo, max_size=max(lo, 3), unique_by=repr)
            return s
        if t == "object" or "properties" in node:
            props = node.get("properties", {})
            required = set(node.get("required", []))
            req = {k: of(v, k, depth) for k, v in props.items() if k in required}
            opt = {k: of(v, k, depth) for k, v in props.items() if k not in required}
            full = st.fixed_dictionaries({**req, **opt})
            if not optional_p:
                return full
            # mostly every fact given (so that rules decide), sometimes some left unknown
            return st.one_of(full, full, st.fixed_dictionaries(req, optional=opt))
        return st.none()

    return of(schema)


def _leaves(x, path=()):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from _leaves(v, path + (k,))
        if path:
            yield path, x
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from _leaves(v, path + (i,))
        yield path, x
    else:
        yield path, x


_ENTRIES = {"eccn": r"^(EAR99|[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*)$", "usml": r"^[IVX]+(\([a-z0-9]+\))*$",
            "eu": r"^[0-9][A-E][0-9]{3}(\.[a-z0-9]+)*$", "mtcr": r"^[0-9]{1,2}\.[A-E]\.[0-9]+(\.[a-z0-9]+)*$"}


@st.composite
def _mutated(draw, seeds: list, pools: _Pools):
    """A golden case or example transaction with a few facts changed, nulled or removed:
    transactions near the decisions the policies were written for."""
    import copy

    tx = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 4))):
        leaves = [(p, v) for p, v in _leaves(tx) if p]
        path, value = draw(st.sampled_from(leaves))
        parent = tx
        for k in path[:-1]:
            parent = parent[k]
        key = path[-1]
        op = draw(st.sampled_from(["replace", "replace", "replace", "null", "delete"]))
        if op == "delete":
            del parent[key]
        elif op == "null":
            parent[key] = None
        elif isinstance(value, bool):
            parent[key] = not value
        elif isinstance(value, (int, float)):
            near = sorted(x for x in pools.numbers if x >= 0) or [0]
            x = draw(st.sampled_from(near))
            parent[key] = draw(st.sampled_from([x, x + 1, max(0, x - 1), x * 1.0001, value * 2, 0]))
        elif key == "date" or (isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\d$", value)):
            d = draw(st.sampled_from(sorted(pools.dates)) if pools.dates else st.dates())
            parent[key] = (d + _dt.timedelta(days=draw(st.sampled_from([-1, 0, 1])))).isoformat()
        elif isinstance(value, str) and _COUNTRY.match(value):
            parent[key] = draw(st.sampled_from(pools.countries))
        elif isinstance(value, str) and key in _ENTRIES:
            found = pools.matching(_ENTRIES[key], extend=True)
            parent[key] = draw(st.sampled_from(found)) if found else value
        elif isinstance(value, list) and value:
            i = draw(st.integers(0, len(value) - 1))
            parent[key] = value[:i] + value[i + 1:] if draw(st.booleans()) else value + [copy.deepcopy(value[i])]
        elif isinstance(value, str):
            parent[key] = draw(st.sampled_from(sorted(pools.strings)))
    return tx


def _seeds(ps) -> list:
    cases, _ = C.load_cases(ps)
    out = [c.transaction for c in cases if c.error is None and c.transaction]
    if EXAMPLES.is_dir():
        out += [r.transaction.data for r in facts.read_path(str(EXAMPLES), ps.schema_folder) if r.transaction is not None]
    return out


_BUNDLED = {}


def _bundled():
    if not _BUNDLED:
        ps = _policyset(None)
        pools = _Pools(ps)
        generated = _strategy(facts.schema("transaction", ps.schema_folder), pools)
        seeds = _seeds(ps)
        _BUNDLED.update(ps=ps, ev=_fast(ps), pools=pools, days=sorted(pools.dates),
                        tx=st.one_of(_mutated(seeds, pools), _mutated(seeds, pools), generated) if seeds else generated)
    return _BUNDLED


def _as_of(days):
    return st.one_of(st.just(None), st.sampled_from(days) if days else st.nothing(),
                     st.dates(_dt.date(2010, 1, 1), _dt.date(2030, 12, 31)))


@settings(PROFILE, max_examples=_n(1200))
@given(data=st.data())
def test_generated_transactions_agree_on_the_bundled_policies(data):
    b = _bundled()
    tx = data.draw(b["tx"], label="transaction")
    as_of = data.draw(_as_of(b["days"]), label="as_of")
    try:
        t = facts.from_data(tx, "<generated>", folder=b["ps"].schema_folder)
    except Exception:
        return                # not schema-valid (e.g. a regex draw): the evaluators never see it
    why = _disagreement(b["ps"], b["ev"], t.data, as_of or t.date)
    assert why is None, why


_BENCH = {}


def _bench():
    if not _BENCH:
        ps = _policyset(BENCH_RULESET)
        pools = _Pools(ps)
        pools.strings |= {"9A515.a", "9A515.b", "9A604.b", "9B604", "9A004.u", "EAR99", "7A994", "XV(a)", "IV(d)", "XII(c)"}
        pools.countries = sorted(set(pools.countries) | {"CA", "AU", "GB", "MX"})
        _BENCH.update(ps=ps, ev=_fast(ps), tx=_strategy(facts.schema("transaction", ps.schema_folder), pools, False),
                      days=sorted(pools.dates))
    return _BENCH


@settings(PROFILE, max_examples=_n(1500))
@given(data=st.data())
def test_generated_flat_transactions_agree_on_the_benchmark_ruleset(data):
    """Schema-valid flat transactions, then with keys dropped (unknown facts) and nulls."""
    b = _bench()
    tx = data.draw(b["tx"], label="transaction")
    drop = data.draw(st.sets(st.sampled_from(sorted(k for k in tx if k != "date")), max_size=3), label="dropped")
    nulls = data.draw(st.sets(st.sampled_from(sorted(k for k in tx if k != "date")), max_size=2), label="nulled")
    tx = {k: (None if k in nulls else v) for k, v in tx.items() if k not in drop}
    as_of = data.draw(_as_of(b["days"]), label="as_of")
    why = _disagreement(b["ps"], b["ev"], tx, as_of or _dt.date.fromisoformat(tx["date"]))
    assert why is None, why


# ---------------------------------------------------------------- every construct of the language

LANG_POLICY = r'''
regime lang "Every construct, for the differential test" binding
  version "1" source "tests/test_codegen.py"

applies when ship_from == "US" or any i in items: i.origin == "US"
applies when destination in {CN from 2020-01-01, RU until 2021-12-31}

set EMB "embargoed" = {CU, IR, KP, SY}
set PARTNERS "partners" = {AU, CA, GB, "Acme Space Ltd" aka "ACME", JP from 2024-06-01, DE until 2023-12-31}
set NOT_EMB = PARTNERS + {FR, "de"} - {GB}

define us_value(x) "US content, counted at the first US level" =
  (sum c.value for c in x.components where c.origin == "US")
  + (sum us_value(c) for c in x.components where c.origin != "US")
define share(x) = us_value(x) / x.value
define spacecraft(x) = x.classification.eccn startswith {"9A515", "9E515"} or x.classification.usml startswith "XV("
define listed = "us-entity-list" in end_user.lists or end_user.name in PARTNERS
define military = end_user.kind == "military" or "military" in end_use
define sub_of_emb(c) "A subdivision of an embargoed country (a prefix test per member: compiled to one)" =
  any s in EMB: c startswith s + "-"
set NONE_YET "empty until 2030" = {ZZ from 2030-01-01}

rule lang.share "US share above 25%"
  cite "t" when spacecraft(item) and share(item) > 25% and destination not in PARTNERS
  then license_required

rule lang.sta "STA" cite "t" exception to lang.share
  when destination in NOT_EMB and not listed and item.classification.eccn != "9A515.a"
  then authorized "STA"

rule lang.sta_limit "STA limit" cite "t" exception to lang.sta
  when military
  then license_required

rule lang.deep "A US part anywhere" cite "t" from 2015-01-01
  when any c in components_of(item): c.origin == "US" and c.classification.eccn is known
  then license_required

rule lang.count "Three or more US parts" cite "t" until 2029-12-31
  when (count c in components_of(item) where c.origin == "US") >= 3 and not (all c in item.components: c.value > 0)
  then prohibited

rule lang.emb "Embargo" cite "t"
  when destination in EMB and (any i in items: spacecraft(i))
  then prohibited

rule lang.subdivision "A subdivision of a listed country" cite "t"
  when sub_of_emb(destination) or (any s in PARTNERS: end_user.country startswith s + "-")
    or (any s in NONE_YET: exporter.country startswith s + "-")
  then prohibited

rule lang.dates "Dates and strings" cite "t"
  when date >= 2024-10-23 and date != "2025-01-01" and ship_from != destination and -1 * 2 + 3 == 1
  then no_license_required

rule lang.known "Unknown classification" cite "t"
  when item.classification.eu is not known or item.parameters.range_km >= 300 or item.parameters is not known
  then license_required

rule lang.consignees "Listed consignee" cite "t"
  when any c in consignees: "us-sdn" in c.lists or c.name in {"Bad Forwarder" aka "BF"}
  then prohibited

rule lang.origin "Origin in a set" cite "t"
  when item.origin in NOT_EMB and item.quantity * item.value > 1000000 and item.type == "commodity"
  then no_license_required

conflict lang.clash "Prohibited here, required there" cite "t" with lang
  when outcome("lang") == "prohibited" and exporter.country == "CN"
'''


def _lang_seeds() -> list:
    """Transactions that make the construct policy's rules fire, to mutate."""
    part = lambda i, origin, value, **kw: {"id": i, "origin": origin, "value": value, "components": [], **kw}  # noqa: E731
    sat = {"id": "sat", "origin": "FR", "value": 100, "quantity": 1, "type": "commodity",
           "classification": {"eccn": "9A515.x", "eu": None, "usml": None}, "parameters": {"range_km": 0},
           "components": [part("p1", "US", 30, classification={"eccn": "9A515.e"}),
                          part("p2", "DE", 20, components=[part("p3", "US", 10), part("p4", "US", 0)]),
                          part("p5", "US", 0)]}
    base = {"id": "TX", "date": "2026-03-02", "ship_from": "US", "destination": "FR", "kind": "export",
            "exporter": {"name": "Orbital Inc", "country": "US"},
            "end_user": {"name": "Orbital GmbH", "country": "FR", "kind": "military", "lists": []},
            "end_use": [], "consignees": [{"name": "BF", "country": "NL", "lists": []}], "items": [sat]}
    commercial = {**base, "end_user": {**base["end_user"], "kind": "commercial"}}
    embargo = {**base, "destination": "IR", "exporter": {"name": "X", "country": "CN"}}
    return [base, commercial, embargo]


@pytest.fixture(scope="module")
def lang(tmp_path_factory):
    root = tmp_path_factory.mktemp("lang")
    (root / "lang").mkdir()
    (root / "lang" / "lang.policy").write_text(LANG_POLICY, encoding="utf-8")
    ps = load(root)
    assert not ps.errors, [d.message for d in ps.errors]
    pools = _Pools(ps)
    pools.strings |= {"9A515.a", "9A515.x", "9E515.b", "XV(a)", "3A001", "us-entity-list", "us-sdn",
                      "UA-43", "CU-01", "IR-07", "AU-NSW", "JP-13", "GB-ENG"}
    generated = _strategy(facts.schema("transaction"), pools)
    tx = st.one_of(_mutated(_lang_seeds(), pools), _mutated(_lang_seeds(), pools), generated)
    return dict(ps=ps, ev=_fast(ps), tx=tx, days=sorted(pools.dates))


@settings(PROFILE, max_examples=_n(1000))
@given(data=st.data())
def test_generated_transactions_agree_on_every_construct(lang, data):
    tx = data.draw(lang["tx"], label="transaction")
    as_of = data.draw(_as_of(lang["days"]), label="as_of")
    try:
        t = facts.from_data(tx, "<generated>")
    except Exception:
        return
    why = _disagreement(lang["ps"], lang["ev"], t.data, as_of or t.date)
    assert why is None, why


def test_the_construct_policy_fires_its_rules(lang):
    """The generated transactions above are worth something only if the rules fire."""
    ps, ev = lang["ps"], lang["ev"]
    tx = {"id": "T", "date": "2026-01-05", "ship_from": "US", "destination": "CU",
          "exporter": {"name": "X", "country": "CN"},
          "items": [{"id": "sat", "origin": "FR", "value": 100, "quantity": 1,
                     "classification": {"eccn": "9A515.a"},
                     "components": [{"id": "p", "origin": "US", "value": 60, "classification": {"eccn": "9A515.x"},
                                     "components": []}]}]}
    d = ev.evaluate(tx, _dt.date(2026, 1, 5), ps.digest)
    assert d == evaluate(ps.regimes, tx, _dt.date(2026, 1, 5), ps.digest)
    fired = {f["rule"] for r in d["regimes"] for f in r["findings"]}
    assert {"lang.share", "lang.deep", "lang.emb", "lang.dates"} <= fired
    assert [c["conflict"] for c in d["conflicts"]] == ["lang.clash"]
    assert "lang.subdivision" not in fired
    for dest, fires in (("CU-01", True), ("CU", False), ("CUB", False), ("DE-BY", False)):
        d = ev.evaluate({**tx, "destination": dest}, _dt.date(2026, 1, 5), ps.digest)
        assert d == evaluate(ps.regimes, {**tx, "destination": dest}, _dt.date(2026, 1, 5), ps.digest)
        assert ("lang.subdivision" in {f["rule"] for r in d["regimes"] for f in r["findings"]}) is fires, dest


def test_a_prefix_quantifier_over_a_set_is_one_startswith():
    """`any s in SET: x startswith s + "-"` compiles to one str.startswith over the prefixes
    (the loop of concatenations was a tenth of a decision of the EU policy)."""
    ps = load(ROOT / "policies")
    code = compile_fast(ps.regimes, ps.schema_folder, strict=True).dump()
    assert re.search(r"_t\d+\.startswith\(_x\d+\)\)\) and \(not", code)   # eu: in_customs_territory


# ---------------------------------------------------------------- the compiled path itself

def test_compile_fast_is_cached_per_policy_set():
    ps = _policyset(None)
    assert compile_fast(ps.regimes, ps.schema_folder) is compile_fast(ps.regimes, ps.schema_folder)


def test_generated_code_is_python_built_from_ast_and_readable():
    ps = _policyset(BENCH_RULESET)
    ev = FastEvaluator(ps.regimes, frozenset(facts.schema("transaction", ps.schema_folder)["properties"]))
    assert ev.prepare() >= 2               # the benchmark ruleset has dated rules and set members
    text = ev.dump()
    assert "def _R" in text and "hits.append" in text
    source = (ROOT / "engine" / "codegen.py").read_text(encoding="utf-8")
    assert not re.search(r"(^|[^._a-zA-Z])(eval|exec)\(", source)


@pytest.mark.parametrize("collecting", [True, False])
def test_generating_pauses_the_collector_and_gives_the_callers_setting_back(monkeypatch, collecting):
    """The program is generated with the cyclic collector paused (its passes over the new AST
    nodes were a third of the time); whatever the caller had is back afterwards, after an error too."""
    import gc

    ps = _policyset(BENCH_RULESET)
    ev = FastEvaluator(ps.regimes, frozenset(facts.schema("transaction", ps.schema_folder)["properties"]))
    seen = []
    real = FastEvaluator._generate

    def generate(self):
        seen.append(gc.isenabled())
        return real(self)

    monkeypatch.setattr(FastEvaluator, "_generate", generate)
    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        ev.program(_dt.date(2024, 9, 2))
        assert seen == [False] and gc.isenabled() is collecting
        ev._code = None
        ev._by_day.clear()
        ev._epochs.clear()
        monkeypatch.setattr(FastEvaluator, "_generate", lambda self: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            ev.program(_dt.date(2024, 9, 2))
        assert gc.isenabled() is collecting
    finally:
        gc.enable() if was else gc.disable()


def test_a_transaction_without_a_usable_date_falls_back_to_the_closures():
    ps = _policyset(BENCH_RULESET)
    ev = FastEvaluator(ps.regimes, frozenset(facts.schema("transaction", ps.schema_folder)["properties"]))
    tx = {"eccn": "EAR99", "usml": None, "mtcr_category": None, "destination": "IR", "end_user_kind": "commercial",
          "end_user_listed": False, "us_content_pct": 100, "payload_kg": 0, "range_km": 0, "date": "2024-02-30"}
    day = _dt.date(2024, 3, 1)
    assert ev.evaluate(tx, day, ps.digest) == evaluate(ps.regimes, tx, day, ps.digest)
    assert sorted(ev.fired_rules(tx, day)) == ["bench.ear99_01", "bench.ear99_02"]
    assert ev.fallbacks == 2


def test_bundled_policies_root_exists():
    assert (policies_root() / "schema" / "transaction.schema.json").is_file()


def test_facts_equal_in_python_but_not_in_json_are_told_apart():
    """The checks are memoised across decisions by the values their condition can read
    (runtime._whyx): 1, 1.0 and True, or 0.0 and -0.0, are equal keys in Python but not the same
    facts in the decision's JSON. One evaluator (not strict: the memo answers as in production)
    decides each variant in turn; each must be the closures' decision byte for byte."""
    ps = _policyset(BENCH_RULESET)
    ev = FastEvaluator(ps.regimes, frozenset(facts.schema("transaction", ps.schema_folder)["properties"]))
    ev.prepare()
    base = {"id": "T", "eccn": "9A515.a", "usml": None, "mtcr_category": None, "destination": "FR",
            "end_user_kind": "commercial", "end_user_listed": False, "us_content_pct": 10, "payload_kg": 0,
            "range_km": 0, "date": "2024-06-01"}
    variants = {"us_content_pct": [10, 10.0, 0, 0.0, -0.0, True, 1, 1.0],
                "payload_kg": [0, 0.0, -0.0, False, 1, 1.0, True],
                "range_km": [0, 0.0, -0.0, 1, 1.0],
                "mtcr_category": [2, 2.0, 1, 1.0, True],
                "end_user_listed": [False, 0, 0.0, True, 1]}
    day = _dt.date(2024, 6, 1)
    for key, values in variants.items():
        for _ in range(2):                   # the second round is answered from the memo
            for v in values:
                tx = {**base, key: v}
                want = json.dumps(evaluate(ps.regimes, tx, day, ps.digest))
                assert json.dumps(ev.evaluate(tx, day, ps.digest)) == want, (key, v)
    assert ev.fallbacks == 0


@pytest.mark.parametrize("root", [None, BENCH_RULESET], ids=["bundled", "benchmark"])
def test_memoised_checks_answer_as_the_closures(root):
    """Strict mode records every check again (its memos never answer, they are compared); this
    is the memos answering, as in production: every golden case decided twice by one evaluator
    (the second time from what the first kept), each the closures' decision byte for byte."""
    ps = _policyset(root)
    ev = FastEvaluator(ps.regimes, frozenset(facts.schema("transaction", ps.schema_folder)["properties"]))
    ev.prepare()
    txs = [(tx.data, as_of) for _, tx, as_of in _golden(ps)]
    assert txs
    for _ in range(2):
        for data, as_of in txs:
            want = json.dumps(evaluate(ps.regimes, data, as_of, ps.digest), default=str)
            assert json.dumps(ev.evaluate(data, as_of, ps.digest), default=str) == want, data.get("id")
    assert ev.fallbacks == 0
