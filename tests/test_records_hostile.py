"""Hostile record files and lost records (issue 12, part A): `records verify` reports every
malformed line located and lets no visible edit pass; a batch interrupted by SIGTERM leaves
whole lines on stdout and every printed decision recorded."""

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import RS1_POLICY, base_tx, write_policies
from exportctl import records
from exportctl.cli import main

HOSTILE = Path(__file__).parent / "hostile"


def run(argv, stdin=""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin), stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def pol(tmp_path_factory):
    return str(write_policies(tmp_path_factory.mktemp("pol"), {"us-ear/us-ear.policy": RS1_POLICY}))


@pytest.fixture
def recfile(tmp_path, pol):
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(json.dumps(base_tx(id=f"T{i}", destination="BR" if i % 2 else "GB")) for i in range(3)) + "\n")
    rec = tmp_path / "rec.jsonl"
    rc, _, err = run(["evaluate", str(f), "--policies", pol, "--record", str(rec)])
    assert rc == 0, err
    return rec


def verify(path):
    return run(["records", "verify", str(path)])


def test_a_deeply_nested_record_line_is_a_located_problem_not_a_crash():
    rc, out, err = verify(HOSTILE / "records" / "deep.jsonl")
    assert rc == 1 and "Traceback" not in err
    assert f"{HOSTILE / 'records' / 'deep.jsonl'}:1: E803 unreadable: nested deeper than 100 levels" in err


def test_a_duplicate_key_edit_does_not_pass(recfile):
    lines = recfile.read_text().splitlines()
    rec = json.loads(lines[1])
    assert rec["outcome"] == "license_required"
    # a reader that keeps the first key sees no_license_required; Python's json keeps the last
    lines[1] = lines[1].replace('"outcome":"license_required"', '"outcome":"no_license_required","outcome":"license_required"', 1)
    recfile.write_text("\n".join(lines) + "\n")
    rc, _, err = verify(recfile)
    assert rc == 1
    assert f"{recfile}:2: E802 unreadable: not a canonical record: duplicate key 'outcome'" in err


@pytest.mark.parametrize("edit", [
    lambda line: line.replace('{"as_of":', '{ "as_of":', 1),                     # spacing
    lambda line: line.replace('"transaction":"T0"', '"transaction":"\\u0054\\u0030"', 1),   # escapes
])
def test_an_edit_that_keeps_the_parsed_record_but_changes_its_bytes_does_not_pass(recfile, edit):
    lines = recfile.read_text().splitlines()
    new = edit(lines[0])
    assert new != lines[0] and json.loads(new) == json.loads(lines[0])
    lines[0] = new
    recfile.write_text("\n".join(lines) + "\n")
    rc, _, err = verify(recfile)
    assert rc == 1 and f"{recfile}:1: E802" in err


def test_nan_in_a_record_is_refused(recfile):
    lines = recfile.read_text().splitlines()
    lines[2] = lines[2].replace('"seq":2', '"seq":NaN', 1)
    recfile.write_text("\n".join(lines) + "\n")
    rc, _, err = verify(recfile)
    assert rc == 1 and f"{recfile}:3: E802" in err and "NaN" in err


def test_a_malformed_tail_is_not_chained_onto(recfile, pol, tmp_path):
    text = recfile.read_text().replace('{"as_of":', '{ "as_of":')
    recfile.write_text(text)
    f = tmp_path / "one.json"
    f.write_text(json.dumps(base_tx()))
    rc, _, err = run(["evaluate", str(f), "--policies", pol, "--record", str(recfile)])
    assert rc == 2 and "E801 record file is damaged, nothing appended" in err


def test_records_verify_refuses_a_fifo_instead_of_hanging(tmp_path):
    fifo = tmp_path / "rec.jsonl"
    os.mkfifo(fifo)
    rc, _, err = verify(fifo)
    assert rc == 2 and "not a regular file" in err


def test_an_untouched_record_file_still_verifies(recfile):
    rc, out, err = verify(recfile)
    assert rc == 0 and "3 record(s), chain intact" in out, err


