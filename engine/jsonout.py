"""Compact JSON with sorted keys, the machine output of every decision: orjson where it is
installed and writes the standard library's exact bytes, the standard library otherwise.

The standard library's encoder was a fifth of what the batch CLI spends on a decision with its
checks. orjson writes the same bytes for strings, booleans, null, integers of up to 64 bits and
floats from 1e-4 to 1e16; it words other floats differently (`1e-05` is `0.00001` to it), NaN
as null, and refuses other integers, keys that are not strings and lone surrogates. A walk over
the values (strings are skipped where they lie) sends anything else to the standard library.
Dates, times and dataclasses go through `default=str`, as with the standard library."""

from __future__ import annotations

import datetime as _dt
import json

try:
    import orjson
except ImportError:          # the `fast` extra is optional
    orjson = None

__all__ = ["compact"]

_OPTIONS = 0 if orjson is None else (orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
                                     | orjson.OPT_PASSTHROUGH_DATACLASS)
_STR_LIKE = frozenset({_dt.date, _dt.datetime, _dt.time})     # written as str(x) by both


def _same_bytes(obj) -> bool:
    """Whether orjson writes `obj` exactly as `json.dumps` does (keys are left to orjson, which
    refuses what it cannot write as the standard library does)."""
    if type(obj) is not dict and type(obj) is not list:
        return False
    stack = [obj]
    pop, push = stack.pop, stack.append
    while stack:
        o = pop()
        for v in (o.values() if type(o) is dict else o):
            t = type(v)
            if t is str or v is None or t is bool:
                continue
            if t is dict or t is list or t is tuple:
                push(v)
            elif t is int:
                if not -(1 << 63) <= v < (1 << 64):
                    return False
            elif t is float:
                if not (v == 0 or 1e-4 <= abs(v) < 1e16):     # NaN and the infinities fail too
                    return False
            elif t not in _STR_LIKE:
                return False      # a set, any other object: the standard library words it
    return True


def compact(obj) -> str:
    """`json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)`."""
    if orjson is not None and _same_bytes(obj):
        try:
            return orjson.dumps(obj, default=str, option=_OPTIONS).decode()
        except TypeError:         # a key that is not a string, a lone surrogate: orjson refuses
            pass
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
