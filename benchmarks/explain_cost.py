"""What the basis of every "no" (`checked`) costs the batch path.

    python benchmarks/explain_cost.py              # 20,000 transactions, 5 interleaved rounds
    python benchmarks/explain_cost.py --smoke      # 300 transactions, 1 round (CI: checks it runs)
    python benchmarks/explain_cost.py --instructions --n 200   # instructions under valgrind (no noise)
    python benchmarks/explain_cost.py --cli --n 200            # the whole CLI process, by instructions

Generates transactions as benchmarks/scale.py does (the examples with other destinations,
dates, values and end users), validates them once, then decides them in one process with the
compiled evaluator, with and without the explanations (`evaluate(..., explain=False)`, which
only this benchmark uses), serialising every decision to JSON as the CLI does. The two variants
run in interleaved rounds (ABAB...) so that the noise of this 2-core machine falls on both, and
the result is the ratio of their median throughputs. A second ratio adds what the CLI does for
every record of a .jsonl besides deciding (`facts.read_lines`: the JSON line with its limits,
values, schema, country codes), to show the cost as a share of the whole batch path.

`--instructions` counts instructions instead of seconds (valgrind's callgrind, the same count
whatever else the machine is doing): four runs of this script that do the same set-up and then
nothing, the decisions without `checked`, the decisions with it, or the validation; the
differences are each part's cost and the ratios are those of the throughputs.

`--cli` measures the batch path itself: the whole `exportctl evaluate FILE.jsonl --format json`
process (reading, validation, screening as it is on by default, the decision, the JSON, the
writing), with and without `checked`, with screening on and off (`--no-screening`), by
instructions under valgrind. Each variant runs on N records and on 1 record; the difference is
what N-1 records cost, so start-up and the policy cache do not count. Without `checked` means the
CLI's compiled evaluator called with `explain=False` (patched in this benchmark's process only:
the CLI has no such option).
"""
from __future__ import annotations

