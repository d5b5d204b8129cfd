"""The `exportctl` command. Thin: parses arguments, calls `api`, prints with `render`.

Results go to stdout, messages to stderr. Exit 0 done; 1 a check or golden case failed
(or --fail-on matched); 2 bad input or usage. Streams and tty detection are injected so
tests call `main()` as a plain function."""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .diagnostics import Diagnostic, ExportctlError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class IO:
    stdin: object
    stdout: object
    stderr: object
    color_out: bool
    color_err: bool

    def out(self, text: str) -> None:
        self.stdout.write(text if text.endswith("\n") or not text else text + "\n")

    def err(self, text: str) -> None:
        self.stderr.write(text if text.endswith("\n") or not text else text + "\n")


def _color(stream, env) -> bool:
    if env.get("NO_COLOR") is not None:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def _date(s: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="exportctl", description="Export-control determinations for space items, with the law behind every finding.")
    p.add_argument("--version", action="version", version=f"exportctl {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    e = sub.add_parser("evaluate", help="determine what the law requires for transactions")
    e.add_argument("files", nargs="+", metavar="FILE", help="YAML/JSON transaction, .jsonl stream, folder, or - for stdin")
    e.add_argument("--as-of", type=_date, metavar="DATE", help="apply the law in force on DATE instead of each transaction's date")
    e.add_argument("--format", choices=("text", "json"), default="text")
    e.add_argument("--policies", metavar="DIR", help="policy folder (default: the bundled policies)")
    e.add_argument("--record", metavar="FILE", help="append each decision to a hash-chained JSON Lines record file")
    e.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes for large batches")
    e.add_argument("--fail-on", metavar="OUTCOME", choices=("prohibited", "indeterminate", "license_required", "authorized"),
                   help="exit 1 when a transaction's outcome is this strict or stricter")
    e.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress bar on stderr (auto: only on a terminal and with --format json)")

    c = sub.add_parser("check", help="parse and check every policy, and rule coverage by golden cases")
    c.add_argument("--policies", metavar="DIR")
    c.add_argument("--format", choices=("text", "json"), default="text")
    c.add_argument("--no-coverage", action="store_true", help="skip the golden-case coverage gate")

    t = sub.add_parser("test", help="run every golden case (pytest underneath)")
    t.add_argument("--policies", metavar="DIR")
    t.add_argument("-k", metavar="EXPR", dest="keyword", help="only cases whose name matches EXPR (pytest -k)")
    t.add_argument("--junitxml", metavar="FILE")
    t.add_argument("--coverage", action="store_true", help="print rule coverage per regime")
    t.add_argument("-q", "--quiet", action="store_true")

    d = sub.add_parser("docs", help="write the generated policy reference for mkdocs")
    d.add_argument("--policies", metavar="DIR")
    d.add_argument("--out", metavar="DIR", default=None,
                   help="where to write (default: docs/reference, only beside a mkdocs.yml)")

    r = sub.add_parser("records", help="decision records")
    rs = r.add_subparsers(dest="records_command", metavar="ACTION", parser_class=_Parser)
    v = rs.add_parser("verify", help="detect edited, reordered or removed records")
    v.add_argument("file", metavar="FILE")
    v.add_argument("--format", choices=("text", "json"), default="text")

    x = sub.add_parser("diff", help="what a policy change does to golden cases and recorded transactions")
    x.add_argument("base", nargs="?", default="HEAD", help="git revision or policy folder (default: HEAD)")
    x.add_argument("head", nargs="?", default=None, help="git revision or policy folder (default: the working tree)")
    x.add_argument("--corpus", action="append", default=[], metavar="PATH", help="recorded transactions (folder, file or .jsonl)")
    x.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    x.add_argument("--fail-on", choices=("change",), default=None)
    x.add_argument("--policies-path", default="policies", metavar="PATH", help="where the policies sit in the repository")
    return p


def main(argv=None, *, stdin=None, stdout=None, stderr=None, env=None) -> int:
    env = os.environ if env is None else env
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    io = IO(stdin or sys.stdin, stdout, stderr, _color(stdout, env), _color(stderr, env))
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as e:
        io.err(str(e))
        io.err("try: exportctl --help")
        return EXIT_BAD_INPUT
    except SystemExit as e:  # --help, --version
        return int(e.code or 0)
    if not args.command:
        io.out(parser.format_help())
        return EXIT_BAD_INPUT
    try:
        return COMMANDS[args.command](args, io)
    except ExportctlError as e:
        from .render import diagnostics_text

        io.err(diagnostics_text(e.diagnostics, color=io.color_err))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        io.err("interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # an engine bug: say so plainly
        if getattr(args, "debug", False):
            raise
        io.err(f"exportctl: E901 internal error, please report: {type(e).__name__}: {e}\n(run with --debug for the traceback)")
        return 3


# ---------------------------------------------------------------- commands

def cmd_evaluate(args, io: IO) -> int:
    from .batch import run_evaluate
    from .policyset import resolve_policies

    args.policies = str(resolve_policies(args.policies, io))
    return run_evaluate(args, io)


def cmd_check(args, io: IO) -> int:
    from . import cases as C
    from .policyset import load, resolve_policies
    from .render import diagnostics_text, json_text

    ps = load(resolve_policies(args.policies, io))
    diags = list(ps.diagnostics)
    bad_input = bool(diags)
    cov_diags: list[Diagnostic] = []
    if not bad_input and not args.no_coverage:
        results, case_diags = C.run_all(ps)
        diags.extend(case_diags)
        bad_input = bool(case_diags)
        cov_diags = C.coverage_diagnostics(C.coverage(ps, results))
        failed = [r for r in results if not r.passed]
        for r in failed:
            cov_diags.append(Diagnostic("E503", f"golden case fails: {r.case.name}: {'; '.join(r.problems)}",
                                        _span(r.case)))
    all_diags = diags + cov_diags
    if args.format == "json":
        io.out(json_text({"ok": not all_diags, "diagnostics": [d.as_dict() for d in all_diags],
                          "policies": len(ps.policies), "rules": sum(len(p.rules) for p in ps.policies)}, pretty=True))
    else:
        if all_diags:
            io.err(diagnostics_text(all_diags, {p.path: p.text for p in ps.policies}, color=io.color_err))
        rules = sum(len(p.rules) for p in ps.policies)
        summary = f"{len(ps.policies)} policies, {rules} rules: " + (
            "ok" if not all_diags else f"{len(all_diags)} problem(s)")
        (io.err if all_diags else io.out)(summary)
    if bad_input:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if cov_diags else EXIT_OK


def _span(case):
    from .source import Span

    return Span(case.file, case.line, 1)


def cmd_test(args, io: IO) -> int:
    from .testing import run_tests

    return run_tests(args, io)


def cmd_docs(args, io: IO) -> int:
    from .docs import write_reference
    from .policyset import resolve_policies

    out = args.out
    if out is None:
        # Never write into a folder that is not a MkDocs project unless told where.
        if not Path("mkdocs.yml").is_file():
            io.err("exportctl docs: no mkdocs.yml here, so no docs/reference/ to write into: "
                   "run it at the top of a MkDocs project, or say where with --out DIR")
            return EXIT_BAD_INPUT
        out = "docs/reference"
    written = write_reference(str(resolve_policies(args.policies, io)), Path(out))
    io.out(f"wrote {len(written)} page(s) to {out}")
    return EXIT_OK


def cmd_records(args, io: IO) -> int:
    from . import records
    from .render import json_text

    if args.records_command != "verify":
        io.err("exportctl records: say `verify FILE`")
        return EXIT_BAD_INPUT
    try:
        report = records.verify(args.file)
    except FileNotFoundError:
        io.err(f"{args.file}: no such record file")
        return EXIT_BAD_INPUT
    except (OSError, UnicodeDecodeError) as e:
        io.err(f"{args.file}: cannot read the record file: {getattr(e, 'strerror', None) or e}")
        return EXIT_BAD_INPUT
    if args.format == "json":
        io.out(json_text({"ok": report.ok, "records": report.records, "head": report.head,
                          "problems": [{"line": p.line, "code": p.code, "message": p.message} for p in report.problems]},
                         pretty=True))
    else:
        for p in report.problems:
            io.err(f"{args.file}:{p.line}: {p.code} {p.message}")
        io.out(f"{args.file}: {report.records} record(s), " + ("chain intact" if report.ok else "TAMPERED OR DAMAGED"))
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_diff(args, io: IO) -> int:
    from .diff import run_diff

    return run_diff(args, io)


COMMANDS = {"evaluate": cmd_evaluate, "check": cmd_check, "test": cmd_test, "docs": cmd_docs,
            "records": cmd_records, "diff": cmd_diff}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
