"""Run every fuzz target for a while: `python -m fuzz.run --minutes 10` (from the checkout).

Prints, per target, the inputs tried and the crashes found (a crash is also saved under
fuzz/crashes/ and fails the run, exit 1). Hangs are caught by --seconds-per-input."""

from __future__ import annotations

import argparse
import signal
import sys
import time
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from fuzz.targets import TARGETS, mutated

CRASHES = Path(__file__).resolve().parent / "crashes"


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def run(kind: str, seconds: float, per_input: int) -> tuple[int, list]:
    target = TARGETS[kind]
    tried, crashes = 0, []
    deadline = time.monotonic() + seconds
    signal.signal(signal.SIGALRM, _alarm)

    @settings(max_examples=10**9, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(mutated(kind))
    def one(data):
        nonlocal tried
        if time.monotonic() > deadline:
            raise StopIteration
        tried += 1
        signal.alarm(per_input)
        try:
            target(data)
        except Exception as e:  # a crash or a hang: keep it and go on
            crashes.append((data, "".join(traceback.format_exception(e))[-3000:]))
        finally:
            signal.alarm(0)

    while time.monotonic() < deadline:
        try:
            one()
        except StopIteration:
            break
    return tried, crashes


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m fuzz.run")
    ap.add_argument("--minutes", type=float, default=10.0, help="total time, shared by the targets")
    ap.add_argument("--seconds-per-input", type=int, default=10, help="an input running longer is a hang")
    ap.add_argument("--target", choices=sorted(TARGETS), action="append")
    args = ap.parse_args(argv)
    kinds = args.target or sorted(TARGETS)
    failed = False
    for kind in kinds:
        tried, crashes = run(kind, args.minutes * 60 / len(kinds), args.seconds_per_input)
        print(f"{kind}: {tried} inputs tried, {len(crashes)} crash(es) or hang(s)")
        for i, (data, tb) in enumerate(crashes[:20]):
            CRASHES.mkdir(exist_ok=True)
            (CRASHES / f"{kind}-{i}.bin").write_bytes(data)
            print(tb, file=sys.stderr)
        failed |= bool(crashes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
