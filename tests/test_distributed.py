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
