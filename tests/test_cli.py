"""CLI: exit codes, messages on stderr, results on stdout, JSON that validates, no tracebacks."""

import io
import json

import pytest
from jsonschema import Draft202012Validator

from conftest import RS1_POLICY as POLICY, SCHEMA_DIR, base_tx, write_policies
from exportctl.cli import main



class Tty(io.StringIO):
    def isatty(self):
        return True


def run(argv, stdin="", tty=False, env=None):
    out, err = (Tty() if tty else io.StringIO()), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, env=env or {})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def pol(tmp_path):
    return str(write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": POLICY}))


def tx_file(tmp_path, data, name="tx.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data) if name.endswith(".json") else data, encoding="utf-8")
    return str(p)


def test_evaluate_json_validates_against_decision_schema(tmp_path, pol):
    code, out, err = run(["evaluate", tx_file(tmp_path, base_tx(destination="BR")), "--policies", pol, "--format", "json"])
    assert code == 0, err
    d = json.loads(out)
    schema = json.loads((SCHEMA_DIR / "decision.schema.json").read_text())
    assert list(Draft202012Validator(schema).iter_errors(d)) == []
    assert d["outcome"] == "license_required"
    assert d["regimes"][0]["findings"][0]["cite"] == "15 CFR 742.6(a)(1)"


def test_text_output_starts_with_the_outcome_and_has_no_colour_when_piped(tmp_path, pol):
    code, out, _ = run(["evaluate", tx_file(tmp_path, base_tx(destination="BR")), "--policies", pol])
    assert code == 0
    assert out.splitlines()[0].strip().startswith("LICENSE REQUIRED")
    assert "\x1b[" not in out
    assert "15 CFR 742.6(a)(1)" in out and "because" in out


def test_colour_on_a_terminal_but_not_with_no_color(tmp_path, pol):
    f = tx_file(tmp_path, base_tx(destination="BR"))
    assert "\x1b[" in run(["evaluate", f, "--policies", pol], tty=True)[1]
    assert "\x1b[" not in run(["evaluate", f, "--policies", pol], tty=True, env={"NO_COLOR": "1"})[1]


def test_malformed_yaml_exit_2_with_line(tmp_path, pol):
    f = tx_file(tmp_path, "id: x\ndate: 2026-01-01\nitems: [a, b\n", "bad.yaml")
    code, out, err = run(["evaluate", f, "--policies", pol])
    assert code == 2 and out == ""
    assert f"{f}:" in err and "E601" in err and "Traceback" not in err


def test_unknown_key_is_an_error_with_its_line(tmp_path, pol):
    f = tx_file(tmp_path, "id: x\ndate: 2026-01-01\ndestination: BR\nshipfrom: US\nitems: [{id: a}]\n", "typo.yaml")
    code, _, err = run(["evaluate", f, "--policies", pol])
    assert code == 2
    assert f"{f}:4:" in err and "unknown key 'shipfrom'" in err


def test_norway_is_not_false(tmp_path, pol):
    f = tx_file(tmp_path, "id: x\ndate: 2026-01-01\ndestination: NO\nitems: [{id: a, classification: {eccn: 9A515.x}, components: []}]\n", "no.yaml")
    code, out, err = run(["evaluate", f, "--policies", pol, "--format", "json"])
    assert code == 0, err
    assert json.loads(out)["regimes"][0]["findings"][0]["because"]["destination"] == "NO"


def test_policy_syntax_error_exit_2_file_line_col_caret(tmp_path):
    pol = write_policies(tmp_path / "pol", {"x/x.policy": 'regime x "X" binding version "1" source "s"\nrule x.a "a" cite "c" when destination == then prohibited\n'})
    code, _, err = run(["check", "--policies", str(pol)])
    assert code == 2
    first = err.splitlines()[0]
    assert first.endswith("E101 unexpected `then`") and ":2:" in first
    assert "^" in err and "hint: expected" in err


def test_check_reports_every_reference_error(tmp_path):
    pol = write_policies(tmp_path / "pol", {"x/x.policy": 'regime x "X" binding version "1" source "s"\n'
                                            'rule x.a "a" cite "c" when destinaton == "CN" then prohibited\n'
                                            'rule x.b "b" cite "c" exception to x.zz when true then prohibited\n'})
    code, _, err = run(["check", "--policies", str(pol), "--format", "text"])
    assert code == 2
    assert "E201" in err and "E403" in err


def test_check_json_lists_diagnostics(tmp_path):
    pol = write_policies(tmp_path / "pol", {"x/x.policy": 'regime x "X" binding version "1" source "s"\nrule x.a "a" when true then prohibited\n'})
    code, out, _ = run(["check", "--policies", str(pol), "--format", "json"])
    assert code == 2
    d = json.loads(out)
    assert d["ok"] is False and d["diagnostics"][0]["code"] == "E401" and d["diagnostics"][0]["line"] == 2


def test_check_coverage_gate_exit_1(tmp_path, pol):
    code, _, err = run(["check", "--policies", pol])
    assert code == 1 and "E501" in err and "ear.rs1" in err


def test_batch_jsonl_one_bad_line_loses_nothing_else(tmp_path, pol):
    good = json.dumps(base_tx(destination="BR"))
    bad = json.dumps({"id": "bad", "date": "2026-01-01"})
    lines = "\n".join([good, "{not json", bad, good.replace("TX-T", "TX-U")]) + "\n"
    f = tx_file(tmp_path, lines, "batch.jsonl")
    code, out, err = run(["evaluate", f, "--policies", pol, "--format", "json"])
    assert code == 2
    rows = [json.loads(x) for x in out.splitlines()]
    assert [r.get("transaction") or r["source"] for r in rows] == ["TX-T", f + ":2", f + ":3", "TX-U"]
    assert "2 of 4 record(s) rejected" in err


def test_stdin(tmp_path, pol):
    code, out, _ = run(["evaluate", "-", "--policies", pol, "--format", "json"], stdin=json.dumps(base_tx()))
    assert code == 0 and json.loads(out)["transaction"] == "TX-T"


def test_as_of_and_fail_on(tmp_path, pol):
    f = tx_file(tmp_path, base_tx(destination="BR"))
    code, out, _ = run(["evaluate", f, "--policies", pol, "--format", "json", "--as-of", "2020-01-01"])
    assert json.loads(out)["as_of"] == "2020-01-01"
    assert run(["evaluate", f, "--policies", pol, "--fail-on", "license_required"])[0] == 1
    assert run(["evaluate", f, "--policies", pol, "--fail-on", "prohibited"])[0] == 0


def test_usage_errors_exit_2(pol):
    assert run(["evaluate"])[0] == 2
    assert run(["frobnicate"])[0] == 2
    code, _, err = run(["evaluate", "x.yaml", "--as-of", "yesterday"])
    assert code == 2 and "not a date" in err


def test_missing_file_exit_2(pol):
    code, _, err = run(["evaluate", "/nonexistent/tx.yaml", "--policies", pol])
    assert code == 2 and "cannot read" in err


def test_jobs_two_gives_the_same_stream_in_input_order(tmp_path, pol):
    rows = []
    for i, dest in enumerate(["BR", "AU", "FR", "CN", "GB", "IN"] * 5):
        tx = base_tx(destination=dest)
        tx["id"] = f"TX-{i:03d}"
        rows.append(json.dumps(tx))
    rows.insert(7, '{"id": "broken"}')
    f = tx_file(tmp_path, "\n".join(rows) + "\n", "many.jsonl")
    one = run(["evaluate", f, "--policies", pol, "--format", "json", "--jobs", "1"])
    two = run(["evaluate", f, "--policies", pol, "--format", "json", "--jobs", "2"])
    assert one[0] == two[0] == 2
    assert one[1] == two[1]
    ids = [json.loads(x).get("transaction", "error") for x in two[1].splitlines()]
    assert ids[:8] == ["TX-000", "TX-001", "TX-002", "TX-003", "TX-004", "TX-005", "TX-006", "error"]
    assert len(ids) == 31


def test_no_progress_bar_when_piped(tmp_path, pol):
    f = tx_file(tmp_path, json.dumps(base_tx()) + "\n", "one.jsonl")
    _, _, err = run(["evaluate", f, "--policies", pol, "--format", "json"])
    assert err == ""


def test_internal_error_is_reported_plainly_without_a_traceback(tmp_path, pol, monkeypatch):
    import exportctl.batch

    def boom(*a, **k):
        raise KeyError("items")

    monkeypatch.setattr(exportctl.batch, "run_evaluate", boom)
    code, out, err = run(["evaluate", tx_file(tmp_path, base_tx()), "--policies", pol])
    assert code == 3 and out == ""
    assert err.startswith("exportctl: E901 internal error, please report: KeyError") and "Traceback" not in err
