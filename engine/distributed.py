"""Beyond one machine: `exportctl evaluate` over a Dask cluster (the `dask` extra).

    from exportctl import distributed
    from dask.distributed import Client

    client = Client("tcp://scheduler:8786")
    lines = distributed.bag(["s3-or-shared/transactions.jsonl"], policies="policies/")
    lines.to_textfiles("out/*.jsonl")                  # or: distributed.write(paths, "out.jsonl")

Each JSON Lines file is cut into blocks at line ends (the only pass over the input here: a count
of newlines, so every record keeps its file:line); each block is a task that parses, validates,
decides and renders its lines with the same code as the CLI, so every output line is byte for byte
what `exportctl evaluate FILE --format json` prints, error records included (located, never
dropped). Partitions follow the input, so the bag is in input order; `keyed()` pairs each line with
its transaction id instead. Policies are loaded once per worker process (and, through the policy
cache, parsed once per machine)."""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

BLOCK = 2 * 1024 * 1024   # bytes of input per task: ~2,200 records, ~5 s of a worker, ~30 MB of output

# Dask settings for the workers that run exportctl (dask.config.set around a LocalCluster, or the
# DASK_* variables of `dask worker`, see docs/distributed.md): Dask's statistical profiler samples
# the running task's stack every 10 ms (~8% of a worker's CPU on the evaluator's deep stacks), and
# the event loop's tick, system monitor and memory monitor wake up 50 + 2 + 10 times a second,
# each time taking the GIL from the task (~5%).
QUIET_WORKERS = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "1s",
}

_PS: dict = {}   # per worker: policy folder -> loaded PolicySet


def _policies(policies):
    key = str(policies) if policies is not None else None
    ps = _PS.get(key)
    if ps is None:
        from .api import load_policies

        from .batch import prepare_workers

        ps = _PS[key] = load_policies(policies)
        prepare_workers(ps)   # the compiled programs, once per worker, not after a warm-up per process
        if _on_worker():
            import gc

            gc.freeze()   # the policies live as long as the worker: no full collection walks them again
    return ps


def _on_worker() -> bool:
    """Running as a task of a dask.distributed worker in a process of its own (no Client here:
    not an in-process cluster of the caller's, whose objects are not ours to freeze)."""
    try:
        from distributed import default_client, get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    try:
        default_client()
    except ValueError:
        return True
    return False


def blocks(path: str, size: int = BLOCK) -> list[tuple[str, int, int, int]]:
    """(path, start byte, end byte, first line number) of blocks of about `size` bytes, each
    ending at a line end."""
    out = []
    start, line = 0, 1
    with open(path, "rb") as fh:
        total = os.fstat(fh.fileno()).st_size
        while start < total:
            fh.seek(min(total, start + size))
            fh.readline()                  # on to the end of the line the cut fell in
            end = min(total, fh.tell()) if start + size < total else total
            fh.seek(start)
            newlines = 0
            left = end - start
            while left:
                chunk = fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                newlines += chunk.count(b"\n")
                left -= len(chunk)
            out.append((path, start, end, line))
            start, line = end, line + newlines
    return out


def evaluate_block(block, policies=None, as_of=None) -> list[str]:
    """The JSON lines (decisions and error records, in order) of one block."""
    from .batch import Style

    return [o.out for o in block_outcomes(block, policies, as_of, Style("json"))]


def block_text(block, policies=None, as_of=None) -> tuple[str, int, int]:
    """(the JSON lines of one block as one text, each ending in a newline; records; error
    records): what write() gathers, one string a block rather than a list of thousands."""
    lines = evaluate_block(block, policies, as_of)
    errors = sum(1 for x in lines if x.startswith('{"error"'))
    return "".join(x + "\n" for x in lines), len(lines), errors


def block_outcomes(block, policies=None, as_of=None, style=None) -> list:
    """The batch.Outcome of every record of one block, in order, written in `style` (the CLI's
    format, colour, --fail-on, --record and screening options): what `exportctl evaluate
    --dask` gathers."""
    from . import facts
    from .batch import Style, outcome

    style = style or Style("json")
    path, start, end, first = block
    ps = _policies(policies)
    if isinstance(as_of, str):
        as_of = _dt.date.fromisoformat(as_of)
    with open(path, "rb") as fh:
        fh.seek(start)
        raw = fh.read(end - start)
    lines = raw.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    limit = facts.LIMITS.line_bytes
    lines = [facts.TooLong if len(x) > limit + 1 else x for x in lines]
    return [outcome(ps, r, as_of, style) for r in facts.read_lines(lines, path, ps.schema_folder, first=first)]


def bag(paths, policies=None, as_of=None, blocksize: int = BLOCK):
    """A dask.bag of the JSON decision lines of every record of `paths` (.jsonl files on a
    file system every worker sees), in input order."""
    import dask.bag as db

    parts = _parts(paths, policies, as_of, blocksize, evaluate_block)
    if not parts:
        return db.from_sequence([], npartitions=1)
    return db.from_delayed(parts)


def _parts(paths, policies, as_of, blocksize: int, fn, *extra) -> list:
    """One dask.delayed call of `fn(block, policies, as_of, *extra)` per block, in input order."""
    return [d for _, d in _labelled_parts(paths, policies, as_of, blocksize, fn, *extra)]


