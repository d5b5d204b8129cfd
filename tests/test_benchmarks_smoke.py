"""The benchmarks run (no timing is asserted: benchmarks are not tests).

- benchmarks/scale.py in --smoke mode: generates 200 transactions from the examples and runs
  `exportctl evaluate` on them (--jobs 1 and 2) and the cold start.
- The benchmark ruleset (benchmarks/peers/ruleset) checks clean, covers every rule, and its
  golden cases fire exactly what the harness's hand-written Python fires.
- The exportctl adapters of benchmarks/peers agree with the harness's reference on a small
  corpus, when the harness (../shared/bench) is present.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from exportctl import cases as C
from exportctl.policyset import load

ROOT = Path(__file__).resolve().parent.parent
PEERS = ROOT / "benchmarks" / "peers"
RULESET = PEERS / "ruleset"
HARNESS = ROOT.parent / "shared" / "bench"


def test_scale_benchmark_smoke(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import scale

    out = tmp_path / "scale.json"
    assert scale.main(["--smoke", "--out", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["generate"]["n"] == 200
    runs = results["evaluate"]
    assert {r["jobs"] for r in runs} == {1, 2}
    assert all(r["exit"] in (0, 1) and r["decisions_per_s"] > 0 for r in runs)
    assert len(results["cold_start"]) == 1


def test_scale_transactions_are_valid_and_deterministic(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    import scale
    from exportctl import facts

    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    scale.generate(300, a, seed=7)
    scale.generate(300, b, seed=7)
    assert a.read_bytes() == b.read_bytes()
    records = list(facts.read_path(str(a)))
    assert len(records) == 300
    assert [r.source for r in records if r.error is not None] == []


def test_benchmark_ruleset_checks_and_covers_every_rule():
    ps = load(RULESET)
    assert not ps.diagnostics, [d.message for d in ps.diagnostics]
    results, diags = C.run_all(ps)
    assert not diags
    assert [r.case.name for r in results if not r.passed] == []
    assert C.coverage_diagnostics(C.coverage(ps, results)) == []
    assert sum(len(p.rules) for p in ps.policies) == 37


@pytest.fixture()
def harness(monkeypatch):
    if not (HARNESS / "run.py").is_file():
        pytest.skip("the benchmark harness (../shared/bench) is not here")
    monkeypatch.syspath_prepend(str(HARNESS))
    monkeypatch.syspath_prepend(str(PEERS))
    import corpus
    from engines import python_ref

    return corpus, python_ref


def _adapter(name: str):
    spec = importlib.util.spec_from_file_location(f"exportctl_peers_{name}", PEERS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Engine


def test_golden_cases_fire_what_the_reference_fires(harness):
    _, python_ref = harness
    from _exportctl_common import bench_id

    ps = load(RULESET)
    results, _ = C.run_all(ps)
    differ = []
    for r in results:
        ours = frozenset(bench_id(x) for x in r.fired())
        ref = python_ref.decide(r.case.transaction)[0]
        if ours != ref:
            differ.append(f"{r.case.name}: exportctl {sorted(ours)}, reference {sorted(ref)}")
    assert not differ, "\n".join(differ)


@pytest.mark.parametrize("adapter", ["exportctl_engine", "exportctl_decision", "exportctl_closures"])
def test_adapter_agrees_with_the_reference(harness, adapter):
    corpus, python_ref = harness
    engine = _adapter(adapter)()
    engine.load()
    txns = corpus.generate(600, corpus.DEFAULT_SEED)
    bad = [t for t in txns if engine.decide(t) != python_ref.decide(t)]
    assert not bad, f"{len(bad)} of {len(txns)} differ, first: {json.dumps(bad[0])}"
    assert engine.version().startswith("exportctl")
    assert "rule bench.x515_01" in engine.policy_text()
    assert sys.modules.get("engines._common") is not None
