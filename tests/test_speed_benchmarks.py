"""The speed benchmarks run in their smoke modes (small, no timing asserted): batch_speed.py
(baseline and this tree give the same bytes), cold_start.py, dask_scale.py; and the variants of
explain_cost.py --cli (the real CLI with and without `checked`, with and without screening), and
the process peer_decision_instructions.py measures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bench(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def test_batch_speed_smoke(bench, tmp_path):
    import batch_speed

    out = tmp_path / "b.json"
    assert batch_speed.main(["--smoke", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["same_output"] is True
    assert {x["label"] for x in r["runs"]} >= {"new-jobs1", "new-jobs2"}
    assert all(x["records"] == 120 for x in r["runs"])
    assert r["phases_us"]["decide (compiled evaluator)"] > 0


def test_cold_start_smoke(bench, tmp_path):
    import cold_start

    out = tmp_path / "c.json"
    assert cold_start.main(["--smoke", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert set(r["results"]) == {"new, cold cache", "new, warm cache", "new, warm, new tx", "python -c pass"}
    assert all(x["runs"] == 1 and x["median_ms"] > 0 for x in r["results"].values())
    assert any(m["module"].startswith("exportctl") for m in r["where"]["imports"])


def test_dask_scale_smoke(bench, tmp_path):
    pytest.importorskip("dask.distributed")
    import dask_scale

    out = tmp_path / "d.json"
    assert dask_scale.main(["--smoke", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["counts"] == {"records": 150, "errors": 0} and r["sample_matches_cli"] is True and r["in_order"] is True
    assert r["records_per_worker_cpu_s"] > 0 and r["cli"]["records_per_cpu_s"] > 0


def test_explain_cost_cli_variants_differ_only_by_what_they_measure(bench, tmp_path):
    """explain_cost.py --cli runs the real CLI: its `plain` variant leaves out `checked` and
    nothing else, its `noscreen` variants leave out the screening of parties."""
    import subprocess
    import sys

    from scale import generate

    f = tmp_path / "t.jsonl"
    generate(4, f, seed=20261129)
    lines = f.read_text().splitlines()
    out = {}
    for v in ("checked", "plain", "checked-noscreen"):
        p = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "explain_cost.py"), "--run-cli", str(f), v],
                           capture_output=True, text=True, env={**__import__("os").environ})
        assert p.returncode in (0, 1), p.stderr
        out[v] = [json.loads(x) for x in p.stdout.splitlines()]
    assert len(out["checked"]) == len(lines)
    for full, plain in zip(out["checked"], out["plain"]):
        assert all("checked" in r for r in full["regimes"]) and not any("checked" in r for r in plain["regimes"])
        for r in full["regimes"]:
            r.pop("checked")
        assert full == plain
    assert all("screening" in d and d["screening"].get("enabled", True) for d in out["checked"])
    assert all(d.get("screening", {}).get("enabled") is False for d in out["checked-noscreen"])


def test_peer_decision_instructions_measures_the_adapter_with_and_without_checked(bench, monkeypatch):
    """The process peer_decision_instructions.py runs under valgrind decides the harness's corpus
    through the full-decision adapter, and with EXPLAIN 0 without `checked` (no valgrind here)."""
    harness = ROOT.parent / "shared" / "bench"
    if not (harness / "corpus.py").is_file():
        pytest.skip("the peers' harness is not beside the project")
    import peer_decision_instructions as pdi
    from exportctl import codegen

    seen = []
    real = codegen.FastEvaluator.evaluate

    def spy(self, tx, day, digest, **options):
        d = real(self, tx, day, digest, **options)
        seen.append(("checked" in d["regimes"][0]) if d["regimes"] else None)
        return d

    monkeypatch.setattr(codegen.FastEvaluator, "evaluate", spy)
    monkeypatch.setattr(pdi, "WARM", 3)
    assert pdi.main(["--bench", str(harness), "--decide", "4", "1"]) == 0
    with_checked, seen[:] = seen[:], []
    assert pdi.main(["--bench", str(harness), "--decide", "4", "0"]) == 0
    assert len(with_checked) == 7 and len(seen) == 7
    assert any(with_checked[3:]) and not any(seen[3:])
