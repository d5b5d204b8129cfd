"""A cold `exportctl evaluate` (issue 14, part 5): what a start with a filled cache does not do
(import Lark, rich or pypinyin, parse YAML lists, build every closure), and that each shortcut
gives exactly what the long way gives. Times are in benchmarks/cold_start.py, not here."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from exportctl import render
from exportctl.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
HEAVY = ("lark", "rich", "pypinyin", "pycountry", "jsonschema", "rapidfuzz", "jsonschema_rs", "orjson", "yaml")


def _evaluate_in_a_new_process(env, *extra):
    code = ("import sys, io; from exportctl.cli import main; out = io.StringIO(); "
            f"rc = main(['evaluate', {str(QUICKSTART)!r}, *{list(extra)!r}], stdout=out, env={{}}); "
            f"print(rc, sorted(m for m in {HEAVY!r} if m in sys.modules)); print(out.getvalue(), end='')")
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    head, _, out = p.stdout.partition("\n")
    return head, out


def test_a_start_with_a_filled_cache_imports_no_parser_renderer_or_transliteration(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first_head, first = _evaluate_in_a_new_process(env)
    assert first_head.startswith("0 ") and "lark" in first_head      # parsed, and filled the cache
    second_head, second = _evaluate_in_a_new_process(env)
    assert second_head == "0 []" and second == first
    # a changed engine (any module, in a subpackage too) is a new key: parsed again
    assert len(list((tmp_path / "xdg" / "exportctl").glob("*.pickle"))) >= 2
    env["EXPORTCTL_NO_CACHE"] = "1"
    third_head, third = _evaluate_in_a_new_process(env)
    assert "lark" in third_head and third == first


def test_the_engine_stamp_covers_subpackages(monkeypatch, tmp_path):
    from exportctl import policy_cache

    before = policy_cache._engine_stamp()
    target = Path(policy_cache.__file__).resolve().parent / "screening" / "names.py"
    st = target.stat()
    try:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
        assert policy_cache._engine_stamp() != before
    finally:
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert policy_cache._engine_stamp() == before


def test_screening_lists_come_from_the_cache_and_a_changed_list_is_read_again(tmp_path, monkeypatch):
    import shutil

    from exportctl.screening import model

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    pol = tmp_path / "pol"
    shutil.copytree(ROOT / "policies" / "lists", pol / "lists")
    reads = []
    real = model.read_dataset
    monkeypatch.setattr(model, "read_dataset", lambda p: reads.append(p.name) or real(p))
    model.forget()
    first = model.load(pol)
    n = len(reads)
    assert n >= 1 and first._index is not None          # stored with its index
    model.forget()
    second = model.load(pol)
    assert len(reads) == n and second.digest == first.digest and second._index is not None
    assert [e.id for e in second.entries] == [e.id for e in first.entries]
    f = next((pol / "lists").glob("us-*.yaml"))
    f.write_text(f.read_text().replace("\n", "\n# changed\n", 1))
    model.forget()
    third = model.load(pol)
    assert len(reads) == 2 * n and third.digest != first.digest
    model.forget()


def test_policy_files_below_the_small_size_never_need_the_parsers_limit():
    from exportctl import parse, policyset

    assert policyset._SMALL_FILE <= 4 * parse.MAX_FILE
    assert max(f.stat().st_size for f in (ROOT / "policies").rglob("*.policy")) < policyset._SMALL_FILE


# ---------------------------------------------------------------- text without rich

def _rich_text(fn, *args, **kw):
    """What the renderer wrote before: the same calls on rich's own console."""
    real = render._console
    try:
        render._console = lambda color, width=None, plain=True: real(color, width, plain=False)
        return fn(*args, **kw)
    finally:
        render._console = real


def test_plain_text_is_byte_for_byte_what_rich_writes_for_every_example():
    from exportctl.api import decide, load_policies
    from exportctl.facts import from_data
    from exportctl.loading import yaml_documents

    ps = load_policies(ROOT / "policies")
    files = sorted((ROOT / "examples" / "transactions").glob("*.yaml"))[::4] + [QUICKSTART]
    for f in files:
        data = yaml_documents(f.read_text())[0][1]
        d = decide(ps, from_data(data, folder=ps.schema_folder))
        assert render.decision_text(d) == _rich_text(render.decision_text, d), f.name


NASTY = ["", " ", "a\tb", "\r\n", "x\x07y\x08z\x0b\x0c\r", "\x1b[31mred", "[bold]not markup[/bold]", ":smile:",
         "中国长城工业集团", "e\u0301", "trailing   ", "\u200b", "🚀", "a\nb\n", "\\", "%s {x}"]


