"""Parsed and checked policy sets kept between processes, by digest, so a cold `exportctl
evaluate` skips parsing (the larger half of its start-up).

Safe by construction:
- the folder is the user's cache folder ($XDG_CACHE_HOME/exportctl or ~/.cache/exportctl), made
  0700; it is used only when it is a real folder (not a link) owned by this user and writable by
  no one else, and each file only when it is a regular file owned by this user, not group- or
  world-writable;
- only data this module wrote is read: each file holds the SHA-256 of its payload, checked before
  the payload is unpickled, and the key it was written under;
- the key covers the policy files (names and contents), the transaction schema, the engine's own
  code (every module, in subpackages too, and grammar file: size and modification time) and the
  Python version, so a changed policy or a new engine never reads a stale entry.

Besides policy sets it keeps other data that is slow to build and derived only from files
(`content_key`): the screening lists with their index, the country codes, the code objects of
the methods `@dataclass` writes (marshal), and the digests of the last 64 transactions the
validator accepted (jsonschema-rs, or jsonschema without the `fast` extra; digests only: never a
transaction's data).

EXPORTCTL_NO_CACHE=1 turns it off (reading and writing)."""

from __future__ import annotations

import builtins
import hashlib
import os
import stat
import sys
from pathlib import Path

MAGIC = b"exportctl-policy-cache 1\n"
MAX_BYTES = 256 * 1024 * 1024
KEEP = 64   # entries kept, the oldest written go first: five or six a policy folder and install, so a
            # dozen of those (drafts, venvs, an upgrade) do not push each other out and parse again


def folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "exportctl"


def enabled() -> bool:
    return os.environ.get("EXPORTCTL_NO_CACHE", "") in ("", "0")


def _engine_stamp() -> str:
    """What the engine's code is: a change to any module or the grammar makes a new key."""
    from . import __version__

    here = os.path.dirname(os.path.realpath(__file__))
    h = hashlib.sha256(f"{__version__}\0{sys.version}\0{here}".encode())
    grammar = os.path.join(here, "_grammar")
    if not os.path.isdir(grammar):
        grammar = os.path.join(os.path.dirname(here), "grammar")
    for rel, size, mtime in _files(here, ".py", True) + _files(grammar, ".lark", False):
        h.update(f"{rel}\0{size}\0{mtime}\0".encode())
    return h.hexdigest()


def _files(base: str, suffix: str, deep: bool) -> list:
    """(path below `base`, size, mtime) of every file ending in `suffix`, sorted (os.scandir:
    pathlib's rglob cost 2-3 ms of every start)."""
    out, stack = [], [""]
    while stack:
        rel = stack.pop()
        try:
            with os.scandir(os.path.join(base, rel)) as it:
                for e in it:
                    name = f"{rel}/{e.name}" if rel else e.name
                    try:
                        if e.name.endswith(suffix) and e.is_file():
                            st = e.stat()
                            out.append((name, st.st_size, st.st_mtime_ns))
                        elif deep and e.name != "__pycache__" and e.is_dir(follow_symlinks=False):
                            stack.append(name)
                    except OSError:
                        continue
        except OSError:
            continue
    return sorted(out)


_STAMP: str | None = None


def engine_stamp() -> str:
    """`_engine_stamp()`, worked out once per process."""
    global _STAMP
    if _STAMP is None:
        _STAMP = _engine_stamp()
    return _STAMP


def content_key(kind: str, *parts) -> str | None:
    """The cache key of data of `kind` built from `parts` (file contents as bytes, paths and
    options as text) by this engine, or None when caching is off."""
    if not enabled():
        return None
    h = hashlib.sha256(f"{kind}\0{engine_stamp()}\0".encode())
    for part in parts:
        b = part if isinstance(part, bytes) else str(part).encode()
        h.update(len(b).to_bytes(8, "big") + b)
    return h.hexdigest()


def key(digest: str, names: list[str], diagnostics: list) -> str | None:
    """The cache key of a policy set read from these files, or None when caching is off."""
    if not enabled() or not digest:
        return None
    h = hashlib.sha256()
    h.update(digest.encode() + b"\0" + engine_stamp().encode() + b"\0")
    h.update(repr((names, diagnostics)).encode())
    return h.hexdigest()


def _safe_folder(create: bool) -> Path | None:
    d = folder()
    try:
        if create:
            os.makedirs(d, mode=0o700, exist_ok=True)
        st = os.lstat(d)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return None
    return d


def _read(k: str) -> bytes | None:
    """The payload written under key `k`, or None (absent, unsafe, damaged or from another key)."""
    d = _safe_folder(create=False)
    if d is None:
        return None
    try:
        fd = os.open(d / f"{k}.pickle", os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fd)
        if (not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022
                or st.st_size > MAX_BYTES):
            return None
        # its size, not the ceiling: read(MAX_BYTES + 1) has the allocator map 256 MiB first, about
        # 1.2 ms a file and five files a start. A file that grew since fstat fails the digest below.
        raw = fh.read(st.st_size + 1)
    head = MAGIC + k.encode() + b"\n"
    if not raw.startswith(head) or len(raw) < len(head) + 65:
        return None
    want, payload = raw[len(head):len(head) + 64], raw[len(head) + 65:]
    if hashlib.sha256(payload).hexdigest().encode() != want:
        return None
    return payload


try:   # the C unpickler alone: a start that only reads need not import pickle.py (1-2 ms)
    from _pickle import loads as _loads
except ImportError:  # another Python
    from pickle import loads as _loads


