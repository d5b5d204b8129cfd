"""Parser: text to AST, positions kept, syntax errors as diagnostics with what was expected."""

import datetime as dt

import pytest

from exportctl import ast as A
from exportctl.diagnostics import ExportctlError
from exportctl.parse import parse_expression, parse_policy

HEADER = 'regime us-ear "EAR" binding\n  version "2026-07-23" source "15 CFR"\n'


def test_header_fields():
    p = parse_policy(HEADER + '  from 2018-08-13\n  note "n"\n', "x.policy")
    h = p.header
    assert (h.regime, h.title, h.binding, h.version, h.source) == ("us-ear", "EAR", True, "2026-07-23", "15 CFR")
    assert h.start == dt.date(2018, 8, 13) and h.notes == ("n",)


def test_advisory_header():
    p = parse_policy('regime mtcr "MTCR" advisory version "1" source "s"\n', "m.policy")
    assert p.header.binding is False


def test_rule_clauses_and_spans():
    text = HEADER + (
        'rule ear.a.b "Title here"\n'
        '  cite "15 CFR 742.6"\n'
        '  from 2014-11-10 until 2024-10-22\n'
        '  unverified "wording not checked"\n'
        '  when destination in {CN}\n'
        '  then authorized "STA"\n'
    )
    r = parse_policy(text, "x.policy").rules[0]
    assert r.id == "ear.a.b" and r.title == "Title here" and r.cite == "15 CFR 742.6"
    assert r.start == dt.date(2014, 11, 10) and r.end == dt.date(2024, 10, 22)
    assert r.unverified == "wording not checked"
    assert (r.outcome, r.authorization) == ("authorized", "STA")
    assert r.span.line == 3 and r.span.col == 1
    assert isinstance(r.when, A.In) and r.when.span.line == 7


def test_set_members_with_periods_and_aliases():
    text = HEADER + 'set L "List" cite "Ann. 1" = {CN, NI from 2024-03-15, "Sierra Nevada" aka "SNC" from 2025-04-04 until 2025-11-09, RU until 2020-01-01}\n'
    s = parse_policy(text, "x.policy").sets[0]
    assert (s.name, s.title, s.cite) == ("L", "List", "Ann. 1")
    m = {x.value: x for x in s.terms[0][1].members}
    assert m["NI"].start == dt.date(2024, 3, 15) and m["NI"].end is None
    assert m["Sierra Nevada"].aliases == ("SNC",)
    assert m["Sierra Nevada"].end == dt.date(2025, 11, 9)
    assert m["RU"].start is None and m["RU"].end == dt.date(2020, 1, 1)


def test_set_with_only_cite_is_not_a_title():
    s = parse_policy(HEADER + 'set L cite "Ann. 1" = {CN}\n', "x.policy").sets[0]
    assert s.title is None and s.cite == "Ann. 1"


def test_set_union_and_difference():
    s = parse_policy(HEADER + 'set A = {CN}\nset B = A + {RU} - {CN}\n', "x.policy").sets[1]
    assert [op for op, _ in s.terms] == ["+", "+", "-"]
    assert isinstance(s.terms[0][1], A.Ref)


def test_precedence_and_or_not():
    e = parse_expression("not a == 1 or b == 2 and c == 3")
    assert isinstance(e, A.Or)
    assert isinstance(e.operands[0], A.Not)
    assert isinstance(e.operands[1], A.And)


def test_arithmetic_is_left_associative():
    e = parse_expression("10 - 2 - 3")
    assert isinstance(e, A.Arith) and e.op == "-" and isinstance(e.left, A.Arith)
    assert e.left.left.value == 10


def test_literals():
    assert parse_expression("25%").value == 0.25
    assert parse_expression("1_500").value == 1500
    assert parse_expression("8.41e5").value == 841000.0
    assert parse_expression("2024-03-15").value == dt.date(2024, 3, 15)
    assert parse_expression("null").value is None
    assert parse_expression('"a\\"b"').value == 'a"b'


def test_quantifiers():
    e = parse_expression('any c in components_of(item): c.origin == "US" and c.value > 1')
    assert isinstance(e, A.Quantifier) and e.kind == "any" and isinstance(e.body, A.And)
    s = parse_expression('sum c.value for c in item.components where c.origin == "US"')
    assert s.kind == "sum" and s.var == "c" and isinstance(s.value, A.Ref)
    n = parse_expression("count c in item.components")
    assert n.kind == "count" and n.body is None


def test_quantifier_inside_and_reaches_right():
    e = parse_expression('a == 1 and any c in xs: c == 2 and c == 3')
    assert isinstance(e, A.And) and len(e.operands) == 2
    assert isinstance(e.operands[1], A.Quantifier) and isinstance(e.operands[1].body, A.And)


def test_membership_prefix_known():
    assert parse_expression("x not in S").negated is True
    assert isinstance(parse_expression('x startswith {"9A515", "9E515"}'), A.StartsWith)
    assert parse_expression("x is not known").negated is True


def test_call_with_namespace():
    c = parse_expression("mtcr.category_one(item)")
    assert (c.namespace, c.name, len(c.args)) == ("mtcr", "category_one", 1)


def test_exception_and_use_and_change():
    text = HEADER + 'use mtcr\nuse us-itar as itar\nchange 2024-03-15 "NI added" cite "89 FR 18796"\n' \
        'rule a.b "x" cite "c" when true then license_required\n' \
        'rule a.c "y" cite "c" exception to a.b when true then no_license_required\n'
    p = parse_policy(text, "x.policy")
    assert [(u.regime, u.alias) for u in p.uses] == [("mtcr", "mtcr"), ("us-itar", "itar")]
    assert p.changes[0].date == dt.date(2024, 3, 15) and p.changes[0].cite == "89 FR 18796"
    assert p.rules[1].exception_to == "a.b"


@pytest.mark.parametrize("text,at,expect", [
    ('rule a.b "x" cite "c" when destination == then license_required\n', "then", "`then`"),
    ('rule a.b "x" cite "c" when destination in {CN then license_required\n', "then", "`then`"),
    ('rule a.b "x" cite "c" when destination ~ "CN" then prohibited\n', "~", "character"),
])
def test_syntax_errors_point_at_the_token(text, at, expect):
    line, col = 3, text.index(at) + 1
    with pytest.raises(ExportctlError) as ei:
        parse_policy(HEADER + text, "bad.policy")
    d = ei.value.diagnostics[0]
    assert d.code == "E101"
    assert (d.span.file, d.span.line, d.span.col) == ("bad.policy", line, col)
    assert expect in d.message


def test_syntax_error_says_what_was_expected():
    with pytest.raises(ExportctlError) as ei:
        parse_policy(HEADER + 'rule a.b "x" cite\n', "bad.policy")
    d = ei.value.diagnostics[0]
    assert d.hint and 'a "string"' in d.hint


def test_invalid_calendar_date():
    with pytest.raises(ExportctlError) as ei:
        parse_policy(HEADER + 'rule a.b "x" cite "c" from 2024-02-30 when true then prohibited\n', "d.policy")
    assert ei.value.diagnostics[0].code == "E101" and "2024-02-30" in ei.value.diagnostics[0].message
