"""The only place that finds the grammar file and builds the Lark parser."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lark import Lark


def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")


def grammar_path() -> Path:
    """grammar/policy.lark: inside the installed package, or at the checkout's top."""
    here = Path(__file__).resolve().parent
    installed = here / "_grammar" / "policy.lark"    # in a wheel
    return installed if installed.is_file() else here.parent / "grammar" / "policy.lark"


@lru_cache(maxsize=1)
def parser() -> Lark:
    """LALR with positions, so that every AST node carries its span."""
    # cache=True: Lark keeps the built tables in the temp folder, keyed by the grammar's hash,
    # which saves most of the parser's build time on every later start.
    return Lark(grammar_text(), parser="lalr", lexer="contextual", propagate_positions=True,
                maybe_placeholders=False, cache=True)
