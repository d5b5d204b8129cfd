"""The fast batch path changes speed, never output: the compiled schema check, raw-line workers
(--jobs), the policy cache. Byte-identical output against the plain path, the fast validator
never accepting what jsonschema rejects, a too-deep or too-large record costing only itself,
and the cache's safety rules. No timing here: benchmarks/ measures."""

from __future__ import annotations

import copy
import io
import json
import os
import sys
from pathlib import Path

import pytest

from conftest import base_tx
from exportctl import facts, policy_cache
from exportctl.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "transactions"


def run(argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """Each test its own cache folder, so none reads another's entries (or the user's)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import scale
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    f = tmp_path_factory.mktemp("gen") / "gen.jsonl"
    scale.generate(160, f, seed=11)
    return f


def _with_errors(tmp_path, src: Path) -> Path:
    """`src` with hostile and invalid records mixed in (each must be an error record in place)."""
    lines = src.read_text().splitlines()[:40]
    bad = [
        "[" * 200 + "]" * 200,                                     # too deep
        json.dumps(base_tx(id="X", notes="x" * 20_000)),           # string too long
        json.dumps(base_tx(destination="UK")),                     # not a country code
        json.dumps(base_tx(date="2026-02-30")),                    # a date that does not exist
        '{"id": "D", "id": "E"}',                                  # duplicate key
        '{"id": "N", "value": NaN}',                               # not finite
        json.dumps(base_tx(destination="FR\n")),                   # the pattern's $ before a newline
        json.dumps(base_tx(colour="red")),                         # unknown key
        "not json",
    ]
    for i, b in enumerate(bad):
        lines.insert(3 + 4 * i, b)
    f = tmp_path / "mixed.jsonl"
    f.write_text("\n".join(lines) + "\n")
    return f


def _plain(monkeypatch, argv):
    monkeypatch.setattr(facts, "FAST", False)
    try:
        return run(argv)
    finally:
        monkeypatch.setattr(facts, "FAST", True)


def test_the_fast_validator_is_installed_here():
    """The `fast` extra is part of the test install: the comparisons below must compare."""
    assert facts._fast_validator("transaction", None) is not None


@pytest.mark.parametrize("which", ["examples", "generated", "mixed"])
def test_fast_path_output_is_byte_identical_to_the_plain_path(which, generated, tmp_path, monkeypatch):
    if which == "examples":
        args = [str(EXAMPLES)]
    elif which == "generated":
        args = [str(generated)]
    else:
        args = [str(_with_errors(tmp_path, generated))]
    argv = ["evaluate", *args, "--format", "json"]
    plain = _plain(monkeypatch, argv)
    fast = run(argv)
    assert fast == plain
    two = run(argv + ["--jobs", "2"])
    assert two == plain
    if which == "mixed":
        assert plain[0] == 2 and "9 of 49 record(s) rejected" in plain[2]


def test_text_format_and_fail_on_agree_between_jobs_1_and_2(generated):
    argv = ["evaluate", str(generated), "--fail-on", "prohibited"]
    one, two = run(argv), run(argv + ["--jobs", "2"])
    assert one == two
    assert one[0] == 1 and "PROHIBITED" in one[1].upper()


def test_a_too_deep_and_a_too_large_record_are_error_records_and_the_rest_are_decided(tmp_path):
    good = json.dumps(base_tx())
    deep = json.dumps(base_tx(extra={"a": "x"})).replace('"x"', "[" * 100 + "]" * 100)
    large = json.dumps(base_tx(items=[{"id": f"i{i}"} for i in range(10_001)]))
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join([good, deep, good, large, good]) + "\n")
    for jobs in ("1", "2"):
        rc, out, err = run(["evaluate", str(f), "--format", "json", "--jobs", jobs])
        rows = [json.loads(x) for x in out.splitlines()]
        assert rc == 2, err
        assert [("error" in r) for r in rows] == [False, True, False, True, False]
        assert rows[1]["error"][0]["code"] == "E603" and f"{f}:2" in rows[1]["source"]
        assert "nested deeper than 64 levels" in rows[1]["error"][0]["message"]
        assert rows[3]["error"][0]["code"] == "E603" and "more than 10,000 items" in rows[3]["error"][0]["message"]
        assert f"batch.jsonl:4:" in err and "2 of 5 record(s) rejected" in err
        assert all(r["outcome"] for r in rows if "error" not in r)


def _mutations(tx: dict):
    """Values that jsonschema and a compiled validator could judge differently."""
    odd = [None, True, False, 0, 1.0, -1, 1e308, "", "x", "FR\n", "fr", "2026-13-01", "2026-02-29",
           "2024-02-29", " 2026-01-01", [], {}, ["FR"], {"x": 1}]
    paths = [("destination",), ("date",), ("id",), ("end_user", "country"), ("end_user", "kind"),
             ("end_user", "lists"), ("items", 0, "value"), ("items", 0, "classification", "eccn"),
             ("items", 0, "classification", "usml"), ("items", 0, "components"), ("items", 0, "type"),
             ("kind",), ("currency",), ("items",), ("end_use",)]
    for path in paths:
        for v in odd:
            t = copy.deepcopy(tx)
            here = t
            for p in path[:-1]:
                here = here[p]
            here[path[-1]] = v
            yield t


def test_the_fast_validator_never_accepts_what_jsonschema_rejects():
    fast = facts._fast_validator("transaction", None)
    slow = facts._validator("transaction", None)
    seeds = [r.transaction.data for r in facts.read_path(str(EXAMPLES)) if r.transaction is not None][:6]
    seeds.append(base_tx())
    checked = rejected = 0
    for seed in seeds:
        for t in _mutations(seed):
            errors = list(slow.iter_errors(t))
            if fast(t):
                assert errors == [], (t, [e.message for e in errors])
            rejected += bool(errors)
            checked += 1
    assert checked > 1000 and rejected > 300


def test_a_record_the_fast_validator_rejects_gets_jsonschemas_words(monkeypatch):
    tx = base_tx(destination="F1")
    with pytest.raises(facts.ExportctlError) as fast:
        facts.from_data(copy.deepcopy(tx))
    monkeypatch.setattr(facts, "FAST", False)
    with pytest.raises(facts.ExportctlError) as plain:
        facts.from_data(copy.deepcopy(tx))
    assert [d.as_dict() for d in fast.value.diagnostics] == [d.as_dict() for d in plain.value.diagnostics]
    assert "destination" in fast.value.diagnostics[0].message


# ---------------------------------------------------------------- the policy cache


def _load(root):
    from exportctl.policyset import read_policies

    return read_policies(root)


def _count_parses(monkeypatch):
    from exportctl import parse

    calls = []
    real = parse.parse_policy
    monkeypatch.setattr(parse, "parse_policy", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    return calls


def test_the_policy_cache_is_used_and_a_changed_file_invalidates_it(tmp_path, monkeypatch):
    from conftest import RS1_POLICY, write_policies

    root = write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": RS1_POLICY})
    calls = _count_parses(monkeypatch)
    first = _load(root)
    second = _load(root)
    assert len(calls) == 1 and second.digest == first.digest
    assert [r.id for p in second.policies for r in p.rules] == ["ear.rs1"]
    d = policy_cache.folder()
    assert (os.stat(d).st_mode & 0o777) == 0o700
    (root / "us-ear" / "us-ear.policy").write_text(RS1_POLICY.replace("(RS1)", "(RS1, changed)"))
    third = _load(root)
    assert len(calls) == 2 and third.digest != first.digest
    assert third.policies[0].rules[0].title.endswith("changed)")


def test_a_damaged_or_unsafe_cache_entry_is_never_unpickled(tmp_path, monkeypatch):
    from conftest import RS1_POLICY, write_policies

    root = write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": RS1_POLICY})
    _load(root)
    entry = next(policy_cache.folder().glob("*.pickle"))
    calls = _count_parses(monkeypatch)
    raw = entry.read_bytes()
    entry.write_bytes(raw[:-10] + b"0123456789")          # payload changed, digest not
    assert _load(root).policies and len(calls) == 1       # parsed again, not unpickled
    entry.write_bytes(raw)
    os.chmod(entry, 0o666)                                # writable by others: not trusted
    assert _load(root).policies and len(calls) == 2
    os.chmod(entry, 0o600)
    os.chmod(policy_cache.folder(), 0o777)                # the folder writable by others
    assert _load(root).policies and len(calls) == 3
    os.chmod(policy_cache.folder(), 0o700)
    entry.write_bytes(raw)
    assert _load(root).policies and len(calls) == 3       # a sound entry is used


def test_no_cache_turns_it_off(tmp_path, monkeypatch):
    from conftest import RS1_POLICY, write_policies

    monkeypatch.setenv("EXPORTCTL_NO_CACHE", "1")
    root = write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": RS1_POLICY})
    calls = _count_parses(monkeypatch)
    _load(root)
    _load(root)
    assert len(calls) == 2 and not policy_cache.folder().exists()


def test_country_codes_are_read_from_the_cache_without_importing_pycountry(tmp_path):
    import subprocess

    code = ("import sys; from exportctl import facts; "
            "print(facts.country_problem('FR'), facts.country_problem('UK') is not None, 'pycountry' in sys.modules)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["None", "True", "True"]
    code2 = code.replace("facts.country_problem('UK') is not None, ", "")
    second = subprocess.run([sys.executable, "-c", code2], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["None", "False"]
    import pycountry

    from exportctl import countries

    assert countries._known_alpha2() == frozenset(c.alpha_2 for c in pycountry.countries)


def test_the_cache_keeps_its_newest_entries_and_drops_the_oldest(tmp_path, monkeypatch):
    """Each policy folder and install writes five or six entries: KEEP of them are kept, so that a
    few of those side by side do not push each other out (each would parse its policies again)."""
    from exportctl import policy_cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    keys = [f"{i:064x}" for i in range(policy_cache.KEEP + 2)]
    for n, k in enumerate(keys):
        policy_cache.put(k, n)
        os.utime(policy_cache.folder() / f"{k}.pickle", ns=(10**18 + n, 10**18 + n))   # written in this order
    assert policy_cache.KEEP >= 48
    assert [policy_cache.get(k) for k in keys[:3]] == [None, None, 2]
    assert policy_cache.get(keys[-1]) == len(keys) - 1
    assert len(list(policy_cache.folder().glob("*.pickle"))) == policy_cache.KEEP


@pytest.mark.parametrize("long_input", [False, True])
def test_a_long_input_file_gets_the_compiled_program_early_a_short_one_stays_with_the_closures(
        generated, monkeypatch, long_input):
    """Code generation costs about as much as a few hundred closure decisions, so a batch
    generates it after codegen.WARMUP decisions, and one known to be long (input files of
    batch.LONG_INPUT bytes or more) after EAGER_WARMUP; the decisions are the same either way."""
    from exportctl import batch, codegen
    from exportctl.policyset import read_policies, policies_root

    ps = read_policies(policies_root())          # not the process's cached set: a fresh evaluator
    monkeypatch.setattr(batch, "LONG_INPUT", generated.stat().st_size if long_input else 1 << 40)
    n = 0
    for o in batch.outcomes(ps, [str(generated)], style=batch.Style("json")):
        n += 1
        assert not o.error
    ev = codegen.compile_fast(ps)
    assert n == 160 and codegen.EAGER_WARMUP < n < codegen.WARMUP
    assert (ev._code is not None) is long_input
    assert ev.warmup == 0 if long_input else 0 < ev.warmup <= codegen.WARMUP - n   # a decision or more per record


@pytest.mark.parametrize("where", ["short file", "long file", "folder"])
def test_jobs_2_generates_the_programs_before_the_fork_unless_the_input_is_known_to_be_short(
        generated, monkeypatch, where):
    """The parent generates every epoch's program for its workers (they inherit it), except for
    input files known to be short, whose records the workers' closures decide sooner; a folder's
    length is not known, so it gets them."""
    from exportctl import batch, codegen
    from exportctl.policyset import read_policies, policies_root

    ps = read_policies(policies_root())
    monkeypatch.setattr(batch, "LONG_INPUT", 1 if where == "long file" else 1 << 40)
    path = EXAMPLES if where == "folder" else generated
    outs = list(batch.outcomes(ps, [str(path)], jobs=2, style=batch.Style("json")))
    assert len(outs) >= 75 and not any(o.error for o in outs)
    assert (codegen.compile_fast(ps)._code is not None) is (where != "short file")
    assert batch._input_bytes([str(generated)]) == generated.stat().st_size
    assert batch._input_bytes([str(generated), str(EXAMPLES)]) is None
    assert batch._input_bytes(["-"]) is None and batch._input_bytes([]) == 0