def _labelled_parts(paths, policies, as_of, blocksize: int, fn, *extra) -> list:
    """(block, its dask.delayed call of fn) per block, in input order."""
    import dask

    if isinstance(paths, (str, Path)):
        paths = [paths]
    policies = str(Path(policies).resolve()) if policies is not None else None
    as_of = as_of.isoformat() if isinstance(as_of, _dt.date) else as_of
    return [(b, dask.delayed(fn)(b, policies, as_of, *extra))
            for p in paths for b in blocks(str(Path(p).resolve()), blocksize)]


class ClusterFailed(Exception):
    """The cluster lost a block: its workers died on it (KilledWorker), the scheduler or a worker
    went away, or a worker could not read the input. Neither bad input nor an engine bug: the
    output so far is every record before that block, in order (`--dask`: exit 3 with this message)."""


def _lost() -> tuple:
    """The exceptions that say the cluster failed, not the evaluation."""
    import asyncio
    import concurrent.futures

    from distributed import KilledWorker

    return KilledWorker, OSError, TimeoutError, asyncio.CancelledError, concurrent.futures.CancelledError


def _in_order(labelled, client, ahead: int | None = None):
    """The results of `labelled` ((block, delayed) pairs), one part at a time in order: on a
    distributed Client a window of `ahead` parts (default 2 per worker thread) is in flight, so
    neither side holds the whole output; without one, Dask's local scheduler computes each part
    in turn. A part the cluster lost raises ClusterFailed, naming its block."""
    import dask

    if client is None:
        for _, part in labelled:
            yield dask.compute(part)[0]
        return
    lost = _lost()
    window = ahead or 2 * max(1, sum(client.nthreads().values()))
    pending: list = []

    def first():
        block, future = pending.pop(0)
        try:
            return future.result()
        except lost as e:
            path, start, end, line = block
            raise ClusterFailed(f"the Dask cluster failed on {path} (bytes {start}-{end}, from line {line}): "
                                f"{type(e).__name__}: {e}; the output so far is every record before that line, "
                                "in order") from e

    try:
        for block, part in labelled:
            pending.append((block, client.compute(part)))
            if len(pending) >= window:
                yield first()
        while pending:
            yield first()
    finally:
        for _, f in pending:       # stopped early (an interrupt, a closed pipe): nothing left running
            f.cancel()


def keyed(lines):
    """(transaction id, line) pairs of a bag from bag(); an error record is keyed by its source
    (file:line), since its id may be unreadable."""
    return lines.map(_key)


def _key(line: str):
    d = json.loads(line)
    if "error" in d:
        return d["source"], line
    return d.get("transaction"), line


def write(paths, out, policies=None, as_of=None, blocksize: int = BLOCK, ahead: int | None = None) -> dict:
    """Evaluate on the cluster of the current dask.distributed Client (else Dask's local
    scheduler) and write the decision lines to `out` in input order, as the CLI would: blocks
    are submitted a window ahead (`ahead`, default 2 per worker thread) and written as each one
    in order is done, so neither side holds the whole output. Returns counts; ClusterFailed
    when the cluster lost a block (what is written is every record before it)."""
    parts = _labelled_parts(paths, policies, as_of, blocksize, block_text)
    try:
        from dask.distributed import default_client

        client = default_client()
    except (ImportError, ValueError):
        client = None
    count = errors = 0
    with open(out, "w", encoding="utf-8") as fh:
        for text, records, bad in _in_order(parts, client, ahead):
            count += records
            errors += bad
            fh.write(text)
    return {"records": count, "errors": errors}


# ---------------------------------------------------------------- exportctl evaluate --dask ADDRESS

JSONL = (".jsonl", ".ndjson")
CONNECT_TIMEOUT = "10s"


class Unusable(Exception):
    """--dask cannot run: dask is missing, the scheduler cannot be reached, or an input is not a
    JSON Lines file (the CLI says so and exits 2)."""


def connect(address: str):
    """A Client of the scheduler at `address` (tcp://HOST:8786, or a scheduler file's path)."""
    try:
        from dask.distributed import Client
    except ImportError as e:
        raise Unusable(f"--dask needs the dask extra ({e.name} is not installed): pip install 'exportctl[dask]'")
    try:
        if os.path.isfile(address):
            return Client(scheduler_file=address, timeout=CONNECT_TIMEOUT)
        return Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as e:
        raise Unusable(f"cannot reach the Dask scheduler at {address!r} ({type(e).__name__}: {e}); "
                       "give its address (tcp://HOST:8786) or its scheduler file")


def check_inputs(paths) -> None:
    """--dask reads .jsonl files that every worker can open (not stdin, folders or YAML)."""
    for p in paths:
        if p == "-" or not str(p).endswith(JSONL):
            raise Unusable(f"{p}: --dask evaluates JSON Lines files (.jsonl or .ndjson) that every worker can "
                           "read; without --dask any input works")
        if not os.path.isfile(p):
            raise Unusable(f"{p}: no such file")


def outcomes_on(client, blocksize: int | None = None, ahead: int | None = None):
    """A batch.outcomes replacement (same arguments) that decides on `client`'s cluster: every
    record's Outcome, in input order, made by the workers (`blocksize` bytes of input a task,
    default BLOCK)."""

    def outcomes(ps, paths, as_of=None, jobs=1, policies=None, stdin=None, style=None):
        parts = _labelled_parts(paths, policies, as_of, blocksize or BLOCK, block_outcomes, style)
        for chunk in _in_order(parts, client, ahead):
            yield from chunk

    return outcomes
