"""Hostile transactions (issue 12, part A) and real country codes (issue 9.1): every crafted input in
tests/hostile/ is a located exit 2 (or the right answer), through the real CLI entry, never a
traceback and never E901."""

import io
import json
import os
import re
from pathlib import Path

import pytest

from conftest import RS1_POLICY, base_tx, write_policies
from exportctl import facts
from exportctl.cli import main

HOSTILE = Path(__file__).parent / "hostile"
TX = HOSTILE / "transactions"


def run(argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin) if isinstance(stdin, str) else stdin, stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def pol(tmp_path_factory):
    return str(write_policies(tmp_path_factory.mktemp("pol"), {"us-ear/us-ear.policy": RS1_POLICY}))


def assert_located(err, code, path, *words):
    """`file:line:col: CODE` (or, for a JSON document, `file: CODE json.path: ...`) and no traceback."""
    assert "Traceback" not in err and "E901" not in err, err
    assert re.search(rf"{re.escape(str(path))}[0-9:]*: {code} ", err), err
    for w in words:
        assert w in err, err


CASES = [
    # file, code, words the message must hold, must it give line:col
    ("deep-components.json", "E603", ["nested deeper than 64 levels"], True),
    ("deep-flow.yaml", "E603", ["nested deeper than 64 levels"], True),
    ("big-int.json", "E603", ["integer of 5,000 digits"], True),
    ("impossible-date.yaml", "E606", ["'2026-02-30' is not a date that exists"], True),
    ("impossible-month.json", "E606", ["date: '2026-13-01' is not a date that exists"], False),
    ("date-key.yaml", "E606", ["'2026-02-30'"], True),
    ("billion-laughs.yaml", "E608", ["alias *a0"], True),
    ("nan.json", "E604", ["NaN is not a finite number"], True),
    ("infinity.json", "E604", ["Infinity is not a finite number"], True),
    ("huge-float.json", "E604", ["items[0].value: inf is not a finite number"], False),
    ("inf.yaml", "E604", ["'.inf' is not a finite number"], True),
    ("duplicate-key.json", "E605", ["duplicate key 'destination'"], True),
    ("duplicate-key.yaml", "E605", ["duplicate key 'destination' (first given on line 3)"], True),
    ("country-uk.yaml", "E607", ["destination: UK is not an ISO 3166-1 code; did you mean GB (United Kingdom)?"], True),
    ("country-nk.json", "E607", ["end_user.country: NK is not an ISO 3166-1 code; did you mean KP "
                                 "(Korea, Democratic People's Republic of)?"], False),
    ("country-xx.yaml", "E607", ["items[0].components[0].origin: XX is not an ISO 3166-1 code"], True),
    ("subdivision-unknown.yaml", "E607", ["UA-99 is not an ISO 3166-2 subdivision code of Ukraine", "UA-09"], True),
]


@pytest.mark.parametrize("name,code,words,has_line", CASES, ids=[c[0] for c in CASES])
def test_each_hostile_transaction_is_a_located_exit_2(pol, name, code, words, has_line):
    f = TX / name
    rc, out, err = run(["evaluate", str(f), "--policies", pol, "--format", "json"])
    assert rc == 2, err
    assert_located(err, code, f, *words)
    if has_line:
        assert re.search(rf"{re.escape(str(f))}:[1-9]\d*:[1-9]\d*: {code} ", err), err
    rec = json.loads(out)   # the JSON output stays valid: one error record
    assert rec["source"].startswith(str(f)) and rec["error"][0]["code"] == code


def test_every_kind_of_bad_value_in_one_folder_gives_error_records_and_no_e901(pol, tmp_path):
    """All the crafted transactions at once, plus a good one: one error record each, the good one decided."""
    folder = tmp_path / "batch"
    folder.mkdir()
    for name, *_ in CASES:
        (folder / name).write_bytes((TX / name).read_bytes())
    (folder / "zz-good.json").write_text(json.dumps(base_tx(destination="BR")))
    rc, out, err = run(["evaluate", str(folder), "--policies", pol, "--format", "json"])
    assert rc == 2 and "Traceback" not in err and "E901" not in err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == len(CASES) + 1
    assert sorted(r["error"][0]["code"] for r in rows if "error" in r) == sorted(c[1] for c in CASES)
    assert rows[-1]["outcome"] == "license_required"
    assert f"{len(CASES)} of {len(CASES) + 1} record(s) rejected" in err


def test_a_deep_line_of_json_lines_costs_only_that_line(pol):
    f = TX / "deep-line.jsonl"
    rc, out, err = run(["evaluate", str(f), "--policies", pol, "--format", "json"])
    assert rc == 2
    assert_located(err, "E603", f"{f}:2:81")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r.get("transaction") for r in rows] == ["TX-1", None, "TX-3"]


def test_a_bad_utf8_byte_costs_only_its_line_and_the_count_is_right(pol):
    f = TX / "bad-utf8.jsonl"
    rc, out, err = run(["evaluate", str(f), "--policies", pol, "--format", "json"])
    assert rc == 2
    assert_located(err, "E601", f"{f}:3:", "not UTF-8: byte 0xff")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r.get("transaction") for r in rows] == ["TX-1", "TX-2", None, "TX-4", "TX-5", "TX-6"]
    assert "1 of 6 record(s) rejected" in err