def _interrupt_mid_batch(tmp_path, pol, jobs: int, sig: int) -> tuple[int, str, Path, Path]:
    """Run the real CLI on 50,000 records in a subprocess (its own process group), send `sig` to
    the group once decisions appear: (exit code, stderr, stdout file, record file). If it does
    not end, SIGABRT with PYTHONFAULTHANDLER set makes it print every thread's stack, and the
    test fails with them."""
    feed = tmp_path / "feed.jsonl"
    line = json.dumps(base_tx(destination="BR"))
    feed.write_text("\n".join(line.replace("TX-T", f"TX-{i}") for i in range(50_000)) + "\n")
    rec = tmp_path / "rec.jsonl"
    out_path = tmp_path / "out.jsonl"
    with open(out_path, "wb") as out, open(tmp_path / "err.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "exportctl.cli", "evaluate", str(feed), "--policies", pol,
                                 "--format", "json", "--record", str(rec), "--jobs", str(jobs)], stdout=out, stderr=err,
                                start_new_session=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
        try:
            deadline = time.monotonic() + 120
            while out_path.stat().st_size == 0 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert proc.poll() is None, "the batch ended before it could be interrupted"
            os.killpg(proc.pid, sig)
            try:
                rc = proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGABRT)
                proc.wait(timeout=30)
                pytest.fail(f"no exit 60 s after signal {sig}; the parent's stacks:\n" + (tmp_path / "err.txt").read_text())
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return rc, (tmp_path / "err.txt").read_text(), out_path, rec


def test_sigterm_mid_batch_leaves_whole_lines_and_every_printed_decision_recorded(tmp_path, pol):
    rc, errtext, out_path, rec = _interrupt_mid_batch(tmp_path, pol, 1, signal.SIGTERM)
    assert rc == 143, errtext
    assert "Traceback" not in errtext and "interrupted" in errtext
    text = out_path.read_text()
    assert text.endswith("\n")
    printed = [json.loads(x)["transaction"] for x in text.splitlines()]   # every line whole
    assert 0 < len(printed) < 50_000
    report = records.verify(rec)
    assert report.ok, report.problems
    recorded = [json.loads(x)["transaction"] for x in rec.read_text().splitlines()]
    assert set(printed) <= set(recorded)
    assert printed == recorded[:len(printed)]


def test_worker_processes_ignore_sigint_and_restore_sigterm():
    from exportctl import batch

    old = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, lambda *a: None)
        batch._WORKER_PS = None
        try:
            batch._worker_init(None)
        finally:
            batch._WORKER_PS = None
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGINT, old[0])
        signal.signal(signal.SIGTERM, old[1])


def test_ctrl_c_with_two_jobs_exits_130_without_worker_tracebacks(tmp_path, pol):
    """Ctrl-C reaches the whole process group: workers ignore it, the parent ends them."""
    rc, errtext, out_path, rec = _interrupt_mid_batch(tmp_path, pol, 2, signal.SIGINT)
    assert rc == 130, errtext
    assert "Traceback" not in errtext and "KeyboardInterrupt" not in errtext
    printed = [json.loads(x)["transaction"] for x in out_path.read_text().splitlines()]
    assert printed and records.verify(rec).ok
    assert printed == [json.loads(x)["transaction"] for x in rec.read_text().splitlines()][:len(printed)]


def test_an_interrupt_inside_the_pools_code_waits_for_the_block_to_end():
    """Inside batch._deferred (the pool's own calls) a signal is held, then raised at the end;
    outside any evaluate (the API) the block runs as it is."""
    from exportctl import batch

    with batch._deferred() as none:
        assert none is None
    with batch._Signals() as signals:
        assert batch._Signals.active is signals
        with pytest.raises(batch.Interrupted) as info:
            with batch._deferred():
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)   # the handler runs here and only notes the signal
                reached = True
        assert reached and info.value.signum == signal.SIGINT
    assert batch._Signals.active is None
