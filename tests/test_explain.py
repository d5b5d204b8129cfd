"""`exportctl explain CODE`: the explanation beside each code (engine/explanations.py), on request."""

from __future__ import annotations

import io
import json

from exportctl.cli import main
from exportctl.diagnostics import CODES


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


def test_explain_prints_what_why_example_and_fix():
    code, out, err = run(["explain", "E601"])
    assert code == 0, err
    assert out.startswith(f"E601: {CODES['E601']}\n")
    for part in ("What: ", "Why: ", "Example transaction:", "Fix: "):
        assert part in out


def test_explain_is_case_insensitive_and_has_json():
    code, out, _ = run(["explain", "e101", "--format", "json"])
    assert code == 0
    d = json.loads(out)
    assert d["code"] == "E101" and d["example_kind"] == "policy"
    assert set(d) == {"code", "title", "what", "why", "example", "example_kind", "fix"}


def test_every_code_can_be_explained():
    for c in CODES:
        assert run(["explain", c])[0] == 0, c


def test_an_unknown_code_exits_2_with_did_you_mean():
    code, out, err = run(["explain", "E6O1"])
    assert code == 2 and out == ""
    assert "unknown code 'E6O1'" in err and "did you mean" in err and "E601" in err
    code, _, err = run(["explain", "hello"])
    assert code == 2 and "unknown code" in err