@pytest.mark.parametrize("seed", range(20))
def test_plain_text_equals_rich_on_awkward_strings(seed):
    rnd = random.Random(seed)

    def s():
        return "".join(rnd.choice(NASTY) for _ in range(rnd.randint(0, 4)))

    d = {"outcome": "license_required", "transaction": s(), "as_of": "2026-11-28", "driven_by": [s()],
         "warnings": [{"message": s()}], "policy_digest": "sha256:" + s(), "questions": [], "obligations": [
             {"text": s(), "form": s() or None, "items": [s()], "cite": s(), "regime": s(), "unverified": s()}],
         "regimes": [{"regime": s(), "title": s(), "binding": True, "outcome": "prohibited", "version": s(),
                      "denial_kind": "absolute", "note": s(), "missing": [], "checked": [
                          {"rule": s(), "item": s(), "failed": s(), "facts": {s(): s()}}],
                      "findings": [{"outcome": "prohibited", "message": s(), "cite": s(), "rule": s(), "item": s(),
                                    "because": {s(): [s(), True, None]}, "unverified": s()}]}]}
    assert render.decision_text(d) == _rich_text(render.decision_text, d)
    assert render.decision_text(d, color=True) == _rich_text(render.decision_text, d, color=True)
    from exportctl.diagnostics import Diagnostic
    from exportctl.source import Span

    diag = Diagnostic("E601", s(), Span("tx.yaml", 1, 2), hint=s())
    src = {"tx.yaml": s() + "\n" + s()}
    assert render.diagnostic_text(diag, src) == _rich_text(render.diagnostic_text, diag, src)


# ---------------------------------------------------------------- one subcommand's parser

def _actions(parser):
    out = []
    for a in parser._actions:
        sub = getattr(a, "choices", None)
        nested = {k: _actions(v) for k, v in sub.items()} if isinstance(sub, dict) else None
        out.append((tuple(a.option_strings), a.dest, a.nargs, a.default, a.help, nested))
    return out


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_commands_own_parser_is_the_full_parsers(command):
    full = build_parser()._subparsers._group_actions[0].choices[command]
    only = build_parser(command)._subparsers._group_actions[0].choices
    assert list(only) == [command]
    assert _actions(only[command]) == _actions(full) and only[command].format_help() == full.format_help()


def test_usage_errors_read_the_same_with_one_subcommand():
    out, err = io.StringIO(), io.StringIO()
    assert main(["evaluate", "x.yaml", "--format", "pdf"], stdout=out, stderr=err, env={}) == 2
    assert "exportctl evaluate: argument --format: invalid choice: 'pdf'" in err.getvalue()
    err = io.StringIO()
    assert main(["evaluat", "x"], stdout=out, stderr=err, env={}) == 2
    assert "invalid choice: 'evaluat'" in err.getvalue() and "'evaluate'" in err.getvalue()


# ---------------------------------------------------------------- closures built on first use

def test_closures_are_built_on_first_call_and_decide_as_before(policy_dir, monkeypatch):
    from conftest import RS1_POLICY, base_tx, decide
    from exportctl import compile as C

    built = []
    real = C.Compiler._now
    monkeypatch.setattr(C.Compiler, "_now", lambda self, e, scope: built.append(e) or real(self, e, scope))
    ps = policy_dir({"us-ear/us-ear.policy": RS1_POLICY})
    assert ps.regimes and built == []                    # compiled regimes, no closure built yet
    d = decide(ps, base_tx(destination="CN"))
    n = len(built)
    assert n >= 1 and d["outcome"] == "license_required"
    assert decide(ps, base_tx(destination="CN")) == d and len(built) == n     # each built once
    assert decide(ps, base_tx(destination="GB"))["outcome"] != "license_required"


# ---------------------------------------------------------------- code that @dataclass writes

_CODE_REPORT = """
import hashlib, marshal, sys, io
from exportctl import cli, policy_cache
out = io.StringIO()
cached = len(policy_cache._CODES or {})
compiled = []
policy_cache.compile = lambda *a, **k: compiled.append(1) or compile(*a, **k)
rc = cli.main(['evaluate', sys.argv[1]], stdout=out, env={})
import exportctl.ast as A, exportctl.evaluate as E
h = hashlib.sha256()
for mod in (A, E):
    for name, cls in sorted(vars(mod).items()):
        if isinstance(cls, type) and cls.__module__ == mod.__name__ and hasattr(cls, '__dataclass_fields__'):
            for m in ('__init__', '__repr__', '__eq__', '__hash__', '__setattr__'):
                f = cls.__dict__.get(m)
                if f is not None:
                    h.update(name.encode() + m.encode() + marshal.dumps(f.__code__))
                    h.update(repr(getattr(f, '__annotations__', None)).encode())
print(rc, cached, h.hexdigest(), len(compiled))
print(out.getvalue(), end='')
"""


