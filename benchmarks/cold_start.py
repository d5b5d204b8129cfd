"""Cold start of `exportctl evaluate examples/quickstart.yaml` (issue 14, part 5): the median of
several new processes, this tree against a baseline ref, with the policy cache cold and warm, and
warm with a transaction never seen before (its `id` changed each run, so nothing of the input
itself comes from the cache: only the policies, lists and code), beside `python -c pass`.

    python benchmarks/cold_start.py                  # 7 rounds, baseline = git main
    python benchmarks/cold_start.py --runs 3 --smoke # for CI: runs, times nothing strictly
    python benchmarks/cold_start.py --python v/bin/python   # an installed copy (pip install .) instead
    python benchmarks/cold_start.py --instructions   # also counts the instructions of one run of each

The command timed is the one users type: the `exportctl` console script of the environment
(beside its python, as `pip install` writes it; it imports `re` before exportctl), run by that
python. `--module` times `python -m exportctl.cli` instead (which imports `runpy` and
`importlib.util`), as does an environment without the script.

Each round runs every configuration once, `python -c pass` among them, so a host that runs
faster or slower from one minute to the next (this shared 2-core machine does: `python -c pass`
takes 15 ms in a quiet hour and 25 ms in a busy one) slows all of them alike; besides the median
and the minimum of the clock and of the CPU time (`getrusage`, less disturbed by a busy machine),
each configuration gets `per_floor`: the median over the rounds of its time divided by that of
`python -c pass` in the same round. Each configuration has its own XDG_CACHE_HOME: "cold cache"
empties it before every run, "warm cache" fills it once first. Both trees are byte-compiled
first (`compileall`), as an installed package is: with PYTHONDONTWRITEBYTECODE set, a checkout
would otherwise compile every module from source on every start (over 100 ms). Also prints where
the warm start goes (`python -X importtime`: the heaviest imports).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
PYTHON = sys.executable     # --python: another environment's, e.g. one made with `pip install .`


SCRIPT = None               # the environment's console script (main), unless --module


def _cmd(path: Path = QUICKSTART) -> list[str]:
    if SCRIPT is not None:
        return [PYTHON, str(SCRIPT), "evaluate", str(path)]
    return [PYTHON, "-m", "exportctl.cli", "evaluate", str(path)]


def console_script(python: str) -> Path | None:
    """The `exportctl` script `pip install` wrote beside `python`, if it is one of ours."""
    script = Path(python).parent / "exportctl"
    try:
        head = script.read_text(encoding="utf-8")[:400]
    except (OSError, UnicodeDecodeError):
        return None
    return script if "from exportctl.cli import main" in head else None


def _fresh(cwd: Path, n: int) -> Path:
    """The quickstart with another id: a transaction this cache has not seen."""
    text = QUICKSTART.read_text(encoding="utf-8").replace("id: TX-2026-0042", f"id: TX-COLD-{os.getpid()}-{n}", 1)
    path = cwd / f"fresh-{n}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _env(pythonpath: Path | None, cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["XDG_CACHE_HOME"] = str(cache)
    if pythonpath:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def _run(cmd: list, env: dict, cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one new process."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):
        raise SystemExit(p.stderr.decode())
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def measure(plan: list, runs: int, tmp: Path, cwd: Path) -> dict:
    """Every configuration of `plan` (label, pythonpath, cold, fresh, floor) once a round, `runs`
    rounds: median and minimum of wall and CPU time, and the median ratio to the floor's round."""
    envs = [_env(pp, tmp / f"cache{i}") for i, (_, pp, *_) in enumerate(plan)]
    for env, (_, _, cold, _, floor) in zip(envs, plan):
        if not cold and not floor:
            subprocess.run(_cmd(), env=env, cwd=cwd, capture_output=True)   # fills the cache
    got: dict = {label: [] for label, *_ in plan}
    for n in range(runs):
        for i, (label, _, cold, fresh, floor) in enumerate(plan):
            if cold:
                shutil.rmtree(tmp / f"cache{i}" / "exportctl", ignore_errors=True)
            cmd = [PYTHON, "-c", "pass"] if floor else _cmd(_fresh(cwd, n) if fresh else QUICKSTART)
            got[label].append(_run(cmd, envs[i], cwd))
    floors = next((got[label] for label, *rest in plan if rest[-1]), None)
    out = {}
    for label, times in got.items():
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        r = out[label] = {"median_ms": round(statistics.median(walls) * 1000, 1),
                          "min_ms": round(min(walls) * 1000, 1), "runs": len(times),
                          "cpu_median_ms": round(statistics.median(cpus) * 1000, 1),
                          "cpu_min_ms": round(min(cpus) * 1000, 1)}
        if floors is not None and times is not floors:
            r["per_floor"] = round(statistics.median(w / f for w, (f, _) in zip(walls, floors)), 2)
    return out


