"""`exportctl evaluate --record FILE` and `exportctl records verify FILE`, end to end through the
CLI: one hash-chained record per decision, appended run after run; verify says "intact" (exit 0)
or names the line that was edited, removed or reordered (exit 1).

Policies: the diff fixture (tests/fixtures/diff/v1), so these tests do not depend on the
regimes being encoded under policies/."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from exportctl import facts, records
from exportctl.cli import main
from exportctl.policyset import read_policies

FIX = Path(__file__).parent / "fixtures" / "diff"
POLICIES = FIX / "v1"
CORPUS = FIX / "corpus"
FILES = sorted(CORPUS.glob("*.yaml"))          # the order `evaluate FOLDER` reads them in


def cli(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err, env={"NO_COLOR": "1"})
    return code, out.getvalue(), err.getvalue()


def evaluate(*files, record: Path, extra=()) -> tuple[int, str, str]:
    return cli("evaluate", *files, "--policies", POLICIES, "--record", record, *extra)


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_records(path: Path, recs: list[dict]) -> None:
    path.write_text("".join(records.canonical_json(r) + "\n" for r in recs), encoding="utf-8")


@pytest.fixture
def rec(tmp_path) -> Path:
    """A record file holding the three corpus decisions."""
    path = tmp_path / "decisions.jsonl"
    code, _, err = evaluate(CORPUS, record=path)
    assert code == 0, err
    return path


# ---------------------------------------------------------------- evaluate --record

def test_one_chained_record_per_decision(rec):
    recs = read_records(rec)
    assert [r["seq"] for r in recs] == [0, 1, 2]
    assert [r["transaction"] for r in recs] == ["CORPUS-FR-LISTED", "CORPUS-AU-2024", "CORPUS-AU-2026"]
    assert recs[0]["prev"] == records.GENESIS
    assert [r["prev"] for r in recs[1:]] == [r["hash"] for r in recs[:-1]]
    for r in recs:
        assert r["hash"] == records.digest({k: v for k, v in r.items() if k != "hash"})
        assert r["recorded_at"].endswith("Z")


def test_a_record_names_its_input_policy_and_decision(rec):
    digest = read_policies(POLICIES).digest
    code, out, _ = cli("evaluate", CORPUS, "--policies", POLICIES, "--format", "json")
    assert code == 0
    decisions = [json.loads(line) for line in out.splitlines()]
    for r, d, f in zip(read_records(rec), decisions, FILES):
        assert r["decision"] == d
        assert (r["outcome"], r["as_of"], r["policy_digest"]) == (d["outcome"], d["as_of"], digest)
        tx = facts.from_data(facts.yaml_load(f.read_text(encoding="utf-8")))
        assert r["input_digest"] == tx.digest
    assert [r["as_of"] for r in read_records(rec)] == ["2026-02-09", "2024-06-17", "2026-05-11"]


def test_as_of_is_recorded(tmp_path):
    path = tmp_path / "r.jsonl"
    code, _, _ = evaluate(FILES[2], record=path, extra=("--as-of", "2024-06-03"))
    assert code == 0
    (r,) = read_records(path)
    assert r["as_of"] == "2024-06-03" and r["decision"]["as_of"] == "2024-06-03"


def test_a_second_run_extends_the_chain(rec):
    before = read_records(rec)
    code, _, err = evaluate(FILES[0], record=rec)
    assert code == 0, err
    after = read_records(rec)
    assert after[:3] == before
    assert after[3]["seq"] == 3 and after[3]["prev"] == before[2]["hash"]
    assert after[3]["transaction"] == "CORPUS-FR-LISTED"
    assert cli("records", "verify", rec)[0] == 0


def test_fail_on_still_records_every_decision(tmp_path):
    path = tmp_path / "r.jsonl"
    code, _, _ = evaluate(CORPUS, record=path, extra=("--fail-on", "license_required"))
    assert code == 1
    assert len(read_records(path)) == 3


def test_a_rejected_transaction_is_not_recorded(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: BAD\ndate: 2026-01-01\ndestination: FR\nitems: []\n", encoding="utf-8")
    path = tmp_path / "r.jsonl"
    code, _, err = evaluate(FILES[0], bad, record=path)
    assert code == 2
    assert "bad.yaml" in err
    assert [r["transaction"] for r in read_records(path)] == ["CORPUS-FR-LISTED"]


def test_evaluate_refuses_to_chain_onto_an_edited_record(rec):
    recs = read_records(rec)
    recs[2]["outcome"] = "no_license_required"
    write_records(rec, recs)
    text = rec.read_text(encoding="utf-8")
    code, _, err = evaluate(FILES[0], record=rec)
    assert code == 2
    assert "records verify" in err
    assert rec.read_text(encoding="utf-8") == text          # nothing appended


# ---------------------------------------------------------------- records verify

def test_verify_reports_an_intact_chain(rec):
    code, out, err = cli("records", "verify", rec)
    assert code == 0, err
    assert out.strip() == f"{rec}: 3 record(s), chain intact"
    assert err == ""


def test_verify_json(rec):
    code, out, _ = cli("records", "verify", rec, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ok"] is True and data["records"] == 3 and data["problems"] == []
    assert data["head"] == read_records(rec)[-1]["hash"]


def test_verify_detects_an_edited_record(rec):
    recs = read_records(rec)
    recs[1]["decision"]["outcome"] = recs[1]["outcome"] = "no_license_required"   # a licence requirement "forgotten"
    write_records(rec, recs)
    code, out, err = cli("records", "verify", rec)
    assert code == 1
    assert f"{rec}:2: R002" in err
    assert "TAMPERED OR DAMAGED" in out


def test_verify_detects_an_edit_that_recomputes_the_hash(rec):
    """Re-hashing the edited record does not help: the next record's `prev` no longer matches."""
    recs = read_records(rec)
    recs[0]["outcome"] = "no_license_required"
    recs[0]["hash"] = records.digest({k: v for k, v in recs[0].items() if k != "hash"})
    write_records(rec, recs)
    code, _, err = cli("records", "verify", rec)
    assert code == 1
    assert f"{rec}:2: R003" in err


def test_verify_detects_a_removed_record(rec):
    recs = read_records(rec)
    write_records(rec, [recs[0], recs[2]])
    code, out, _ = cli("records", "verify", rec, "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["records"] == 2
    assert {(p["line"], p["code"]) for p in data["problems"]} >= {(2, "R003"), (2, "R004")}


def test_verify_detects_reordered_records(rec):
    recs = read_records(rec)
    write_records(rec, [recs[1], recs[0], recs[2]])
    code, _, err = cli("records", "verify", rec)
    assert code == 1
    assert f"{rec}:1: R003" in err


def test_verify_a_missing_file_is_bad_input(tmp_path):
    code, _, err = cli("records", "verify", tmp_path / "nothing.jsonl")
    assert code == 2
    assert "no such record file" in err