def _code_report(env):
    p = subprocess.run([sys.executable, "-c", _CODE_REPORT, str(QUICKSTART)], env=env, capture_output=True,
                       text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    head, _, out = p.stdout.partition("\n")
    rc, cached, digest, compiled = head.split()
    return int(rc), int(cached) if int(compiled) == 0 else -int(compiled), digest, out


def test_dataclass_methods_come_from_the_cache_and_are_the_code_python_compiles(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    rc, cached, first, out = _code_report(env)
    assert rc == 0 and cached < -100                    # nothing cached yet: compiled as usual
    rc, cached, second, again = _code_report(env)
    assert rc == 0 and cached > 100 and second == first and again == out
    off = {**env, "EXPORTCTL_NO_CACHE": "1"}
    rc, cached, third, plain = _code_report(off)
    assert cached < -100 and third == first and plain == out     # off: compiled every time


def test_a_damaged_code_entry_is_not_used(tmp_path, monkeypatch):
    from exportctl import policy_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    k = policy_cache._code_key()
    policy_cache._write(k, b"not marshal data")
    monkeypatch.setattr(policy_cache, "_CODES", None)
    import dataclasses

    monkeypatch.setattr(dataclasses, "exec", exec, raising=False)
    policy_cache.cache_generated_code()
    assert policy_cache._CODES == {} and dataclasses.exec is policy_cache._exec
    monkeypatch.setattr(policy_cache, "_NEW", {})

    @dataclasses.dataclass(frozen=True)
    class Point:
        __module__ = "exportctl.ast"    # the cache serves the engine's own classes only
        x: int
        y: int = 2

    assert Point(1) == Point(1, 2) and repr(Point(1)).endswith("Point(x=1, y=2)")
    assert len(policy_cache._NEW) >= 3                  # compiled here, as exec would


# ---------------------------------------------------------------- inputs the schema accepted before

def test_a_valid_input_is_known_again_and_nothing_else_is(tmp_path, monkeypatch):
    from exportctl import facts
    from exportctl.diagnostics import ExportctlError
    from exportctl.loading import yaml_documents

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data = yaml_documents(QUICKSTART.read_text())[0][1]

    def fresh_process():
        facts._known.cache_clear()
        facts._fast_validator.cache_clear()

    calls = []
    real = facts._fast_validator.__wrapped__

    def counting(*a):
        calls.append(a)
        return real(*a)

    monkeypatch.setattr(facts, "_fast_validator", facts.lru_cache(maxsize=None)(counting))
    fresh_process()
    first = facts.from_data(data)
    assert len(calls) == 1                               # validated, and remembered
    fresh_process()
    again = facts.from_data(data)
    assert len(calls) == 1 and again.digest == first.digest and again.data == first.data
    # another input is validated (and a wrong one still refused with its diagnostics)
    fresh_process()
    bad = {**data, "kind": "smuggle"}
    with pytest.raises(ExportctlError) as e:
        facts.from_data(bad)
    assert len(calls) == 2 and "kind" in str(e.value.diagnostics[0].message)
    fresh_process()
    with pytest.raises(ExportctlError):
        facts.from_data(bad)
    # the cache is keyed by the schema: another schema folder does not know the input
    other = tmp_path / "schema"
    other.mkdir()
    text = (facts.schema_dir() / "transaction.schema.json").read_text()
    (other / "transaction.schema.json").write_text(text.replace('"title"', '"$comment": "changed", "title"', 1))
    fresh_process()
    facts.from_data(data, folder=str(other))
    assert len(calls) == 4
    # off: always validated
    monkeypatch.setenv("EXPORTCTL_NO_CACHE", "1")
    fresh_process()
    facts.from_data(data)
    assert len(calls) == 5
    facts._fast_validator.cache_clear()


# ---------------------------------------------------------------- no transaction data in the cache

def test_the_cache_folder_never_holds_a_transactions_data(tmp_path):
    """The cache keeps policies, lists, code and digests; a transaction's facts never (they are
    export-control data): every file it holds after two evaluations lacks the transaction's words."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    marker = "TX-NOT-IN-CACHE-4711"
    tx = tmp_path / "tx.yaml"
    tx.write_text(QUICKSTART.read_text().replace("id: TX-2026-0042", f"id: {marker}", 1)
                  .replace("description: ", "description: Zyxwv-secret ", 1))
    for _ in range(2):
        p = subprocess.run([sys.executable, "-m", "exportctl.cli", "evaluate", str(tx)], env=env,
                           capture_output=True, text=True, cwd=ROOT)
        assert p.returncode == 0 and marker in p.stdout, p.stderr
    files = [f for f in (tmp_path / "xdg").rglob("*") if f.is_file()]
    assert files and not [f.name for f in files if b"TX-NOT-IN-CACHE" in f.read_bytes() or b"Zyxwv" in f.read_bytes()]


# ---------------------------------------------------------------- the collector paused while starting

def test_the_collector_is_paused_for_the_start_only(monkeypatch):
    import gc

    from exportctl import api

    seen = []
    real = api.decide
    monkeypatch.setattr(api, "decide", lambda *a, **k: seen.append(gc.isenabled()) or real(*a, **k))
    assert gc.isenabled()
    out, err = io.StringIO(), io.StringIO()
    assert main(["evaluate", str(QUICKSTART), str(QUICKSTART), "--format", "json"], stdout=out, stderr=err, env={}) == 0
    assert seen == [False, True] and gc.isenabled()          # on again after the first decision
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[0] == lines[1] and json.loads(lines[0])["outcome"]
    seen.clear()
    main(["evaluate", str(QUICKSTART), "--format", "markdown"], stdout=io.StringIO(), env={})
    assert seen == [True] and gc.isenabled()                 # other ways of deciding: at once
    gc.disable()
    try:
        main(["evaluate", str(QUICKSTART)], stdout=io.StringIO(), env={})
        assert seen[-1] is False and not gc.isenabled()     # the caller's setting is kept
    finally:
        gc.enable()


def test_without_the_fast_extra_jsonschemas_yes_is_remembered_too(tmp_path, monkeypatch):
    """A plain `pip install .` has no compiled validator: jsonschema (over 100 ms to import)
    validated every start. Its yes is now kept like jsonschema-rs's, under a key of its own."""
    from exportctl import facts
    from exportctl.diagnostics import ExportctlError
    from exportctl.loading import yaml_documents

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    data = yaml_documents(QUICKSTART.read_text())[0][1]
    assert facts._validating_engine().startswith("jsonschema_rs\0")      # the test extra installs it
    engine = ["jsonschema\0/x/jsonschema/__init__.py\0100\0200"]
    monkeypatch.setattr(facts, "_validating_engine", lambda: engine[0])
    monkeypatch.setattr(facts, "_fast_validator", facts.lru_cache(maxsize=None)(lambda *a: None))
    checked = []
    real = facts._validator.__wrapped__
    monkeypatch.setattr(facts, "_validator", lambda *a: checked.append(a) or real(*a))

    def fresh_process():
        facts._known.cache_clear()
        facts._fast_validator.cache_clear()

    fresh_process()
    first = facts.from_data(data)
    assert len(checked) == 1
    fresh_process()
    assert facts.from_data(data).data == first.data and len(checked) == 1        # known: not validated
    bad = {**data, "kind": "smuggle"}
    for _ in range(2):                                   # refused each time, never remembered
        fresh_process()
        with pytest.raises(ExportctlError):
            facts.from_data(bad)
    assert len(checked) == 3
    engine[0] = "jsonschema\0/x/jsonschema/__init__.py\0100\0201"           # reinstalled: validated again
    fresh_process()
    facts.from_data(data)
    assert len(checked) == 4
    fresh_process()


# ---------------------------------------------------------------- `evaluate FILE...` without argparse

@pytest.mark.parametrize("words", [["evaluate", "a.yaml"], ["evaluate", "a.yaml", "b.json", "-"], ["evaluate", "-"],
                                   ["evaluate", "dir/with space=1.yaml", "@x"]])
def test_evaluate_with_files_only_reads_as_argparse_reads_it(words):
    from exportctl import cli

    fast = cli._plain_evaluate(words)
    assert fast is not None and vars(fast) == vars(build_parser("evaluate").parse_args(words))


@pytest.mark.parametrize("words", [["evaluate"], ["evaluate", "--format", "json", "a.yaml"], ["evaluate", "a.yaml", "--jobs", "2"],
                                   ["evaluate", "--", "a.yaml"], ["evaluate", "-x"], ["evaluate", ""], ["check", "a"],
                                   ["evaluate", "a.yaml", "-h"], ["--debug", "evaluate", "a.yaml"]])
def test_anything_else_goes_to_argparse(words):
    from exportctl import cli

    assert cli._plain_evaluate(words) is None


def test_a_start_that_evaluates_files_only_imports_no_argparse(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    code = ("import sys, io; from exportctl.cli import main; rc = main(['evaluate', %r], stdout=io.StringIO(), env={}); "
            "print(rc, 'argparse' in sys.modules)") % str(QUICKSTART)
    p = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    assert p.stdout.split() == ["0", "False"], p.stderr


def _planted_code_cache(tmp_path, monkeypatch, make) -> tuple:
    """The method texts `@dataclass` writes for the class `make()` defines, each filed in a fresh
    code cache with code that sets EXPORTCTL_PWNED if it ever runs; the cache then read back.
    Returns (texts, that code)."""
    import dataclasses
    import marshal

    from exportctl import policy_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    seen = {}
    monkeypatch.setattr(dataclasses, "exec", lambda src, g=None, l=None: seen.setdefault(src, 1) and exec(src, g, l),
                        raising=False)
    make()
    texts = list(seen)
    assert texts
    evil = compile("import os\nos.environ['EXPORTCTL_PWNED'] = '1'\n", "<string>", "exec")
    policy_cache._write(policy_cache._code_key(), marshal.dumps({t: evil for t in texts}))
    monkeypatch.setattr(policy_cache, "_CODES", None)
    monkeypatch.setattr(policy_cache, "_NEW", {})
    policy_cache.cache_generated_code()
    assert len(policy_cache._CODES) == len(texts)
    return texts, evil


def test_a_cached_code_object_that_does_not_fit_its_text_is_compiled_again(tmp_path, monkeypatch):
    """An entry with a valid header whose code was not compiled from the text it is filed under
    (another text's code, or a code object naming something the text does not) is not run."""
    import dataclasses

    from exportctl import policy_cache

    def make():
        @dataclasses.dataclass(frozen=True)
        class Point:
            x: int

    texts, evil = _planted_code_cache(tmp_path, monkeypatch, make)

    @dataclasses.dataclass(frozen=True)
    class Point:  # noqa: F811 - the same class again, its methods from the (bad) cache
        __module__ = "exportctl.ast"    # the cache serves the engine's own classes only
        x: int

    assert "EXPORTCTL_PWNED" not in os.environ and Point(3).x == 3 and repr(Point(3)).endswith("Point(x=3)")
    assert set(policy_cache._NEW) == set(texts)          # compiled here instead
    for t in texts:
        assert policy_cache._fits(policy_cache._NEW[t], t) and not policy_cache._fits(evil, t)


# ------------------------------------------------------------ the plain YAML of transactions

def _pyyaml(text):
    import yaml

    from exportctl import facts, loading

    try:
        docs = loading.yaml_documents(text)
    except yaml.YAMLError:
        return "error"
    return [(facts.yaml_lines(n), d) for n, d in docs if d is not None]


def _quick(text):
    from exportctl import facts, loading

    q = loading.quick_yaml(text)
    return None if q is None else [(facts.quick_lines(q[0]), q[1])]


_YAML_FILES = sorted(p for d in ("examples", "tests/hostile", "tests/fixtures") for p in (ROOT / d).rglob("*.y*ml"))
_TRICKY = ["0123", "1_000", "+1", "1e5", "1.5e+3", ".5", "1:20", "0x1F", "0b11", "2026-1-5", "2026-02-30",
           "2026-11-28 10:00:00", "yes", "No", "on", "~", "null", "NULL", "Null", "nULL", "True", "tRUE", "'a''b'",
           "\"x\"", "\"a\\\"b\"", "-", "- x", "-x", "-1", "-1.5", "a: b", "a #b", "a#b", "&a x", "*a", "!!str 1",
           "[a, b]", "{a: 1}", "[]", "{}", "[a, {b: c}]", "[a, ]", "{a: }", "{a:b}", "caf\u00e9", "\u2028x", "\tx",
           "a,b", "a [b]", "'open", "9A515.a", ".inf", ".nan", "1" * 31, "0", "-0", "00", "0.0", "1.", "<<", "=",
           "?x", "%x", "@x", "|", ">", "a\n  continued", "[1, [2, [3]]]", "x" * 10001, "[a, b", "[a?b]",
           "{a: b, a: c}", "''", "a  b", "\x7f", "\x85", "\ufeff", "true:", "null: x", "{true: 1}"]


def test_every_yaml_example_reads_the_same_without_pyyaml():
    """Each example transaction takes the quick path, and gives PyYAML's data, lines and order."""
    quick = 0
    for path in _YAML_FILES:
        text = path.read_text(encoding="utf-8")
        q = _quick(text)
        if q is not None:
            quick += 1
            assert repr(q) == repr(_pyyaml(text)), path     # repr: True is not 1, 1.0 is not 1
        else:
            assert "examples" not in path.parts, path
    assert quick >= 80


def test_mutated_yaml_reads_as_pyyaml_reads_it_or_goes_to_pyyaml():
    """Thousands of edits of the examples (odd scalars, keys, indents, comments, markers): whatever
    the quick reader accepts, PyYAML reads to the same data and lines (errors included: it must
    have refused those)."""
    rng = random.Random(14)
    base = [p.read_text(encoding="utf-8") for p in _YAML_FILES if "examples" in p.parts][:40]
    accepted = 0
    for _ in range(2500):
        lines = rng.choice(base).split("\n")
        j = rng.randrange(len(lines))
        line, op = lines[j], rng.randrange(7)
        if op == 0 and ": " in line:
            lines[j] = line.partition(": ")[0] + ": " + rng.choice(_TRICKY)
        elif op == 1:
            lines[j] = " " * rng.randrange(4) + line
        elif op == 2:
            del lines[j]
        elif op == 3 and line.strip():
            p = rng.randrange(len(line))
            lines[j] = line[:p] + rng.choice(" -:,[]{}#'\"\t&*!?|>%@x0\u00e9") + line[p:]
        elif op == 4 and ":" in line:
            indent = len(line) - len(line.lstrip())
            key = rng.choice(["id", "true", "null", "a b", "'q'", "x-y", "_k", "1", "k?", "\u00e9", "id"])
            lines[j] = " " * indent + key + ":" + line.split(":", 1)[1]
        elif op == 5:
            lines[j] = line.rstrip() + rng.choice(["  # c", " ", ":", " x", "\r"])
        else:
            lines.insert(j, " " * rng.randrange(6) + rng.choice(
                ["- " + rng.choice(_TRICKY), "k: " + rng.choice(_TRICKY), "#c", "---", "...", "k:", "-", "- k: v"]))
        text = "\n".join(lines)
        q = _quick(text)
        if q is not None:
            accepted += 1
            assert repr(q) == repr(_pyyaml(text)), text
    assert accepted > 500      # the edits leave plenty inside the subset, so the comparison bites


def test_a_transaction_outside_the_subset_is_read_by_pyyaml_with_its_messages(tmp_path):
    """Block scalars, anchors, a bad date: PyYAML's path, same data or the same located error."""
    from exportctl import facts

    base = QUICKSTART.read_text(encoding="utf-8")
    odd = base.replace("kind: export\n", "kind: &k export\nnote: |\n  two\n  lines\n")
    assert _quick(odd) is None
    rec = list(facts.read_text(odd, "odd.yaml"))
    assert rec[0].error is not None or rec[0].transaction is not None
    bad = base.replace("date: 2026-11-28", "date: 2026-02-30")
    assert _quick(bad) is None
    (err,) = [r.error for r in facts.read_text(bad, "bad.yaml")]
    d = err.diagnostics[0]
    assert (d.code, d.span.line) == ("E606", 7) and "2026-02-30" in d.message


def test_the_number_precheck_misses_nothing_pyyaml_would_call_a_number():
    """`_maybe_number` skips PyYAML's patterns only for text none of them can match."""
    from exportctl import loading

    rng = random.Random(5)
    alphabet = "0123456789_.:+-eExXbBaAcdfFiInNTtZz9 "
    samples = ["9A515.a", "1.5e+3", "0x1F", "0b1", ".inf", "-.Inf", "+.INF", ".nan", ".NaN", "2026-11-28 10:00:00",
               "2026-11-28T10:00:00Z", "2026-1-2 1:00:00", "1_000", "1:20", "190:20:30.15", "0o17", "1e5"]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 22))) for _ in range(30000)]
    samples += [s[:4] + "-" + s[5:] for s in samples[:3000] if len(s) > 5]
    hits = 0
    for s in samples:
        if loading._numberish().match(s):
            hits += 1
            assert loading._maybe_number(s), s
    assert hits > 500


