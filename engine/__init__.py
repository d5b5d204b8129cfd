"""exportctl: export-control law as code for space items.

The pipeline, one module per stage: grammar -> parse -> check -> compile -> evaluate,
with adapters (cli, pytest_plugin, docs) on top of `api`.
"""

__version__ = "0.1.0"


class _Signatures:
    """Stands for `inspect` inside `dataclasses`, which uses it for one thing: the `__doc__` of a
    class without a docstring, `name + str(inspect.signature(cls))`. Importing inspect (with ast,
    dis, tokenize, linecache) is about 40 million instructions, a tenth of a cold start, and
    working out 32 signatures a few more. `signature` writes the same text for the `__init__`
    that `@dataclass` generates (`_init_signature`; tests/test_cold_start.py compares it with
    inspect's for every dataclass of the engine and odd ones); anything else, and any other
    attribute, is asked of the real inspect, imported then."""

    def signature(self, obj):
        text = _init_signature(obj)
        return text if text is not None else self._inspect().signature(obj)

    def __getattr__(self, name):
        if name.startswith("__"):       # the import system asks for __spec__: not inspect's
            raise AttributeError(name)
        return getattr(self._inspect(), name)

    def _inspect(self):
        import sys

        if sys.modules.get("inspect") is self:
            del sys.modules["inspect"]
        import inspect

        return inspect


def _init_signature(cls):
    """str(inspect.signature(cls)) for a plain class whose own `__init__` is a plain function with
    positional-or-keyword and keyword-only parameters annotated with strings (what `from __future__
    import annotations` gives) or not at all, returning None; else None (ask inspect)."""
    import types

    init = cls.__dict__.get("__init__") if type(cls) is type else None
    if (type(init) is not types.FunctionType or "__new__" in cls.__dict__ or hasattr(cls, "__signature__")
            or hasattr(init, "__signature__") or hasattr(init, "__wrapped__")):
        return None
    code = init.__code__
    if code.co_flags & 0x0C or code.co_posonlyargcount or code.co_argcount < 1:    # *args, **kwargs, a, /
        return None
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    notes = init.__annotations__
    if notes.get("return", None) is not None or any(type(notes.get(n, "")) is not str for n in names[1:]):
        return None
    defaults = init.__defaults__ or ()
    kwdefaults = init.__kwdefaults__ or {}
    first_default = code.co_argcount - len(defaults)
    out = []
    for i, name in enumerate(names):
        if i == 0:
            continue
        if i == code.co_argcount:
            out.append("*")
        text = f"{name}: {notes[name]!r}" if name in notes else name
        if i < code.co_argcount and i >= first_default:
            default, has = defaults[i - first_default], True
        elif i >= code.co_argcount and name in kwdefaults:
            default, has = kwdefaults[name], True
        else:
            has = False
        if has:
            text += f" = {default!r}" if name in notes else f"={default!r}"
        out.append(text)
    return f"({', '.join(out)})" + (" -> None" if "return" in notes else "")


def _dataclasses_without_inspect() -> None:
    """Import `dataclasses` with `_Signatures` standing for inspect (see there), unless either
    is imported already. Its other imports come first, so nothing else sees the stand-in; it is
    out of `sys.modules` again before anything else runs."""
    import sys

    if "dataclasses" in sys.modules or "inspect" in sys.modules:
        return
    import _thread, abc, builtins, copy, functools, itertools, keyword, re, types  # noqa: F401, E401
    stand_in = _Signatures()
    sys.modules["inspect"] = stand_in
    try:
        import dataclasses  # noqa: F401
    finally:
        if sys.modules.get("inspect") is stand_in:
            del sys.modules["inspect"]


_dataclasses_without_inspect()
