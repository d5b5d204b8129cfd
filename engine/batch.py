"""`exportctl evaluate`: one transaction or a stream of them, in input order, with memory
that does not grow with the input. A record that fails validation yields an error record
in its place and the run goes on (exit 2 at the end, with a count)."""

from __future__ import annotations

import collections
import contextlib
import os
from collections.abc import Iterator

from . import facts
from .diagnostics import ExportctlError

CHUNK = 128      # lines (or records) a worker takes at once with --jobs > 1
AHEAD = 4        # chunks in flight per worker: a sliding window, never a barrier


def _decide_one(ps, rec: facts.Record, as_of, screening=None):
    from .api import decide

    if rec.error is not None:
        return rec.source, None, rec.error.diagnostics, None
    d = decide(ps, rec.transaction, as_of, screening)
    return rec.source, d, None, rec.transaction.digest


class Style(collections.namedtuple("Style", ("format", "color_out", "color_err", "width", "fail_on", "record",
                                             "screening"), defaults=("json", False, False, None, None, False, None))):
    """How a result is written: what a worker needs to turn a decision into text. A plain
    namedtuple (typing.NamedTuple would import `typing`: about 11 million instructions of a
    warm start).

    format: str; color_out, color_err: bool; width: int | None; fail_on: str | None;
    record: bool; screening: screening.Options (None: screening as the policies set it up)."""

    __slots__ = ()


class Outcome(collections.namedtuple("Outcome", ("err", "out", "record", "error", "strict"))):
    """One record's result as text, made where it was decided (a worker sends back strings).

    err: diagnostics for stderr (str | None); out: the decision, or the JSON error record, for
    stdout (str | None); record: (decision, input digest) for --record, or None; error: the
    record was rejected; strict: its outcome is as strict as --fail-on, or stricter."""

    __slots__ = ()


def outcome(ps, rec: facts.Record, as_of, style: Style) -> Outcome:
    from .render import decision_text, diagnostics_text, json_text

    source, decision, diags, digest = _decide_one(ps, rec, as_of, style.screening)
    if decision is None:
        out = json_text({"source": source, "error": [d.as_dict() for d in diags]}) if style.format == "json" else None
        return Outcome(diagnostics_text(diags, color=style.color_err), out, None, True, False)
    strict = False
    if style.fail_on:
        from .ast import RANK

        strict = RANK[decision["outcome"]] >= RANK[style.fail_on]
    if style.format == "json":
        out = json_text(decision)
    else:
        out = decision_text(decision, color=style.color_out, width=style.width)
    return Outcome(None, out, (decision, digest) if style.record else None, False, strict)


_WORKER_PS = None


def _worker_init(policies):
    """Workers leave interrupts to the parent: Ctrl-C reaches the whole process group, and the
    parent ends its workers (SIGTERM) itself, so no worker prints a traceback. A forked worker
    keeps the parent's policy set (and its compiled programs); another loads its own."""
    global _WORKER_PS
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _WORKER_PS is None:
        from .api import load_policies

        _WORKER_PS = load_policies(policies)


def unit_records(ps, unit) -> Iterator[facts.Record]:
    """The records of a unit of work: raw JSON Lines (parsed and validated here) or records."""
    if isinstance(unit, facts.Chunk):
        return facts.read_lines(unit.lines, unit.source, ps.schema_folder, first=unit.first)
    return (r.validated() for r in unit)


def _worker(job) -> list:
    unit, as_of, style = job
    return [outcome(_WORKER_PS, r, as_of, style) for r in unit_records(_WORKER_PS, unit)]


def _records(paths, folder=None, stdin=None, defer=False, chunk=0) -> Iterator:
    for p in paths:
        yield from facts.read_path(p, folder, stdin, defer, chunk)


def _units(paths, folder, stdin) -> Iterator:
    """Raw line chunks of JSON Lines; other records (YAML, JSON files) read but not validated,
    gathered CHUNK at a time."""
    group: list = []
    for item in _records(paths, folder, stdin, defer=True, chunk=CHUNK):
        if isinstance(item, facts.Chunk):
            if group:
                yield group
                group = []
            yield item
        else:
            group.append(item)
            if len(group) >= CHUNK:
                yield group
                group = []
    if group:
        yield group


LONG_INPUT = 256 * 1024
"""Bytes of input files from which a batch has its program generated early (`expect_many`):
files that likely hold more records than the closures' warm-up (codegen.WARMUP, 256 records of
about 1 KB), where waiting for the warm-up to end would pay both for it and for the code."""


