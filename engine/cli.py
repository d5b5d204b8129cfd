"""The `exportctl` command. Thin: parses arguments, calls `api`, prints with `render`.

Results go to stdout, messages to stderr. Exit 0 done; 1 a check or golden case failed
(or --fail-on matched); 2 bad input or usage. Streams and tty detection are injected so
tests call `main()` as a plain function."""

from __future__ import annotations

import datetime as _dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from . import __version__, policy_cache

policy_cache.cache_generated_code()     # before the first @dataclass: see policy_cache

from .diagnostics import Diagnostic, ExportctlError  # noqa: E402

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


@dataclass
class IO:
    """The command's streams and whether each takes colour: injected, so tests call main() as a function."""

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


def _parser_class():
    """argparse's parser with the project's errors and fixed-width checks, made on first use:
    `exportctl evaluate FILE...` without options never imports argparse (see `_plain_evaluate`)."""
    global _PARSER
    if _PARSER is not None:
        return _PARSER
    import argparse

    class _Parser(argparse.ArgumentParser):
        _checking = False

        def error(self, message):
            raise _UsageError(f"{self.prog}: {message}")

        def add_argument(self, *args, **kwargs):
            self._checking = True
            try:
                return super().add_argument(*args, **kwargs)
            finally:
                self._checking = False

        def add_subparsers(self, **kwargs):
            self._checking = True
            try:
                return super().add_subparsers(**kwargs)
            finally:
                self._checking = False

        def _get_formatter(self):
            """add_argument asks for a formatter only to check a metavar against nargs, add_subparsers
            to write the subcommands' prog ("exportctl", never wrapped); and a formatter asks shutil
            for the terminal's width (importing shutil, bz2 and lzma: 5-10 ms of a start). Those get
            a fixed width; help and usage text still get the terminal's."""
            if self._checking:
                return self.formatter_class(prog=self.prog, width=80)
            return super()._get_formatter()

    _PARSER = _Parser
    return _Parser


_PARSER = None


class _UsageError(Exception):
    pass


def _date(s: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(s)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {s!r}")


class _Skip:
    """Stands in for a subcommand not asked for: takes its definition and keeps nothing."""

    def __getattr__(self, name):
        return lambda *a, **k: self


class _Only:
    """The subparsers action, defining only the subcommand `name`: `exportctl evaluate ...` builds
    one subcommand's options, not all twelve (a few ms of every start)."""

    def __init__(self, sub, name: str):
        self.sub, self.name = sub, name

    def add_parser(self, name, **kw):
        return self.sub.add_parser(name, **kw) if name == self.name else _Skip()


def build_parser(only: str | None = None):
    """The whole CLI, or with `only` (a subcommand's name) just that subcommand: the same
    parser for any command line that starts with it."""
    _Parser = _parser_class()
    p = _Parser(prog="exportctl", description="Export-control determinations for space items, with the law behind every finding.")
    p.add_argument("--version", action="version", version=f"exportctl {__version__}")
    p.add_argument("--debug", action="store_true", help="show tracebacks of internal errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if only is not None:
        sub = _Only(sub, only)

    e = sub.add_parser("evaluate", help="determine what the law requires for transactions")
    e.add_argument("files", nargs="+", metavar="FILE", help="YAML/JSON transaction, .jsonl stream, folder, or - for stdin")
    e.add_argument("--as-of", type=_date, metavar="DATE", help="apply the law in force on DATE instead of each transaction's date")
    e.add_argument("--format", choices=("text", "json", "html", "markdown"), default="text",
                   help="text for people, json (the decision contract), html (a determination record to file), "
                        "markdown (for a ticket)")
    e.add_argument("--policies", metavar="DIR", help="policy folder (default: the bundled policies)")
    e.add_argument("--record", metavar="FILE", help="append each decision to a hash-chained JSON Lines record file")
    e.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes for large batches")
    e.add_argument("--fail-on", metavar="OUTCOME", choices=("prohibited", "indeterminate", "license_required", "authorized"),
                   help="exit 1 when a transaction's outcome is this strict or stricter")
    e.add_argument("--progress", choices=("auto", "always", "never"), default="auto",
                   help="progress bar on stderr (auto: only on a terminal and with --format json)")
    e.add_argument("--no-screening", action="store_true",
                   help="do not screen the parties' names against the restricted-party lists (they were screened elsewhere)")
    e.add_argument("--good-guys", metavar="FILE", help="reviewed false positives that clear a party/entry pair until they expire")
    e.add_argument("--dask", metavar="ADDRESS", help="decide on a Dask cluster (its scheduler: tcp://HOST:8786 or a "
                   "scheduler file; the `dask` extra): .jsonl files every worker can read; the same output, in input order")

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

    w = sub.add_parser("serve", help="the decision API and a page for people, on a local web server")
    w.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, loopback only)")
    w.add_argument("--port", type=int, default=8000)
    w.add_argument("--policies", metavar="DIR", help="policy folder (default: the bundled policies), loaded once")
    w.add_argument("--record", metavar="FILE", help="append every decision to a hash-chained JSON Lines record file")
    w.add_argument("--token", metavar="TOKEN", help="bearer token the API requires (or EXPORTCTL_TOKEN); "
                   "needed when binding to anything but loopback")
    w.add_argument("--max-body", type=int, default=1 << 20, metavar="BYTES", help="largest single transaction (413 above)")
    w.add_argument("--max-batch-body", type=int, default=64 << 20, metavar="BYTES", help="largest JSON Lines batch")
    w.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="time limit to read and decide a request")
    w.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))

    x = sub.add_parser("diff", help="what a policy change does to golden cases and recorded transactions")
    x.add_argument("base", nargs="?", default="HEAD", help="git revision or policy folder (default: HEAD)")
    x.add_argument("head", nargs="?", default=None, help="git revision or policy folder (default: the working tree)")
    x.add_argument("--corpus", action="append", default=[], metavar="PATH", help="recorded transactions (folder, file or .jsonl)")
    x.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    x.add_argument("--fail-on", choices=("change",), default=None)
    x.add_argument("--policies-path", default="policies", metavar="PATH", help="where the policies sit in the repository")

    f = sub.add_parser("fmt", help="rewrite policy files in the canonical layout (comments kept)")
    f.add_argument("paths", nargs="*", metavar="PATH", help="policy files or folders (default: the policy folder); - reads stdin")
    f.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file would change")
    f.add_argument("--diff", action="store_true", help="write nothing; print what would change as a unified diff")
    f.add_argument("--policies", metavar="DIR", help="policy folder when no PATH is given (default: the bundled policies)")

    ls = sub.add_parser("lsp", help="the language server for editors (stdio; needs the `lsp` extra)")
    ls.add_argument("--stdio", action="store_true", help="speak LSP over stdin/stdout (the default and only transport)")

    xp = sub.add_parser("explain", help="what a diagnostic code means, why, an example and the fix")
    xp.add_argument("code", metavar="CODE", help="a diagnostic code, e.g. E601")
    xp.add_argument("--format", choices=("text", "json"), default="text")

    _screening_parsers(sub)
    return p