import argparse
import json
import random
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale import generate  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out", metavar="FILE")
    ap.add_argument("--instructions", action="store_true", help="count instructions under valgrind")
    ap.add_argument("--cli", action="store_true", help="the whole CLI process, by instructions")
    ap.add_argument("--phase", choices=["none", "plain", "checked", "validate"], help=argparse.SUPPRESS)
    ap.add_argument("--run-cli", nargs=2, metavar=("FILE", "VARIANT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_cli:
        return run_cli(*args.run_cli)
    if args.smoke:
        args.n, args.rounds = 300, 1
    if args.instructions:
        return instructions(args)
    if args.cli:
        return cli_instructions(args)

    from exportctl import api, facts
    from exportctl.codegen import compile_fast
    from exportctl.render import json_text

    ps = api.load_policies()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "tx.jsonl"
        generate(args.n, path, seed=20261129)
        raw = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [json.dumps(d) for d in raw]
    txs = [facts.from_data(json.loads(line)).data for line in lines]
    ev = compile_fast(ps)
    ev.prepare()
    random.Random(1).shuffle(txs)

    def decide_all(explain: bool) -> float:
        start = time.perf_counter()
        for tx in txs:
            day = ev._date(tx)
            json_text(ev.evaluate(tx, day, ps.digest, explain=explain))
        return len(txs) / (time.perf_counter() - start)

    def validate_all() -> float:
        """The rest of the batch path per record, as the CLI reads a .jsonl (`facts.read_lines`):
        the JSON line with its limits, the values, the schema, the country codes, defaults."""
        start = time.perf_counter()
        for rec in facts.read_lines(lines, "<benchmark>"):
            assert rec.error is None, rec.error
        return time.perf_counter() - start

    decide_all(True)    # warm every epoch and cache once
    if args.phase:      # one run of --instructions: the same set-up, then only this part
        if args.phase in ("plain", "checked"):
            decide_all(args.phase == "checked")
        elif args.phase == "validate":
            validate_all()
        return 0
    rates = {True: [], False: []}
    for _ in range(args.rounds):
        for explain in (False, True):
            rates[explain].append(decide_all(explain))
    validation_s = statistics.median(validate_all() for _ in range(max(1, args.rounds // 2)))
    with_x, without = statistics.median(rates[True]), statistics.median(rates[False])
    n = len(txs)
    whole_with = n / (n / with_x + validation_s)
    whole_without = n / (n / without + validation_s)
    result = {
        "transactions": n, "rounds": args.rounds,
        "decisions_per_s_without_checked": round(without), "decisions_per_s_with_checked": round(with_x),
        "decision_throughput_ratio": round(with_x / without, 3),
        "batch_per_s_without_checked": round(whole_without), "batch_per_s_with_checked": round(whole_with),
        "batch_throughput_ratio": round(whole_with / whole_without, 3),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def instructions(args) -> int:
    """The four runs of --instructions (two at a time) and the ratios of their differences."""
    if shutil.which("valgrind") is None:
        print("--instructions needs valgrind (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    subprocess.run([sys.executable, __file__, "--n", "1", "--phase", "none"], check=True)   # fill the policy cache

    def start(phase):
        return subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                                 __file__, "--n", str(args.n), "--phase", phase],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONHASHSEED": "0"})

    counts = {}
    for pair in (("none", "plain"), ("checked", "validate")):
        runs = {phase: start(phase) for phase in pair}
        for phase, proc in runs.items():
            err = proc.communicate()[1]
            m = re.search(r"I\s+refs:\s+([\d,]+)", err)
            if proc.returncode or m is None:
                print(f"the {phase} run failed:\n{err[-2000:]}", file=sys.stderr)
                return 1
            counts[phase] = int(m.group(1).replace(",", ""))
    plain, checked = counts["plain"] - counts["none"], counts["checked"] - counts["none"]
    validate = counts["validate"] - counts["none"]
    n = args.n
    result = {
        "transactions": n, "instructions_per_decision_without_checked": plain // n,
        "instructions_per_decision_with_checked": checked // n, "instructions_per_record_validation": validate // n,
        "decision_throughput_ratio": round(plain / checked, 3),
        "batch_throughput_ratio": round((plain + validate) / (checked + validate), 3),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


VARIANTS = {"checked": [], "plain": [], "checked-noscreen": ["--no-screening"], "plain-noscreen": ["--no-screening"]}


def run_cli(path: str, variant: str) -> int:
    """One `exportctl evaluate PATH --format json` in this process (a --cli run under valgrind)."""
    from exportctl import cli
    from exportctl.codegen import FastEvaluator

    if variant.startswith("plain"):
        decide = FastEvaluator.evaluate
        FastEvaluator.evaluate = lambda self, *a, **k: decide(self, *a, **{**k, "explain": False})
    return cli.main(["evaluate", path, "--format", "json", *VARIANTS[variant]])


def _callgrind(argv: list) -> subprocess.Popen:
    return subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONHASHSEED": "0"})


def _count(proc: subprocess.Popen, what: str) -> int:
    err = proc.communicate()[1]
    m = re.search(r"I\s+refs:\s+([\d,]+)", err)
    if m is None:             # the CLI's own exit code is 0 or 1 (--fail-on is not given: 0)
        raise SystemExit(f"the {what} run failed:\n{err[-2000:]}")
    return int(m.group(1).replace(",", ""))


def cli_instructions(args) -> int:
    """The four CLI variants on N records and on 1, two runs at a time; per-record differences."""
    if shutil.which("valgrind") is None:
        print("--cli needs valgrind (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        big, one = Path(tmp) / "n.jsonl", Path(tmp) / "one.jsonl"
        generate(args.n, big, seed=20261129)
        one.write_text(big.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
        subprocess.run([sys.executable, __file__, "--run-cli", str(one), "checked"], check=True,
                       stdout=subprocess.DEVNULL)                # fill the policy cache
        per_record = {}
        for variant in VARIANTS:
            runs = {size: _callgrind([__file__, "--run-cli", str(path), variant])
                    for size, path in (("n", big), ("one", one))}
            counts = {size: _count(proc, f"{variant} ({size})") for size, proc in runs.items()}
            per_record[variant] = (counts["n"] - counts["one"]) // (args.n - 1)
    result = {
        "transactions": args.n,
        **{f"instructions_per_record_{v.replace('-', '_')}": c for v, c in per_record.items()},
        "batch_throughput_ratio": round(per_record["plain"] / per_record["checked"], 3),
        "batch_throughput_ratio_no_screening": round(per_record["plain-noscreen"] / per_record["checked-noscreen"], 3),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
