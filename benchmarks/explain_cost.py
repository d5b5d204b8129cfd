"""What the basis of every "no" (`checked`) costs the batch path.

    python benchmarks/explain_cost.py              # 20,000 transactions, 5 interleaved rounds
    python benchmarks/explain_cost.py --smoke      # 300 transactions, 1 round (CI: checks it runs)

Generates transactions as benchmarks/scale.py does (the examples with other destinations,
dates, values and end users), validates them once, then decides them in one process with the
compiled evaluator, with and without the explanations (`evaluate(..., explain=False)`, which
only this benchmark uses), serialising every decision to JSON as the CLI does. The two variants
run in interleaved rounds (ABAB...) so that the noise of this 2-core machine falls on both, and
the result is the ratio of their median throughputs. A second ratio adds the schema validation
that the CLI does for every record, to show the cost as a share of the whole batch path.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
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
    args = ap.parse_args(argv)
    if args.smoke:
        args.n, args.rounds = 300, 1

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
        """The rest of the batch path per record: parse the JSON line, validate, apply defaults."""
        start = time.perf_counter()
        for line in lines:
            facts.from_data(json.loads(line))
        return time.perf_counter() - start

    decide_all(True)    # warm every epoch and cache once
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


if __name__ == "__main__":
    raise SystemExit(main())