def _screening_parsers(sub) -> None:
    s = sub.add_parser("screen", help="screen one name against the restricted-party lists (spot-check)")
    s.add_argument("name", metavar="NAME")
    s.add_argument("--country", metavar="CC", help="the party's country (ISO 3166-1 alpha-2): a match elsewhere scores lower")
    s.add_argument("--alias", action="append", default=[], metavar="NAME", help="another name of the party (repeatable)")
    s.add_argument("--as-of", type=_date, metavar="DATE", help="entries in force on DATE (default: today)")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument("--policies", metavar="DIR")
    s.add_argument("--good-guys", metavar="FILE")
    s.add_argument("--floor", type=float, metavar="SCORE", help="show candidates down to this score (default: the review level)")

    ls = sub.add_parser("lists", help="the restricted-party lists: dates, sources, entries; import official downloads")
    ls.add_argument("--policies", metavar="DIR")
    ls.add_argument("--format", choices=("text", "json"), default="text")
    la = ls.add_subparsers(dest="lists_command", metavar="ACTION", parser_class=_parser_class())
    i = la.add_parser("import", help="convert a Consolidated Screening List (JSON/CSV) or OpenSanctions FollowTheMoney download to a list file")
    i.add_argument("file", metavar="FILE")
    i.add_argument("--from", dest="source_format", choices=("auto", "csl-json", "csl-csv", "ftm"), default="auto")
    i.add_argument("--list", dest="list_id", metavar="ID", help="the list of every entry (needed for FollowTheMoney data sets exportctl does not know)")
    i.add_argument("--id", dest="dataset_id", metavar="ID", help="the data set's id (default: from the file name)")
    i.add_argument("--version", dest="version", metavar="DATE", help="the date of the data (default: taken from the file, else today)")
    i.add_argument("--out", metavar="FILE", help="write the list file here (default: stdout); put it in a policy folder's lists/")


def main(argv=None, *, stdin=None, stdout=None, stderr=None, env=None) -> int:
    """The command line, with the cyclic garbage collector paused while the engine starts:
    imports and the policy cache's unpickling make hundreds of thousands of objects, none of them
    garbage, and the collector's passes over them were a fifth of a cold start. It runs again (as
    before, for whatever was made meanwhile) after the first decision of `evaluate`, at once for
    every other command, and the caller's setting is restored on return."""
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        return _main(argv, stdin, stdout, stderr, env, collecting)
    finally:
        if collecting:
            gc.enable()


