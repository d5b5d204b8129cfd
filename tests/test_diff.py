"""`exportctl diff`: the impact of a policy change on golden cases and recorded transactions.

Fixtures (tests/fixtures/diff/): v1 and v2 are the same tiny policy folder (a subset of the EAR
and of Regulation (EU) 2021/821, with their golden cases) except for one change: v2 takes the
RS Column 1 X off Australia and the United Kingdom from 23 Oct 2024. corpus/ holds three
recorded transactions."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from exportctl import diff as D
from exportctl.cli import main
from exportctl.policyset import read_policies

FIX = Path(__file__).parent / "fixtures" / "diff"
V1, V2, CORPUS = FIX / "v1", FIX / "v2", FIX / "corpus"

AU_2026 = "case:us-ear/cases/9a515.yaml::9A515.a.1 EO satellite to Australia in 2026"
GB_2026 = "case:us-ear/cases/9a515.yaml::9A515.a.1 EO satellite to the United Kingdom in 2026"


def run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["diff", *map(str, argv)], stdout=out, stderr=err, env={"NO_COLOR": "1"})
    return code, out.getvalue(), err.getvalue()


def corpus():
    return D.corpus_subjects([str(CORPUS)])


@pytest.fixture(scope="module")
def v1():
    return read_policies(V1)


@pytest.fixture(scope="module")
def v2():
    return read_policies(V2)


# ---------------------------------------------------------------- the pure function

def test_a_changed_set_member_changes_the_expected_decisions_and_nothing_else(v1, v2):
    report = D.diff_decisions(v1, v2, corpus())
    changed = {d.subject.key: d for d in report.changed}
    assert set(changed) == {AU_2026, GB_2026, f"tx:{CORPUS / 'us-eo-sat-to-au-2026.yaml'}"}
    for d in changed.values():
        assert (d.outcome_before, d.outcome_after) == ("license_required", "no_license_required")
        assert [r.regime for r in d.regimes] == ["us-ear"]          # the EU regime did not move
        (r,) = d.regimes
        assert (r.before, r.after) == ("license_required", "no_license_required")
        assert [f.rule for f in r.stops] == ["ear.9a515.rs1"]
        assert r.stops[0].cite.startswith("15 CFR 742.6(a)(1)")
        assert r.stops[0].item == "sat-1"
        assert r.fires == [] and r.missing_added == [] and r.missing_removed == []
    assert report.added == [] and report.removed == []
    assert (report.cases, report.transactions) == (14, 3)
    assert report.unchanged == 14 + 3 - 3
    assert report.base.regimes["us-ear"] == "2024-03-15" and report.head.regimes["us-ear"] == "2024-10-23"


def test_the_case_as_of_date_is_respected(v1, v2):
    """The June 2024 law applies to this case although its transaction is dated 2026: unchanged."""
    report = D.diff_decisions(v1, v2)
    keys = {d.subject.key for d in report.changed}
    assert "case:us-ear/cases/9a515.yaml::9A515.a.1 EO satellite to Australia judged under the law of June 2024" not in keys
    assert "case:us-ear/cases/9a515.yaml::9A515.a.1 EO satellite to Australia before the October 2024 relief" not in keys
    assert keys == {AU_2026, GB_2026}


def test_identical_sides_report_no_change(v1):
    report = D.diff_decisions(v1, read_policies(V1), corpus())
    assert not report.any_change
    assert report.changed == [] and report.unchanged == 14 + 3
    assert report.base.digest == report.head.digest


def test_cases_only_on_one_side_are_added_or_removed(v1, tmp_path):
    head = tmp_path / "policies"
    shutil.copytree(V1, head)
    eu = head / "eu-dual-use" / "cases" / "art3.yaml"
    eu.write_text(eu.read_text().replace("name: a satellite to Germany is not an export",
                                         "name: a satellite to Germany is an intra-EU transfer"))
    report = D.diff_decisions(v1, read_policies(head))
    assert [d.subject.name for d in report.added] == ["a satellite to Germany is an intra-EU transfer"]
    assert [d.subject.name for d in report.removed] == ["a satellite to Germany is not an export"]
    assert report.changed == [] and report.any_change
    assert report.added[0].outcome_before == report.added[0].outcome_after == "no_license_required"


def test_an_edited_case_is_decided_on_the_head_facts(v1, tmp_path):
    head = tmp_path / "policies"
    shutil.copytree(V1, head)
    f = head / "us-ear" / "cases" / "9a515.yaml"
    f.write_text(f.read_text().replace(
        "    with: {destination: CA, end_user: {name: Canadian Space Agency, country: CA, kind: government, lists: []}}",
        "    with: {destination: CA, end_user: {name: Canadian Space Agency, country: CA, kind: government}}"))
    report = D.diff_decisions(v1, read_policies(head))
    assert report.edited == 1
    assert report.changed == []           # same facts under both policy sets: the policies did not change


def test_a_case_that_cannot_be_decided_is_a_problem_not_a_silent_pass(v1, tmp_path):
    head = tmp_path / "policies"
    shutil.copytree(V1, head)
    f = head / "eu-dual-use" / "cases" / "art3.yaml"
    f.write_text(f.read_text().replace("    destination: BR\n", "    destination: Brazil\n"))
    report = D.diff_decisions(read_policies(head), read_policies(head))
    assert not report.any_change
    assert len(report.problems) == 2                      # the case to Brazil, on both sides
    assert all("'Brazil' is not in the expected form" in p for p in report.problems)
    code, out, err = run(head, head)
    assert code == 0 and "problems:" in out


def test_compare_reports_missing_facts_and_conflicts():
    def decision(outcome, findings, missing, conflicts=()):
        return {"outcome": outcome, "conflicts": [{"conflict": c} for c in conflicts],
                "regimes": [{"regime": "us-ear", "version": "1", "outcome": outcome, "findings": findings,
                             "missing": missing}]}

    fired = {"rule": "ear.entity_list", "item": None, "outcome": "license_required", "authorization": None,
             "cite": "15 CFR 744.11", "message": "Entity List"}
    before = decision("indeterminate", [], ["end_user.lists"])
    after = decision("license_required", [fired], [], ["cn.afsl.us_restriction"])
    regimes, c_add, c_rem = D.compare(before, after)
    (r,) = regimes
    assert (r.before, r.after) == ("indeterminate", "license_required")
    assert [f.rule for f in r.fires] == ["ear.entity_list"] and r.stops == []
    assert r.missing_removed == ["end_user.lists"] and r.missing_added == []
    assert c_add == ["cn.afsl.us_restriction"] and c_rem == []
    assert D.compare(before, before) == ([], [], [])


def test_a_regime_only_on_one_side_is_reported_as_absent():
    before = {"outcome": "not_applicable", "regimes": [], "conflicts": []}
    after = {"outcome": "license_required", "conflicts": [], "regimes": [
        {"regime": "us-itar", "version": "x", "outcome": "license_required", "missing": [], "findings": []}]}
    (r,) = D.compare(before, after)[0]
    assert (r.regime, r.before, r.after) == ("us-itar", "absent", "license_required")
    not_applicable = {"outcome": "not_applicable", "conflicts": [], "regimes": [
        {"regime": "us-itar", "version": "x", "outcome": "not_applicable", "missing": [], "findings": []}]}
    assert D.compare(before, not_applicable) == ([], [], [])       # a new regime that does not apply: no change


# ---------------------------------------------------------------- the command on folders

def test_cli_fail_on_change_exits_1():
    code, out, err = run(V1, V2, "--corpus", CORPUS, "--fail-on", "change")
    assert code == 1, err
    assert "2 changed" not in out and "3 changed" in out
    code, out, _ = run(V1, V2, "--corpus", CORPUS)
    assert code == 0


def test_cli_identical_sides_exit_0_even_with_fail_on():
    code, out, err = run(V1, V1, "--corpus", CORPUS, "--fail-on", "change")
    assert code == 0, err
    assert "0 changed, 17 unchanged" in out


def test_cli_text_names_rules_with_citations():
    code, out, _ = run(V1, V2)
    assert code == 0
    assert "versions: us-ear 2024-03-15 -> 2024-10-23" in out
    assert '9A515.a.1 EO satellite to Australia in 2026' in out
    assert "- stops firing: ear.9a515.rs1, item sat-1, license_required" in out
    assert "15 CFR 742.6(a)(1); Supp. No. 1 to Part 774, ECCN 9A515" in out


def test_cli_markdown_has_a_summary_and_a_table():
    code, out, _ = run(V1, V2, "--corpus", CORPUS, "--format", "markdown")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "### exportctl diff: 3 decisions changed"
    assert "| | Case or transaction | Decision | Regimes | Rules |" in lines
    rows = [x for x in lines if x.startswith("| changed ")]
    assert len(rows) == 3
    assert any("CORPUS-AU-2026" in r and "license_required → **no_license_required**" in r
               and "−`ear.9a515.rs1`" in r for r in rows)
    assert "<details><summary>Details of 3 decisions</summary>" in lines and "</details>" in lines


def test_cli_markdown_without_changes_says_so():
    code, out, _ = run(V1, V1, "--format", "markdown")
    assert code == 0
    assert out.splitlines()[0] == "### exportctl diff: no decision changed"
    assert "| --- |" not in out


def test_cli_json_is_stable_and_sorted():
    code, out, _ = run(V1, V2, "--corpus", CORPUS, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["format"] == "exportctl-diff/1"
    assert data["summary"] == {"cases": 14, "transactions": 3, "changed": 3, "unchanged": 14, "added": 0,
                               "removed": 0, "edited": 0, "problems": 0}
    assert out == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert [c["name"] for c in data["changed"]] == [
        "9A515.a.1 EO satellite to Australia in 2026", "9A515.a.1 EO satellite to the United Kingdom in 2026",
        "CORPUS-AU-2026"]
    assert run(V1, V2, "--corpus", CORPUS, "--format", "json")[1] == out


def test_cli_reads_a_jsonl_corpus(tmp_path):
    lines = [json.dumps(s.data) for s in corpus()]
    f = tmp_path / "recorded.jsonl"
    f.write_text("\n".join(lines) + "\n")
    code, out, _ = run(V1, V2, "--corpus", f, "--format", "json")
    data = json.loads(out)
    assert [c["file"] for c in data["changed"] if c["kind"] == "transaction"] == [f"{f}:3"]


def test_cli_syntax_error_on_one_side_exits_2_with_file_and_line(tmp_path):
    head = tmp_path / "policies"
    shutil.copytree(V2, head)
    policy = head / "us-ear" / "us-ear.policy"
    n = len(policy.read_text().splitlines())
    with policy.open("a") as fh:
        fh.write('rule ear.broken "A rule whose condition is cut off\n')
    code, out, err = run(V1, head)
    assert code == 2
    assert out == ""
    assert f"us-ear.policy:{n + 1}:" in err and "E101" in err
    assert "head" in err and "Traceback" not in err


def test_cli_bad_corpus_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: X\ndate: 2026-01-01\ndestination: FR\nitems: [{id: a}]\nshipfrom: US\n")
    code, _, err = run(V1, V2, "--corpus", bad)
    assert code == 2
    assert "unknown key 'shipfrom'" in err and "bad.yaml:5" in err


def test_cli_unknown_side_exits_2(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # not a git repository
    code, _, err = run("no-such-folder", V2)
    assert code == 2
    assert "no-such-folder: not a folder" in err


# ---------------------------------------------------------------- the command on git revisions

GIT_ENV = {"GIT_AUTHOR_NAME": "Policy Author", "GIT_AUTHOR_EMAIL": "author@example.com",
           "GIT_COMMITTER_NAME": "Policy Author", "GIT_COMMITTER_EMAIL": "author@example.com",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo: Path, *args) -> str:
    r = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV},
                       check=True)
    return r.stdout


STA_V1 = '''       and not item.classification.eccn startswith {"9A515.a.1", "9A515.a.2", "9A515.a.3", "9A515.a.4", "9A515.g"}
  then authorized "STA"'''
STA_V2 = '''       and not item.classification.eccn startswith {"9A515.a.1", "9A515.a.2", "9A515.a.3", "9A515.a.4", "9A515.g"}
       and not "us-entity-list" in end_user.lists
  then authorized "STA"'''


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A policy repository with two commits: v1, then a change to the STA rule."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    r = tmp_path / "repo"
    r.mkdir()
    git(r, "init", "-q", "-b", "main")
    shutil.copytree(V1, r / "policies")
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "v1")
    policy = r / "policies" / "us-ear" / "us-ear.policy"
    text = policy.read_text()
    assert STA_V1 in text
    policy.write_text(text.replace(STA_V1, STA_V2))
    git(r, "commit", "-q", "-am", "STA: not for a party on the Entity List")
    monkeypatch.chdir(r)
    return r


def test_git_revisions_a_changed_rule_changes_the_expected_decisions_and_nothing_else(repo):
    index = (repo / ".git" / "index").read_bytes()
    code, out, err = run("HEAD~1", "HEAD", "--corpus", CORPUS, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["base"]["label"] == "HEAD~1" and data["head"]["label"] == "HEAD"
    assert data["base"]["revision"] == git(repo, "rev-parse", "HEAD~1").strip()
    assert data["summary"]["changed"] == 1 and data["summary"]["unchanged"] == 14 + 2
    (c,) = data["changed"]
    assert (c["kind"], c["transaction"]) == ("transaction", "CORPUS-FR-LISTED")
    assert c["outcome"] == {"before": "license_required", "after": "license_required"}   # the Entity List already required one
    (r,) = c["regimes"]
    assert r["regime"] == "us-ear" and (r["before"], r["after"]) == ("license_required", "license_required")
    assert [f["rule"] for f in r["fires"]] == ["ear.9a515.rs1"]
    assert [(f["rule"], f["authorization"]) for f in r["stops"]] == [("ear.sta.9a515", "STA")]
    # the user's work tree and index are untouched
    assert git(repo, "status", "--porcelain") == ""
    assert (repo / ".git" / "index").read_bytes() == index


def test_git_default_sides_are_head_and_the_work_tree(repo):
    code, out, _ = run("--fail-on", "change")
    assert code == 0 and "0 changed" in out
    policy = repo / "policies" / "us-ear" / "us-ear.policy"
    policy.write_text(policy.read_text().replace("{CA}", "{AU, CA}"))
    code, out, _ = run("--fail-on", "change")
    assert code == 1
    assert "base HEAD (" in out and "head working tree" in out
    assert "9A515.a.1 EO satellite to Australia in 2026" in out
    assert git(repo, "status", "--porcelain").strip() == "M policies/us-ear/us-ear.policy"


def test_git_fail_on_change_exits_1(repo):
    code, out, _ = run("HEAD~1", "HEAD", "--corpus", CORPUS, "--fail-on", "change", "--format", "markdown")
    assert code == 1
    assert "| changed transaction | CORPUS-FR-LISTED" in out
    assert "+`ear.9a515.rs1` −`ear.sta.9a515`" in out


def test_git_revision_with_a_syntax_error_exits_2_naming_rev_and_file(repo):
    policy = repo / "policies" / "us-ear" / "us-ear.policy"
    n = len(policy.read_text().splitlines())
    with policy.open("a") as fh:
        fh.write("rule ear.broken \"unterminated\n")
    git(repo, "commit", "-q", "-am", "broken")
    code, out, err = run("HEAD~1", "HEAD")
    assert code == 2 and out == ""
    assert f"HEAD:policies/us-ear/us-ear.policy:{n + 1}:" in err and "E101" in err
    assert "exportctl-diff-" not in err                 # never the temporary folder


def test_git_unknown_revision_and_missing_folder_exit_2(repo):
    code, _, err = run("no-such-branch", "HEAD")
    assert code == 2 and "no-such-branch: not a folder or a git revision" in err
    code, _, err = run("HEAD~1", "HEAD", "--policies-path", "rules")
    assert code == 2 and "the revision has no rules/ folder" in err
    code, _, err = run("HEAD~1", "HEAD", "--policies-path", "../policies")
    assert code == 2 and "--policies-path must be a folder inside the repository" in err


def test_git_policies_path_names_another_folder(repo):
    git(repo, "mv", "policies", "compliance")
    git(repo, "commit", "-q", "-m", "the policies move to compliance/")
    code, out, err = run("HEAD~1", "HEAD", "--policies-path", "compliance")
    assert code == 2 and "HEAD~1: the revision has no compliance/ folder" in err
    code, out, err = run("HEAD", "--policies-path", "compliance", "--corpus", CORPUS)
    assert code == 0, err
    assert "head working tree" in out and "0 changed, 17 unchanged" in out