def test_the_policy_walk_finds_and_refuses_what_it_did(tmp_path, monkeypatch):
    """policy_files (real paths carried down instead of a realpath per folder) against the walk
    it replaced, on a tree with plain folders, links inside, out, broken, to an ancestor, and a
    folder reached twice."""
    from exportctl.diagnostics import Diagnostic
    from exportctl.policyset import policy_files
    from exportctl.source import Span

    def _walk_as_before(root, problems=None):
        """policy_files as it was before the fourth pass (its reference here)."""
        import os

        def problem(path: Path, what: str) -> None:
            if problems is not None:
                name = os.path.abspath(path)      # the link itself, not where it points
                rel = os.path.relpath(name)
                name = rel if not rel.startswith("..") else name
                problems.append(Diagnostic("E109", f"{what}: not read", Span(name, 0, 0),
                                           hint="a policy folder holds its files, or links to folders inside it"))

        try:
            real_root = root.resolve()
        except (OSError, RuntimeError):
            return []
        seen = {real_root}
        found: list[Path] = []
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as e:
                problem(folder, f"cannot list the folder ({e.strerror or e})")
                continue
            for ent in entries:
                path = Path(ent.path)
                try:
                    if ent.is_symlink():
                        try:
                            target = path.resolve(strict=True)
                        except (OSError, RuntimeError):
                            problem(path, "a broken symbolic link, or one in a loop")
                            continue
                        if target != real_root and real_root not in target.parents:
                            problem(path, f"a symbolic link out of the policy folder (to {target})")
                            continue
                        if target.is_dir():
                            real_folder = Path(os.path.realpath(folder))
                            if target == real_folder or target in real_folder.parents:
                                problem(path, "a symbolic link to a folder that contains it (a loop)")
                            elif target not in seen:
                                seen.add(target)
                                stack.append(path)
                        elif ent.name.endswith(".policy") and target.is_file():
                            found.append(path)
                    elif ent.is_dir(follow_symlinks=False):
                        real = Path(os.path.realpath(path))
                        if real not in seen:
                            seen.add(real)
                            stack.append(path)
                    elif ent.name.endswith(".policy") and ent.is_file(follow_symlinks=False):
                        found.append(path)
                except OSError as e:
                    problem(path, f"cannot be read ({e.strerror or e})")
        return sorted(found)


    root = tmp_path / "p"
    for d in ("a", "a/b", "c", "c-d", "e/f/g"):
        (root / d).mkdir(parents=True)
    for f in ("a/x.policy", "a/b/y.policy", "c/z.policy", "c-d/w.policy", "e/f/g/v.policy", "a/notes.txt"):
        (root / f).write_text("x", encoding="utf-8")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "o.policy").write_text("x", encoding="utf-8")
    (root / "link-in").symlink_to(root / "a" / "b")
    (root / "e" / "up").symlink_to(root / "e")
    (root / "out").symlink_to(tmp_path / "outside")
    (root / "broken.policy").symlink_to(root / "nowhere.policy")
    (root / "c" / "same.policy").symlink_to(root / "a" / "x.policy")
    (root / "e" / "f" / "again").symlink_to(root / "c")
    monkeypatch.chdir(tmp_path)
    for start in (root, Path("p"), Path("./p/")):
        got_p, want_p = [], []
        got = policy_files(start, got_p)
        want = _walk_as_before(start, want_p)
        assert got == want and [str(p) for p in got] == [str(p) for p in want]
        assert [d.as_dict() for d in got_p] == [d.as_dict() for d in want_p]
        assert len(got) >= 6 and len(got_p) == 3


