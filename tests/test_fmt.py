"""`exportctl fmt`: one canonical layout, comments kept, meaning unchanged, idempotent."""

import io
import random
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from exportctl.cli import main
from exportctl.fmt import format_text, same_policy
from exportctl.policyset import policies_root, policy_files

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = policy_files(policies_root())
CONFORMANCE = sorted((ROOT / "tests" / "conformance").glob("*.yaml"))


def run(argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


def _comments(text):
    return [m.group() for m in re.finditer(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*', text) if m.group().startswith("#")]


def test_there_are_policies_to_format():
    assert len(BUNDLED) >= 6 and len(CONFORMANCE) >= 10


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.parent.name)
def test_bundled_policy_formats_idempotently_to_the_same_policy(path):
    text = path.read_text(encoding="utf-8")
    once = format_text(text, str(path))
    assert format_text(once, str(path)) == once
    assert same_policy(text, once)
    assert _comments(once) == _comments(text)


@pytest.mark.parametrize("path", CONFORMANCE, ids=lambda p: p.stem)
def test_conformance_policy_formats_idempotently_to_the_same_policy(path):
    text = yaml.safe_load(path.read_text(encoding="utf-8"))["policy"]
    once = format_text(text, path.name)
    assert format_text(once, path.name) == once
    assert same_policy(text, once)


COMPACT = '''# A header comment

regime x  "X" binding version "1"   source "s"   # where it came from
set   D5 "Country Group D:5" cite "c" partial "why" = {CN ,RU , NI from 2024-03-15}


define  f( e ) "title" = e startswith { "9A515" , "9E515" }
rule x.rs1 "RS1" cite "c1" from 2020-01-01 when f( item.classification.eccn ) and - 2 < item.value
   and destination not in D5
    then license_required
rule x.sta "STA" cite "c2" exception to x.rs1
# why STA
 when any c in item.components : c.origin == "US" then authorized "STA"
rule x.ban "Ban" cite "c3" when destination in {KP} then prohibited denial absolute
encodes item.classification.eccn {"9A515"} when f(item.classification.eccn) cite "c4"
'''

CANONICAL = '''# A header comment

regime x "X" binding
  version "1"
  source "s"  # where it came from
set D5 "Country Group D:5"
  cite "c"
  partial "why" = {CN, RU, NI from 2024-03-15}

define f(e) "title" = e startswith {"9A515", "9E515"}
rule x.rs1 "RS1"
  cite "c1"
  from 2020-01-01
  when f(item.classification.eccn) and -2 < item.value
   and destination not in D5
  then license_required
rule x.sta "STA"
  cite "c2"
  exception to x.rs1
  # why STA
  when any c in item.components: c.origin == "US"
  then authorized "STA"
rule x.ban "Ban"
  cite "c3"
  when destination in {KP}
  then prohibited
  denial absolute
encodes item.classification.eccn {"9A515"}
  when f(item.classification.eccn)
  cite "c4"
'''


def test_compact_policy_gets_the_canonical_layout():
    assert format_text(COMPACT) == CANONICAL
    assert format_text(CANONICAL) == CANONICAL


def test_fmt_check_exit_1_when_a_file_would_change_and_writes_nothing(tmp_path):
    f = tmp_path / "x.policy"
    f.write_text(COMPACT, encoding="utf-8")
    code, out, err = run(["fmt", "--check", str(f)])
    assert code == 1 and f"would reformat {f}" in err
    assert f.read_text(encoding="utf-8") == COMPACT


def test_fmt_rewrites_then_check_passes(tmp_path):
    (tmp_path / "a").mkdir()
    f = tmp_path / "a" / "x.policy"
    f.write_text(COMPACT, encoding="utf-8")
    code, _, err = run(["fmt", str(tmp_path)])
    assert code == 0 and "1 file(s) reformatted" in err
    assert f.read_text(encoding="utf-8") == CANONICAL
    assert run(["fmt", "--check", str(tmp_path)])[0] == 0


def test_fmt_diff_prints_a_unified_diff(tmp_path):
    f = tmp_path / "x.policy"
    f.write_text(COMPACT, encoding="utf-8")
    code, out, _ = run(["fmt", "--diff", str(f)])
    assert code == 0
    assert "+  source \"s\"  # where it came from" in out and out.startswith("---")
    assert f.read_text(encoding="utf-8") == COMPACT
    assert run(["fmt", "--diff", "--check", str(f)])[0] == 1


def test_fmt_stdin_to_stdout():
    code, out, _ = run(["fmt", "-"], stdin=COMPACT)
    assert code == 0 and out == CANONICAL


def test_fmt_syntax_error_exit_2_located_like_check(tmp_path):
    f = tmp_path / "bad.policy"
    f.write_text('regime x "X" binding\nrule a "t"\n', encoding="utf-8")
    code, out, err = run(["fmt", str(f)])
    assert code == 2
    assert f"{f}:2:6: E101 unexpected `a`" in err and "^" in err and "hint: expected a rule id" in err
    assert "Traceback" not in err
    assert f.read_text(encoding="utf-8") == 'regime x "X" binding\nrule a "t"\n'


def test_fmt_unreadable_file_exit_2(tmp_path):
    code, _, err = run(["fmt", str(tmp_path / "missing.policy")])
    assert code == 2 and "E102" in err and "missing.policy" in err


# ---------------------------------------------------------------- properties

SMALL = [p for p in BUNDLED if p.parent.name in ("mtcr", "wassenaar")]
# Shrinking a whole policy is slow and the seed already names the failing example.
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.too_slow])
_SEGMENTS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[^"#]+')
_DECL_LINE = re.compile(r"(regime|use|applies|change|set|define|rule|conflict|encodes) ")
_CLAUSE_LINE = re.compile(r"  (version|source|note|cite|partial|from|until|unverified|exception|when|then|denial|with) ")


def _canonical(path):
    return format_text(path.read_text(encoding="utf-8"))


def disturb(canonical: str, rnd: random.Random) -> str:
    """The canonical text with its layout disturbed but not its meaning: spaces widened or added
    before punctuation, trailing spaces, declaration and clause lines re-indented, blank lines
    doubled. Formatting must give the canonical text back."""
    lines = []
    for line in canonical.split("\n"):
        parts = []
        for seg in _SEGMENTS.findall(line):
            if not seg.startswith(('"', "#")):
                if rnd.random() < 0.3:
                    seg = re.sub(r"(?<=\S) (?=\S)", lambda m: " " * rnd.randint(1, 3), seg)
                if rnd.random() < 0.3:
                    seg = re.sub(r"(?<=\S)([(){},:])", lambda m: " " * rnd.randint(0, 2) + m.group(1), seg)
            parts.append(seg)
        line = "".join(parts)
        if (_DECL_LINE.match(line) or _CLAUSE_LINE.match(line)) and rnd.random() < 0.3:
            line = " " * rnd.randint(0, 4) + line.lstrip(" ")
        if rnd.random() < 0.2:
            line += " " * rnd.randint(1, 3)
        if not line.strip() and rnd.random() < 0.3:
            line += "\n" * rnd.randint(1, 2)
        lines.append(line)
    return "\n".join(lines)


@SETTINGS
@given(st.sampled_from(SMALL), st.integers(0, 2**32))
def test_disturbed_layout_formats_back_to_the_canonical_text(path, seed):
    canonical = _canonical(path)
    disturbed = disturb(canonical, random.Random(seed))
    assert same_policy(canonical, disturbed)
    assert format_text(disturbed) == canonical


def join_clauses(canonical: str, rnd: random.Random) -> str:
    """The canonical text with some clause lines joined onto the line before (a compact policy)."""
    lines = canonical.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        if _CLAUSE_LINE.match(line) and out[-1].strip() and "#" not in out[-1] and rnd.random() < 0.5:
            out[-1] += " " + line.strip()
        else:
            out.append(line)
    return "\n".join(out)


@SETTINGS
@given(st.sampled_from(SMALL), st.integers(0, 2**32))
def test_joined_clauses_format_back_to_the_canonical_text(path, seed):
    canonical = _canonical(path)
    assert format_text(join_clauses(canonical, random.Random(seed))) == canonical


words = st.sampled_from(["destination", "item.value", "item.classification.eccn", "f(item)", "2", "10%",
                         '"9A515"', "{CN, RU}", "D5", "true", "null", "2026-01-01"])


@st.composite
def expressions(draw, depth=0):
    if depth > 2 or draw(st.integers(0, 2)) == 0:
        return draw(words)
    a, b = (f"({draw(expressions(depth + 1))})" for _ in range(2))  # precedence aside: the layout is under test
    form = draw(st.sampled_from(["{a} and {b}", "{a} or {b}", "not {a}", "({a})", "{a} == {b}", "{a} in {b}",
                                 "{a} + {b}", "-{a}", "{a} is not known", "any c in items: {a}",
                                 "count c in items where {a}", "sum c.value for c in items where {a}"]))
    sep = draw(st.sampled_from([" ", "  ", "\n    ", " # note\n  "]))
    return form.format(a=a, b=b).replace(" ", sep, 1) if "{b}" in form else form.format(a=a, b=b)


@SETTINGS
@given(expressions(), st.sampled_from(["", "# lead\n", "\n\n"]))
def test_generated_rules_format_idempotently_to_the_same_policy(expr, lead):
    text = (f'{lead}regime x "X" binding version "1" source "s"\nset D5 = {{CN}}\ndefine f(i) = i.value > 1\n'
            f'rule x.a "A" cite "c" when {expr} then license_required\n')
    once = format_text(text)
    assert format_text(once) == once
    assert same_policy(text, once)
    assert _comments(once) == _comments(text)
