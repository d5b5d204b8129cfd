"""Screening cost: decisions per second with and without screening, side by side, against
10,000 synthetic list entries (plus the bundled ones).

    python benchmarks/screening.py               # 10,000 entries, 2,000 decisions per side
    python benchmarks/screening.py --smoke       # 500 entries, 100 decisions: checks it runs
    python benchmarks/screening.py --instructions --decisions 300   # instructions under valgrind
    python benchmarks/screening.py --instructions --cli --decisions 300   # the whole batch CLI, per record
    python benchmarks/screening.py --cli --decisions 2000   # the same by CPU time, interleaved rounds

1. Copies the bundled policies to a temporary folder and writes lists/synthetic.yaml with N
   generated entries (deterministic seed): company names of pinyin syllable pairs or of
   invented Latin words, with generic words and company forms, some with a Chinese-script alias, spread over the seven lists.
2. Builds M transactions from examples/transactions/ with the end user and a consignee renamed:
   a tenth exactly a synthetic entry's name, a tenth a misspelt one, the rest unrelated names
   drawn from the same pools (the hard case for an index: shared words).
3. Decides every transaction in-process through `api.decide` with screening off and on,
   interleaved so both see the same machine load (after a warm-up: compiled policies, list
   index; what the set-up made is then frozen out of the garbage collector's way, as
   `exportctl evaluate` does after its first decision), for --rounds rounds (default 3; each round names other parties, so it does not
   meet the names an earlier one remembered), and prints decisions/s of the median round,
   the median ratio, the index build time and how many parties were flagged (match or review; a review that could change the outcome costs a
   second evaluation).

`--instructions` counts instructions instead of seconds (valgrind's callgrind: the same count
whatever else this shared machine does), with PYTHONHASHSEED=0: two runs of this script doing
the same set-up (policies, lists and their index from the policy cache, the warm-up, the M
transactions), then the decisions with screening off, or with it on. Only the decisions are
counted: callgrind starts with its instrumentation off (the set-up runs at native speed) and the
script turns it on just before the first decision and off after the last (`callgrind_control`),
so the garbage collections the decisions cause count and the interpreter's exit does not. The
counts per decision and their ratio are the figure.

`--instructions --cli` counts the batch CLI itself: `exportctl evaluate FILE.jsonl --format json
--policies ROOT`, with and without `--no-screening`, on the M transactions as JSON Lines and on
their first 20, each a whole process under callgrind (reading, validation, screening, deciding,
JSON out); the difference between the two sizes is what the records cost without the start
(policies, lists and their index read from the cache, as every later run of a batch does).

The goal (issue 18): screening at most halves the throughput (ratio <= 2.0) at 10,000 entries.
Results go to stdout and, with --out, to a JSON file.
"""
from __future__ import annotations

import argparse
import copy
import datetime as _dt
import gc
import json
import os
import subprocess
import random
import statistics
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from explain_cost import _refs  # noqa: E402 - a callgrind run's instruction count, as every benchmark reads it

SYLLABLES = ("zhong hua xin tian hang yu xing kong guang dian ke ji jin long feng hai bei nan dong xi "
             "shan chuan he hu yun lan bai hong ming da wei tong bo rui an kang sheng chang jiang "
             "shen zhen wu han cheng du qing dao su zhou guang hui ling mei ning ping qi rong "
             "tai wan xiang yang ze zhi zhu bao fu gao hao jia lian lu mao miao peng quan shi song").split()
CONSONANTS = "b c d f g k l m n p r s t v z br dr gr kr tr st".split()
VOWELS = "a e i o u ar en or".split()
GENERIC = "technology research institute systems electronics engineering industries group science".split()
FORMS = ("Co., Ltd.", "Ltd", "LLC", "JSC", "GmbH", "Inc.", "Corporation", "")
HAN = "中华新天航宇星空光电科技金龙凤海北南东西山川河湖云蓝白红明大卫通博瑞安康盛"
LISTS = ("us-entity-list", "us-meu-list", "us-sdn", "us-denied-persons", "cn-control-list",
         "cn-unreliable-entity-list", "cn-watch-list")