def test_children_by_class_are_what_the_isinstance_chain_gives():
    """ast.children (a dict by class) against `_children_of` on every expression of the bundled
    policies, and the dict covers every class of Expr."""
    import dataclasses
    import typing

    from exportctl import ast as A
    from exportctl.locations import policies_root
    from exportctl.policyset import load

    assert set(typing.get_args(A.Expr)) == set(A._CHILDREN)
    seen, todo, checked = set(), list(load(policies_root()).policies), 0
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) in A._CHILDREN:
            got = A.children(node)
            assert type(got) is tuple and got == A._children_of(node)
            assert all(a is b for a, b in zip(got, A._children_of(node)))
            checked += 1
        if dataclasses.is_dataclass(node):
            todo.extend(getattr(node, f.name) for f in dataclasses.fields(node))
        elif isinstance(node, (tuple, list)):
            todo.extend(node)
    assert checked > 2000

    class Sub(A.Not):
        pass

    sub = Sub(A.Literal(True, A.Span("f", 1, 1)), A.Span("f", 1, 1))
    assert A.children(sub) == (sub.operand,) and A.children(None) == () and A.children("x") == ()


def test_a_cache_entry_is_read_by_its_size_and_a_longer_or_shorter_one_is_refused(tmp_path, monkeypatch):
    """_read asks for the file's own size (not the 256 MiB ceiling); a file with bytes added or
    missing fails its digest."""
    from exportctl import policy_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("EXPORTCTL_NO_CACHE", raising=False)
    k = "a" * 64
    policy_cache.put(k, {"x": list(range(1000))})
    assert policy_cache.get(k) == {"x": list(range(1000))}
    f = policy_cache.folder() / f"{k}.pickle"
    whole = f.read_bytes()
    f.write_bytes(whole + b"\x00")
    assert policy_cache.get(k) is None
    f.write_bytes(whole[:-1])
    assert policy_cache.get(k) is None
    f.write_bytes(whole)
    assert policy_cache.get(k) == {"x": list(range(1000))}