def instructions(pythonpath: Path | None, cache: Path, cwd: Path, fresh: bool = False, floor: bool = False):
    """Instructions of one run under valgrind's callgrind (the same count whatever else the machine
    runs; kernel time, such as mapping memory, is not in it), or None without valgrind."""
    import re

    if not shutil.which("valgrind"):
        return None
    cmd = [PYTHON, "-c", "pass"] if floor else _cmd(_fresh(cwd, 999) if fresh else QUICKSTART)
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                       env=_env(pythonpath, cache), cwd=cwd, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", p.stderr)
    return int(m.group(1)) if m else None


def compile_tree(engine: Path) -> None:
    """Byte-code for every module, as `pip install` writes it."""
    import compileall

    compileall.compile_dir(str(engine), quiet=1)


def where(cwd: Path, cache: Path) -> dict:
    """The heaviest imports and functions of a warm start (this tree)."""
    env = _env(None, cache)
    p = subprocess.run([PYTHON, "-X", "importtime", *_cmd()[1:]], env=env, cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in p.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cum, name = line[len("import time:"):].split("|")
            if cum.strip().isdigit():
                rows.append((int(cum), name.rstrip()))
    top = [{"module": n.strip(), "cumulative_ms": round(c / 1000, 1)} for c, n in sorted(rows, reverse=True)
           if len(n) - len(n.lstrip()) <= 3][:12]   # top-level imports and theirs
    return {"imports": top}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--baseline-ref", default="main")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--out")
    ap.add_argument("--instructions", action="store_true", help="also count the instructions of one warm run "
                    "of each (valgrind's callgrind: minutes, not seconds)")
    ap.add_argument("--python", help="the interpreter of an environment where exportctl is installed "
                                     "(e.g. `python -m venv v && v/bin/pip install .`, as the README does: no "
                                     "editable finder, no `fast` extra); default: this one")
    ap.add_argument("--module", action="store_true", help="time `python -m exportctl.cli` instead of the "
                    "environment's `exportctl` console script")
    args = ap.parse_args(argv)
    global PYTHON, SCRIPT
    PYTHON = args.python or sys.executable
    SCRIPT = None if args.module else console_script(PYTHON)
    sys.path.insert(0, str(HERE))
    from batch_speed import baseline_tree

    runs = 1 if args.smoke else args.runs
    with tempfile.TemporaryDirectory(prefix="exportctl-cold-") as tmp:
        tmp = Path(tmp)
        cwd = tmp / "cwd"       # outside any checkout: each engine uses its own bundled policies
        cwd.mkdir()
        base = None if args.no_baseline or args.smoke else baseline_tree(args.baseline_ref, tmp / "base")
        compile_tree(ROOT / "engine")
        plan = [("new, cold cache", None, True, False, False), ("new, warm cache", None, False, False, False),
                ("new, warm, new tx", None, False, True, False)]
        if base:
            compile_tree(base / "exportctl")
            plan[:0] = [("baseline, cold cache", base, True, False, False),
                        ("baseline, warm cache", base, False, False, False),
                        ("baseline, warm, new tx", base, False, True, False)]
        plan.append(("python -c pass", None, False, False, True))
        print("timing:", " ".join(_cmd(Path("FILE"))[1:]) if SCRIPT else "python -m exportctl.cli evaluate FILE",
              f"({runs} rounds)", flush=True)
        results = measure(plan, runs, tmp, cwd)
        for i, (label, pp, cold, fresh, floor) in enumerate(plan):
            r = results[label]
            ratio = f", {r['per_floor']:.2f}x python -c pass" if "per_floor" in r else ""
            print(f"{label:22} median {r['median_ms']:8.1f} ms  (min {r['min_ms']:.1f}, CPU {r['cpu_median_ms']:.1f} ms "
                  f"(min {r['cpu_min_ms']:.1f}){ratio}, {r['runs']} runs)", flush=True)
            if args.instructions and not cold:
                r["instructions"] = instructions(pp, tmp / f"cache{i}", cwd, fresh, floor=floor)
                print(f"{'':22} {r['instructions'] or 0:,} instructions", flush=True)
        prof = where(cwd, tmp / f"cache{len(plan) - 2}")
        print("heaviest imports of a warm start:", json.dumps(prof["imports"]))
    out = {"date": time.strftime("%Y-%m-%d %H:%M"), "cpus": os.cpu_count(), "load": os.getloadavg(), "python": PYTHON,
           "command": "script" if SCRIPT else "module", "results": results, "where": prof}
    if args.out:
        Path(args.out).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
