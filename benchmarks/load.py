"""A bounded load test of `exportctl serve` on loopback: N requests, C at a time, over the example
transactions; requests/s, latency percentiles, errors (must be 0) and the server's memory.

    python benchmarks/load.py                      # 5,000 requests, 32 concurrent
    python benchmarks/load.py --requests 200 --concurrency 4

Only 127.0.0.1: the server is started here, on a free loopback port, and stopped after."""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import httpx

from exportctl.serve.running import running

ROOT = Path(__file__).resolve().parent.parent


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(base: str, bodies: list[bytes], n: int, concurrency: int) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    todo = iter(range(n))

    async def worker(client):
        nonlocal errors
        for i in todo:
            t0 = time.perf_counter()
            try:
                r = await client.post("/v1/decisions", content=bodies[i % len(bodies)],
                                      headers={"content-type": "application/yaml"})
            except httpx.HTTPError as e:
                errors += 1
                print(f"request {i}: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200 or "outcome" not in r.json():
                errors += 1
                print(f"request {i}: {r.status_code} {r.text[:200]}", file=sys.stderr)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - t0
    return latencies, errors, wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args(argv)
    if not (1 <= args.requests <= 100_000 and 1 <= args.concurrency <= 256):
        ap.error("keep it bounded: --requests 1..100000, --concurrency 1..256")
    bodies = [p.read_bytes() for p in sorted((ROOT / "examples" / "transactions").glob("*.yaml"))]
    with running(wait=120) as base:
        # warm up: the compiled evaluator's first decisions, and the first request of each kind
        asyncio.run(load(base, bodies, len(bodies), 1))
        before = rss_mib(base.pid)
        lat, errors, wall = asyncio.run(load(base, bodies, args.requests, args.concurrency))
        after = rss_mib(base.pid)
    lat.sort()
    q = statistics.quantiles(lat, n=100)
    figures = {"requests": args.requests, "concurrency": args.concurrency, "errors": errors,
               "requests_per_s": round(args.requests / wall, 1), "wall_s": round(wall, 2),
               "p50_ms": round(q[49] * 1000, 1), "p99_ms": round(q[98] * 1000, 1),
               "max_ms": round(lat[-1] * 1000, 1), "rss_before_mib": round(before, 1),
               "rss_after_mib": round(after, 1), "python": platform.python_version(),
               "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores"}
    if args.json:
        print(json.dumps(figures))
    else:
        for k, v in figures.items():
            print(f"{k:>16}: {v}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
