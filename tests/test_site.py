"""The site's pictures and its decision cards (engine/docs/diagrams.py, engine/docs/decision.py):
no policy text becomes Mermaid syntax, every rule is on its regime's map, a decision reads as a
person reads it, pass/fail marks are the theme's icons."""

from __future__ import annotations

import dataclasses
import html
import re
from pathlib import Path

import pytest

from exportctl import cases as C
from exportctl import docs
from exportctl.docs import diagrams as D
from exportctl.docs import markdown as M
from exportctl.docs.decision import decision_markdown
from exportctl.policyset import load

FIXTURE = Path(__file__).parent / "fixtures" / "docs"
HOSTILE = 'x"] --> evil(("pwned")) ; click r call alert(1) %% <script>alert(1)</script> #35; `md` & {a|b} \\ end\nnext line'


@pytest.fixture(scope="module")
def policyset():
    ps = load(FIXTURE)
    assert not ps.errors, ps.errors
    return ps


def _demo(ps):
    return ps.policy("demo")


def _unlabel(line: str) -> str:
    """A diagram line with its quoted labels taken out: what is left is Mermaid syntax."""
    return re.sub(r'"[^"]*"', '""', line)


def _decode(label: str) -> str:
    """Mermaid's entity codes back to text (#quot; #lt; #35; ...), as the browser shows them."""
    return html.unescape(re.sub(r"#([a-z]+);", r"&\1;", re.sub(r"#(\d+);", r"&#\1;", label)))


def test_a_label_is_quoted_text_whatever_the_title():
    lab = D.label(HOSTILE)
    assert lab.startswith('"') and lab.endswith('"') and '"' not in lab[1:-1]
    for ch in '<>;#`%&\\{}|':
        assert ch not in re.sub(r"#\w+;", "", lab[1:-1]), ch
    assert "\n" not in lab
    assert _decode(lab[1:-1]) == " ".join(HOSTILE.split())


def test_a_hostile_rule_title_stays_inside_its_label(policyset):
    p = _demo(policyset)
    r = next(r for r in p.rules if r.id == "demo.rs1")
    evil = dataclasses.replace(r, title=HOSTILE)
    block = D.rule_diagram(p, evil, {x.id: "demo" for x in p.rules})
    assert block.startswith("```mermaid\n") and block.endswith("```\n")
    body = block.splitlines()[1:-1]
    for line in body:
        if line.lstrip().startswith("classDef "):
            continue                                       # fixed styles, no policy text
        syntax = re.sub(r"-->|==>|\.->", " ", _unlabel(line))
        assert not re.search(r"[<>;%`\\]|alert|script|pwned|evil", syntax), line
    labels = re.findall(r'"([^"]*)"', "\n".join(body))
    assert any(_decode(lab).startswith("demo.rs1: x\"] --> evil") for lab in labels)


def test_rule_diagram_shows_outcome_exceptions_and_what_it_uses(policyset):
    p = _demo(policyset)
    where = {x.id: "demo" for x in p.rules}
    rs1 = next(r for r in p.rules if r.id == "demo.rs1")
    block = D.rule_diagram(p, rs1, where)
    assert '"license required"' in block
    excs = [x.id for x in p.rules if x.exception_to == "demo.rs1"]
    assert excs
    for x in excs:
        assert f'click e{excs.index(x)} href "#{x}"' in block
    defs, sets, _ = D.used_names(rs1.when, p)
    assert defs or sets
    for name in defs:
        assert f'href "#define-{name}"' in block
    for name in sets:
        assert f'href "#set-{name}"' in block
    sta = next(r for r in p.rules if r.id == "demo.sta")
    assert 'click t href "#demo.rs1"' in D.rule_diagram(p, sta, where)


def test_used_names_finds_definitions_and_sets_once_each(policyset):
    p = _demo(policyset)
    names = {d.name for d in p.defines} | {s.name for s in p.sets}
    for r in p.rules:
        defs, sets, _ = D.used_names(r.when, p)
        assert len(defs) == len(set(defs)) and len(sets) == len(set(sets))
        assert set(defs) | set(sets) <= names


