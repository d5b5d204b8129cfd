"""Source text with a name, and spans that point into it (for messages with a caret)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Where a node came from: file, 1-based line and column, and where it ends."""

    file: str
    line: int
    col: int
    end_line: int | None = None
    end_col: int | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Span("<unknown>", 0, 0)


@dataclass(frozen=True)
class Source:
    """A named text: a policy file, a transaction, a case file."""

    name: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def excerpt(self, span: Span) -> str:
        """The source line of `span` with a caret under its column (and tildes to its end)."""
        if span.line <= 0:
            return ""
        text = self.line(span.line).rstrip("\n")
        width = 1
        if span.end_line == span.line and span.end_col and span.end_col > span.col:
            width = span.end_col - span.col
        width = max(1, min(width, len(text) - span.col + 2))
        gutter = f"{span.line:>5} | "
        return f"{gutter}{text}\n{' ' * len(gutter)}{' ' * (span.col - 1)}^{'~' * (width - 1)}"