def _collect_again(collecting: bool, freeze: bool) -> None:
    """The collector back on. In the command's own process (`freeze`) what the start made is
    frozen, never looked at again, so a long batch's collections cover only what its decisions
    make; a caller of main() (tests) keeps its objects collectable."""
    import gc

    if collecting and not gc.isenabled():
        if freeze:
            gc.freeze()
        gc.enable()


def _main(argv, stdin, stdout, stderr, env, collecting: bool) -> int:
    env = os.environ if env is None else env
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    io = IO(stdin or sys.stdin, stdout, stderr, _color(stdout, env), _color(stderr, env))
    words = sys.argv[1:] if argv is None else list(argv)
    args = _plain_evaluate(words)
    if args is None:
        parser = build_parser(words[0] if words and words[0] in COMMANDS else None)
        try:
            args = parser.parse_args(words)
        except _UsageError as e:
            io.err(str(e))
            io.err("try: exportctl --help")
            return EXIT_BAD_INPUT
        except SystemExit as e:  # --help, --version
            return int(e.code or 0)
    if not args.command:
        io.out(parser.format_help())
        return EXIT_BAD_INPUT
    if args.command != "evaluate" or args.jobs != 1 or args.dask or args.format not in ("text", "json"):
        _collect_again(collecting, argv is None)    # one process deciding one by one: after its first decision
    else:
        args.collect_again = lambda: _collect_again(collecting, argv is None)
    try:
        return _run(args, io)
    finally:
        policy_cache.save_generated_code()


EVALUATE_DEFAULTS = {"debug": False, "as_of": None, "format": "text", "policies": None, "record": None, "jobs": 1,
                     "fail_on": None, "progress": "auto", "no_screening": False, "good_guys": None, "dask": None}
"""What argparse makes of `exportctl evaluate FILE...` besides the files (a test compares)."""


def _plain_evaluate(words: list):
    """The arguments of `exportctl evaluate FILE...` with no option (the commonest start), read
    without argparse: its import and the parser's construction were 10-20 ms of a cold start.
    None for anything else (an option, `--`, a word starting with `-` other than `-` itself, an
    empty word): argparse reads those, as before."""
    if len(words) < 2 or words[0] != "evaluate" or not all(w == "-" or (w and w[0] != "-") for w in words[1:]):
        return None
    import types

    return types.SimpleNamespace(command="evaluate", files=words[1:], **EVALUATE_DEFAULTS)


def _outcomes_collecting_after_the_first(again, *args, **kwargs):
    """batch.outcomes, with the collector back on once the first outcome is made."""
    from .batch import outcomes

    stream = outcomes(*args, **kwargs)
    try:
        first = next(stream, None)
        again()
        if first is None:
            return
        yield first
        yield from stream
    finally:
        stream.close()


def _run(args, io: IO) -> int:
    try:
        return COMMANDS[args.command](args, io)
    except ExportctlError as e:
        from .render import diagnostics_text

        io.err(diagnostics_text(e.diagnostics, color=io.color_err))
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as e:  # Ctrl-C, or SIGTERM during evaluate (batch.Interrupted)
        io.err("interrupted")
        return 128 + getattr(e, "signum", 2)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as e:  # an engine bug: say so plainly
        if getattr(args, "debug", False):
            raise
        io.err(f"exportctl: E901 internal error, please report: {type(e).__name__}: {e}\n(run with --debug for the traceback)")
        return 3


# ---------------------------------------------------------------- commands

def cmd_evaluate(args, io: IO) -> int:
    if args.format in ("html", "markdown"):
        if args.dask:
            io.err(f"exportctl evaluate: --dask writes text or json, not {args.format} (a determination record is one transaction's)")
            return EXIT_BAD_INPUT
        return _evaluate_record(args, io)
    from .batch import run_evaluate
    from .policyset import resolve_policies

    args.policies = str(resolve_policies(args.policies, io))
    if args.dask:
        return _evaluate_dask(args, io)
    again = getattr(args, "collect_again", None)
    if again is None:
        return run_evaluate(args, io)
    return run_evaluate(args, io, lambda *a, **k: _outcomes_collecting_after_the_first(again, *a, **k))


def _evaluate_dask(args, io: IO) -> int:
    """`evaluate --dask ADDRESS`: the workers decide and write each record's text; this process
    prints it in input order, as without --dask (same bytes, error records, exit codes)."""
    from . import distributed
    from .batch import run_evaluate

    if args.jobs != 1:
        io.err("exportctl evaluate: --jobs and --dask: the cluster's workers are the jobs; leave out --jobs")
        return EXIT_BAD_INPUT
    try:
        distributed.check_inputs(args.files)
        client = distributed.connect(args.dask)
    except distributed.Unusable as e:
        io.err(f"exportctl evaluate: {e}")
        return EXIT_BAD_INPUT
    try:
        return run_evaluate(args, io, distributed.outcomes_on(client))
    except distributed.ClusterFailed as e:   # a lost worker or scheduler: not an engine bug
        io.err(f"exportctl evaluate: {e}")
        return 3
    finally:
        client.close()