def get(k: str):
    """The cached value under key `k`, or None (absent, unsafe, damaged or from another key)."""
    payload = _read(k)
    if payload is None:
        return None
    try:
        return _loads(payload)  # noqa: S301 - our own file, digest checked above
    except Exception:
        return None


def put(k: str, value) -> None:
    """Write `value` under key `k` (atomically; a failure to write only costs the next start)."""
    try:
        import pickle

        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return
    _write(k, payload)


def _write(k: str, payload: bytes) -> None:
    d = _safe_folder(create=True)
    if d is None:
        return
    tmp = d / f".{k}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(MAGIC + k.encode() + b"\n" + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload)
        os.replace(tmp, d / f"{k}.pickle")
        _prune(d)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass


# ---------------------------------------------------------------- code that dataclasses generate

_CODES: dict | None = None      # source text -> code object, from the cache (None: not installed)
_NEW: dict = {}                 # compiled in this process, not yet written


def _code_key() -> str | None:
    return content_key("generated-code", sys.version, sys.implementation.cache_tag)


def _exec(source, globals=None, locals=None, /):
    """exec(), with a source text compiled once per engine and Python: the same code object as
    exec would compile (no inherited __future__ flags), so the same functions. Installed as
    `dataclasses.exec` only: the texts are the methods `@dataclass` writes from our own classes'
    fields, never anything read from a file. A cached code object is used only for the very text
    it was compiled from (the text is the key) and only when it fits that text (`_fits`). A
    class of any other package (a program that imports the CLI) gets plain exec: its texts are
    never looked up, kept or written."""
    if isinstance(source, str) and _CODES is not None and _ours(globals):
        code = _NEW.get(source)
        if code is None:
            code = _CODES.get(source)
            if code is not None and not _fits(code, source):
                code = None
            if code is None:
                code = _NEW[source] = compile(source, "<string>", "exec", dont_inherit=True)
        source = code
    return builtins.exec(source, globals, locals)


def _ours(globals) -> bool:
    """Whether `dataclasses` is writing methods for a class of this engine: it passes the
    class's module namespace as the globals (an empty dict for a module it cannot find)."""
    name = globals.get("__name__") if isinstance(globals, dict) else None
    return isinstance(name, str) and (name == __package__ or name.startswith(__package__ + "."))


_COMPILERS_OWN = ("join", "")     # what the compiler adds itself: a long f-string is ''.join(...)


def _fits(code, source: str) -> bool:
    """Whether `code` can be what `source` compiles to: compiled from "<string>", and every
    global, attribute and closure name it uses and every text constant in it (nested functions
    too) spelled in `source`. A cheap
    second line behind the cache's own checks (see `cache_generated_code`): a code object made
    from another text would name or quote something this text does not."""
    if (type(code) is not type(_fits.__code__) or code.co_filename != "<string>"
            or (code.co_name != "<module>" and code.co_name not in source)):
        return False
    for name in code.co_names + code.co_freevars + code.co_cellvars:     # what it reaches outside itself
        if name not in source and name not in _COMPILERS_OWN:
            return False
    for c in code.co_consts:
        if isinstance(c, str) and c not in source and c not in _COMPILERS_OWN:
            return False
        if type(c) is type(code) and not _fits(c, source):
            return False
    return True


def cache_generated_code() -> None:
    """Compile the methods `@dataclass` writes (about 250 small exec() calls, 30-50 ms of a cold
    start, a fifth of its instructions) once, and keep the code objects beside the policy sets:
    `dataclasses` runs the cached code of the very same source text. Source texts not seen
    before are compiled as usual, and written by `save_generated_code`.

    Why this is kept although nothing read from a file may be run: the entry is this engine's
    own output, exactly as Python's __pycache__ is (marshal too), and can come from no one else
    short of the user's own account. It is read only from the user's 0700 cache folder, only when
    the file is the user's and writable by no one else, only under its own key (written in its
    header, with the SHA-256 of its payload), and that key covers every file of the engine
    (size and time), its version and place, and Python's version and byte-code tag: another
    engine version or Python computes another key and never reads this entry (it writes its
    own). Each code object is then used only for the text it was compiled from, and only when
    it fits that text (`_fits`). EXPORTCTL_NO_CACHE=1 turns it off with the rest of the cache.
    The pickled policy set is trusted the same way (unpickling could run code too)."""
    global _CODES
    if _CODES is not None:
        return
    import dataclasses

    k = _code_key()
    payload = _read(k) if k else None
    codes = {}
    if payload is not None:
        import marshal

        try:
            codes = marshal.loads(payload)
        except Exception:
            codes = {}
        if not isinstance(codes, dict) or not all(type(c) is type(_code_key.__code__) for c in codes.values()):
            codes = {}
    _CODES = codes
    dataclasses.exec = _exec


def save_generated_code() -> None:
    """Write the code compiled in this process since the cache was read (nothing if none)."""
    global _CODES, _NEW
    if _CODES is None or not _NEW:
        return
    k = _code_key()
    merged, _NEW = {**_CODES, **_NEW}, {}
    _CODES = merged
    if k:
        import marshal

        _write(k, marshal.dumps(merged))


def _prune(d: Path) -> None:
    entries = []
    for f in d.glob("*.pickle"):
        try:
            entries.append((f.stat().st_mtime_ns, f))
        except OSError:
            pass
    for _, f in sorted(entries, reverse=True)[KEEP:]:
        try:
            f.unlink()
        except OSError:
            pass
