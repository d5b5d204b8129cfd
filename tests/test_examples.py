"""The example corpus, examples/transactions/: every file is a valid transaction that the bundled
policies decide without error; together they reach every regime and both sides of the dated
changes of the brief; examples/transactions.jsonl is the same corpus, in sync."""

from __future__ import annotations

import datetime as dt
import importlib.util
import re
from pathlib import Path

import pytest

from exportctl import facts
from exportctl.api import decide, load_policies
from exportctl.policyset import policies_root, policy_files

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FOLDER = EXAMPLES / "transactions"
FILES = sorted(FOLDER.glob("*.yaml"))
NAME = re.compile(r"^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*\.yaml$")

# ../shared/domain/README.md, section 6: changes the examples must straddle
TIMELINE = ["2024-03-15", "2024-10-23", "2024-12-01", "2025-04-04", "2025-11-10", "2026-02-24"]


def read(f: Path) -> facts.Transaction:
    (rec,) = list(facts.read_path(str(f)))
    assert rec.error is None, "\n".join(f"{d.span}: {d.message}" for d in rec.error.diagnostics)
    return rec.transaction


@pytest.fixture(scope="module")
def transactions() -> dict:
    return {f.name: read(f) for f in FILES}


@pytest.fixture(scope="module")
def decisions(transactions) -> dict:
    if not policy_files(policies_root()):
        pytest.skip("no bundled policies yet")
    ps = load_policies()           # raises, with the diagnostics, if a bundled policy has errors
    return {name: decide(ps, tx) for name, tx in transactions.items()}


def test_there_are_at_least_sixty_examples():
    assert len(FILES) >= 60


@pytest.mark.parametrize("f", FILES, ids=lambda f: f.name)
def test_each_example_is_named_commented_and_valid(f):
    assert NAME.match(f.name), "name like us-sat-to-fr-2026.yaml: origin or exporter country first"
    lines = f.read_text(encoding="utf-8").splitlines()
    comment = lines[: next(i for i, x in enumerate(lines) if not x.startswith("#"))]
    assert len(" ".join(comment)) > 80, "start with a comment saying what the example shows"
    tx = read(f)
    assert tx.data.get("description"), "a one-line description survives in the JSON Lines copy"


def test_ids_are_unique(transactions):
    ids = [t.id for t in transactions.values()]
    assert len(ids) == len(set(ids))


def test_every_example_is_decided_without_error(decisions):
    for name, d in decisions.items():
        assert d["outcome"] in {"prohibited", "indeterminate", "license_required", "authorized",
                                "no_license_required", "not_applicable"}, name


def test_every_regime_applies_to_some_example(decisions):
    ps = load_policies()
    reached = {r["regime"] for d in decisions.values() for r in d["regimes"] if r["outcome"] != "not_applicable"}
    assert {p.regime for p in ps.policies} <= reached


def test_every_outcome_is_shown(decisions):
    assert {d["outcome"] for d in decisions.values()} >= {
        "prohibited", "indeterminate", "license_required", "authorized", "no_license_required"}


def test_deliberately_incomplete_examples_are_indeterminate(decisions):
    incomplete = [f.name for f in FILES if "Deliberately incomplete" in f.read_text(encoding="utf-8")]
    assert len(incomplete) >= 3
    for name in incomplete:
        d = decisions[name]
        open_regimes = [r for r in d["regimes"] if r["outcome"] == "indeterminate" and r["missing"]]
        assert open_regimes, f"{name}: expected a regime to be indeterminate, listing missing facts"


def test_the_examples_straddle_the_dated_changes(transactions):
    dates = [t.date for t in transactions.values()]
    for change in map(dt.date.fromisoformat, TIMELINE):
        window = dt.timedelta(days=180)
        assert any(change - window <= d < change for d in dates), f"nothing shortly before {change}"
        assert any(change <= d < change + window for d in dates), f"nothing shortly after {change}"


def test_examples_cover_the_brief(transactions):
    """Exporters from the US, the EU and China; allies, India, Brazil, embargoed destinations and
    listed parties; satellites, buses, launchers, parts, software, technology and services."""
    txs = list(transactions.values())
    origins = {t.data["ship_from"] for t in txs}
    assert {"US", "CN", "FR", "DE", "IT"} <= origins
    dests = {t.data["destination"] for t in txs}
    assert {"FR", "DE", "JP", "GB", "AU", "CA", "IN", "BR", "CN", "RU", "IR", "VE", "NI"} <= dests
    users = " ".join(t.data["end_user"]["name"] for t in txs)
    for listed in ("CAST 513 Research Institute", "Sierra Nevada Corporation", "IHI Aerospace"):
        assert listed in users
    eccns = {i["classification"].get("eccn") or "" for t in txs for i in t.data["items"]}
    for prefix in ("9A515.a", "9A515.x", "9A515.y", "9A515.e", "9D515", "9E515"):
        assert any(e.startswith(prefix) for e in eccns), prefix
    usml = {i["classification"].get("usml") or "" for t in txs for i in t.data["items"]}
    assert {"IV(a)", "IV(i)", "XV(a)", "XV(e)"} <= usml
    mtcr = {i["classification"].get("mtcr") or "" for t in txs for i in t.data["items"]}
    assert "1.A.1" in mtcr
    eu = {i["classification"].get("eu") or "" for t in txs for i in t.data["items"]}
    assert {"9A004.a", "9A004.b", "9A004.c"} <= eu
    types = {i["type"] for t in txs for i in t.data["items"]}
    assert types == {"commodity", "software", "technology", "service"}
    services = {i.get("service") for t in txs for i in t.data["items"]}
    assert {"satellite_launch_integration", "launch_failure_analysis"} <= services


# ---------------------------------------------------------------- the JSON Lines copy

def _make_jsonl():
    spec = importlib.util.spec_from_file_location("make_jsonl", EXAMPLES / "make_jsonl.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_jsonl_is_in_sync():
    mod = _make_jsonl()
    assert (EXAMPLES / "transactions.jsonl").read_text(encoding="utf-8") == mod.jsonl_text(), (
        "examples/transactions.jsonl is out of date: run python examples/make_jsonl.py")


def test_jsonl_holds_the_same_transactions(transactions):
    recs = list(facts.read_path(str(EXAMPLES / "transactions.jsonl")))
    assert [r.error for r in recs] == [None] * len(recs)
    assert [r.transaction.data for r in recs] == [transactions[f.name].data for f in FILES]
    assert [r.transaction.digest for r in recs] == [transactions[f.name].digest for f in FILES]