COUNTRIES = ("CN", "RU", "IR", "AE", "US", "HK", "BY", "KP")


def company(rng: random.Random) -> tuple[str, str | None]:
    if rng.random() < 0.5:
        n = rng.randint(2, 3)
        picks = [rng.randrange(len(SYLLABLES)) for _ in range(n * 2)]
        words = ["".join(SYLLABLES[picks[2 * i]] + SYLLABLES[picks[2 * i + 1]]).capitalize() for i in range(n)]
        han = "".join(HAN[p % len(HAN)] for p in picks) if rng.random() < 0.5 else None
        name = " ".join(words + rng.sample(GENERIC, rng.randint(1, 2)) + [rng.choice(FORMS)])
        return name.strip(), han
    words = ["".join(rng.choice(CONSONANTS) + rng.choice(VOWELS) for _ in range(rng.randint(2, 3))).capitalize()
             for _ in range(rng.randint(1, 3))]
    return " ".join(words + rng.sample(GENERIC, rng.randint(0, 2)) + [rng.choice(FORMS)]).strip(), None


def synthetic_entries(n: int, seed: int = 18) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        name, han = company(rng)
        e = {"id": f"syn-{i}", "list": LISTS[i % len(LISTS)], "name": name,
             "countries": [rng.choice(COUNTRIES)], "listed": "2020-01-01"}
        if han:
            e["aliases"] = [han]
        out.append(e)
    return out


def misspell(name: str, rng: random.Random) -> str:
    chars = list(name)
    i = rng.randrange(1, max(2, len(chars) - 1))
    chars[i] = "x" if chars[i] != "x" else "y"
    return "".join(chars)


def transactions(m: int, entries: list[dict], seed: int = 7) -> list[dict]:
    from scale import load_examples

    rng = random.Random(seed)
    examples = load_examples()
    out = []
    for k in range(m):
        tx = copy.deepcopy(examples[k % len(examples)])
        tx["id"] = f"SCR-{k}"
        r = rng.random()
        if r < 0.1:
            name = rng.choice(entries)["name"]
        elif r < 0.2:
            name = misspell(rng.choice(entries)["name"], rng)
        else:
            name = company(rng)[0]
        eu = tx.get("end_user") or {"country": "CN"}
        tx["end_user"] = {**eu, "name": name}
        tx["consignees"] = [{"name": company(rng)[0], "country": "HK", "role": "freight_forwarder", "lists": []}]
        out.append(tx)
    return out


def prepare(n: int, m: int, root: Path) -> dict:
    """The set-up every mode shares: the bundled policies with N synthetic entries in `root`
    (written unless there), the lists and their index, M transactions, the warm-up."""
    import yaml

    from exportctl import facts
    from exportctl.api import decide, load_policies
    from exportctl.policyset import policies_root
    from exportctl.screening import Options, model

    entries = synthetic_entries(n)
    if not (root / "lists" / "synthetic.yaml").is_file():
        shutil.copytree(policies_root(), root)
        (root / "lists" / "synthetic.yaml").write_text(yaml.safe_dump({
            "id": "synthetic", "title": "synthetic entries (benchmark)", "version": "2026-11-29",
            "source": "benchmarks/screening.py", "entries": entries}, allow_unicode=True), encoding="utf-8")
    ps = load_policies(root)
    t0 = time.perf_counter()
    lists = model.load(root)
    lists.index()
    build = time.perf_counter() - t0
    day = _dt.date(2026, 11, 29)
    off, on = Options(enabled=False), Options()
    warm = [facts.from_data(t, folder=ps.schema_folder) for t in transactions(min(50, m), entries, seed=99)]
    for t in warm:                                  # warm-up: compiled policies, caches
        decide(ps, t, day, off)
        decide(ps, t, day, on)
    # as `exportctl evaluate` does after its first decision (cli._collect_again): what the set-up
    # made (the policies, the 10,000-entry index) is frozen, so whether a full collection falls
    # among the measured decisions does not decide the figure (one walks every object the set-up
    # made: 114,000 of them for the index alone)
    gc.collect()
    gc.freeze()
    return {"ps": ps, "lists": lists, "entries": entries, "build": build, "day": day, "off": off, "on": on,
            "txs": lambda seed=7: [facts.from_data(t, folder=ps.schema_folder)
                                   for t in transactions(m, entries, seed=seed)],
            "decide": decide}


