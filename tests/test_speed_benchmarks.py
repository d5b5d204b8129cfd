"""The speed benchmarks run in their smoke modes (small, no timing asserted): batch_speed.py
(baseline and this tree give the same bytes), cold_start.py, dask_scale.py."""

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
