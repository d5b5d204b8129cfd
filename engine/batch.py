"""`exportctl evaluate`: one transaction or a stream of them, in input order, with memory
that does not grow with the input. A record that fails validation yields an error record
in its place and the run goes on (exit 2 at the end, with a count)."""

from __future__ import annotations

import itertools
from typing import Iterator

from . import facts
from .diagnostics import ExportctlError

WINDOW = 2000   # records in flight at once with --jobs > 1


def _decide_one(ps, rec: facts.Record, as_of):
    from .api import decide

    if rec.error is not None:
        return rec.source, None, rec.error.diagnostics, None
    d = decide(ps, rec.transaction, as_of)
    return rec.source, d, None, rec.transaction.digest


_WORKER_PS = None


def _worker_init(policies):
    global _WORKER_PS
    from .api import load_policies

    _WORKER_PS = load_policies(policies)


def _worker(job):
    rec, as_of = job
    return _decide_one(_WORKER_PS, rec.validated(), as_of)


def _records(paths, folder=None, stdin=None, defer=False) -> Iterator[facts.Record]:
    for p in paths:
        yield from facts.read_path(p, folder, stdin, defer)


def results(ps, paths, as_of=None, jobs: int = 1, policies=None, stdin=None):
    """(source, decision | None, diagnostics | None, input digest) per record, in input order."""
    # with workers, validation happens in the workers too (it costs as much as deciding)
    recs = _records(paths, ps.schema_folder, stdin, defer=jobs > 1)
    if jobs <= 1:
        for rec in recs:
            yield _decide_one(ps, rec, as_of)
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork") if hasattr(mp, "get_context") else mp
    with ctx.Pool(jobs, initializer=_worker_init, initargs=(policies,)) as pool:
        while True:
            window = list(itertools.islice(recs, WINDOW))
            if not window:
                break
            todo = [(r, as_of) for r in window if r.error is None]   # unreadable records stay here
            done = iter(pool.map(_worker, todo, chunksize=max(1, len(todo) // (jobs * 4))))
            for r in window:
                yield _decide_one(ps, r, as_of) if r.error is not None else next(done)


def run_evaluate(args, io) -> int:
    from .api import load_policies
    from .render import decision_text, diagnostics_text, json_text
    from .ast import RANK

    ps = load_policies(args.policies)
    stream = results(ps, args.files, args.as_of, max(1, args.jobs), args.policies, io.stdin)
    progress = _progress(args, io)
    errors = 0
    strict = 0
    count = 0
    pending_records = []
    first = True
    try:
        for source, decision, diags, digest in stream:
            count += 1
            if progress:
                progress.advance()
            if decision is None:
                errors += 1
                io.err(diagnostics_text(diags, color=io.color_err))
                if args.format == "json":
                    io.out(json_text({"source": source, "error": [d.as_dict() for d in diags]}))
                continue
            if args.fail_on and RANK[decision["outcome"]] >= RANK[args.fail_on]:
                strict += 1
            if args.format == "json":
                io.out(json_text(decision))
            else:
                if not first:
                    io.out("")
                io.out(decision_text(decision, color=io.color_out, width=_width(io)))
            first = False
            if args.record:
                pending_records.append((decision, digest))
                if len(pending_records) >= 500:
                    _flush_records(args.record, pending_records)
    finally:
        if progress:
            progress.stop()
        if args.record and pending_records:
            _flush_records(args.record, pending_records)
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
    pending.clear()


def _count_records(paths) -> int | None:
    """How many records the input holds (JSON Lines: its lines; others: its files), so the
    bar can say how long is left; None when it cannot know (stdin)."""
    from pathlib import Path

    total = 0
    for p in paths:
        if p == "-":
            return None
        path = Path(p)
        files = sorted(x for x in path.rglob("*") if x.is_file()) if path.is_dir() else [path]
        for f in files:
            if f.suffix in (".jsonl", ".ndjson"):
                with f.open("rb") as fh:
                    total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))
            elif f.suffix in (".yaml", ".yml", ".json"):
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
