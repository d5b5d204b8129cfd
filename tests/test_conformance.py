"""The conformance set (tests/conformance/*.yaml): exact decisions for the language's semantics."""

import datetime as dt
from pathlib import Path

import pytest

from conftest import write_policies
from exportctl import facts
from exportctl.evaluate import evaluate
from exportctl.policyset import read_policies

HERE = Path(__file__).parent / "conformance"
FILES = sorted(HERE.glob("*.yaml"))


def load(path: Path) -> dict:
    return facts.normalise(facts.yaml_load(path.read_text(encoding="utf-8")))


def conformance_decision(spec: dict, tmp: Path, evaluator=evaluate) -> dict:
    regime = spec["policy"].split()[1]
    ps = read_policies(write_policies(tmp, {f"{regime}/{regime}.policy": spec["policy"]}))
    assert ps.errors == []
    tx = facts.from_data(spec["transaction"])
    day = dt.date.fromisoformat(spec["as_of"]) if spec.get("as_of") else tx.date
    return evaluator(ps.regimes, tx.data, day, ps.digest)


def check_expectations(spec: dict, decision: dict) -> None:
    by = {r["regime"]: r for r in decision["regimes"]}
    for regime, want in spec["expect"].items():
        got = by[regime]
        assert got["outcome"] == want["outcome"]
        assert got["missing"] == want["missing"]
        findings = [{k: f[k] for k in ("rule", "item", "outcome", "because")} | (
            {"authorization": f["authorization"]} if f["authorization"] else {}) | (
            {"denial_kind": f["denial_kind"]} if f.get("denial_kind") else {}) for f in got["findings"]]
        assert findings == want["findings"]
        for key in ("at_least", "at_most", "denial_kind"):
            if key in want:
                assert got.get(key) == want[key], key
        if "obligations" in want:
            assert [{k: o[k] for k in ("id", "kind", "rules", "items")} for o in got.get("obligations", [])] \
                == want["obligations"]
        if "checked" in want:
            checked = [{k: c[k] for k in ("rule", "item", "failed", "exception_to") if k in c} for c in got["checked"]]
            assert checked == want["checked"]


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conformance(path, tmp_path):
    spec = load(path)
    check_expectations(spec, conformance_decision(spec, tmp_path))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conformance_compiled(path, tmp_path):
    """The compiled evaluator (engine/codegen.py, strict: no silent fallback) gives the same decisions."""
    from exportctl.codegen import compile_fast

    spec = load(path)

    def compiled(regimes, data, day, digest):
        return compile_fast(regimes, None, strict=True).evaluate(data, day, digest)

    check_expectations(spec, conformance_decision(spec, tmp_path, compiled))
