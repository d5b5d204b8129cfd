"""exportctl.distributed at scale (issue 14, part 3): N transactions over a Dask cluster,
throughput in total and per worker, the workers' CPU cost per record against the plain CLI's on
the same machine, output checked against the CLI's.

    python benchmarks/dask_scale.py --n 1000000 --workers 2          # a local cluster of processes
    python benchmarks/dask_scale.py --n 200000 --file /tmp/tx-200k.jsonl   # generated once, then reused
    python benchmarks/dask_scale.py --n 1000000 --scheduler tcp://HOST:8786 --file /shared/tx.jsonl
    python benchmarks/dask_scale.py --smoke                          # 150 transactions, in-process (CI)

The input must be on a file system every worker sees (with --scheduler: pass --file on that
file system). --file is generated when it does not hold exactly N lines, else reused.

On a machine shared with other work the wall clock measures the load as much as exportctl, so
the comparison that counts is by CPU time: records per CPU second of the workers (getrusage in
each worker, before and after) against the plain CLI's (`exportctl evaluate SAMPLE --format
json` on --baseline records from the file's second tenth, less a run on a quarter of them:
start-up and warm-up taken out; each twice, the faster kept).
The local cluster's workers are processes with one thread each, configured with
distributed.QUIET_WORKERS (Dask's statistical profiler off, its event loop's monitors less
often: together about 12% of a worker's CPU otherwise); --profile keeps Dask's defaults.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cpu() -> float:
    """This process's CPU seconds (user + system): run on every worker."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _lines(path: Path) -> int:
    n = 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            n += chunk.count(b"\n")
    return n


def _cli_cpu(sample: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of `exportctl evaluate SAMPLE --format json > /dev/null`."""
    exe = Path(sys.executable).with_name("exportctl")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "exportctl.cli"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd + ["evaluate", str(sample), "--format", "json", "--progress", "never"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"exportctl evaluate {sample} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def baseline(data: Path, n: int, tmp: Path, total: int) -> dict:
    """The plain CLI on `n` records of `data` taken after its first tenth (not the examples it
    starts with), less its run on the first quarter of them (start-up: imports, policies, the
    compiled evaluator's warm-up and code generation): the steady cost per record, in seconds
    and CPU seconds; each run twice, the faster kept (the load of a shared machine only adds)."""
    head, quarter = tmp / "baseline.jsonl", tmp / "quarter.jsonl"
    skip = min(total - n, total // 10)
    q = max(1, n // 4)
    with data.open() as src, head.open("w") as dst, quarter.open("w") as dq:
        for i, line in zip(range(skip + n), src):
            if i >= skip:
                dst.write(line)
                if i < skip + q:
                    dq.write(line)
    runs = [(_cli_cpu(quarter), _cli_cpu(head)) for _ in range(2)]
    (wq, cq), (wn, cn) = (min(r[0][0] for r in runs), min(r[0][1] for r in runs)), \
        (min(r[1][0] for r in runs), min(r[1][1] for r in runs))
    per_cpu = max(cn - cq, 1e-9) / max(1, n - q)
    per_wall = max(wn - wq, 1e-9) / max(1, n - q)
    return {"records": n, "from_record": skip, "wall_s": round(wn, 2), "cpu_s": round(cn, 2),
            "quarter_cpu_s": round(cq, 2), "records_per_s": round(1 / per_wall, 1),
            "records_per_cpu_s": round(1 / per_cpu, 1)}


def ordered(out: Path, n: int, prefix: str = '"transaction":"SCALE-') -> bool:
    """Every output line is the decision of the next generated transaction (ids SCALE-0000000 on)."""
    i = 0
    with out.open() as fh:
        for line in fh:
            at = line.find(prefix)
            if at < 0 or line[at + len(prefix):at + len(prefix) + 7] != f"{i:07d}":
                return False
            i += 1
    return i == n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--scheduler", help="address of a running Dask scheduler (default: a LocalCluster)")
    ap.add_argument("--file", help="the generated input (default: a temporary folder); reused when it holds N lines")
    ap.add_argument("--blocksize", type=int, help="bytes of input per task (default: distributed.BLOCK, 8 MiB)")
    ap.add_argument("--baseline", type=int, default=4000, help="records the plain CLI evaluates for the comparison")
    ap.add_argument("--profile", action="store_true", help="leave Dask's statistical profiler on in the local workers")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import dask
    import scale
    from dask.distributed import Client, LocalCluster

    from exportctl import distributed
    from exportctl.cli import main as cli

    n = 150 if args.smoke else args.n
    blocksize = 20_000 if args.smoke else (args.blocksize or distributed.BLOCK)
    with tempfile.TemporaryDirectory(prefix="exportctl-dask-") as tmp:
        tmp = Path(tmp)
        data = Path(args.file) if args.file else tmp / "tx.jsonl"
        if data.exists() and _lines(data) == n:
            gen = {"seconds": 0.0, "reused": str(data)}
        else:
            gen = scale.generate(n, data)
        out = tmp / "out.jsonl"
        config = {} if args.profile else dict(distributed.QUIET_WORKERS)
        with dask.config.set(config):
            if args.scheduler:
                client, cluster = Client(args.scheduler), None
            else:
                cluster = LocalCluster(n_workers=1 if args.smoke else args.workers, threads_per_worker=1,
                                       processes=not args.smoke, dashboard_address=None)
                client = Client(cluster)
        try:
            workers = len(client.scheduler_info()["workers"])
            local = args.smoke and not args.scheduler     # in-process: the workers' CPU is ours
            cpu0 = {"self": _cpu()} if local else client.run(_cpu)
            t0 = time.perf_counter()
            counts = distributed.write([data], out, blocksize=blocksize)
            wall = time.perf_counter() - t0
            cpu1 = {"self": _cpu()} if local else client.run(_cpu)
        finally:
            client.close()
            if cluster:
                cluster.close()
        worker_cpu = {w: round(cpu1[w] - cpu0.get(w, 0.0), 1) for w in cpu1}
        in_order = ordered(out, n)
        # the first 200 lines, through the CLI: the same bytes
        sample = tmp / "sample.jsonl"
        with data.open() as src, sample.open("w") as dst:
            for i, line in zip(range(200), src):
                dst.write(line)
        so = io.StringIO()
        cli(["evaluate", str(sample), "--format", "json"], stdin=io.StringIO(""), stdout=so, stderr=io.StringIO(), env={})
        with out.open() as fh:
            same = so.getvalue().splitlines() == [line.rstrip("\n") for _, line in zip(range(200), fh)]
        out_bytes = out.stat().st_size
        out.unlink()
        base = baseline(data, min(n, 100 if args.smoke else args.baseline), tmp, n)
    rate = counts["records"] / wall if wall else 0.0
    per_cpu = counts["records"] / max(1e-9, sum(worker_cpu.values()))
    result = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "load": os.getloadavg(),
              "n": n, "generate": gen, "workers": workers, "blocksize": blocksize, "seconds": round(wall, 2),
              "records_per_s": round(rate, 1), "per_worker": round(rate / max(1, workers), 1),
              "worker_cpu_s": worker_cpu, "records_per_worker_cpu_s": round(per_cpu, 1),
              "cli": base, "cpu_ratio_vs_cli": round(per_cpu / base["records_per_cpu_s"], 3),
              "output_bytes": out_bytes, "counts": counts, "in_order": in_order, "sample_matches_cli": same}
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2))
    return 0 if same and in_order and counts["records"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
