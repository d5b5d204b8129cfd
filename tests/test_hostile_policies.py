"""Every CLI command over hostile policy folders (tests/hostile/policies/make.py): a located
exit 2 (or 0/1) each time, never E901, a traceback, a hang or unbounded memory. Each folder
runs in its own subprocess under RLIMIT_AS, with a hang guard."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "hostile" / "policies"))
import make  # noqa: E402

MEMORY = 1536 * 1024 * 1024                                   # bytes of address space per run
HANG = float(os.environ.get("EXPORTCTL_HANG_SECONDS", "10"))  # CPU seconds per command: a hang guard
# (CPU time, not wall time, so that a loaded CI machine does not make it flaky)
TX = Path(__file__).resolve().parents[1] / "examples" / "quickstart.yaml"

# One process per folder runs every command in turn and reports each one's exit code and output.
DRIVER = r"""
import io, json, sys, time
from exportctl.cli import main
root, tx, out = sys.argv[1], sys.argv[2], sys.argv[3]
runs = [["check", "--policies", root], ["evaluate", tx, "--policies", root],
        ["test", "-q", "--policies", root], ["docs", "--policies", root, "--out", out],
        ["diff", root, root]]
report = []
for argv in runs:
    o, e = io.StringIO(), io.StringIO()
    t = time.process_time()
    try:
        code = main(argv, stdout=o, stderr=e, env={"NO_COLOR": "1"})
    except BaseException as x:
        code = f"raised {type(x).__name__}: {x}"[:300]
    report.append({"argv": argv[0], "code": code, "seconds": time.process_time() - t,
                   "out": (o.getvalue() + e.getvalue())[-2000:]})
print(json.dumps(report))
"""


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make.write(tmp_path_factory.mktemp("hostile"))


def test_the_corpus_has_every_listed_problem():
    names = set(make.texts())
    for want in ("parens-200", "not-chain", "minus-chain", "arith-chain", "set-self", "set-cycle", "define-self",
                 "define-mutual", "escape-x", "escape-u", "escape-N", "number-5000-digits", "string-500k"):
        assert want in names


@pytest.mark.parametrize("index", range(len(make.texts()) + 2))
def test_every_command_survives(corpus, index, tmp_path):
    root = corpus[index]
    proc = subprocess.run([sys.executable, "-c", DRIVER, str(root), str(TX), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=HANG * 5 + 20, preexec_fn=_limit,
                          cwd=tmp_path, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 0, f"{root.name}: driver died ({proc.returncode}):\n{proc.stderr[-3000:]}"
    for run in json.loads(proc.stdout.strip().splitlines()[-1]):
        what = f"{root.name}: exportctl {run['argv']} -> {run['code']}\n{run['out']}"
        assert run["code"] in (0, 1, 2), what
        assert "E901" not in run["out"] and "Traceback" not in run["out"], what
        assert run["seconds"] < HANG, what


def _check(root: Path) -> tuple[int, str]:
    import io

    from exportctl.cli import main

    o, e = io.StringIO(), io.StringIO()
    code = main(["check", "--no-coverage", "--policies", str(root)], stdout=o, stderr=e, env={"NO_COLOR": "1"})
    return code, e.getvalue()


@pytest.mark.parametrize("name,code", [
    ("parens-200", "E103"), ("not-chain", "E103"), ("minus-chain", "E103"), ("arith-chain", "E103"),
    ("quantifier-nest", "E103"), ("escape-x", "E108"), ("escape-u", "E108"), ("escape-N", "E108"),
    ("number-5000-digits", "E105"), ("string-500k", "E104"), ("many-declarations", "E107"), ("file-2MB", "E106"), ("set-members-20k", "E110"),
    ("set-self", "E208"), ("set-cycle", "E208"), ("define-self", "E209"), ("define-mutual", "E209"),
    ("define-noparam-self", "E209"), ("define-chain-1500", "E212"), ("define-param-chain-1500", "E212"),
    ("country-typo", "E211"), ("use-cycle", "E210"), ("links", "E109"),
])
def test_each_problem_is_a_located_diagnostic(corpus, name, code):
    root = next(r for r in corpus if r.name == name)
    exit_code, err = _check(root)
    assert exit_code == 2
    line = next((ln for ln in err.splitlines() if f" {code} " in ln), None)
    assert line is not None, err[-2000:]
    assert str(root.name) in line or "demo" in line or "/" in line.split(":")[0]
