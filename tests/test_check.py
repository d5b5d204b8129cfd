"""Checker: every problem reported at once, with stable codes and useful hints."""

from exportctl.check import check
from exportctl.facts import schema
from exportctl.parse import parse_policy

HEADER = 'regime us-ear "EAR" binding\n  version "2026-07-23" source "15 CFR"\n'


def diags(*texts):
    policies = [parse_policy(t, f"p{i}.policy") for i, t in enumerate(texts)]
    return check(policies, schema())


def codes(ds):
    return [d.code for d in ds]


def test_clean_policy_has_no_diagnostics():
    text = HEADER + (
        'set D5 = {CN}\n'
        'define us(x) = x.origin == "US"\n'
        'applies when any i in items: us(i)\n'
        'rule ear.a "t" cite "c" when item.classification.eccn startswith "9A515" and destination in D5 then prohibited\n'
    )
    assert diags(text) == []


def test_all_problems_are_reported_not_just_the_first():
    text = HEADER + (
        'rule ear.a "t" cite "c" when destinaton == "CN" then prohibited\n'
        'rule ear.b "t" when item.classification.eccnn == "x" then prohibited\n'
        'rule ear.c "t" cite "c" exception to ear.zz when true then authorized "STA"\n'
        'rule ear.a "dup" cite "c" when true then prohibited\n'
    )
    ds = diags(text)
    assert set(codes(ds)) >= {"E201", "E301", "E401", "E403", "E206"}
    by = {d.code: d for d in ds}
    assert "destinaton" in by["E201"].message and "destination" in (by["E201"].hint or "")
    assert by["E301"].span.line == 4 and "eccn" in (by["E301"].hint or "")
    assert "cite" in by["E401"].message


def test_unknown_fact_path_under_item_names_the_known_keys():
    ds = diags(HEADER + 'rule ear.a "t" cite "c" when item.parameters.payload == 1 then prohibited\n')
    assert codes(ds) == ["E301"]
    assert "payload_kg" in ds[0].hint


def test_item_outside_a_rule():
    ds = diags(HEADER + 'applies when item.origin == "US"\n')
    assert codes(ds) == ["E207"]


def test_quantifier_over_a_scalar_is_rejected():
    ds = diags(HEADER + 'rule ear.a "t" cite "c" when any c in destination: c == "CN" then prohibited\n')
    assert "E302" in codes(ds)


def test_quantified_variable_gets_the_element_type():
    ok = HEADER + 'rule ear.a "t" cite "c" when any c in components_of(item): c.classification.usml is known then prohibited\n'
    assert diags(ok) == []
    bad = HEADER + 'rule ear.a "t" cite "c" when any c in item.components: c.clasification.usml is known then prohibited\n'
    assert codes(diags(bad)) == ["E301"]


def test_definition_bodies_are_checked_with_the_argument_type():
    text = HEADER + 'define f(x) = x.orign == "US"\nrule ear.a "t" cite "c" when f(item) then prohibited\n'
    ds = diags(text)
    assert codes(ds) == ["E301"] and ds[0].span.line == 3


def test_wrong_arity_and_unknown_function():
    text = HEADER + 'define f(x) = x.origin == "US"\nrule ear.a "t" cite "c" when f(item, item) or g(item) then prohibited\n'
    assert sorted(codes(diags(text))) == ["E204", "E205"]


def test_exception_cycle():
    text = HEADER + (
        'rule ear.a "t" cite "c" exception to ear.b when true then prohibited\n'
        'rule ear.b "t" cite "c" exception to ear.a when true then prohibited\n'
    )
    assert "E404" in codes(diags(text))


def test_duplicate_clause_and_bad_period():
    text = HEADER + 'rule ear.a "t" cite "c" cite "d" from 2024-01-02 until 2024-01-01 when true then prohibited\n'
    assert sorted(codes(diags(text))) == ["E402", "E405"]


def test_header_needs_version_and_source():
    assert codes(diags('regime x "X" binding\n')) == ["E406"]


def test_use_of_unknown_regime_and_imported_names():
    a = HEADER + 'use mtcr\nrule ear.a "t" cite "c" when destination in mtcr.partnerz then prohibited\n'
    b = 'regime mtcr "MTCR" advisory version "1" source "s"\nset partners = {FR}\n'
    ds = diags(a, b)
    assert codes(ds) == ["E201"] and "partners" in ds[0].hint
    assert codes(diags(HEADER + "use nowhere\n")) == ["E203"]


def test_outcome_only_in_conflicts():
    text = HEADER + 'rule ear.a "t" cite "c" when outcome("us-ear") == "prohibited" then prohibited\n'
    assert "E407" in codes(diags(text))
    ok = HEADER + 'conflict ear.k "k" cite "c" with us-ear when outcome("us-ear") == "prohibited"\n'
    assert diags(ok) == []
