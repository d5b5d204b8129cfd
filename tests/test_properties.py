"""Property tests: whatever text or data comes in, the result is a value or a diagnostic,
never a crash."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import base_tx
from exportctl import facts
from exportctl.diagnostics import ExportctlError
from exportctl.parse import parse_policy

VALID = '''regime us-ear "EAR" binding
  version "2026-07-23" source "15 CFR"
set D5 "Country Group D:5" = {CN, RU, NI from 2024-03-15}
define x515(e) = e startswith {"9A515", "9E515"}
rule ear.rs1 "Spacecraft need a licence" cite "15 CFR 742.6(a)(1)"
  when x515(item.classification.eccn) and destination not in {AU, CA} and (sum c.value for c in item.components where c.origin == "US") > 25%
  then license_required
rule ear.sta "STA" cite "15 CFR 740.20" exception to ear.rs1 when destination in D5 then authorized "STA"
'''

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw):
    text = VALID
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        ch = draw(st.sampled_from(list(string.printable) + ["and", "or", "then", "when", "{", "}", "(", ")", '"']))
        if op == "insert":
            text = text[:i] + ch + text[i:]
        elif op == "delete":
            text = text[:i] + text[i + 3:]
        else:
            text = text[:i] + ch + text[i + 1:]
    return text


@SETTINGS
@given(mutated())
def test_mutated_policies_parse_or_give_a_syntax_diagnostic(text):
    try:
        parse_policy(text, "m.policy")
    except ExportctlError as e:
        assert e.diagnostics and all(d.code.startswith("E1") for d in e.diagnostics)  # syntax or a limit
        d = e.diagnostics[0]
        assert d.span.file == "m.policy" and d.span.line >= 1


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10**9), st.floats(allow_nan=False, allow_infinity=False),
                         st.text(max_size=12), st.sampled_from(["CN", "US", "9A515.x", "2026-01-01", "XV(e)", "NO"]))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)


@SETTINGS
@given(st.dictionaries(st.sampled_from(list(base_tx()) + ["shipfrom", "extra"]), json_values, max_size=8))
def test_random_transactions_validate_or_are_rejected_with_a_path(data):
    try:
        tx = facts.from_data(data, "r.json")
    except ExportctlError as e:
        assert e.diagnostics and all(d.code == "E602" for d in e.diagnostics)
        return
    assert tx.data["kind"] in ("export", "reexport", "transfer")


@SETTINGS
@given(st.fixed_dictionaries({}, optional={
    "destination": st.sampled_from(["CN", "FR", "AU", "BR", "NI"]),
    "end_user": st.fixed_dictionaries({"name": st.just("X"), "country": st.just("CN")},
                                      optional={"lists": st.lists(st.sampled_from(["us-entity-list", "cn-control-list"]), unique=True)}),
    "end_use": st.lists(st.sampled_from(["missile", "satellite_launch", "iss"]), unique=True),
}), st.lists(st.fixed_dictionaries({"id": st.just("i")}, optional={
    "origin": st.sampled_from(["US", "FR", "CN"]),
    "value": st.integers(0, 1000),
    "classification": st.fixed_dictionaries({}, optional={
        "eccn": st.one_of(st.none(), st.sampled_from(["9A515.a.1", "9A515.x", "9A515.y.1", "EAR99", "9E515.y"])),
        "usml": st.one_of(st.none(), st.sampled_from(["XV(a)", "XV(e)(12)", "IV(a)"]))}),
    "components": st.just([]),
}), min_size=1, max_size=3))
def test_valid_transactions_always_get_a_decision(tmp_path_factory, fields, items):
    from exportctl import api
    from exportctl.policyset import read_policies
    from conftest import write_policies

    root = tmp_path_factory.getbasetemp() / "prop-pol"
    if not root.exists():
        write_policies(root, {"us-ear/us-ear.policy": VALID})
    ps = read_policies(root)
    data = {"id": "P", "date": "2026-11-28", "destination": "FR", "items": items, **fields}
    d = api.evaluate(data, policies=ps)
    assert d["outcome"] in ("prohibited", "indeterminate", "license_required", "authorized", "no_license_required", "not_applicable")
    r = d["regimes"][0]
    if r["outcome"] == "indeterminate":
        assert r["missing"], "an indeterminate regime must say which facts would settle it"
