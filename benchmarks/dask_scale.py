"""exportctl.distributed at scale (issue 14, part 3): N transactions over a Dask cluster,
throughput in total and per worker, output checked against the CLI's on a sample.

    python benchmarks/dask_scale.py --n 1000000 --workers 2          # a local cluster of processes
    python benchmarks/dask_scale.py --n 1000000 --scheduler tcp://HOST:8786   # a real cluster
    python benchmarks/dask_scale.py --smoke                          # 150 transactions, in-process

The input must be on a file system every worker sees (with --scheduler: pass --file on that
file system; the generator writes it where --file says).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--file", help="where to write the generated input (default: a temporary folder)")
    ap.add_argument("--blocksize", type=int, default=1024 * 1024, help="bytes per task (1 MiB: about 1,000 transactions)")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import scale
    from dask.distributed import Client, LocalCluster

    from exportctl import distributed
    from exportctl.cli import main as cli

    n = 150 if args.smoke else args.n
    with tempfile.TemporaryDirectory(prefix="exportctl-dask-") as tmp:
        data = Path(args.file) if args.file else Path(tmp) / "tx.jsonl"
        gen = scale.generate(n, data)
        out = Path(tmp) / "out.jsonl"
        if args.scheduler:
            client, cluster = Client(args.scheduler), None
        else:
            cluster = LocalCluster(n_workers=1 if args.smoke else args.workers, threads_per_worker=1,
                                   processes=not args.smoke, dashboard_address=None)
            client = Client(cluster)
        try:
            workers = len(client.scheduler_info()["workers"])
            t0 = time.perf_counter()
            counts = distributed.write([data], out, blocksize=20_000 if args.smoke else args.blocksize)
            wall = time.perf_counter() - t0
        finally:
            client.close()
            if cluster:
                cluster.close()
        # the first 200 lines, through the CLI: the same bytes
        sample = Path(tmp) / "sample.jsonl"
        with data.open() as src, sample.open("w") as dst:
            for i, line in zip(range(200), src):
                dst.write(line)
        so = io.StringIO()
        cli(["evaluate", str(sample), "--format", "json"], stdin=io.StringIO(""), stdout=so, stderr=io.StringIO(), env={})
        with out.open() as fh:
            same = so.getvalue().splitlines() == [line.rstrip("\n") for _, line in zip(range(200), fh)]
    rate = counts["records"] / wall if wall else 0.0
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "load": os.getloadavg(),
              "n": n, "generate_s": round(gen["seconds"], 1), "workers": workers, "seconds": round(wall, 2),
              "records_per_s": round(rate, 1), "per_worker": round(rate / max(1, workers), 1),
              "counts": counts, "sample_matches_cli": same}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    return 0 if same and counts["records"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
