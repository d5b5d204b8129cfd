"""exportctl.distributed on a small in-process Dask cluster: the same lines as the CLI, in input
order, error records kept and located, keyed by transaction id on request."""

from __future__ import annotations

import io
import json

import pytest

from conftest import RS1_POLICY, base_tx, write_policies
from exportctl.cli import main

distributed = pytest.importorskip("exportctl.distributed")
pytest.importorskip("dask.distributed")


def _cli(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, env={})
    return code, out.getvalue()


@pytest.fixture
def batch(tmp_path):
    rows = []
    for i in range(30):
        rows.append(json.dumps(base_tx(id=f"T{i:03d}", destination=["FR", "CN", "DE"][i % 3])))
    rows[7] = "[" * 100 + "]" * 100          # too deep
    rows[12] = '{"id": "dup", "id": "dup"}'  # duplicate key
    rows.insert(20, "")                      # a blank line: skipped, lines still counted
    f = tmp_path / "batch.jsonl"
    f.write_text("\n".join(rows) + "\n")
    return f


@pytest.fixture
def pol(tmp_path):
    return str(write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": RS1_POLICY}))


def test_blocks_cut_at_line_ends_and_count_lines(batch):
    blocks = distributed.blocks(str(batch), size=500)
    assert len(blocks) > 3
    raw = batch.read_bytes()
    assert blocks[0][1] == 0 and blocks[-1][2] == len(raw)
    for (_, s, e, first), (_, s2, _, first2) in zip(blocks, blocks[1:]):
        assert e == s2 and raw[e - 1:e] == b"\n"
        assert first2 == first + raw[s:e].count(b"\n")


def test_write_on_a_local_cluster_matches_the_cli(batch, pol, tmp_path):
    from dask.distributed import Client, LocalCluster

    code, expected = _cli(["evaluate", str(batch), "--policies", pol, "--format", "json"])
    assert code == 2
    out = tmp_path / "out.jsonl"
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster, \
            Client(cluster):
        counts = distributed.write([batch], out, policies=pol, blocksize=700, ahead=2)
    assert out.read_text() == expected
    assert counts == {"records": 30, "errors": 2}
    rows = [json.loads(x) for x in expected.splitlines()]
    assert rows[7]["source"].endswith("batch.jsonl:8") and rows[7]["error"][0]["code"] == "E603"


def test_bag_in_order_and_keyed_by_transaction_id(batch, pol):
    import dask

    lines = distributed.bag(str(batch), policies=pol, blocksize=600)
    with dask.config.set(scheduler="sync"):
        got = lines.compute()
        pairs = dict(distributed.keyed(lines).compute())
    _, expected = _cli(["evaluate", str(batch), "--policies", pol, "--format", "json"])
    assert "\n".join(got) + "\n" == expected
    assert json.loads(pairs["T000"])["transaction"] == "T000"
    assert "error" in json.loads(pairs[f"{batch}:13"])


def _cli3(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(""), stdout=out, stderr=err, env={})
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def big_batch(tmp_path):
    """300 records: valid ones of several outcomes, a few rejected ones, a blank line."""
    rows = [json.dumps(base_tx(id=f"B{i:04d}", destination=["FR", "CN", "DE", "RU"][i % 4])) for i in range(300)]
    rows[5] = "[" * 100 + "]" * 100               # too deep
    rows[77] = '{"id": "dup", "id": "dup"}'       # duplicate key
    rows[150] = json.dumps(base_tx(id="B-bad", destination="XX"))   # no such country
    rows.insert(200, "")
    f = tmp_path / "big.jsonl"
    f.write_text("\n".join(rows) + "\n")
    return f


def test_cli_dask_flag_prints_what_the_cli_prints(big_batch, pol, monkeypatch):
    """`exportctl evaluate FILE --dask ADDRESS` on a LocalCluster: the same stdout, stderr and
    exit code as without --dask, in json and text, with --fail-on; the blocks are small, so
    many tasks run and their order must be kept."""
    from dask.distributed import LocalCluster

    monkeypatch.setattr(distributed, "BLOCK", 2000)
    plain = {fmt: _cli3(["evaluate", str(big_batch), "--policies", pol, "--format", fmt, "--fail-on", "prohibited"])
             for fmt in ("json", "text")}
    assert plain["json"][0] == 2 and plain["json"][1].count("\n") == 300
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        for fmt in ("json", "text"):
            got = _cli3(["evaluate", str(big_batch), "--policies", pol, "--format", fmt, "--fail-on", "prohibited",
                         "--dask", cluster.scheduler_address])
            assert got == plain[fmt], fmt
        # all valid: exit 1 from --fail-on, the same as without --dask
        ok = big_batch.with_name("ok.jsonl")
        ok.write_text("".join(x + "\n" for x in big_batch.read_text().splitlines()[:4]))
        want = _cli3(["evaluate", str(ok), "--policies", pol, "--fail-on", "license_required"])
        got = _cli3(["evaluate", str(ok), "--policies", pol, "--fail-on", "license_required",
                     "--dask", cluster.scheduler_address])
        assert got == want and want[0] in (0, 1)


def test_cli_dask_flag_bad_input_is_exit_2_with_a_message(tmp_path, pol, monkeypatch):
    y = tmp_path / "tx.yaml"
    y.write_text("id: T\n")
    code, out, err = _cli3(["evaluate", str(y), "--policies", pol, "--dask", "tcp://127.0.0.1:9"])
    assert code == 2 and "tx.yaml: --dask evaluates JSON Lines files" in err and "Traceback" not in err
    code, _, err = _cli3(["evaluate", str(tmp_path / "none.jsonl"), "--policies", pol, "--dask", "tcp://127.0.0.1:9"])
    assert code == 2 and "none.jsonl: no such file" in err
    j = tmp_path / "tx.jsonl"
    j.write_text(json.dumps(base_tx()) + "\n")
    code, _, err = _cli3(["evaluate", str(j), "--policies", pol, "--dask", "tcp://127.0.0.1:9", "--jobs", "2"])
    assert code == 2 and "--jobs and --dask" in err
    code, _, err = _cli3(["evaluate", str(j), "--policies", pol, "--dask", "tcp://127.0.0.1:9", "--format", "html"])
    assert code == 2 and "--dask writes text or json, not html" in err
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", "1s")
    code, out, err = _cli3(["evaluate", str(j), "--policies", pol, "--dask", "tcp://127.0.0.1:9"])
    assert code == 2 and out == "" and "cannot reach the Dask scheduler at 'tcp://127.0.0.1:9'" in err
    assert "E901" not in err


def test_policies_loaded_once_per_worker_process(batch, pol, tmp_path):
    """On worker processes (as on a real cluster) each loads the policies once, whatever the
    number of blocks it runs, and freezes them out of the garbage collector's full passes; on an
    in-process cluster the caller's objects are left alone."""
    from dask.distributed import Client, LocalCluster

    out = tmp_path / "out.jsonl"
    _, expected = _cli(["evaluate", str(batch), "--policies", pol, "--format", "json"])
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        counts = distributed.write([batch], out, policies=pol, blocksize=500)
        seen = client.run(lambda: (list(__import__("exportctl.distributed").distributed._PS),
                                   __import__("gc").get_freeze_count() > 0))
    assert out.read_text() == expected and counts["records"] == 30
    assert len(distributed.blocks(str(batch), 500)) > 3
    assert list(seen.values()) == [([pol], True)]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        assert client.submit(distributed._on_worker).result() is False


class _Lost:
    def __init__(self, exc):
        self.exc = exc

    def result(self):
        raise self.exc

    def cancel(self):
        pass


class _StubClient:
    """A client whose second block is lost (its worker killed three times)."""

    def __init__(self, exc):
        self.exc, self.calls = exc, 0

    def nthreads(self):
        return {"w": 1}

    def close(self):
        pass

    def compute(self, part):
        import dask

        self.calls += 1
        if self.calls == 2:
            return _Lost(self.exc)
        value = dask.compute(part, scheduler="sync")[0]
        return type("Done", (), {"result": lambda self: value, "cancel": lambda self: None})()


def test_a_lost_block_is_cluster_failed_naming_it(batch, pol, tmp_path, monkeypatch):
    from distributed import KilledWorker

    parts = distributed._labelled_parts([batch], pol, None, 400, distributed.block_text)
    lost = KilledWorker("block_text-123", type("W", (), {"address": "tcp://10.0.0.7:40000"})(), 3)
    got = distributed._in_order(parts, _StubClient(lost), ahead=1)
    first = next(got)
    assert first[1] > 0
    with pytest.raises(distributed.ClusterFailed) as e:
        next(got)
    _, start, end, line = parts[1][0]
    assert f"{batch} (bytes {start}-{end}, from line {line}): KilledWorker" in str(e.value)
    # an engine bug in a task is not the cluster's failure: it stays what it is (E901 in the CLI)
    with pytest.raises(ZeroDivisionError):
        list(distributed._in_order(parts, _StubClient(ZeroDivisionError("x")), ahead=1))
    # the CLI: the message and exit 3, never E901
    monkeypatch.setattr(distributed, "connect", lambda address: _StubClient(lost))
    def failing(*args, **kwargs):
        raise distributed.ClusterFailed("the Dask cluster failed on x.jsonl")
        yield

    monkeypatch.setattr(distributed, "outcomes_on", lambda client: failing)
    code, out, err = _cli3(["evaluate", str(batch), "--policies", pol, "--dask", "tcp://127.0.0.1:9"])
    assert code == 3 and "exportctl evaluate: the Dask cluster failed on x.jsonl" in err and "E901" not in err
