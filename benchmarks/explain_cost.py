"""What the basis of every "no" (`checked`) costs the batch path.

    python benchmarks/explain_cost.py              # 20,000 transactions, 5 interleaved rounds
    python benchmarks/explain_cost.py --smoke      # 300 transactions, 1 round (CI: checks it runs)
    python benchmarks/explain_cost.py --instructions --n 200   # instructions under valgrind (no noise)
    python benchmarks/explain_cost.py --cli --n 8000 --rounds 3   # the whole CLI process, by CPU time
    python benchmarks/explain_cost.py --cli --instructions --n 300  # the same, by instructions (valgrind)

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
writing), with and without `checked`, with screening on and off (`--no-screening`), by the CPU
time of each process (user + system: less disturbed than the clock by a busy machine), in
interleaved rounds. Each variant runs on N records and on the first 500, with the compiled
programs of every epoch generated first (as `--jobs` does); the difference is what the other
records cost, so start-up and code generation do not count.
With `--instructions` each variant runs under valgrind on N records and on the first 20, with
the compiled programs of every epoch generated first too: the difference is what
the other records cost, the same count however busy the machine is. Without `checked` means the
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
    ap.add_argument("--cli", action="store_true", help="the whole CLI process, by CPU time")
    ap.add_argument("--phase", choices=["none", "plain", "checked", "validate"], help=argparse.SUPPRESS)
    ap.add_argument("--run-cli", nargs=2, metavar=("FILE", "VARIANT"), help=argparse.SUPPRESS)
    ap.add_argument("--prepared", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.run_cli:
        return run_cli(*args.run_cli, args.prepared)
    if args.smoke:
        args.n, args.rounds = 300, 1
    if args.cli and args.instructions:
        return cli_instructions(args)
    if args.instructions:
        return instructions(args)
    if args.cli:
        return cli_cost(args)

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
    return _report(result, args)


def instructions(args) -> int:
    """The four runs of --instructions (two at a time) and the ratios of their differences."""
    if shutil.which("valgrind") is None:
        print("--instructions needs valgrind (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        _own_cache(tmp)
        subprocess.run([sys.executable, __file__, "--n", "1", "--phase", "none"], check=True)   # fill the policy cache

        counts = {}
        for pair in (("none", "plain"), ("checked", "validate")):
            runs = {phase: _callgrind([__file__, "--n", str(args.n), "--phase", phase]) for phase in pair}
            counts.update((phase, _refs(proc, phase, check_exit=True)) for phase, proc in runs.items())
            if None in counts.values():
                return 1
    plain, checked = counts["plain"] - counts["none"], counts["checked"] - counts["none"]
    validate = counts["validate"] - counts["none"]
    n = args.n
    result = {
        "transactions": n, "instructions_per_decision_without_checked": plain // n,
        "instructions_per_decision_with_checked": checked // n, "instructions_per_record_validation": validate // n,
        "decision_throughput_ratio": round(plain / checked, 3),
        "batch_throughput_ratio": round((plain + validate) / (checked + validate), 3),
    }
    return _report(result, args)


def _report(result: dict, args) -> int:
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


def _callgrind(argv: list) -> subprocess.Popen:
    """This machine's Python under valgrind's callgrind (instruction counts), hash seed fixed."""
    return subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, *argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONHASHSEED": "0"})


def _refs(proc: subprocess.Popen, label, check_exit: bool = False) -> int | None:
    """The instructions a callgrind run counted; None (said on stderr) when it failed."""
    err = proc.communicate()[1]
    m = re.search(r"I\s+refs:\s+([\d,]+)", err)
    if m is None or (check_exit and proc.returncode):
        print(f"the {label} run failed:\n{err[-2000:]}", file=sys.stderr)
        return None
    return int(m.group(1).replace(",", ""))


def _own_cache(tmp: str) -> None:
    """Every run of this measurement (they inherit the environment) uses a policy cache of its
    own, in `tmp`: in the user's, other runs and installs write entries too and the oldest are
    dropped, so one run could parse the policies where the run it is compared with did not."""
    os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")


def _cli_inputs(tmp: str, n: int, first: int) -> tuple[Path, Path]:
    """N generated records and a file of the first `first` of them; the measurement's own policy
    cache (`_own_cache`) filled."""
    _own_cache(tmp)
    big, small = Path(tmp) / "n.jsonl", Path(tmp) / "first.jsonl"
    generate(n, big, seed=20261129)
    small.write_text("".join(big.read_text(encoding="utf-8").splitlines(keepends=True)[:first]), encoding="utf-8")
    subprocess.run([sys.executable, __file__, "--run-cli", str(small), "checked"], check=True,
                   stdout=subprocess.DEVNULL)
    return big, small


VARIANTS = {"checked": [], "plain": [], "checked-noscreen": ["--no-screening"], "plain-noscreen": ["--no-screening"]}


def run_cli(path: str, variant: str, prepared: bool = False) -> int:
    """One `exportctl evaluate PATH --format json` in this process (a --cli run). `prepared`: the
    compiled programs of every epoch are generated first (as `--jobs` does before its workers
    start), so that two runs on different numbers of records differ by the records alone."""
    from exportctl import cli
    from exportctl.codegen import FastEvaluator

    if prepared:
        from exportctl import api
        from exportctl.codegen import compile_fast
        from exportctl.policyset import resolve_policies

        # the folder the CLI will use (the checkout's policies/ when run from one): preparing the
        # installed copy's evaluator instead left the CLI's own to generate its programs inside
        # the measured records (about 1.3 M instructions a record of the figures before 2026-11-30)
        compile_fast(api.load_policies(resolve_policies(None))).prepare()
    if variant.startswith("plain"):
        decide = FastEvaluator.evaluate
        FastEvaluator.evaluate = lambda self, *a, **k: decide(self, *a, **{**k, "explain": False})
    return cli.main(["evaluate", path, "--format", "json", *VARIANTS[variant]])


def cli_instructions(args) -> int:
    """The four CLI variants under valgrind, each on N records and on the first 20 of them, with
    the programs of every epoch generated first; the difference is what N-20 records cost."""
    if shutil.which("valgrind") is None:
        print("--instructions needs valgrind (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    small_n = 20
    with tempfile.TemporaryDirectory() as tmp:
        big, small = _cli_inputs(tmp, args.n, small_n)
        runs = {(v, size): _callgrind([__file__, "--run-cli", str(path), v, "--prepared"])
                for v in VARIANTS for size, path in (("n", big), ("small", small))}
        counts = {key: _refs(proc, key) for key, proc in runs.items()}
        if None in counts.values():
            return 1
    per = {v: (counts[(v, "n")] - counts[(v, "small")]) // (args.n - small_n) for v in VARIANTS}
    result = {
        "transactions": args.n, "measured_records": args.n - small_n,
        **{f"instructions_per_record_{v.replace('-', '_')}": c for v, c in per.items()},
        "batch_throughput_ratio": round(per["plain"] / per["checked"], 3),
        "batch_throughput_ratio_no_screening": round(per["plain-noscreen"] / per["checked-noscreen"], 3),
    }
    return _report(result, args)


def _cpu_of(argv: list) -> float:
    """CPU seconds (user + system) of one child process running this script with `argv`."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, __file__, *argv], check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cli_cost(args) -> int:
    """The four CLI variants, whole processes, in interleaved rounds, by CPU time: each on N
    records and on the first WARM of them, with the programs of every epoch generated first (as
    with --instructions: the CLI alone would generate them after `codegen.WARMUP` records, in the
    run on N but perhaps not in the run on WARM); the difference is what the other N-WARM
    records cost (start-up and code generation excluded)."""
    warm = min(500, args.n // 4)
    with tempfile.TemporaryDirectory() as tmp:
        big, small = _cli_inputs(tmp, args.n, warm)
        per_record: dict = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for variant in VARIANTS:
                n_cpu = _cpu_of(["--run-cli", str(big), variant, "--prepared"])
                w_cpu = _cpu_of(["--run-cli", str(small), variant, "--prepared"])
                per_record[variant].append((n_cpu - w_cpu) / (args.n - warm))
    med = {v: statistics.median(xs) for v, xs in per_record.items()}
    result = {
        "transactions": args.n, "rounds": args.rounds, "measured_records": args.n - warm,
        **{f"records_per_cpu_s_{v.replace('-', '_')}": round(1 / t) for v, t in med.items()},
        "batch_throughput_ratio": round(med["plain"] / med["checked"], 3),
        "batch_throughput_ratio_no_screening": round(med["plain-noscreen"] / med["checked-noscreen"], 3),
    }
    return _report(result, args)


if __name__ == "__main__":
    raise SystemExit(main())