def test_bad_utf8_deep_in_a_big_generated_stream_loses_nothing(pol, tmp_path):
    f = tmp_path / "big.jsonl"
    line = json.dumps(base_tx(destination="BR")).encode()
    lines = [line] * 6000
    lines[4999] = line.replace(b"TX-T", b"TX-\xc3\x28")
    f.write_bytes(b"\n".join(lines) + b"\n")
    rc, out, err = run(["evaluate", str(f), "--policies", pol, "--format", "json"])
    assert rc == 2 and f"{f}:5000:" in err
    assert len(out.splitlines()) == 6000
    assert "1 of 6000 record(s) rejected; the other 5999 were evaluated" in err


def test_an_over_long_json_lines_line_is_refused_and_skipped(pol, tmp_path, monkeypatch):
    monkeypatch.setattr(facts, "LIMITS", facts.Limits(line_bytes=2000))
    f = tmp_path / "long.jsonl"
    good = json.dumps(base_tx(destination="BR"))
    f.write_text(good + "\n" + json.dumps(base_tx(description="x" * 5000)) + "\n" + good + "\n")
    rc, out, err = run(["evaluate", str(f), "--policies", pol, "--format", "json"])
    assert rc == 2
    assert_located(err, "E603", f"{f}:2:1", "line longer than 2,000 bytes")
    assert len(out.splitlines()) == 3


def test_a_file_over_the_size_limit_is_refused(pol, tmp_path, monkeypatch):
    monkeypatch.setattr(facts, "LIMITS", facts.Limits(file_bytes=1000))
    f = tmp_path / "big.yaml"
    f.write_text("description: " + "x" * 2000 + "\n")
    rc, _, err = run(["evaluate", str(f), "--policies", pol])
    assert rc == 2
    assert_located(err, "E603", f, "file of 2,014 bytes (at most 1,000)")


def test_limits_on_strings_and_items(pol, tmp_path):
    lim = facts.LIMITS
    f = tmp_path / "s.json"
    f.write_text(json.dumps(base_tx(description="x" * (lim.string_chars + 1))))
    rc, _, err = run(["evaluate", str(f), "--policies", pol])
    assert rc == 2 and "E603 description: string of 10,001 characters" in err
    f.write_text(json.dumps(base_tx(items=[{"id": f"i{n}"} for n in range(lim.items + 1)])))
    rc, _, err = run(["evaluate", str(f), "--policies", pol])
    assert rc == 2 and f"E603 items: more than {lim.items:,} items and components" in err


def test_deep_python_data_given_to_the_api_is_refused_without_recursing():
    from exportctl.diagnostics import ExportctlError

    deep: list = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(ExportctlError) as e:
        facts.from_data(base_tx(description=deep), "api")
    assert e.value.diagnostics[0].code == "E603"


def test_deep_json_on_stdin(pol):
    rc, _, err = run(["evaluate", "-", "--policies", pol], stdin='{"id": ' + "[" * 3000 + "]" * 3000 + "}\n")
    assert rc == 2
    assert_located(err, "E603", "<stdin>.jsonl:1:", "nested deeper")


def test_devices_and_fifos_are_refused_never_read(pol, tmp_path):
    for dev in ("/dev/zero", "/dev/urandom"):
        rc, _, err = run(["evaluate", dev, "--policies", pol])
        assert rc == 2
        assert_located(err, "E609", dev, "a character device")
    fifo = tmp_path / "feed.jsonl"
    os.mkfifo(fifo)   # no writer: opening it for reading would hang
    rc, _, err = run(["evaluate", str(fifo), "--policies", pol])
    assert rc == 2
    assert_located(err, "E609", fifo, "a FIFO")


def test_every_unreadable_folder_entry_is_an_error_record(pol, tmp_path):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a-good.json").write_text(json.dumps(base_tx(destination="BR")))
    (folder / "loop.yaml").symlink_to(folder / "loop.yaml")
    (folder / "dangling.json").symlink_to(folder / "missing.json")
    os.mkfifo(folder / "pipe.jsonl")
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(base_tx()))
    (folder / "escape.json").symlink_to(outside)
    (folder / "up").symlink_to(tmp_path)           # a link to a folder: would loop
    (folder / "inside.json").symlink_to(folder / "a-good.json")   # inside: read
    locked = folder / "sub" / "locked"
    locked.mkdir()
    (locked / "x.json").write_text(json.dumps(base_tx()))
    locked.chmod(0)
    try:
        rc, out, err = run(["evaluate", str(folder), "--policies", pol, "--format", "json"])
        readable = os.access(locked, os.R_OK)   # root reads anything
    finally:
        locked.chmod(0o755)
    assert rc == 2 and "Traceback" not in err
    errors = {Path(r["source"]).name: r["error"][0] for r in map(json.loads, out.splitlines()) if "error" in r}
    assert errors["loop.yaml"]["code"] == "E609" and "symbolic link loop" in errors["loop.yaml"]["message"]
    assert "dangling" in errors["dangling.json"]["message"]
    assert "a FIFO" in errors["pipe.jsonl"]["message"]
    assert "out of the folder" in errors["escape.json"]["message"]
    assert "to a folder" in errors["up"]["message"]
    if not readable:
        assert "cannot read folder" in errors["locked"]["message"]
    decided = [r["transaction"] for r in map(json.loads, out.splitlines()) if "outcome" in r]
    assert decided.count("TX-T") == 2 + readable    # a-good.json and the link inside the folder