def _evaluate_record(args, io: IO) -> int:
    """`--format html|markdown`: the determination record of each transaction (HTML: exactly one)."""
    from . import facts
    from .api import decide, load_policies
    from .determination import to_html_page, to_markdown_doc
    from .render import diagnostics_text

    ps = load_policies(args.policies)
    recs = [r for p in args.files for r in facts.read_path(p, ps.schema_folder, io.stdin)]
    bad = [r for r in recs if r.error is not None]
    for r in bad:
        io.err(diagnostics_text(r.error.diagnostics, color=io.color_err))
    if bad:
        return 2
    if args.format == "html" and len(recs) != 1:
        io.err(f"exportctl evaluate: --format html writes the record of one transaction; the input holds {len(recs)}")
        return 2
    docs = []
    for r in recs:
        d = decide(ps, r.transaction, args.as_of, _screening_options(args))
        if args.record:
            from .batch import flush_records

            flush_records(args.record, [(d, r.transaction.digest)])
        docs.append((to_html_page if args.format == "html" else to_markdown_doc)(d, r.transaction.data))
    io.out("\n".join(docs).rstrip("\n"))
    return 0


def _screening_options(args):
    from .screening import Options

    return Options(not args.no_screening, args.good_guys)


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
    written = write_reference(str(resolve_policies(args.policies, io)), Path(out), parser=build_parser())
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


def cmd_fmt(args, io: IO) -> int:
    from .fmt import run_fmt

    return run_fmt(args, io)


def cmd_lsp(args, io: IO) -> int:
    try:
        from .lsp import serve
    except ImportError as e:  # pygls missing: usage problem, not an engine bug
        io.err(f"exportctl lsp: the language server needs the `lsp` extra ({e.name} is not installed)\n"
               "try: pip install 'exportctl[lsp]'")
        return EXIT_BAD_INPUT
    return serve()


def cmd_serve(args, io: IO, env=None) -> int:
    """Load the policies (a broken folder refuses to start), then serve until interrupted."""
    try:
        from . import serve
        from .serve.app import Settings
    except ImportError as e:
        io.err(f"exportctl serve needs the web extra: pip install 'exportctl[web]' ({e})")
        return EXIT_BAD_INPUT
    token = args.token or (env if env is not None else os.environ).get(serve.TOKEN_ENV) or None
    if not serve.is_loopback(args.host) and not token:
        io.err(f"exportctl serve: binding to {args.host} (not loopback) needs a bearer token: "
               f"--token TOKEN or {serve.TOKEN_ENV}")
        return EXIT_BAD_INPUT
    settings = Settings(policies=args.policies, record=args.record, token=token, max_body=args.max_body,
                        max_batch_body=args.max_batch_body, timeout=args.timeout,
                        allowed_hosts=serve.allowed_hosts(args.host))
    try:
        serve.run(args.host, args.port, settings, log_level=args.log_level,
                  ready=lambda app: io.err(f"exportctl serve: policies {app.state.desk.ps.digest[:19]}..., "
                                           f"http://{args.host}:{args.port}/ (Ctrl-C to stop)"))
    except ExportctlError as e:     # the `check` diagnostics, with their source lines
        from .policyset import load
        from .render import diagnostics_text

        sources = {p.path: p.text for p in load(args.policies).policies}
        io.err(diagnostics_text(e.diagnostics, sources, color=io.color_err))
        io.err("exportctl serve: not started (fix the policies, then `exportctl check`)")
        return EXIT_BAD_INPUT
    return EXIT_OK


def cmd_explain(args, io: IO) -> int:
    from .explanations import explanation, explanation_text, suggest
    from .render import json_text

    entry = explanation(args.code)
    if entry is None:
        close = suggest(args.code)
        io.err(f"exportctl explain: unknown code {args.code!r}"
               + (f"; did you mean {' or '.join(close)}?" if close else " (codes look like E601)"))
        return EXIT_BAD_INPUT
    io.out(json_text(entry) if args.format == "json" else explanation_text(entry))
    return EXIT_OK


def cmd_screen(args, io: IO) -> int:
    from .screening.cli import run_screen

    return run_screen(args, io)


def cmd_lists(args, io: IO) -> int:
    from .screening.cli import run_lists

    return run_lists(args, io)


COMMANDS = {"evaluate": cmd_evaluate, "check": cmd_check, "test": cmd_test, "docs": cmd_docs,
            "records": cmd_records, "diff": cmd_diff, "fmt": cmd_fmt, "lsp": cmd_lsp, "serve": cmd_serve,
            "explain": cmd_explain, "screen": cmd_screen, "lists": cmd_lists}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
