"""The full decision on the side-by-side benchmark's ruleset, by instructions (issue 14, part 1).

The peers' harness (../shared/bench/run.py) times every engine by the clock, which this shared
2-core machine makes noisy. This counts what one `exportctl decision` adapter call costs
(benchmarks/peers/exportctl_decision.py: the whole decision document), with and without
`checked`, under valgrind's callgrind: the same process decides 20 and 20 + N transactions of the
harness's corpus after a warm-up, and the difference divided by N is the cost of a decision,
the same however busy the machine is.

    python benchmarks/peer_decision_instructions.py --n 300 [--bench ../shared/bench]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from explain_cost import _callgrind, _own_cache, _refs  # noqa: E402

WARM, FIRST, CORPUS = 300, 20, 4000     # the harness's --n 4000 corpus: warm-up, then measured


def _decide(bench: str, n: int, explain: bool) -> None:
    """The measured process: load the adapter, warm it up, decide `n` transactions."""
    sys.path[:0] = [bench, str(HERE / "peers")]
    import corpus
    from exportctl_decision import Engine

    engine = Engine()
    engine.load()
    txs = corpus.generate(CORPUS)
    for t in txs[:WARM]:
        engine.decide(t)
    if not explain:
        full = engine._ev.evaluate
        engine._ev.evaluate = lambda tx, day, digest: full(tx, day, digest, explain=False)
    for t in txs[WARM:WARM + n]:     # FIRST, or FIRST + N: the same first ones
        engine.decide(t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="transactions measured (default 300)")
    ap.add_argument("--bench", default=str(HERE.parent.parent / "shared" / "bench"),
                    help="the peers' harness folder (its corpus.py)")
    ap.add_argument("--decide", nargs=2, metavar=("N", "EXPLAIN"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not 0 < args.n <= CORPUS - WARM - FIRST:
        ap.error(f"--n must be between 1 and {CORPUS - WARM - FIRST}")
    if args.decide:
        _decide(args.bench, int(args.decide[0]), args.decide[1] == "1")
        return 0
    if not (Path(args.bench) / "corpus.py").is_file():
        print(f"no corpus.py in {args.bench}: give the harness folder with --bench", file=sys.stderr)
        return 2
    me = [str(Path(__file__).resolve()), "--bench", args.bench, "--decide"]
    with tempfile.TemporaryDirectory() as tmp:
        # a policy cache of the measurement's own, filled first: the four runs start together,
        # and where the cache was cold for this install they read and wrote it unevenly (the
        # same transactions measured 0.596 M instructions a decision on a cold cache, 0.482 M warm)
        _own_cache(tmp)
        subprocess.run([sys.executable, *me, "1", "1"], check=True, stdout=subprocess.DEVNULL)
        runs = {}
        for explain in ("1", "0"):
            for n in (FIRST, FIRST + args.n):
                runs[(explain, n)] = _callgrind(me + [str(n), explain])
        counts = {k: _refs(p, f"{k[1]} decisions, checked={k[0]}", check_exit=True) for k, p in runs.items()}
    if None in counts.values():
        return 1
    per = {e: (counts[(e, FIRST + args.n)] - counts[(e, FIRST)]) / args.n for e in ("1", "0")}
    print(json.dumps({"decisions": args.n,
                      "instructions_per_decision": round(per["1"]),
                      "instructions_per_decision_without_checked": round(per["0"]),
                      "checked_share": round(1 - per["0"] / per["1"], 3)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