def test_jobs_beyond_the_cpus_are_clamped_with_a_note(pol, tmp_path):
    f = tmp_path / "b.jsonl"
    f.write_text("\n".join(json.dumps(base_tx(id=f"T{i}", destination="BR")) for i in range(3)) + "\n")
    rc, out, err = run(["evaluate", str(f), "--policies", pol, "--format", "json", "--jobs", "10000"])
    assert rc == 0
    assert f"note: --jobs 10000 is more than the {os.cpu_count()} CPU(s) here" in err
    assert [json.loads(x)["transaction"] for x in out.splitlines()] == ["T0", "T1", "T2"]


def test_a_homoglyph_cannot_hide_a_listed_party_on_the_real_entity_list():
    """`Сhina Academy ... (САST) 502` with Cyrillic С and А is the Entity List's CAST 502."""
    rc, out, err = run(["evaluate", str(TX / "homoglyph.yaml"), "--format", "json"])
    assert rc == 0, err
    d = json.loads(out)
    ear = next(r for r in d["regimes"] if r["regime"] == "us-ear")
    assert "ear.744_16.entity_list" in [f["rule"] for f in ear["findings"]]
    assert d["outcome"] == "license_required"


def test_norm_folds_compatibility_forms_look_alikes_and_accents_but_keeps_other_scripts():
    from exportctl.values import norm

    assert norm("\u0421hina Academy") == norm("CHINA ACADEMY") == norm("Ｃｈｉｎａ Academy")
    assert norm("Ε\u03a7AMPLE") == "example"           # Greek Epsilon and Chi
    assert norm("Société Générale") == norm("Societe Generale")
    assert norm("中国航天") == "中国航天" and norm("Роскосмос") != ""


def test_uk_for_gb_is_refused_with_the_real_policies_instead_of_a_wrong_outcome():
    """Before: a 9A515.x part to "UK" came out LICENCE REQUIRED, to "GB" NO LICENCE REQUIRED."""
    rc, _, err = run(["evaluate", str(TX / "country-uk.yaml")])
    assert rc == 2 and "did you mean GB (United Kingdom)?" in err
    gb = (TX / "country-uk.yaml").read_text().replace("destination: UK", "destination: GB")
    rc, out, err = run(["evaluate", "-", "--format", "json"], stdin=gb)
    assert rc == 0, err
    ear = next(r for r in json.loads(out)["regimes"] if r["regime"] == "us-ear")
    assert ear["outcome"] == "no_license_required"


@pytest.mark.parametrize("code", ["GB", "KP", "XK", "UA-43", "UA-14", "UA-09", "CN", "FR-75C"])
def test_real_codes_and_subdivisions_pass(code):
    assert facts.country_problem(code) is None


def test_country_fields_are_found_from_the_schema_refs():
    """Every `$ref: #/$defs/country` place, nested components and nationalities included."""
    tx = base_tx(exporter={"name": "A", "country": "US"}, consignees=[{"name": "B", "country": "DE"}],
                 launch={"site_country": "GF", "vehicle_owner_country": "FR"})
    tx["end_user"]["nationalities"] = ["FR", "CA"]
    tx["items"][0]["components"] = [{"id": "c", "origin": "JP", "components": [{"id": "d", "origin": "KR"}]}]
    paths = [facts.json_path(p) for p, _ in facts.country_fields(tx, facts.schema())]
    assert paths == sorted([
        "consignees[0].country", "destination", "end_user.country", "end_user.nationalities[0]",
        "end_user.nationalities[1]", "exporter.country", "items[0].components[0].components[0].origin",
        "items[0].components[0].origin", "items[0].origin", "launch.site_country", "launch.vehicle_owner_country",
        "ship_from"])


def test_golden_case_files_go_through_the_same_loader(tmp_path):
    """A duplicate key or an alias in a case file is a located E701, not accepted nor a crash."""
    from exportctl import cases
    from exportctl.diagnostics import ExportctlError

    f = tmp_path / "c.yaml"
    for text, word in [("cases:\n  - name: a\n    name: b\n", "duplicate key 'name'"),
                       ("x: &a [1]\ncases: *a\n", "alias *a"),
                       ("cases:\n  - name: a\n    with: {value: .nan}\n", "not a finite number")]:
        f.write_text(text)
        with pytest.raises(ExportctlError) as e:
            cases.read_case_file(f, tmp_path, {})
        d = e.value.diagnostics[0]
        assert d.code == "E701" and word in d.message and d.span.line >= 1, d
