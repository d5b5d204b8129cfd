"""Tests for the generated documentation (exportctl.docs) and the policy lexer (exportctl.highlight).

The fixture tests/fixtures/docs/ holds two small regimes (`demo`, which uses `demo-list`)
with passing golden cases; a failing case is simulated by changing a result."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.token import Error

from exportctl import cases as C
from exportctl import docs
from exportctl.docs import markdown as docs_md
from exportctl.diagnostics import CODES
from exportctl.highlight import PolicyLexer
from exportctl.policyset import load

FIXTURE = Path(__file__).parent / "fixtures" / "docs"
ENGINE = Path(docs.__file__).parent.parent   # engine/ (docs is a package in it)


@pytest.fixture(scope="module")
def policyset():
    ps = load(FIXTURE)
    assert not ps.errors, ps.errors
    return ps


@pytest.fixture(scope="module")
def results(policyset):
    res, diags = C.run_all(policyset)
    assert not diags
    assert all(r.passed for r in res), [r.problems for r in res if not r.passed]
    return res


@pytest.fixture(scope="module")
def generated(policyset, results):
    readme = (FIXTURE / "demo" / "README.md").read_text(encoding="utf-8")
    return docs.pages(policyset, results, readmes={"demo": readme})


def rule_section(page: str, rule_id: str) -> str:
    """The part of a regime page about one rule: from its heading to the next rule heading."""
    start = page.index(f"{{#{rule_id}}}")
    start = page.rindex("\n#", 0, start)
    nxt = re.search(r"\n#{2,4} ", page[start + 2:])
    return page[start:start + 2 + nxt.start()] if nxt else page[start:]


# ---------------------------------------------------------------- pages()

def test_pages_lists_every_regime_and_its_changelog(generated):
    assert set(generated) == {"reference/index.md", "reference/demo.md", "reference/demo-changelog.md",
                              "reference/demo-list.md", "reference/demo-list-changelog.md", "reference/_flow.md"}
    index = generated["reference/index.md"]
    assert "[`demo`](demo.md)" in index and "[`demo-list`](demo-list.md)" in index
    assert "| [`demo`](demo.md) | Demonstration Export Rules | binding | 3 | 100 % | 7 |" in index
    assert "| [`demo-list`](demo-list.md) | Demonstration country groups | advisory | 0 | no rules | 0 |" in index
    assert ":   **Version:** 2026-07-23  \n    **Source:** Demo Regulations Parts 1-9, as of 2026-07-23" in index
    assert "[changelog](demo-changelog.md) (2 recorded change(s))" in index


def test_every_page_says_it_is_generated(generated):
    assert all(text.startswith(docs.GENERATED) for text in generated.values())


def test_rule_shows_citation_source_text_and_case_table(generated, policyset):
    page = generated["reference/demo.md"]
    section = rule_section(page, "demo.rs1")
    assert section.startswith("\n#### Spacecraft in 9A515 need a licence for regional stability {#demo.rs1}")
    assert "**Cite:** Demo Regs 742.6(a)(1); ECCN 9A515" in section
    assert "in force from 2014-11-10" in section
    # the exact source text of the rule, highlighted as exportctl, numbered from its file line
    policy = policyset.policy("demo")
    rule = next(r for r in policy.rules if r.id == "demo.rs1")
    text = "\n".join(policy.text.splitlines()[rule.span.line - 1:rule.span.end_line])
    assert f'``` exportctl linenums="{rule.span.line}"\n{text}\n```' in section
    # its golden cases: name, facts, expectation, passes
    assert "| Case | Facts | Expected | Passes |" in section
    assert ("| A 9A515 satellite to Canada needs no licence | base `sat_to_br`<br>`destination` = `CA`<br>"
            "`end_user.country` = `CA` | **does not fire**<br>outcome `no_license_required` | " + docs_md.PASS + " |") in section
    assert ("| A 9A515 satellite to Brazil needs a licence | base `sat_to_br` | **fires**<br>outcome `license_required`"
            "<br>must not fire `demo.sta`, `demo.embargo` | " + docs_md.PASS + " |") in section
    assert "**near miss**<br>outcome `license_required`<br>also fires `demo.rs1`" in rule_section(page, "demo.sta")
    assert docs_md.FAIL not in page


def test_inline_transaction_case_shows_destination_and_classifications(generated):
    section = rule_section(generated["reference/demo.md"], "demo.embargo")
    assert "destination `NI`<br>`eo-sat` (origin US; usml `null`; eccn `9A515.a.4`), no parts" in section
    assert "<small>source: cases.md, case 4 (adapted)</small>" in section


def test_unverified_rule_shows_the_marker(generated):
    page = generated["reference/demo.md"]
    section = rule_section(page, "demo.embargo")
    assert '!!! warning "UNVERIFIED"' in section
    assert "The brief could not confirm whether the denial covers 9A515.x parts." in section
    assert '!!! warning "UNVERIFIED"' not in rule_section(page, "demo.rs1")


def test_exception_links_to_the_rule_it_defeats(generated):
    page = generated["reference/demo.md"]
    assert "Exception to [`demo.rs1`](#demo.rs1)" in rule_section(page, "demo.sta")
    assert "Exceptions to this rule: [`demo.sta`](#demo.sta)." in rule_section(page, "demo.rs1")


def test_failing_case_shows_a_cross_and_why(policyset, results):
    broken = [dataclasses.replace(r, problems=["demo: expected license_required, got no_license_required"])
              if r.case.name == "A 9A515 satellite to Brazil needs a licence" else r for r in results]
    out = docs.pages(policyset, broken)
    section = rule_section(out["reference/demo.md"], "demo.rs1")
    assert f"| {docs_md.FAIL} demo: expected license\\_required, got no\\_license\\_required |" in section
    assert f"(1 {docs_md.FAIL})" in out["reference/index.md"]
    assert "**1 failing**" in out["reference/demo.md"]


def test_regime_header_sets_definitions_and_not_encoded(generated):
    page = generated["reference/demo.md"]
    assert page.split("\n")[2] == "# Demonstration Export Rules"
    assert "- **Version:** 2026-07-23" in page
    assert "- **Source:** Demo Regulations Parts 1-9, as of 2026-07-23" in page
    assert "- **In force:** from 2014-11-10" in page
    assert "A fixture for tests/test\\_docs.py; not law." in page          # header note
    assert "[`demo-list` as `lists`](demo-list.md)" in page
    # applicability: its text and cite
    assert "**Cite:** Demo Regs 734.3" in page
    assert 'applies when ship_from == "US" or any i in items: i.origin == "US"' in page
    # README "Not encoded": included, sub-headings kept under it, relative links defused
    assert "## Not encoded" in page
    assert "- UNVERIFIED: the de minimis percentage for D:5 destinations." in page
    assert "### Left for later" in page and "Sources" not in page.split("## Not encoded")[1].split("## Sets")[0]
    assert "the brief (`../../../shared/domain/us-ear.md`)" in page
    # sets: a compact table with dated members and composed terms
    assert ("| <span id=\"set-embargoed\"></span>`embargoed` | Embargoed destinations |   | all of `lists.D5`; "
            "plus KH, NI (from 2024-03-15), VE (until 2020-12-31) |") in page
    assert "Destinations without a licence requirement \\| RS Column 1" in page   # a | in a cell is escaped
    # definitions: source text
    assert "`spacecraft(eccn)` {#define-spacecraft}" in page
    assert 'eccn startswith "9A515" and not eccn startswith {"9A515.e", "9A515.x", "9A515.y"}' in page
    # sections of the policy file become headings, with their comments as prose
    assert "### licence requirements" in page


def test_changelog_page(generated):
    log = generated["reference/demo-changelog.md"]
    assert "Policy version **2026-07-23**" in log
    assert "| 2024-03-15 | Nicaragua added to the embargoed destinations | 89 FR 18796 |" in log
    assert log.index("2024-03-15") < log.index("2014-11-10")   # newest first


def test_base_transactions_are_shown_and_linked(policyset, results):
    bases = {r.case.file: {"sat_to_br": {"id": "TX-DEMO-1", "destination": "BR"}} for r in results}
    page = docs.pages(policyset, results, bases=bases)["reference/demo.md"]
    assert "base [`sat_to_br`](#base-sat_to_br)" in page
    assert '<span id="base-sat_to_br"></span>' in page and '??? example "sat_to_br"' in page


def test_pages_does_no_io(policyset, results, monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("pages() must not read files")

    monkeypatch.setattr(Path, "read_text", refuse)
    monkeypatch.setattr("builtins.open", refuse)
    docs.pages(policyset, results)


# ---------------------------------------------------------------- errors, CLI, formats

def test_every_diagnostic_code_has_an_explanation():
    missing = sorted(set(CODES) - set(docs.EXPLANATIONS))
    assert not missing, f"add an explanation to exportctl.explanations.EXPLANATIONS for {missing}"
    for code, ex in docs.EXPLANATIONS.items():
        assert {"what", "why", "example", "fix", "kind"} <= set(ex), code


def test_every_code_the_engine_emits_is_documented():
    used = set()
    for f in ENGINE.rglob("*.py"):
        used |= set(re.findall(r'Diagnostic\(\s*"(E\d{3})"', f.read_text(encoding="utf-8")))
        used |= set(re.findall(r'self\.err\(\s*"(E\d{3})"', f.read_text(encoding="utf-8")))
    missing = sorted(used - set(docs.EXPLANATIONS))
    assert not missing, f"codes emitted but not explained in exportctl.explanations.EXPLANATIONS: {missing}"


@pytest.mark.parametrize("code", sorted(c for c, e in docs.EXPLANATIONS.items() if e["kind"] != "text"))
def test_runnable_examples_produce_their_code(code):
    out = docs.example_output(docs.EXPLANATIONS[code])
    assert re.search(rf":\d+:\d+: {code} ", out), out


def test_errors_page_lists_every_code():
    page = docs.errors_page(CODES, docs.EXPLANATIONS)
    for code in CODES:
        assert f"### {code}: " in page and f"{{#{code.lower()}}}" in page
    undocumented = docs.errors_page({"E999": "brand new"}, {})
    assert "Not explained yet" in undocumented


def test_cli_page_has_every_verb_and_option():
    from exportctl.cli import build_parser

    parser = build_parser()
    page = docs.cli_page(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                assert f"## `exportctl {name}`" in page
                for a in sub._actions:
                    for opt in a.option_strings:
                        assert f"`{opt}`" in page
    assert "`exportctl records verify`" in page


def test_format_pages_from_schema():
    schema = {
        "description": "A thing.",
        "type": "object",
        "required": ["id"],
        "properties": {
            "id": {"type": "string", "description": "Its name."},
            "country": {"$ref": "#/$defs/country"},
            "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
        },
        "$defs": {
            "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "ISO code."},
            "item": {"type": "object", "properties": {
                "kind": {"enum": ["a", "b"], "default": "a"},
                "parts": {"type": "array", "items": {"$ref": "#/$defs/item"}}}},
        },
    }
    out = docs.format_pages({"thing": schema, "gone": None})
    page = out["reference/_formats-thing.md"]
    assert "| `id` | string · **required** | Its name. |" in page
    assert "| `country` | [country](#thing-type-country) |" in page
    assert "| `items[].kind` | one of `a`, `b` |  Default `a`. |" in page or "`items[].kind`" in page
    assert "| `items[].parts` | list of object, like `items[]` |" in page
    assert "No schema yet" in out["reference/_formats-gone.md"]


def test_real_schemas_render():
    import json

    from exportctl.policyset import policies_root

    for f in sorted((policies_root() / "schema").glob("*.schema.json")):
        page = docs.schema_markdown(json.loads(f.read_text(encoding="utf-8")), f.name.split(".")[0])
        assert page.count("\n| `") > 3, f


# ---------------------------------------------------------------- write_reference and examples

def test_write_reference_writes_only_changes_and_removes_stale_pages(tmp_path):
    out = tmp_path / "reference"
    from exportctl.cli import build_parser

    written = docs.write_reference(FIXTURE, out, parser=build_parser())
    names = {p.name for p in written}
    assert {"index.md", "demo.md", "demo-changelog.md", "_cli.md", "_errors.md", "_formats-transaction.md"} <= names
    page = out / "demo.md"
    assert "## Not encoded" in page.read_text(encoding="utf-8")
    assert '??? example "sat_to_br"' in page.read_text(encoding="utf-8")
    stamp = page.stat().st_mtime_ns
    (out / "old-regime.md").write_text(docs.GENERATED + "# gone\n", encoding="utf-8")
    (out / "notes.md").write_text("# mine\n", encoding="utf-8")
    docs.write_reference(FIXTURE, out, parser=build_parser())
    assert page.stat().st_mtime_ns == stamp              # unchanged: not rewritten
    assert not (out / "old-regime.md").exists()          # generated, no longer produced: removed
    assert (out / "notes.md").exists()                   # not generated: left alone


def test_run_examples_replaces_markers_with_real_output():
    page = ("```yaml title=\"tx.yaml\"\n"
            "id: TX-1\ndate: 2026-03-01\nship_from: US\ndestination: BR\n"
            "end_user: {name: X, country: BR, kind: commercial, lists: []}\nend_use: [telecommunications]\n"
            "items:\n  - id: sat-1\n    origin: US\n    classification: {usml: null, eccn: 9A515.a.1}\n    components: []\n"
            "```\n\n<!-- run: exportctl evaluate tx.yaml -->\n\n<!-- run exit=2: exportctl evaluate nope.yaml -->\n")
    out = docs.run_examples(page, str(FIXTURE))
    assert "<!-- run" not in out
    assert "$ exportctl evaluate tx.yaml\n LICENSE REQUIRED   TX-1" in out
    assert "demo.rs1" in out
    assert "$ echo $?\n2" in out
    with pytest.raises(docs.ExampleFailed):
        docs.run_examples(page.replace("exit=2", "exit=0"), str(FIXTURE))


# ---------------------------------------------------------------- lexer

def test_lexer_is_registered_for_pygments():
    assert isinstance(get_lexer_by_name("exportctl"), PolicyLexer)
    assert isinstance(get_lexer_by_name("policy"), PolicyLexer)
    assert isinstance(get_lexer_for_filename("us-ear.policy"), PolicyLexer)


POLICY_FILES = sorted(FIXTURE.glob("*/*.policy")) + sorted((ENGINE.parent / "policies").glob("*/*.policy"))


@pytest.mark.parametrize("path", POLICY_FILES, ids=lambda p: p.name)
def test_lexer_tokenizes_policies_without_errors(path):
    text = path.read_text(encoding="utf-8")
    tokens = list(PolicyLexer().get_tokens(text))
    errors = [v for t, v in tokens if t in Error]
    assert not errors, errors
    assert "".join(v for _, v in tokens) == text if text.endswith("\n") else True


def test_lexer_token_classes():
    from pygments.token import Comment, Keyword, Literal, Name, Number, String

    text = ('regime us-ear "EAR" binding\n'
            'use mtcr as m\n'
            '# a comment\n'
            'rule ear.sta.x "STA" cite "15 CFR 740.20" from 2024-03-15\n'
            '  exception to ear.rs1\n'
            '  when item.count > 25% and destination in {NI from 2024-03-15}\n'
            '  then authorized "STA"\n'
            'conflict cn.x "C" cite "x" with us-itar, us-ear\n'
            '  when outcome("us-ear") == "prohibited"\n')
    tokens = [(t, v) for t, v in PolicyLexer().get_tokens(text) if v.strip()]
    assert (Name.Namespace, "us-ear") in tokens
    assert (Name.Namespace, "mtcr") in tokens
    assert (Comment.Single, "# a comment") in tokens
    assert (Name.Function, "ear.sta.x") in tokens and (Name.Function, "ear.rs1") in tokens
    assert (Literal.Date, "2024-03-15") in tokens
    assert (Number, "25%") in tokens
    assert (Name.Builtin, "authorized") in tokens
    assert (String.Double, '"STA"') in tokens
    assert (Keyword, "when") in tokens
    assert (Name.Attribute, "count") in tokens          # a field, not the `count` quantifier
    assert (Name.Namespace, "us-itar") in tokens
    assert (Name.Constant, "NI") in tokens


def test_lexer_tokenizes_the_policy_snippets_of_the_docs():
    pages = sorted((ENGINE.parent / "docs").glob("*.md"))
    blocks = [b for p in pages for b in re.findall(r"^```+ ?exportctl[^\n]*\n(.*?)^```", p.read_text(encoding="utf-8"),
                                                     re.S | re.M)]
    assert blocks
    for b in blocks:
        errors = [v for t, v in PolicyLexer().get_tokens(b) if t in Error]
        assert not errors, (errors, b[:200])
