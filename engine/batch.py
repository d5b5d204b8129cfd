"""`exportctl evaluate`: one transaction or a stream of them, in input order, with memory
that does not grow with the input. A record that fails validation yields an error record
in its place and the run goes on (exit 2 at the end, with a count)."""

from __future__ import annotations

import itertools
import os
from typing import Iterator

from . import facts
from .diagnostics import ExportctlError

WINDOW = 2000   # records in flight at once with --jobs > 1


def _decide_one(ps, rec: facts.Record, as_of, screening=None):
    from .api import decide

    if rec.error is not None:
        return rec.source, None, rec.error.diagnostics, None
    d = decide(ps, rec.transaction, as_of, screening)
    return rec.source, d, None, rec.transaction.digest


_WORKER_PS = None


def _worker_init(policies):
    """Workers leave interrupts to the parent: Ctrl-C reaches the whole process group, and the
    parent ends its workers (SIGTERM) itself, so no worker prints a traceback."""
    global _WORKER_PS
    import signal

    from .api import load_policies

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    _WORKER_PS = load_policies(policies)


def _worker(job):
    rec, as_of, screening = job
    return _decide_one(_WORKER_PS, rec.validated(), as_of, screening)


def _records(paths, folder=None, stdin=None, defer=False) -> Iterator[facts.Record]:
    for p in paths:
        yield from facts.read_path(p, folder, stdin, defer)


def results(ps, paths, as_of=None, jobs: int = 1, policies=None, stdin=None, screening=None):
    """(source, decision | None, diagnostics | None, input digest) per record, in input order."""
    # with workers, validation happens in the workers too (it costs as much as deciding)
    recs = _records(paths, ps.schema_folder, stdin, defer=jobs > 1)
    if jobs <= 1:
        for rec in recs:
            yield _decide_one(ps, rec, as_of, screening)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork") if hasattr(mp, "get_context") else mp
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(policies,)) as pool:
        while True:
            window = list(itertools.islice(recs, WINDOW))
            if not window:
                break
            todo = [(r, as_of, screening) for r in window if r.error is None]   # unreadable records stay here
            done = iter(pool.map(_worker, todo, chunksize=max(1, len(todo) // (jobs * 4))))
            for r in window:
                yield _decide_one(ps, r, as_of) if r.error is not None else next(done)


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised where it does no harm; the CLI exits 128 + signum."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """SIGINT and SIGTERM raise Interrupted, except inside a held section (writing records and
    printing them), where they wait for the section to end: output stops at a whole record."""

    def __init__(self):
        self.held = 0
        self.pending = None
        self.saved = {}

    def __enter__(self):
        import signal

        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.saved[sig] = signal.signal(sig, self._handler)
        except ValueError:  # not the main thread: leave signals alone
            pass
        return self

    def __exit__(self, *exc):
        import signal

        for sig, old in self.saved.items():
            signal.signal(sig, old)
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
                _flush_records(self.args.record, todo)
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


def run_evaluate(args, io) -> int:
    from .api import load_policies
    from .render import decision_text, diagnostics_text, json_text
    from .ast import RANK

    ps = load_policies(args.policies)
    jobs = jobs_for(args.jobs, io)
    errors = 0
    strict = 0
    count = 0
    progress = None
    with _Signals() as signals:
        stream = results(ps, args.files, args.as_of, jobs, args.policies, io.stdin, _screening(args))
        output = _Output(args, io, signals)
        try:
            progress = _progress(args, io)
            for source, decision, diags, digest in stream:
                count += 1
                if progress:
                    progress.advance()
                if decision is None:
                    errors += 1
                    out = json_text({"source": source, "error": [d.as_dict() for d in diags]}) if args.format == "json" else None
                    output.add(diagnostics_text(diags, color=io.color_err), out)
                    continue
                if args.fail_on and RANK[decision["outcome"]] >= RANK[args.fail_on]:
                    strict += 1
                if args.format == "json":
                    out = json_text(decision)
                else:
                    out = decision_text(decision, color=io.color_out, width=_width(io))
                output.add(None, out, (decision, digest) if args.record else None)
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


def _flush_records(path, pending):
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