def _input_bytes(paths) -> int | None:
    """The size of the input files; None where one is not a regular file (standard input, a
    folder, a pipe, what cannot be read: reading reports that), so the length is not known."""
    import stat

    size = 0
    for p in paths or ():
        try:
            st = os.stat(p)
        except (OSError, TypeError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        size += st.st_size
    return size


def outcomes(ps, paths, as_of=None, jobs: int = 1, policies=None, stdin=None,
             style: Style = Style()) -> Iterator[Outcome]:
    """One Outcome per record, in input order. With jobs > 1 the parent only reads raw lines and
    writes the text the workers return: workers parse, validate, decide and render, and a sliding
    window of AHEAD chunks per worker keeps them busy (no barrier), memory bounded."""
    size = _input_bytes(paths)
    if jobs <= 1:
        if size is not None and size >= LONG_INPUT:
            from . import api

            api.compile_fast(ps).expect_many()
        for rec in _records(paths, ps.schema_folder, stdin):
            yield outcome(ps, rec, as_of, style)
        return
    import multiprocessing as mp

    global _WORKER_PS
    import gc

    prepare_workers(ps, style, programs=size is None or size >= LONG_INPUT)
    ctx = mp.get_context("fork") if hasattr(mp, "get_context") else mp
    with _deferred():
        _WORKER_PS = ps if ctx.get_start_method() == "fork" else None
        # what the parent built so far (policies, compiled programs, lists) is never freed:
        # frozen, the workers' collections do not touch it, so its pages stay shared, not copied
        gc.freeze()
        try:
            pool = ctx.Pool(jobs, initializer=_worker_init, initargs=(policies,))
        finally:
            gc.unfreeze()
            _WORKER_PS = None
    try:
        pending: collections.deque = collections.deque()
        for unit in _units(paths, ps.schema_folder, stdin):
            with _deferred():
                pending.append(pool.apply_async(_worker, ((unit, as_of, style),)))
            if len(pending) >= jobs * AHEAD:
                yield from _result(pending.popleft())
        while pending:
            yield from _result(pending.popleft())
    finally:
        with _deferred():
            pool.terminate()


def _result(res) -> list:
    """A worker's result. Interrupts wait while the pool's own code runs (here and around it):
    raised inside it, between taking one of its locks and the block that frees it, they can
    leave the lock held, and the pool's shutdown then waits for it for ever."""
    with _deferred() as signals:
        while not res.ready():
            res.wait(0.2)
            if signals is not None and signals.pending is not None:
                break   # raised as the block ends
    return res.get()


@contextlib.contextmanager
def _deferred():
    """Hold the active _Signals (if any) for the block: an interrupt is raised at its end."""
    signals = _Signals.active
    if signals is None:
        yield None
        return
    signals.hold()
    try:
        yield signals
    finally:
        signals.release()


def prepare_workers(ps, style: Style | None = None, programs: bool = True) -> None:
    """Generate the compiled evaluator's programs, and read the screening lists, in the parent
    before the fork: workers inherit them instead of each warming up and generating its own
    (seconds of CPU per worker). Not the programs for an input known to be short (`programs`
    false): there the workers' closures decide every record sooner than code is generated."""
    if programs:
        try:
            from . import api

            api.compile_fast(ps).prepare()
        except (AttributeError, ImportError):   # the evaluator moved: workers warm up by themselves
            pass
    options = style.screening if style is not None else None
    if options is None or options.enabled:
        from .screening import load

        try:
            load(ps.root, options.good_guys if options is not None else None)
        except Exception:     # a bad list file: each worker meets it and reports it as it would alone
            pass


def results(ps, paths, as_of=None, jobs: int = 1, policies=None, stdin=None):
    """(source, decision | None, diagnostics | None, input digest) per record, in input order
    (in this process: the API's view; the CLI uses outcomes())."""
    for rec in _records(paths, ps.schema_folder, stdin):
        yield _decide_one(ps, rec, as_of)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised where it does no harm; the CLI exits 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGINT and SIGTERM raise Interrupted, except inside a held section (writing records and
    printing them), where they wait for the section to end: output stops at a whole record."""

    active: "_Signals | None" = None   # the one installed now, for sections held elsewhere

    def __init__(self):
        self.held = 0
        self.pending = None
        self.saved = {}
        self.outer = None

    def __enter__(self):
        import signal

        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handler)
        except ValueError:  # not the main thread: leave signals alone
            return self
        self.outer, _Signals.active = _Signals.active, self
        return self

    def __exit__(self, *exc):
        import signal

        for sig, old in self.saved.items():
            signal.signal(sig, old)
        if self.saved:
            _Signals.active = self.outer
        return False

    def _handler(self, signum, frame):
        if self.held:
            self.pending = signum
        else:
            raise Interrupted(signum)

    def hold(self):
        self.held += 1

    def release(self):
        self.held -= 1
        if not self.held and self.pending is not None:
            signum, self.pending = self.pending, None
            raise Interrupted(signum)


class _Output:
    """Results go out in order, each decision recorded before it is printed, so every decision
    on stdout is in the record file, even when the run is interrupted."""

    BATCH, SECONDS = 500, 0.5   # records per fsync, and the longest a printed result waits

    def __init__(self, args, io, signals: _Signals):
        self.args, self.io, self.signals = args, io, signals
        self.items: list = []   # (stderr text, stdout text, (decision, digest) or None)
        self.since = 0.0

    def add(self, err: str | None, out: str | None, record=None):
        import time

        if not self.items:
            self.since = time.monotonic()
        self.items.append((err, out, record))
        if not self.args.record or len(self.items) >= self.BATCH or time.monotonic() - self.since > self.SECONDS:
            self.commit()

    def commit(self):
        if not self.items:
            return
        self.signals.hold()
        try:
            todo = [r for _, _, r in self.items if r is not None]
            if self.args.record and todo:
                flush_records(self.args.record, todo)
            for err, out, _ in self.items:
                if err:
                    self.io.err(err)
                if out is not None:
                    self.io.out(out)
            _flush(self.io.stdout)
        finally:
            self.items.clear()
            self.signals.release()


def _flush(stream):
    flush = getattr(stream, "flush", None)
    if flush:
        flush()


def jobs_for(requested: int, io) -> int:
    """--jobs, at least 1 and at most the CPUs here (more only queue up): a note when clamped."""
    cpus = os.cpu_count() or 1
    if requested > cpus:
        io.err(f"note: --jobs {requested} is more than the {cpus} CPU(s) here; using {cpus}")
        return cpus
    return max(1, requested)


def _screening(args):
    from .screening import Options

    return Options(not getattr(args, "no_screening", False), getattr(args, "good_guys", None))


def run_evaluate(args, io, source=None) -> int:
    """`source` (default `outcomes`) makes the Outcomes: distributed.outcomes_on for --dask."""
    from .api import load_policies

    ps = load_policies(args.policies)
    jobs = jobs_for(args.jobs, io)
    style = Style(args.format, io.color_out, io.color_err, _width(io) if args.format != "json" else None,
                  args.fail_on, bool(args.record), _screening(args))
    errors = 0
    strict = 0
    count = 0
    progress = None
    with _Signals() as signals:
        stream = (source or outcomes)(ps, args.files, args.as_of, jobs, args.policies, io.stdin, style)
        output = _Output(args, io, signals)
        try:
            progress = _progress(args, io)
            for o in stream:
                count += 1
                if progress:
                    progress.advance()
                errors += o.error
                strict += o.strict
                output.add(o.err, o.out, o.record)
        finally:
            try:
                output.commit()
            finally:
                stream.close()   # ends worker processes now, not at garbage collection
                if progress:
                    progress.stop()
    if count == 0:
        io.err("exportctl evaluate: no transactions in the input")
        return 2
    if errors:
        io.err(f"{errors} of {count} record(s) rejected; the other {count - errors} were evaluated")
        return 2
    return 1 if strict else 0


def _width(io) -> int | None:
    """The terminal's width when printing to one; None (no wrapping) when piped."""
    if not io.color_out:
        return None
    import shutil

    return shutil.get_terminal_size((100, 24)).columns


def flush_records(path, pending):
    from . import records
    from .diagnostics import Diagnostic
    from .source import Span

    try:
        records.append_many(path, list(pending))
    except records.ChainError as e:
        raise ExportctlError(Diagnostic("E801", f"record file is damaged, nothing appended: {e}", Span(path, 0, 0),
                                        hint=f"run: exportctl records verify {path}"))
    except OSError as e:
        raise ExportctlError(Diagnostic("E801", f"cannot write the record file: {e}", Span(path, 0, 0)))
    except (TypeError, ValueError) as e:
        raise ExportctlError(Diagnostic("E802", f"a decision cannot be recorded, nothing appended: {e}", Span(path, 0, 0)))
    pending.clear()


def _count_records(paths) -> int | None:
    """How many records the input holds (JSON Lines: its lines; others: its files), so the
    bar can say how long is left; None when it cannot know (stdin). Reads only what
    facts.walk would read: regular files, no links out of a folder."""
    import stat

    total = 0
    for p in paths:
        if p == "-":
            return None
        try:
            mode = os.stat(p).st_mode
        except OSError:
            continue
        files = [f for f, problem in facts.walk(p) if problem is None] if stat.S_ISDIR(mode) else (
            [p] if stat.S_ISREG(mode) else [])
        for f in files:
            if f.endswith((".jsonl", ".ndjson")):
                try:
                    with open(f, "rb") as fh:
                        total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
                except OSError:
                    continue
            elif f.endswith((".yaml", ".yml", ".json")):
                total += 1
    return total or None


class _Progress:
    def __init__(self, console, total: int | None = None):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)

        self.p = Progress(TextColumn("evaluating"), BarColumn(), MofNCompleteColumn(),
                          TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"),
                          TimeRemainingColumn(), console=console, transient=True)
        self.task = self.p.add_task("evaluate", total=total, rate="")
        self.n = 0
        import time

        self.t0 = time.perf_counter()
        self.p.start()

    def advance(self):
        import time

        self.n += 1
        if self.n % 200 == 0:
            rate = self.n / max(1e-9, time.perf_counter() - self.t0)
            self.p.update(self.task, completed=self.n, rate=f"{rate:,.0f}/s")

    def stop(self):
        self.p.stop()


def _progress(args, io):
    """A progress bar on stderr, only on a terminal (never in piped output)."""
    if args.progress == "never":
        return None
    if args.progress == "auto" and not (io.color_err and args.format == "json"):
        return None
    from rich.console import Console

    return _Progress(Console(file=io.stderr, force_terminal=True), _count_records(args.files))
