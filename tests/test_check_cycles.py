"""Cycles, recursion, country codes and the policy folder walk (check)."""

from __future__ import annotations

import os

import pytest

from conftest import write_policies
from exportctl.policyset import policy_files, read_policies

H = 'regime demo "Demo" binding version "1" source "Demo"\napplies when true\n'
R = 'rule demo.r "r" cite "c" when {} then prohibited\n'


def codes(tmp_path, text: str) -> list[str]:
    root = write_policies(tmp_path / "p", {"demo/demo.policy": text})
    return [d.code for d in read_policies(root).errors]


def test_structural_recursion_over_components_is_accepted(tmp_path):
    text = H + ("define v(x) = (sum c.value for c in x.components) + (sum v(c) for c in x.components)\n"
                "define us(x) = any c in components_of(x): c.origin == \"US\" or us(c)\n"
                "define f(x) = any c in x.components: g(c)\ndefine g(x) = any d in x.components: f(d)\n"
                + R.format("any i in items: v(i) > 1 and us(i) and f(i)"))
    assert codes(tmp_path, text) == []


@pytest.mark.parametrize("defs,call", [
    ("define f(x) = any c in x.components: f(x)\n", "any i in items: f(i)"),           # not the component
    ("define f(x, y) = any c in x.components: f(y, c)\n", "any i in items: f(i, i)"),  # wrong position
    ("define f(x) = any c in items: f(c)\n", "any i in items: f(i)"),                  # not x's components
    ("define f(x) = any c in x.components: g(c)\ndefine g(x) = f(x)\n", "any i in items: f(i)"),
])
def test_recursion_that_does_not_get_smaller_is_e209(tmp_path, defs, call):
    assert "E209" in codes(tmp_path, H + defs + R.format(call))


def test_kosovo_and_iso_codes_pass_and_typos_do_not(tmp_path):
    ok = H + 'set s "Countries" = {XK, GB, FR}\n' + R.format("destination in s")
    assert codes(tmp_path, ok) == []
    assert codes(tmp_path / "b", H + 'set s = {FR, EL}\n' + R.format("ship_from in s")) == ["E211"]
    # not a country set: two-letter names are left alone
    assert codes(tmp_path / "c", H + 'set s = {FR, EL}\n' + R.format('"x" in s')) == []


def test_a_workspace_of_linked_folders_inside_the_root_is_read_once(tmp_path):
    root = write_policies(tmp_path / "ws", {"store/demo/demo.policy": H})
    os.symlink("store/demo", root / "demo")
    os.symlink("..", root / "store" / "up")
    found = policy_files(root, problems := [])
    assert len(found) == 1
    assert [p.code for p in problems] == ["E109"]    # the loop, reported, not followed