def test_regime_map_has_every_rule_linked_and_grouped_by_outcome(policyset):
    p = _demo(policyset)
    block = D.regime_map(p)
    for r in p.rules:
        assert f'"{r.id}"' in block and f'href "#{r.id}"' in block
    assert block.index('"prohibited') < block.index('"license required') if "prohibited" in block else True
    assert D.regime_map(policyset.policy("demo-list")) == ""          # no rules: no map


def test_flow_diagram_links_each_regime_to_its_page(policyset):
    pol = {p.regime: p for p in policyset.policies}
    block = D.flow_diagram(pol, M.regime_order(pol))
    for regime in pol:
        assert f'href "reference/{regime}.html"' in block
    assert "dec" in block and "adv" in block


def test_regime_page_and_home_flow_carry_the_diagrams(policyset):
    res, _ = C.run_all(policyset)
    out = docs.pages(policyset, res)
    page = out["reference/demo.md"]
    assert "## Map of the rules" in page
    assert page.count("```mermaid") == 1 + len(_demo(policyset).rules)
    assert out["reference/_flow.md"].startswith(M.GENERATED) and "```mermaid" in out["reference/_flow.md"]


def test_pass_and_fail_marks_are_theme_icons_not_emoji():
    for mark in (M.PASS, M.FAIL):
        assert mark.startswith(":material-") and all(ord(c) < 0x2000 for c in mark)


DECISION = {
    "transaction": "TX-1", "as_of": "2026-03-01", "outcome": "prohibited", "driven_by": ["demo"],
    "warnings": [], "conflicts": [], "missing": ["parties"],
    "obligations": [{"text": "Apply for a licence", "form": "F-1", "authority": None, "by": "exporter",
                     "items": ["sat-1"], "regime": "demo", "cite": "15 CFR 748.1"}],
    "questions": [{"ask": "Who are the parties <b>?", "fact": "parties"}],
    "regimes": [
        {"regime": "demo", "title": "Demo <rules>", "binding": True, "outcome": "prohibited",
         "findings": [{"rule": "demo.embargo", "message": "No satellites to *NI*", "item": "sat-1",
                       "cite": "15 CFR 746.1(b)", "outcome": "prohibited", "unverified": "the research is silent"}]},
        {"regime": "demo-list", "title": "Groups", "binding": False, "outcome": "license_required",
         "findings": []},
        {"regime": "quiet", "title": "Quiet", "binding": True, "outcome": "not_applicable", "findings": []},
    ],
}


def test_decision_reads_as_outcome_then_a_card_per_regime():
    text = decision_markdown(DECISION)
    assert text.index("prohibited") < text.index('class="grid cards')
    assert '<span class="ec-outcome ec-o-prohibited">' in text
    assert "[`demo.embargo`](reference/demo.md#demo.embargo)" in text       # the rule, on its page
    assert "[15 CFR 746.1](" in text                                         # the citation, linked
    assert "**UNVERIFIED:** the research is silent" in text
    assert "No satellites to \\*NI\\*" in text and "<b>" not in text          # policy text is escaped
    assert "advisory" in text and "partners control it" in text
    assert "Not applicable (no jurisdiction over this transaction): Quiet." in text
    assert "1. Who are the parties &lt;b&gt;?" in text
    assert "Apply for a licence" in text


def test_run_decision_renders_cards_and_an_indented_run_stays_in_its_block():
    page = ("```yaml title=\"tx.yaml\"\n"
            "id: TX-1\ndate: 2026-03-01\nship_from: US\ndestination: BR\n"
            "end_user: {name: X, country: BR, kind: commercial, lists: []}\nend_use: [telecommunications]\n"
            "items:\n  - id: sat-1\n    origin: US\n    classification: {usml: null, eccn: 9A515.a.1}\n    components: []\n"
            "```\n\n<!-- run-decision: exportctl evaluate tx.yaml -->\n\n"
            "??? example \"terminal\"\n\n    <!-- run: exportctl evaluate tx.yaml -->\n")
    out = docs.run_examples(page, str(FIXTURE))
    assert "<!-- run" not in out
    assert '<div class="ec-decision ec-o-license_required" markdown>' in out
    assert "(reference/demo.md#demo.rs1)" in out
    assert "    ``` console\n    $ exportctl evaluate tx.yaml\n     LICENSE REQUIRED   TX-1" in out
