"""Tests for exportctl.records: the hash chain must expose edits, removals,
reorderings and torn writes, and stay unbroken under concurrent writers."""

from __future__ import annotations

import json
import multiprocessing
from datetime import datetime, timedelta, timezone

import pytest

from exportctl import records

NOW = datetime(2026, 11, 28, 18, 30, tzinfo=timezone.utc)
INPUT = records.digest({"transaction": "TX"})


def decision(n: int, outcome: str = "license_required") -> dict:
    return {
        "as_of": "2026-11-28",
        "transaction": f"TX-{n}",
        "policy_digest": records.digest({"policy": "ear-2026"}),
        "outcome": outcome,
        "reasons": [{"rule": "ECCN 3A001", "note": "Größe ≥ 5 µm"}],
    }


def write_three(path):
    return [records.append(path, decision(i), input_digest=INPUT, now=NOW) for i in range(1, 4)]


def lines_of(path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def codes(report) -> list[tuple[int, str]]:
    return [(p.line, p.code) for p in report.problems]


# --- format ---------------------------------------------------------------


def test_canonical_json_and_digest():
    assert records.canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert records.digest({"b": 1, "a": 2}) == records.digest({"a": 2, "b": 1})
    assert records.digest(b"abc") == (
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    with pytest.raises(ValueError):
        records.canonical_json({"x": float("nan")})


def test_record_line_format(tmp_path):
    path = tmp_path / "decisions.jsonl"
    first, second = (records.append(path, decision(i), input_digest=INPUT, now=NOW) for i in (1, 2))

    raw = lines_of(path)
    assert len(raw) == 2 and all(line.endswith(b"\n") for line in raw)
    for line, rec in zip(raw, (first, second)):
        assert line.decode("utf-8") == records.canonical_json(rec) + "\n"
        assert json.loads(line) == rec
        body = {k: v for k, v in rec.items() if k != "hash"}
        assert rec["hash"] == records.digest(body)
    assert first["seq"] == 0 and first["prev"] == "sha256:" + "0" * 64
    assert second["seq"] == 1 and second["prev"] == first["hash"]
    assert first["transaction"] == "TX-1"
    assert first["as_of"] == "2026-11-28"
    assert first["outcome"] == "license_required"
    assert first["policy_digest"] == decision(1)["policy_digest"]
    assert first["input_digest"] == INPUT
    assert first["decision"] == decision(1)
    assert set(first) == {
        "seq", "recorded_at", "as_of", "transaction", "input_digest",
        "policy_digest", "outcome", "decision", "prev", "hash",
    }


def test_recorded_at_uses_injected_now(tmp_path):
    path = tmp_path / "d.jsonl"
    plus_one = timezone(timedelta(hours=1))
    rec = records.append(
        path, decision(1), input_digest=INPUT, now=datetime(2026, 11, 28, 19, 30, 5, 999, tzinfo=plus_one)
    )
    assert rec["recorded_at"] == "2026-11-28T18:30:05Z"
    with pytest.raises(ValueError):
        records.append(path, decision(2), input_digest=INPUT, now=datetime(2026, 11, 28, 18, 30))


def test_bad_input_is_refused_before_writing(tmp_path):
    path = tmp_path / "d.jsonl"
    bad = decision(1)
    del bad["policy_digest"]
    with pytest.raises(ValueError):
        records.append(path, bad, input_digest=INPUT, now=NOW)
    with pytest.raises(ValueError):
        records.append(path, decision(1), input_digest="md5:abc", now=NOW)
    with pytest.raises(ValueError):
        records.append(path, {**decision(1), "as_of": "28.11.2026"}, input_digest=INPUT, now=NOW)
    assert not path.exists()


# --- verify ---------------------------------------------------------------


def test_chain_of_three_verifies(tmp_path):
    path = tmp_path / "d.jsonl"
    recs = write_three(path)
    report = records.verify(path)
    assert report.ok is True
    assert report.records == 3
    assert report.problems == []
    assert report.head == recs[-1]["hash"]
    assert [r["seq"] for r in recs] == [0, 1, 2]


def test_missing_file_raises_and_empty_file_is_ok(tmp_path):
    with pytest.raises(FileNotFoundError):
        records.verify(tmp_path / "nope.jsonl")
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    report = records.verify(empty)
    assert (report.ok, report.records, report.problems, report.head) == (True, 0, [], None)


def test_edited_field_is_r002_at_that_line(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    rec = json.loads(raw[1])
    rec["outcome"] = "no_license_required"
    raw[1] = (records.canonical_json(rec) + "\n").encode()
    path.write_bytes(b"".join(raw))

    report = records.verify(path)
    assert report.ok is False
    assert codes(report) == [(2, "R002")]
    assert report.records == 3


def test_edit_with_recomputed_hash_breaks_the_next_link(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    rec = json.loads(raw[1])
    rec["outcome"] = "no_license_required"
    rec["hash"] = records.digest({k: v for k, v in rec.items() if k != "hash"})
    raw[1] = (records.canonical_json(rec) + "\n").encode()
    path.write_bytes(b"".join(raw))

    report = records.verify(path)
    assert report.ok is False
    assert codes(report) == [(3, "R003")]


def test_deleted_record_is_r003_and_r004(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    path.write_bytes(raw[0] + raw[2])

    report = records.verify(path)
    assert report.ok is False
    assert codes(report) == [(2, "R003"), (2, "R004")]
    assert report.records == 2


def test_swapped_records_are_detected(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    path.write_bytes(raw[0] + raw[2] + raw[1])

    report = records.verify(path)
    assert report.ok is False
    found = codes(report)
    assert (2, "R003") in found and (3, "R003") in found
    assert (2, "R004") in found and (3, "R004") in found
    assert not any(code == "R002" for _, code in found)


def test_garbage_line_is_r001(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    path.write_bytes(raw[0] + b"hello auditor\n" + raw[1] + raw[2])

    report = records.verify(path)
    assert report.ok is False
    assert codes(report) == [(2, "R001")]
    assert report.records == 3


def test_unterminated_garbage_is_not_a_torn_write(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    with open(path, "ab") as fh:
        fh.write(b"not a record")
    report = records.verify(path)
    assert report.ok is False
    assert codes(report) == [(4, "R001")]
    with pytest.raises(records.ChainError):
        records.append(path, decision(4), input_digest=INPUT, now=NOW)


# --- torn writes ----------------------------------------------------------


def test_torn_last_line_is_a_warning_and_append_chains_past_it(tmp_path):
    path = tmp_path / "d.jsonl"
    recs = write_three(path)
    raw = lines_of(path)
    torn = raw[2][: len(raw[2]) // 2]  # process killed mid-write of record 3
    path.write_bytes(raw[0] + raw[1] + torn)

    report = records.verify(path)
    assert report.ok is True
    assert codes(report) == [(3, "R005")]
    assert report.problems[0].is_warning
    assert report.records == 2

    new = records.append(path, decision(9), input_digest=INPUT, now=NOW)
    assert new["seq"] == 2
    assert new["prev"] == recs[1]["hash"]

    after = lines_of(path)
    assert after[2] == torn + b"\n"  # the fragment is kept, only terminated
    assert len(after) == 4

    report = records.verify(path)
    assert report.ok is True
    assert codes(report) == [(3, "R005")]
    assert report.records == 3
    assert report.head == new["hash"]

    records.append(path, decision(10), input_digest=INPUT, now=NOW)
    assert records.verify(path).ok is True


def test_torn_first_record_starts_a_fresh_chain(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"as_of":"2026-11')
    rec = records.append(path, decision(1), input_digest=INPUT, now=NOW)
    assert rec["seq"] == 0 and rec["prev"] == records.GENESIS
    report = records.verify(path)
    assert report.ok is True and report.records == 1
    assert codes(report) == [(1, "R005")]


def test_two_torn_writes_in_a_row(tmp_path):
    path = tmp_path / "d.jsonl"
    recs = write_three(path)
    raw = lines_of(path)
    path.write_bytes(raw[0] + raw[1][:40])  # killed while writing record 2
    second = records.append(path, decision(2), input_digest=INPUT, now=NOW)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])  # killed again, while writing that one
    third = records.append(path, decision(3), input_digest=INPUT, now=NOW)

    assert second["prev"] == third["prev"] == recs[0]["hash"]
    report = records.verify(path)
    assert report.ok is True and report.records == 2
    assert codes(report) == [(2, "R005"), (3, "R005")]


def test_truncating_a_middle_record_is_still_tampering(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    path.write_bytes(raw[0] + raw[1][:50] + b"\n" + raw[2])  # looks torn, but is not
    report = records.verify(path)
    assert report.ok is False
    assert codes(report) == [(2, "R005"), (3, "R003"), (3, "R004")]


def test_records_larger_than_the_tail_read_block(tmp_path):
    path = tmp_path / "d.jsonl"
    big = {**decision(1), "evidence": "x" * 200_000}
    first = records.append(path, big, input_digest=INPUT, now=NOW)
    second = records.append(path, big, input_digest=INPUT, now=NOW)
    path.write_bytes(path.read_bytes()[:-150_000])  # torn, longer than one block
    third = records.append(path, decision(3), input_digest=INPUT, now=NOW)
    assert second["prev"] == third["prev"] == first["hash"]
    report = records.verify(path)
    assert report.ok is True and codes(report) == [(2, "R005")]


def test_lost_newline_only_keeps_the_complete_record(tmp_path):
    path = tmp_path / "d.jsonl"
    recs = write_three(path)
    path.write_bytes(path.read_bytes()[:-1])
    assert records.verify(path).problems == []

    new = records.append(path, decision(4), input_digest=INPUT, now=NOW)
    assert new["seq"] == 3 and new["prev"] == recs[2]["hash"]
    report = records.verify(path)
    assert report.ok is True and report.records == 4 and report.problems == []


def test_append_refuses_to_chain_onto_an_edited_tail(tmp_path):
    path = tmp_path / "d.jsonl"
    write_three(path)
    raw = lines_of(path)
    rec = json.loads(raw[2])
    rec["outcome"] = "no_license_required"
    path.write_bytes(raw[0] + raw[1] + (records.canonical_json(rec) + "\n").encode())
    before = path.read_bytes()
    with pytest.raises(records.ChainError):
        records.append(path, decision(4), input_digest=INPUT, now=NOW)
    assert path.read_bytes() == before


# --- batches and concurrency ----------------------------------------------


def test_append_many(tmp_path):
    path = tmp_path / "d.jsonl"
    first = records.append(path, decision(0), input_digest=INPUT, now=NOW)
    batch = records.append_many(path, [(decision(i), INPUT) for i in range(1, 6)], now=NOW)

    assert [r["seq"] for r in batch] == [1, 2, 3, 4, 5]
    assert batch[0]["prev"] == first["hash"]
    assert all(b["prev"] == a["hash"] for a, b in zip(batch, batch[1:]))
    assert [r["transaction"] for r in batch] == [f"TX-{i}" for i in range(1, 6)]
    assert [json.loads(line) for line in lines_of(path)] == [first, *batch]
    report = records.verify(path)
    assert report.ok and report.records == 6 and report.problems == []
    assert records.append_many(path, [], now=NOW) == []


def test_append_many_checks_every_item_before_writing(tmp_path):
    path = tmp_path / "d.jsonl"
    bad = decision(2)
    del bad["outcome"]
    with pytest.raises(ValueError):
        records.append_many(path, [(decision(1), INPUT), (bad, INPUT)], now=NOW)
    assert not path.exists()


def _worker(path: str, tag: str, count: int) -> None:
    for i in range(count):
        records.append(path, decision(i, outcome=tag), input_digest=INPUT, now=NOW)


def test_concurrent_appends_keep_one_chain(tmp_path):
    path = tmp_path / "d.jsonl"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(str(path), tag, 50)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]

    report = records.verify(path)
    assert report.ok is True
    assert report.problems == []
    assert report.records == 100
    recs = [json.loads(line) for line in lines_of(path)]
    assert [r["seq"] for r in recs] == list(range(100))
    assert sorted(r["outcome"] for r in recs) == ["a"] * 50 + ["b"] * 50
