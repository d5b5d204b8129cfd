"""Compact JSON with sorted keys, the machine output of every decision: orjson where it is
installed and gives the standard library's exact bytes, the standard library otherwise.

The standard library's encoder was a fifth of what the batch CLI spends on a decision with its
checks. orjson writes the same bytes for everything a decision holds (strings, booleans, null,
integers of up to 64 bits, dates, floats from 1e-4 to 1e16) and differs elsewhere (`1e-05` is
`1e-5` to it; NaN is null; a large integer is an error): a decision holding anything else is
written by the standard library, so the output never depends on which encoder ran."""

from __future__ import annotations

import datetime as _dt
import json

try:
    import orjson
except ImportError:          # the `fast` extra is optional
    orjson = None

__all__ = ["compact"]

_DATE = _dt.date


def _same_bytes(obj) -> bool:
    """Whether orjson writes `obj` exactly as `json.dumps` does (keys are left to orjson, which
    refuses what it cannot write as the standard library does)."""
    stack = [obj]
    pop, extend = stack.pop, stack.extend
    while stack:
        o = pop()
        t = type(o)
        if t is str or t is bool or o is None:
            continue
        if t is dict:
            extend(o.values())
        elif t is list or t is tuple:
            extend(o)
        elif t is int:
            if not -(1 << 63) <= o < (1 << 64):
                return False
        elif t is float:
            if not (o == 0 or 1e-4 <= abs(o) < 1e16):     # NaN and the infinities fail too
                return False
        elif t is not _DATE:
            return False          # a datetime, a set, any object: the standard library words it
    return True


def compact(obj) -> str:
    """`json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)`."""
    if orjson is not None and _same_bytes(obj):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:         # a key that is not a string, a lone surrogate: orjson refuses
            pass
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
