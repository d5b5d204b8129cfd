"""Live examples in hand-written pages: `<!-- run: exportctl ... -->` becomes the command and its real output."""

from __future__ import annotations

import json
import re
from pathlib import Path

from .markdown import fence


_TITLED_BLOCK = re.compile(r'^(?P<fence>`{3,})[ \t]*[\w+-]+[ \t]+title="(?P<name>[^"]+)"[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$',
                           re.M | re.S)


_RUN = re.compile(r"^(?P<indent>[ \t]*)<!--[ \t]*run(?P<excerpt>-excerpt)?(?P<decision>-decision)?(?:[ \t]+exit=(?P<exit>\d+))?:[ \t]*exportctl[ \t]+(?P<args>.*?)[ \t]*-->[ \t]*$",
                  re.M)


class ExampleFailed(Exception):
    """A `<!-- run: ... -->` example exited with another code than the page says."""


def run_examples(markdown: str, policies: str | None = None) -> str:
    """Replace each `<!-- run: exportctl ARGS -->` line of a page by the command and its real output.

    Code blocks of the page with a `title="NAME"` are the files the commands read: each command
    runs in a fresh folder holding the files the page has shown above it (a later block with the
    same title replaces the file; a command may also read what an earlier command wrote).
    `<!-- run exit=1: ... -->` expects that exit code (default 0); another code fails the build.
    `<!-- run-excerpt: exportctl evaluate X --format json -->` shows the decision cut down to the
    regimes that set its outcome, and the whole decision in a collapsed block.
    `<!-- run-decision: exportctl evaluate X -->` shows the decision as a person reads it (the
    outcome, a card per regime, what to do next, the open questions: docs/decision.py). `policies`, when
    given, is passed as `--policies` to the commands that take it and do not name one. Commands
    run as `exportctl` would from a shell (a subprocess, NO_COLOR set, 100 columns)."""
    import os
    import shlex
    import subprocess
    import sys
    import tempfile

    if not _RUN.search(markdown):
        return markdown
    events = sorted([(m.start(), "file", m) for m in _TITLED_BLOCK.finditer(markdown)]
                    + [(m.start(), "run", m) for m in _RUN.finditer(markdown)], key=lambda e: e[0])
    takes_policies = {"evaluate", "check", "test", "docs"}
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "100", "TERM": "dumb"}
    env.pop("FORCE_COLOR", None)
    out_parts, pos = [], 0
    with tempfile.TemporaryDirectory(prefix="exportctl-docs-") as tmp:
        for at, kind, m in events:
            if kind == "file":
                target = _example_file(tmp, m.group("name"))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(m.group("body"), encoding="utf-8")
                continue
            args = m.group("args")
            argv = shlex.split(args)
            if argv and argv[0] == "test" and not _have_pytest():
                # `pip install '.[docs]'` alone builds the site: the golden cases' run needs pytest
                out_parts.append(markdown[pos:m.start()])
                out_parts.append(fence(f"$ exportctl {args}\n(not run when this site was built: pytest is "
                                       "not installed; pip install 'exportctl[test]')", "console").rstrip("\n"))
                pos = m.end()
                continue
            if m.group("decision") and "--format" not in argv:
                argv += ["--format", "json"]
            if policies and argv and argv[0] in takes_policies and "--policies" not in argv:
                argv += ["--policies", str(Path(policies).resolve())]
            proc = subprocess.run([sys.executable, "-c", "import sys; from exportctl.cli import main; sys.exit(main())",
                                   *argv], cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
            want = int(m.group("exit") or 0)
            if proc.returncode != want:
                raise ExampleFailed(f"`exportctl {args}` exited {proc.returncode}, the page expects {want}:\n"
                                    f"{proc.stdout}{proc.stderr}")
            if m.group("excerpt"):
                shown = _json_excerpt(args, proc.stdout)
            elif m.group("decision"):
                shown = _decision(args, proc.stdout)
            else:
                text = (proc.stdout.rstrip() + "\n" + proc.stderr.rstrip()).strip("\n")
                tail = f"\n$ echo $?\n{proc.returncode}" if proc.returncode else ""
                shown = fence(f"$ exportctl {args}\n{text}{tail}", "console").rstrip("\n")
            out_parts.append(markdown[pos:m.start()])
            if m.group("indent"):   # inside an admonition or a list: the output is indented as the comment is
                shown = "\n".join(m.group("indent") + line if line else line for line in shown.split("\n"))
            out_parts.append(shown)
            pos = m.end()
    out_parts.append(markdown[pos:])
    return "".join(out_parts)


def _have_pytest() -> bool:
    import importlib.util

    return importlib.util.find_spec("pytest") is not None


_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)*$")


def _example_file(folder: str, name: str) -> Path:
    """Where a page's `title="NAME"` block is written: inside the example's own folder, never
    elsewhere. A page (or a policy README it includes) is data: an absolute name, `..`, a hidden
    or otherwise odd name fails the build rather than write outside."""
    resolved = (Path(folder) / name).resolve()
    base = Path(folder).resolve()
    if not _SAFE_NAME.match(name) or {".", ".."} & set(name.split("/")) or base not in resolved.parents:
        raise ExampleFailed(f"a code block's title={name!r} is not a plain file name inside the example's folder "
                            "(letters, digits, _ . - and /; no `..` or `.` part, no absolute path): refusing to write it")
    return resolved


def _decision(args: str, output: str) -> str:
    from .decision import decision_markdown

    try:
        decision = json.loads(output)
    except json.JSONDecodeError:
        raise ExampleFailed(f"`exportctl {args}` did not print one JSON document:\n{output}")
    return decision_markdown(decision)


def _json_excerpt(args: str, output: str) -> str:
    try:
        decision = json.loads(output)
    except json.JSONDecodeError:
        raise ExampleFailed(f"`exportctl {args}` did not print one JSON document:\n{output}")
    driving = set(decision.get("driven_by") or [])
    part = dict(decision)
    part["regimes"] = [r for r in decision.get("regimes", []) if r.get("regime") in driving] or decision.get("regimes", [])[:1]
    left_out = len(decision.get("regimes", [])) - len(part["regimes"])
    title = f'title="exportctl {args}"'.replace("<", "&lt;")
    text = fence(json.dumps(part, indent=2, ensure_ascii=False), "json", title)
    note = (f"Excerpt: the regime(s) that set the outcome; the {left_out} other regime(s) are in the whole "
            "decision below.\n\n" if left_out else "")
    full = json.dumps(decision, indent=2, ensure_ascii=False)
    return (note + text + "\n" + '??? example "The whole decision"\n\n'
            + "".join(f"    {line}\n" if line else "\n" for line in fence(full, "json").splitlines()))
