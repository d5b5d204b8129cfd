"""The machine output is the same bytes whichever JSON encoder writes it (engine/jsonout.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from exportctl import api, facts, jsonout
from exportctl.codegen import compile_fast

ROOT = Path(__file__).resolve().parent.parent


def stdlib(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def example_decisions() -> list:
    ps = api.load_policies()
    ev = compile_fast(ps)
    ev.prepare()            # the compiled program's documents, not the closures' of the warm-up
    out = []
    for path in sorted((ROOT / "examples" / "transactions").glob("*.yaml")):
        for rec in facts.read_path(str(path)):
            if rec.error is None and rec.transaction is not None:
                tx = rec.transaction.data
                out.append(ev.evaluate(tx, dt.date.fromisoformat(tx["date"]), ps.digest))
    return out


def test_orjson_and_jsonschema_rs_are_installed_with_exportctl():
    """Plain dependencies: a `pip install .` user's batch gets the compiled validator and orjson."""
    import importlib.util

    assert jsonout.orjson is not None, "pip install . brings orjson"
    assert importlib.util.find_spec("jsonschema_rs") is not None, "pip install . brings jsonschema-rs"


def test_every_example_decision_is_the_same_bytes():
    decisions = example_decisions()
    assert len(decisions) >= 50
    for d in decisions:
        assert jsonout.orjson.dumps(d, option=jsonout.orjson.OPT_SORT_KEYS).decode() == stdlib(d), d["transaction"]
        assert jsonout.compact(d) == stdlib(d)


@pytest.mark.parametrize("value", [
    1e-05, 1e16, 1.5e300, -2.5e-7, 9.5e-5, float("nan"), float("inf"), 2 ** 64, -(2 ** 63) - 1,
    dt.datetime(2026, 11, 29, 10, 0), dt.time(10, 30), {1, 2}, Path("x"), {1: "int key"}, {None: 1}, "\ud800 lone surrogate",
    0.0, -0.0, 1e-4, 9.99e15, 0.1, 2400000.0, 2 ** 63, "é \u2028 \x00 \x7f", (1, "a"), dt.date(2026, 1, 2),
])
def test_values_orjson_would_write_differently_go_to_the_standard_library(value):
    obj = {"z": [value], "a": {"because": {"items[0].value": value}}}
    assert jsonout.compact(obj) == stdlib(obj)


def test_text_that_looks_like_a_risky_number_is_still_the_same_bytes():
    obj = {"a": "x:1e5, [0.00001", "b": ["1e-05"], "policy_digest": "3e5f0e1e7"}
    assert jsonout.compact(obj) == stdlib(obj)


def test_without_orjson_the_standard_library_writes(monkeypatch):
    monkeypatch.setattr(jsonout, "orjson", None)
    obj = {"b": [1, 0.5, None, True], "a": dt.date(2026, 11, 29)}
    assert jsonout.compact(obj) == stdlib(obj)


def test_digests_are_the_same_whether_or_not_json_output_has_loaded_orjson(monkeypatch):
    """`facts.digest_of` writes by `jsonout.compact` once it is loaded: the digest must not
    depend on which output a process wrote first (the valid-input cache is keyed by it)."""
    import sys

    datas = [facts.yaml_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "examples").rglob("*.yaml"))]
    datas += [{"v": 1e-05, "w": 1e16, "x": 10 ** 30, "d": dt.date(2026, 1, 2), "s": "é\u2028"}, {"k": [0.5, -0.0]}]
    with_orjson = [facts.digest_of(d) for d in datas]
    monkeypatch.delitem(sys.modules, "exportctl.jsonout")
    assert [facts.digest_of(d) for d in datas] == with_orjson