_OWN_WARM = ("exportctl.cli", "exportctl.batch", "exportctl.facts", "exportctl.loading", "exportctl.policyset",
             "exportctl.ast", "exportctl.source", "exportctl.diagnostics", "exportctl.render", "exportctl.locations",
             "exportctl.policy_cache", "exportctl.values")


def test_the_modules_of_a_warm_start_here_import_no_typing():
    """`typing` costs a warm start about 11 million instructions: none of these modules imports it
    (codegen's `from typing import TYPE_CHECKING` is the last one, outside this list)."""
    code = f"import sys; [__import__(m) for m in {_OWN_WARM!r}]; print(sorted(m for m in ('typing', 'exportctl.codegen') if m in sys.modules))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_the_dataclasses_of_a_warm_start_here_have_their_own_docstring():
    """A dataclass without one has `dataclasses` write `Name(signature)` with inspect.signature
    (about 5 million instructions for these 23 classes at every start)."""
    import dataclasses
    import importlib

    found = 0
    for name in _OWN_WARM:
        mod = importlib.import_module(name)
        for cls in vars(mod).values():
            if isinstance(cls, type) and cls.__module__ == name and dataclasses.is_dataclass(cls):
                found += 1
                assert "__doc__" in vars(cls) and not cls.__doc__.startswith(cls.__name__ + "("), cls
    assert found > 25