def run(n: int, m: int, rounds: int = 1) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="exportctl-screening-"))
    try:
        s = prepare(n, m, tmp / "policies")
        ps, lists, day, off, on, decide = s["ps"], s["lists"], s["day"], s["off"], s["on"], s["decide"]
        rounds_out = []
        matched = 0
        for r in range(rounds):
            # other parties each round (another seed): no round meets the names, and so the
            # remembered hits, of an earlier one
            txs = s["txs"](7 + r)
            sides = {"without": 0.0, "with": 0.0}
            matched = 0
            # interleaved, so both sides see the same load on a shared machine
            for t in txs:
                t0 = time.perf_counter()
                decide(ps, t, day, off)
                t1 = time.perf_counter()
                d = decide(ps, t, day, on)
                t2 = time.perf_counter()
                sides["without"] += t1 - t0
                sides["with"] += t2 - t1
                matched += sum(p["status"] in ("match", "review") for p in d["screening"]["parties"])
            rounds_out.append({k: len(txs) / v for k, v in sides.items()})
        ratios = sorted(x["without"] / x["with"] for x in rounds_out)
        mid = sorted(rounds_out, key=lambda x: x["without"] / x["with"])[len(rounds_out) // 2]
        return {"entries": len(lists.entries), "synthetic": n, "decisions": m, "rounds": rounds,
                "index_build_s": round(s["build"], 3), "index_keys": len(lists.index().keys),
                "decisions_per_s_without": round(mid["without"], 1),
                "decisions_per_s_with": round(mid["with"], 1),
                "ratio": round(statistics.median(ratios), 3),
                "ratios": [round(x, 3) for x in ratios],
                "parties_flagged": matched}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _instrument(on: bool) -> None:
    """Callgrind's instrumentation of this process on or off (--instructions runs only)."""
    if os.environ.get("EXPORTCTL_BENCH_CALLGRIND"):
        subprocess.run(["callgrind_control", "-i", "on" if on else "off", str(os.getpid())], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def phase(n: int, m: int, root: Path, which: str) -> int:
    """One run of --instructions: the set-up, then nothing (`none`) or the M decisions with
    screening off or on, counted (see `instructions`)."""
    s = prepare(n, m, root)
    txs = s["txs"]()
    if which != "none":
        ps, day, opt, decide = s["ps"], s["day"], s[which], s["decide"]
        _instrument(True)
        for t in txs:
            decide(ps, t, day, opt)
        _instrument(False)
    return 0


def instructions(n: int, m: int, out: str | None) -> int:
    """Two runs under valgrind's callgrind (instructions, the same count whatever else the
    machine does), one with screening off and one with it on, counting the M decisions only
    (the set-up runs uninstrumented, see `phase`); their ratio is the figure."""
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("--instructions needs valgrind and callgrind_control (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="exportctl-screening-"))
    root = tmp / "policies"
    # a policy cache of its own: other processes writing theirs cannot prune the entries every
    # run must find (a run that built the index again would count it)
    env = {**os.environ, "PYTHONHASHSEED": "0", "XDG_CACHE_HOME": str(tmp / "cache"), "EXPORTCTL_BENCH_CALLGRIND": ""}
    me = [__file__, "--entries", str(n), "--decisions", str(m), "--root", str(root)]
    try:
        # writes the folder and fills the policy cache (policies, lists and their index), so the
        # measured runs load them as every later process of a batch does
        subprocess.run([sys.executable, *me, "--phase", "none"], check=True, env=env)

        def start(which):
            return subprocess.Popen(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                                     "--callgrind-out-file=/dev/null", sys.executable, *me, "--phase", which],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                    env={**env, "EXPORTCTL_BENCH_CALLGRIND": "1"})

        runs = {which: start(which) for which in ("off", "on")}      # side by side: the machine has 2 cores
        counts = {which: _refs(proc, which, check_exit=True) for which, proc in runs.items()}
        if None in counts.values():
            return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    without, with_ = counts["off"], counts["on"]
    r = {"synthetic": n, "decisions": m, "instructions_per_decision_without": without // m,
         "instructions_per_decision_with": with_ // m, "instructions_per_screening": (with_ - without) // m,
         "ratio": round(with_ / without, 3)}
    print(json.dumps(r, indent=2))
    if out:
        Path(out).write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return 0


FIRST = 20


def write_cli_inputs(n: int, m: int, root: Path) -> tuple[Path, Path]:
    """The policy folder with N synthetic entries in `root` (and its policy cache filled), M
    transactions as JSON Lines, and a file of their first FIRST."""
    entries = synthetic_entries(n)
    if not (root / "lists" / "synthetic.yaml").is_file():
        prepare(n, 1, root)
    lines = [json.dumps(t, ensure_ascii=False, default=str) + "\n" for t in transactions(m, entries)]
    big, small = root.parent / "n.jsonl", root.parent / "first.jsonl"
    big.write_text("".join(lines), encoding="utf-8")
    small.write_text("".join(lines[:FIRST]), encoding="utf-8")
    return big, small


def run_cli(path: str, root: str, which: str, stdout=None) -> int:
    """One `exportctl evaluate PATH --format json --policies ROOT [--no-screening]` in this
    process, the compiled programs of every epoch generated first (as `--jobs` does before its
    workers start), so that runs on M and on FIRST records differ by the records alone. The
    decisions go to `stdout` (default: nowhere)."""
    from exportctl import api, cli
    from exportctl.codegen import compile_fast

    compile_fast(api.load_policies(root)).prepare()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        return cli.main(["evaluate", path, "--format", "json", "--policies", root,
                         *(["--no-screening"] if which == "off" else [])], stdout=stdout or sink)


def cli_instructions(n: int, m: int, out: str | None) -> int:
    """The whole batch CLI (reading JSON Lines, validation, screening, the decision, JSON out)
    under callgrind, screening off and on, each on M records and on the first FIRST of them: the
    difference is what M - FIRST records cost, start-up (policies, lists and their index from
    the cache) excluded."""
    if shutil.which("valgrind") is None:
        print("--cli needs valgrind (Debian: apt install valgrind)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="exportctl-screening-"))
    root = tmp / "policies"
    env = {**os.environ, "PYTHONHASHSEED": "0", "XDG_CACHE_HOME": str(tmp / "cache")}
    try:
        subprocess.run([sys.executable, __file__, "--entries", str(n), "--decisions", str(m), "--root", str(root),
                        "--phase", "cli-inputs"], check=True, env=env)
        big, small = tmp / "n.jsonl", tmp / "first.jsonl"
        for which in ("off", "on"):         # fill the cache (lists and their index) as a batch run would
            subprocess.run([sys.executable, __file__, "--run-cli", str(small), str(root), which], check=True, env=env)
        procs = {(which, size): subprocess.Popen(
                     ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, __file__,
                      "--run-cli", str(path), str(root), which],
                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
                 for which in ("off", "on") for size, path in (("m", big), ("first", small))}
        counts = {key: _refs(proc, key, check_exit=True) for key, proc in procs.items()}
        if None in counts.values():
            return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    per = {w: (counts[(w, "m")] - counts[(w, "first")]) // (m - FIRST) for w in ("off", "on")}
    r = {"synthetic": n, "records": m, "measured_records": m - FIRST,
         "instructions_per_record_without": per["off"], "instructions_per_record_with": per["on"],
         "instructions_per_record_screening": per["on"] - per["off"],
         "start_instructions_without": counts[("off", "first")], "start_instructions_with": counts[("on", "first")],
         "ratio": round(per["on"] / per["off"], 3)}
    print(json.dumps(r, indent=2))
    if out:
        Path(out).write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return 0


def cli_clock(n: int, m: int, rounds: int, out: str | None) -> int:
    """The batch CLI by CPU time: the same runs as `cli_instructions` (whole processes, M records
    and the first FIRST), screening off and on, interleaved for `rounds` rounds; per record, the
    difference of the two sizes, median of the rounds."""
    import resource

    tmp = Path(tempfile.mkdtemp(prefix="exportctl-screening-"))
    root = tmp / "policies"
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache")}

    def cpu(path, which):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, __file__, "--run-cli", str(path), str(root), which], check=True, env=env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

    try:
        subprocess.run([sys.executable, __file__, "--entries", str(n), "--decisions", str(m), "--root", str(root),
                        "--phase", "cli-inputs"], check=True, env=env)
        big, small = tmp / "n.jsonl", tmp / "first.jsonl"
        for which in ("off", "on"):
            cpu(small, which)           # fills the cache
        per: dict = {"off": [], "on": []}
        for _ in range(rounds):
            for which in ("off", "on"):
                per[which].append((cpu(big, which) - cpu(small, which)) / (m - FIRST))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    ratios = sorted(b / a for a, b in zip(per["off"], per["on"]))
    med = {w: statistics.median(xs) for w, xs in per.items()}
    r = {"synthetic": n, "records": m, "measured_records": m - FIRST, "rounds": rounds,
         "records_per_cpu_s_without": round(1 / med["off"], 1), "records_per_cpu_s_with": round(1 / med["on"], 1),
         "ratio": round(statistics.median(ratios), 3), "ratios": [round(x, 3) for x in ratios]}
    print(json.dumps(r, indent=2))
    if out:
        Path(out).write_text(json.dumps(r, indent=2) + "\n", encoding="utf-8")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=10_000)
    ap.add_argument("--decisions", type=int, default=2_000)
    ap.add_argument("--rounds", type=int, default=3, help="rounds side by side; the median ratio is reported")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions under valgrind instead of seconds (use a modest --decisions)")
    ap.add_argument("--cli", action="store_true",
                    help="the whole batch CLI on JSON Lines, per record, start-up excluded (CPU time, or with "
                         "--instructions instructions)")
    ap.add_argument("--root", help=argparse.SUPPRESS)
    ap.add_argument("--phase", choices=["none", "off", "on", "cli-inputs"], help=argparse.SUPPRESS)
    ap.add_argument("--run-cli", nargs=3, metavar=("FILE", "ROOT", "WHICH"), help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    n, m, rounds = (500, 100, 1) if a.smoke else (a.entries, a.decisions, a.rounds)
    if a.run_cli:
        return run_cli(*a.run_cli)
    if a.phase == "cli-inputs":
        write_cli_inputs(n, m, Path(a.root))
        return 0
    if a.phase:
        return phase(n, m, Path(a.root), a.phase)
    if a.instructions and a.cli:
        return cli_instructions(n, m, a.out)
    if a.cli:
        return cli_clock(n, m, rounds, a.out)
    if a.instructions:
        return instructions(n, m, a.out)
    r = run(n, m, rounds)
    print(f"list entries: {r['entries']} ({r['synthetic']} synthetic); index: {r['index_keys']} keys, "
          f"built in {r['index_build_s']} s")
    print(f"{'screening':<12}{'decisions/s':>14}")
    print(f"{'off':<12}{r['decisions_per_s_without']:>14}")
    print(f"{'on':<12}{r['decisions_per_s_with']:>14}")
    print(f"ratio (off/on), median of {r['rounds']} round(s): {r['ratio']}  (rounds: {r['ratios']})   goal <= 2.0   "
          f"parties flagged: {r['parties_flagged']} of {2 * m}")
    if a.out:
        Path(a.out).write_text(json.dumps(r, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
