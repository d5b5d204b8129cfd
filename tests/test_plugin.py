"""The pytest plugin, tested with pytester: each golden case is an item named by the case,
located at its line; failures show expected vs actual and the findings trace."""

import textwrap

import pytest

from conftest import RS1_POLICY as POLICY

pytest_plugins = ["pytester"]


CASES = '''
bases:
  sat:
    id: TX-1
    date: 2026-11-28
    ship_from: US
    destination: BR
    end_user: {name: X, country: BR, lists: []}
    items: [{id: sat-1, origin: US, value: 1, classification: {eccn: 9A515.a.1}, components: []}]
cases:
  - name: satellite to Brazil needs a licence
    about: [ear.rs1]
    base: sat
    expect: {outcome: license_required, fires: [ear.rs1]}
  - name: satellite to Australia needs none
    about: [ear.rs1]
    base: sat
    with: {destination: AU}
    expect: {outcome: no_license_required, not_fires: [ear.rs1]}
  - name: wrong expectation
    base: sat
    expect: {outcome: prohibited}
'''


@pytest.fixture
def project(pytester):
    pytester.makefile(".ini", pytest="[pytest]\nexportctl_policies = policies\n")
    (pytester.path / "policies" / "us-ear" / "cases").mkdir(parents=True)
    (pytester.path / "policies" / "us-ear" / "us-ear.policy").write_text(textwrap.dedent(POLICY))
    (pytester.path / "policies" / "us-ear" / "cases" / "rs1.yaml").write_text(textwrap.dedent(CASES))
    return pytester


def test_each_case_is_an_item_with_its_name(project):
    result = project.runpytest("--collect-only", "-q")
    out = result.stdout.str()
    assert "policies/us-ear/cases/rs1.yaml::satellite to Brazil needs a licence" in out
    assert "policies/us-ear/cases/rs1.yaml::satellite to Australia needs none" in out


def test_outcomes_and_failure_report(project):
    result = project.runpytest("-q")
    result.assert_outcomes(passed=2, failed=1)
    out = result.stdout.str()
    assert "rs1.yaml:20: golden case failed: wrong expectation" in out
    assert "us-ear: expected prohibited, got license_required" in out
    assert "ear.rs1 -> license_required item=sat-1  (15 CFR 742.6(a)(1))" in out


def test_keyword_selection(project):
    result = project.runpytest("-q", "-k", "Australia")
    result.assert_outcomes(passed=1, deselected=2)


def test_malformed_case_file_names_file_and_line(project):
    bad = project.path / "policies" / "us-ear" / "cases" / "bad.yaml"
    bad.write_text("cases:\n  - name: no expectation\n    base: sat\n    expct: {outcome: prohibited}\n")
    result = project.runpytest("-q")
    out = result.stdout.str()
    assert "bad.yaml" in out and "E701" in out and "expct" in out
    assert "Traceback" not in out


def test_fixtures_outside_the_configured_folder_are_not_collected(project):
    other = project.path / "fixtures" / "us-ear" / "cases"
    other.mkdir(parents=True)
    (project.path / "fixtures" / "us-ear" / "us-ear.policy").write_text(textwrap.dedent(POLICY))
    (other / "x.yaml").write_text(textwrap.dedent(CASES))
    result = project.runpytest("-q", "--collect-only")
    assert "fixtures/us-ear" not in result.stdout.str()