def test_style_and_outcome_are_the_namedtuples_they_were():
    """batch's records without typing.NamedTuple: the same fields, defaults, order, equality and
    pickling (workers send them between processes)."""
    import pickle

    from exportctl.batch import Outcome, Style

    assert Style._fields == ("format", "color_out", "color_err", "width", "fail_on", "record", "screening")
    assert Style() == ("json", False, False, None, None, False, None)
    assert Style("text", width=80).width == 80 and Style("text")._replace(fail_on="prohibited").fail_on == "prohibited"
    assert Outcome._fields == ("err", "out", "record", "error", "strict")
    o = Outcome(None, "x", None, False, True)
    back = pickle.loads(pickle.dumps(o))
    assert type(back) is Outcome and back == o and back.strict is True
    assert type(pickle.loads(pickle.dumps(Style("text")))) is Style
    with pytest.raises(TypeError):
        Outcome(None, "x")
    with pytest.raises(AttributeError):
        o.extra = 1


def test_signals_are_caught_and_put_back_as_they_were():
    """batch._Signals: a SIGTERM in the block raises Interrupted(15), and both handlers are put
    back, the very same objects."""
    import signal

    from exportctl.batch import Interrupted, _Signals

    def mine(*a):
        return None

    old = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, mine)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with pytest.raises(Interrupted) as e:
            with _Signals() as s:
                assert signal.getsignal(signal.SIGTERM) == s._handler
                os.kill(os.getpid(), signal.SIGTERM)
                for _ in range(1000):   # the handler runs between bytecodes, at once
                    pass
        assert e.value.signum == signal.SIGTERM == 15
        assert signal.getsignal(signal.SIGTERM) is mine and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old[0])
        signal.signal(signal.SIGTERM, old[1])


def test_the_code_cache_serves_only_the_engines_own_classes(tmp_path, monkeypatch):
    """A program that imports the CLI keeps plain `exec` for its own dataclasses: their texts are
    never looked up in the cache (a planted entry is not run), kept or written."""
    import dataclasses

    from exportctl import policy_cache

    def make():
        @dataclasses.dataclass(frozen=True)
        class Foreign:
            zz_own_field: int

    _planted_code_cache(tmp_path, monkeypatch, make)
    monkeypatch.setattr(policy_cache, "_fits", lambda code, source: True)   # even a check that lets all through

    @dataclasses.dataclass(frozen=True)
    class Foreign:  # noqa: F811 - the same texts again: not the engine's, so never from the cache
        zz_own_field: int

    assert "EXPORTCTL_PWNED" not in os.environ and Foreign(3) == Foreign(3) and repr(Foreign(3)).endswith("Foreign(zz_own_field=3)")
    assert policy_cache._NEW == {}
    assert policy_cache._ours(vars(policy_cache)) and not policy_cache._ours({"__name__": "exportctlx"})
