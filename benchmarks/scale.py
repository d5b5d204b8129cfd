"""Scale benchmark: `exportctl evaluate` over a large JSON Lines file.

    python benchmarks/scale.py                 # 1,000,000 transactions (several minutes per run)
    python benchmarks/scale.py --n 100000      # smaller
    python benchmarks/scale.py --smoke         # 200 transactions, for CI: checks it runs, times nothing strictly

What it does, in order:

1. Generates N transactions from the examples under examples/transactions/ (deterministic
   seed): each is an example with another destination (and end-user country), date, item
   values and end user (kind, restricted-party lists, sometimes a listed entity's name), streamed
   to a .jsonl file (memory does not grow with N).
2. Runs `exportctl evaluate FILE --format json` on it, once with --jobs 1 and once with
   --jobs 2, and reports decisions per second (wall clock, the whole CLI: reading, schema
   validation, deciding, JSON output to /dev/null) and the peak resident memory of the largest
   process (/usr/bin/time -v when present, else getrusage of the children).
3. CLI cold start: the median wall time of several `exportctl evaluate one.yaml` runs (a new
   process each: interpreter start, imports, policy load, one decision, text output).

Results go to stdout as a table and, with --out, to a JSON file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EXAMPLES = ROOT / "examples" / "transactions"

# Destinations drawn for the generated transactions: partners, embargoed, D:5, neutral.
DESTINATIONS = ("AE AR AU BE BR BY CA CH CN CU DE DK EG ES FI FR GB IL IN IR IT JP KP KR MX MY "
                "NL NO PK PL RU SA SE SG SY TR TW UA US VE VN ZA").split()
KINDS = ("government", "military", "commercial", "research")
LISTS = ("us-entity-list", "us-meu-list", "us-sdn", "us-denied-persons", "cn-control-list",
         "cn-unreliable-entity-list")


def _exportctl_bin() -> list[str]:
    exe = Path(sys.executable).with_name("exportctl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "exportctl.cli"]


def load_examples(folder: Path = EXAMPLES) -> list[dict]:
    """The valid example transactions (as plain data), in file order."""
    from exportctl import facts

    out = [r.transaction.data for r in facts.read_path(str(folder)) if r.transaction is not None]
    if not out:
        raise SystemExit(f"no valid example transactions under {folder}")
    return out


def _entity_names() -> list[str]:
    """Listed entities' names from the bundled policies' sets (quoted members with a space)."""
    try:
        from exportctl.policyset import load

        ps = load()
        names = {m.value for p in ps.policies for s in p.sets for _, t in s.terms
                 if hasattr(t, "members") for m in t.members if " " in m.value}
        return sorted(names)
    except Exception:
        return []


def generate(n: int, path: Path, seed: int = 20261128) -> dict:
    """Write `n` transactions derived from the examples to `path` (JSON Lines)."""
    rng = random.Random(seed)
    bases = [json.dumps(b, sort_keys=True) for b in load_examples()]
    names = _entity_names() or ["Acme Space Ltd"]
    start = time.perf_counter()
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            tx = json.loads(bases[i % len(bases)] if i < len(bases) else rng.choice(bases))
            tx["id"] = f"SCALE-{i:07d}"
            if i >= len(bases):          # the examples themselves first, unchanged
                _vary(tx, rng, names)
            f.write(json.dumps(tx, separators=(",", ":")) + "\n")
    return {"n": n, "seconds": time.perf_counter() - start, "bytes": path.stat().st_size, "seed": seed,
            "examples": len(bases)}


def _vary(tx: dict, rng: random.Random, names: list[str]) -> None:
    dest = rng.choice(DESTINATIONS)
    tx["destination"] = dest
    year = rng.randint(2014, 2027)
    tx["date"] = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    eu = tx.get("end_user")
    if isinstance(eu, dict):
        eu["country"] = dest
        eu["kind"] = rng.choice(KINDS)
        r = rng.random()
        if r < 0.1:
            eu.pop("lists", None)                       # not screened: unknown
        elif r < 0.25:
            eu["lists"] = sorted(rng.sample(LISTS, rng.randint(1, 2)))
        else:
            eu["lists"] = []
        if rng.random() < 0.05:
            eu["name"] = rng.choice(names)
    for it in tx.get("items") or []:
        _scale_values(it, rng.uniform(0.2, 3.0))


def _scale_values(item: dict, factor: float) -> None:
    if isinstance(item.get("value"), (int, float)):
        item["value"] = round(item["value"] * factor, 2)
    for c in item.get("components") or []:
        _scale_values(c, factor)


# ---------------------------------------------------------------- running the CLI

def _run(argv: list[str], stdout=subprocess.DEVNULL) -> dict:
    """Wall time and peak RSS (KiB) of one command."""
    timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        cmd = [timer, "-v", "-o", tf.name] + argv if timer else argv
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - t0
        rss = None
        if timer:
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", Path(tf.name).read_text())
            rss = int(m.group(1)) if m else None
        if rss is None:
            rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": wall, "peak_rss_kib": rss, "exit": proc.returncode, "stderr": proc.stderr[-2000:]}


def evaluate_file(path: Path, n: int, jobs: int) -> dict:
    r = _run(_exportctl_bin() + ["evaluate", str(path), "--format", "json", "--jobs", str(jobs), "--progress", "never"])
    r.update(jobs=jobs, n=n, decisions_per_s=n / r["wall_s"])
    if r["exit"] not in (0, 1):
        raise SystemExit(f"exportctl evaluate failed (exit {r['exit']}):\n{r['stderr']}")
    return r


def cold_start(example: Path, runs: int) -> dict:
    base = _exportctl_bin()
    walls = []
    for _ in range(runs):
        r = _run(base + ["evaluate", str(example)])
        if r["exit"] not in (0, 1):
            raise SystemExit(f"exportctl evaluate {example} failed:\n{r['stderr']}")
        walls.append(r["wall_s"])
    py = statistics.median(_run([sys.executable, "-c", "pass"])["wall_s"] for _ in range(3))
    return {"runs": runs, "median_ms": 1000 * statistics.median(walls), "min_ms": 1000 * min(walls),
            "python_startup_ms": 1000 * py}


def machine() -> dict:
    cpu = platform.processor()
    if Path("/proc/cpuinfo").exists():
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), cpu)
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="transactions to generate (1,000,000)")
    ap.add_argument("--smoke", action="store_true", help="200 transactions, 2 cold starts: checks that it all runs")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2], help="--jobs values to measure (1 2)")
    ap.add_argument("--cold-runs", type=int, default=7)
    ap.add_argument("--keep", metavar="FILE", help="write the generated .jsonl here and keep it")
    ap.add_argument("--out", metavar="FILE", help="write the results as JSON")
    a = ap.parse_args(argv)
    n = 200 if a.smoke else a.n
    cold_runs = 2 if a.smoke else a.cold_runs
    tmp = Path(tempfile.mkdtemp(prefix="exportctl-scale-"))
    path = Path(a.keep) if a.keep else tmp / f"transactions-{n}.jsonl"
    results: dict = {"machine": machine()}
    try:
        gen = generate(n, path, a.seed)
        results["generate"] = gen
        print(f"generated {n:,} transactions from {gen['examples']} examples in {gen['seconds']:.1f}s "
              f"({gen['bytes'] / 1e6:.1f} MB, seed {a.seed})", flush=True)
        runs = []
        for jobs in a.jobs:
            r = evaluate_file(path, n, jobs)
            runs.append(r)
            print(f"evaluate --jobs {jobs}: {r['wall_s']:.1f}s, "
                  f"{r['decisions_per_s']:,.0f} decisions/s, peak RSS {(r['peak_rss_kib'] or 0) / 1024:.0f} MiB",
                  flush=True)
        results["evaluate"] = runs
        example = sorted(EXAMPLES.glob("*.yaml"))[0]
        results["cold_start"] = [cold_start(example, cold_runs)]
        for c in results["cold_start"]:
            print(f"cold start `exportctl evaluate {example.name}`: "
                  f"median {c['median_ms']:.0f} ms of {c['runs']} (python -c pass: {c['python_startup_ms']:.0f} ms)",
                  flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(results["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
