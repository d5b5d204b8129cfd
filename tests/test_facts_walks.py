"""The batch path's shortcuts over a transaction's values agree with the walks that locate.

`facts.check_values` passes data within every limit by `_within_limits`, a walk that keeps no
paths; `countries.country_fields` walks a schema worked out once per schema (`_CountryWalk`).
Each must answer exactly as the plain walk does, on generated data of every shape, at and
around every limit."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exportctl import countries, facts
from exportctl.loading import Limits

ROOT = Path(__file__).resolve().parents[1]
SMALL = Limits(depth=6, items=5, string_chars=10, int_digits=3)

keys = st.sampled_from(["items", "components", "origin", "destination", "id", "x", "ship_from", "country",
                        "parties", "exporter", "classification", "k" * 11])
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10_000, 10_000),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                    st.sampled_from(["FR", "US", "CN", "UK", "ZZ", "fr", "DE"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=6),
                                                       st.dictionaries(keys, inner, max_size=6)), max_leaves=40)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values)
def test_within_limits_is_exactly_no_problem_found(data):
    for limits in (SMALL, facts.LIMITS):
        assert facts._within_limits(data, limits) == (facts._value_problems(data, "<t>", None, limits) == [])


def test_within_limits_at_each_limit():
    at = {"items": [{"components": [1, 2]}, 3, 4], "s": "x" * 10, "n": 999, "d": [[[["ok"]]]]}
    assert facts._within_limits(at, SMALL) and not facts._value_problems(at, "<t>", None, SMALL)
    for over in ({"items": [1, 2, 3, 4, 5, 6]}, {"s": "x" * 11}, {"k" * 11: 1}, {"n": 1000}, {"n": -1000},
                 {"f": float("nan")}, {"f": float("-inf")}, {"d": [[[[[["deep"]]]]]]},
                 {"items": [{"components": [1, 2, 3]}, 4, 5]}):
        assert not facts._within_limits(over, SMALL), over
        assert facts._value_problems(over, "<t>", None, SMALL), over


class Str(str):
    pass


def test_subclasses_are_tested_as_the_located_walk_tests_them():
    for data in ({"s": Str("x" * 11)}, {"b": True, "i": 10 ** 3}, [Str("ok"), {"k": [Str("y" * 20)]}]):
        assert facts._within_limits(data, SMALL) == (facts._value_problems(data, "<t>", None, SMALL) == [])


def _examples() -> list:
    return [facts.yaml_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").rglob("*.yaml"))]


EXAMPLES = _examples()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_country_fields_match_the_plain_walk_on_edited_examples(data):
    tx = copy.deepcopy(data.draw(st.sampled_from(EXAMPLES)))
    for _ in range(data.draw(st.integers(0, 4))):        # graft odd values anywhere
        node = tx
        for _ in range(data.draw(st.integers(0, 3))):
            kids = list(node.items()) if isinstance(node, dict) else list(enumerate(node))
            kids = [(k, v) for k, v in kids if isinstance(v, (dict, list))]
            if not kids:
                break
            node = data.draw(st.sampled_from(kids))[1]
        if isinstance(node, dict):
            node[data.draw(keys)] = data.draw(values)
        elif node:
            node[data.draw(st.integers(0, len(node) - 1))] = data.draw(values)
    sch = facts.schema("transaction")
    assert countries.country_fields(tx, sch) == countries._country_fields_slow(tx, sch)


def test_country_fields_on_schemas_with_alternatives_recursion_and_odd_shapes():
    country = {"type": "string"}
    sch = {"$defs": {"country": country,
                     "node": {"properties": {"c": {"$ref": "#/$defs/country"},
                                             "kids": {"items": {"$ref": "#/$defs/node"}}},
                              "anyOf": [{"properties": {"c": {"$ref": "#/$defs/country"}}}, {"type": "object"}]}},
           "properties": {"root": {"$ref": "#/$defs/node"}, "plain": {"type": "string"},
                          "both": {"allOf": [{"$ref": "#/$defs/country"}, {"$ref": "#/$defs/country"}]},
                          "missing": {"$ref": "#/$defs/nothing"}}}
    tx = {"root": {"c": "FR", "kids": [{"c": "US", "kids": [{"c": 3}, {"c": "DE"}]}, "x"]}, "both": "CN",
          "plain": "GB", "missing": "JP"}
    got = countries.country_fields(tx, sch)
    assert got == countries._country_fields_slow(tx, sch)
    assert [facts.json_path(p) for p, _ in got] == ["both", "both", "root.c", "root.c", "root.kids[0].c",
                                                   "root.kids[0].c", "root.kids[0].kids[1].c",
                                                   "root.kids[0].kids[1].c"]
    odd = {"properties": {"a": {"$ref": "#/$defs/country"}, "b": {"properties": ["c"]}}, "$defs": {"country": {}}}
    for walk in (countries.country_fields, countries._country_fields_slow):     # fails alike
        with pytest.raises(AttributeError):
            walk({"a": "FR"}, odd)
    none = {"properties": {"a": {"type": "string"}}}
    assert countries.country_fields({"a": "FR"}, none) == [] == countries._country_fields_slow({"a": "FR"}, none)


def test_the_transaction_schema_has_a_worked_out_walk():
    walk = countries._country_walk(facts.schema("transaction"))
    assert walk is not None and walk is not countries._NOWHERE
    tx = json.loads(json.dumps({"destination": "FR", "ship_from": "US", "items": [{"origin": "DE", "components": [
        {"origin": "JP", "components": [{"origin": "CN"}]}]}]}))
    paths = [facts.json_path(p) for p, _ in countries.country_fields(tx, facts.schema("transaction"))]
    assert {"destination", "ship_from", "items[0].origin", "items[0].components[0].origin",
            "items[0].components[0].components[0].origin"} <= set(paths)
