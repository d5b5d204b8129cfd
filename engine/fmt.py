"""The canonical layout of policy files (`exportctl fmt`), comments kept.

The grammar ignores comments, so the formatter cannot print from the AST: it walks the token
stream of the text (the parse tree's tokens, plus the keywords, punctuation and comments Lark
drops, read back from the gaps between them) and uses the tree only to know where each
declaration and each clause starts. The layout is the one the bundled policies use:

- a declaration (`regime`, `use`, `applies`, `change`, `set`, `define`, `rule`, `conflict`,
  `encodes`) starts a line at column 1; each of its clauses (`version`, `source`, `note`,
  `cite`, `partial`, `from`, `until`, `unverified`, `exception to`, `when`, `then`, `denial`,
  `with`) starts a line indented by two spaces;
- inside a line, one space between words, none inside `f(x)`, `a.b`, `{A, B}` or before `,`
  and `:`; a comment after code is set off by two spaces;
- where the author broke an expression or a set over several lines, the breaks and the
  indentation of those continuation lines are kept (they carry the alignment a reader relies
  on); a comment line takes the indentation of the code line after it;
- at most one blank line in a row, none at the start, no trailing spaces, one final newline.

Formatting never changes meaning: the result is parsed again and its AST compared with the
input's (without positions); a difference is an internal error, never a silent rewrite.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from dataclasses import dataclass

from lark import Token, Tree

from .diagnostics import Diagnostic, ExportctlError
from .grammar import parser
from .parse import parse_policy

INDENT = "  "
DECLARATIONS = ("header", "use_decl", "applies_decl", "change_decl", "set_decl", "define_decl", "rule_decl",
                "conflict_decl", "encodes_decl")
# A keyword at declaration level (not inside an expression) of these declarations starts a clause.
_INLINE_CLAUSES = {"set_decl": ("cite", "partial"), "applies_decl": ("cite",), "change_decl": ("cite",)}
_GAP = re.compile(r"(?P<ws>\s+)|(?P<comment>#[^\n]*)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[(){},:.=\-])")


@dataclass
class _Tok:
    start: int
    text: str
    kind: str           # a terminal name (NAME, STRING, ...), "KW" a keyword, "P" punctuation, "COMMENT"
    newlines: int = 0   # newlines in the input between the previous token and this one
    col: int = 0        # 0-based column in the input, for continuation lines
    role: str = ""      # "decl" | "clause" | ""


def _tokens(text: str, tree: Tree) -> list[_Tok]:
    named = sorted((t for t in tree.scan_values(lambda v: isinstance(v, Token))), key=lambda t: t.start_pos)
    out: list[_Tok] = []
    pos = 0

    def gap(a: int, b: int) -> None:
        for m in _GAP.finditer(text, a, b):
            if m.lastgroup == "ws":
                continue
            kind = {"comment": "COMMENT", "word": "KW", "punct": "P"}[m.lastgroup]
            out.append(_Tok(m.start(), m.group(), kind))
        covered = "".join(m.group() for m in _GAP.finditer(text, a, b))
        if len(covered) != b - a:  # a character the gap reader does not know: never drop it silently
            raise AssertionError(f"formatter cannot read {text[a:b]!r}")

    for t in named:
        gap(pos, t.start_pos)
        out.append(_Tok(t.start_pos, str(t), t.type))
        pos = t.end_pos
    gap(pos, len(text))
    for tok in out:
        line_start = text.rfind("\n", 0, tok.start) + 1
        tok.col = len(text[line_start:tok.start].expandtabs(8))
    prev_end = 0
    for tok in out:
        tok.newlines = text.count("\n", prev_end, tok.start)
        prev_end = tok.start + len(tok.text)
    _mark_roles(out, tree)
    return out


def _mark_roles(toks: list[_Tok], tree: Tree) -> None:
    by_start = {t.start: t for t in toks}
    starts_of_decls, clause_starts = set(), set()
    for decl in tree.children:
        if not isinstance(decl, Tree):
            continue
        starts_of_decls.add(decl.meta.start_pos)
        for child in decl.children:
            if isinstance(child, Tree) and child.data.startswith(("h_", "c_")):
                clause_starts.add(child.meta.start_pos)
        words = _INLINE_CLAUSES.get(decl.data)
        if words:
            # keywords between the declaration's own children (not inside its expression or set)
            spans = [(c.meta.start_pos, c.meta.end_pos) if isinstance(c, Tree) else (c.start_pos, c.end_pos)
                     for c in decl.children]
            for t in toks:
                if (t.kind == "KW" and t.text in words and decl.meta.start_pos <= t.start < decl.meta.end_pos
                        and not any(a <= t.start < b for a, b in spans)):
                    clause_starts.add(t.start)
    for s in starts_of_decls:
        by_start[s].role = "decl"
    for s in clause_starts:
        if s in by_start and by_start[s].role != "decl":
            by_start[s].role = "clause"


def _space(prev: _Tok, cur: _Tok) -> str:
    """The space between two tokens on one line."""
    if cur.kind == "COMMENT":
        return "  "
    if cur.kind == "P" and cur.text in ",:)}.":
        return ""
    if prev.kind == "P" and prev.text in "({.":
        return ""
    if prev.kind == "P" and prev.text == "-":  # unary minus (a binary one is ADD_OP)
        return ""
    if cur.kind == "P" and cur.text == "(" and prev.kind == "NAME":  # a call, or `define f(x)`
        return ""
    return " "


def _layout(toks: list[_Tok]) -> str:
    lines: list[list] = []  # [blank_before, indent or None, [tokens]]
    for i, tok in enumerate(toks):
        new_line = i == 0 or tok.newlines > 0 or tok.role in ("decl", "clause")
        if not new_line:
            lines[-1][2].append(tok)
            continue
        blank = 1 if i > 0 and tok.newlines > 1 else 0
        if tok.role == "decl":
            indent = 0
        elif tok.role == "clause":
            indent = len(INDENT)
        elif tok.kind == "COMMENT":
            indent = None  # like the next code line
        else:
            indent = tok.col
        lines.append([blank, indent, [tok]])
    following = 0
    for line in reversed(lines):
        if line[1] is None:
            line[1] = following
        else:
            following = line[1]
    out = []
    for blank, indent, line_toks in lines:
        if blank:
            out.append("")
        text = line_toks[0].text
        for a, b in zip(line_toks, line_toks[1:]):
            text += _space(a, b) + b.text
        out.append(" " * indent + text.rstrip())
    return "\n".join(out) + "\n"


def format_text(text: str, file: str = "<text>") -> str:
    """The canonical layout of one policy's text. Raises ExportctlError (E101) on a syntax error."""
    before = parse_policy(text, file)          # the located syntax error, exactly as `check` gives it
    tree = parser().parse(text)
    result = _layout(_tokens(text, tree))
    after = parse_policy(result, file)
    if _shape(before) != _shape(after):
        raise AssertionError(f"{file}: the formatter would change the policy's meaning; file left as it is")
    return result


def _shape(node):
    """A node without positions and source text, to compare two parses of the same policy."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(
            _shape(getattr(node, f.name)) for f in dataclasses.fields(node)
            if f.name not in ("span", "clause_spans", "path", "text"))
    if isinstance(node, (list, tuple)):
        return tuple(_shape(x) for x in node)
    if isinstance(node, dict):
        return tuple(sorted((k, _shape(v)) for k, v in node.items()))
    return node


def same_policy(a: str, b: str) -> bool:
    """Whether two texts parse to the same policy (positions aside)."""
    return _shape(parse_policy(a, "<a>")) == _shape(parse_policy(b, "<b>"))


def unified_diff(old: str, new: str, name: str) -> str:
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"{name} (original)", f"{name} (formatted)"))


@dataclass
class FileResult:
    path: str
    original: str
    formatted: str | None          # None: the file has a syntax error (see diagnostics)
    diagnostics: list[Diagnostic]

    @property
    def changed(self) -> bool:
        return self.formatted is not None and self.formatted != self.original


def format_file(path, display: str | None = None) -> FileResult:
    """Read and format one file; a syntax or read error becomes diagnostics, not an exception."""
    from pathlib import Path

    from .source import Span

    name = display or str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return FileResult(name, "", None, [Diagnostic("E102", f"cannot read {name}: {getattr(e, 'strerror', None) or e}",
                                                      Span(name, 0, 0))])
    try:
        return FileResult(name, text, format_text(text, name), [])
    except ExportctlError as e:
        return FileResult(name, text, None, e.diagnostics)


def _targets(args) -> list[tuple[str, object]]:
    """(display name, path) of every policy file named, folders walked for `*.policy`."""
    from pathlib import Path

    from .policyset import policies_root, policy_files

    paths = args.paths or [args.policies or str(policies_root())]
    out = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            out.extend((_display(f), f) for f in policy_files(path))
        else:
            out.append((p, path))
    return out


def _display(path) -> str:
    """A path relative to the working folder when it is below it (what `check` prints)."""
    from pathlib import Path

    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def run_fmt(args, io) -> int:
    """`exportctl fmt`: 0 formatted or nothing to do; 1 with --check when a file would change;
    2 on a file that does not parse or cannot be read (located, as `check` prints it)."""
    from .render import diagnostics_text

    if args.paths == ["-"]:
        text = io.stdin.read()
        try:
            result = format_text(text, "<stdin>")
        except ExportctlError as e:
            io.err(diagnostics_text(e.diagnostics, {"<stdin>": text}, color=io.color_err))
            return 2
        if args.diff:
            io.out(unified_diff(text, result, "<stdin>"))
        elif not args.check:
            io.stdout.write(result)
        return 1 if args.check and result != text else 0
    bad = changed = same = 0
    for name, path in _targets(args):
        r = format_file(path, name)
        if r.formatted is None:
            bad += 1
            io.err(diagnostics_text(r.diagnostics, {name: r.original}, color=io.color_err))
            continue
        if not r.changed:
            same += 1
            continue
        changed += 1
        if args.diff:
            io.out(unified_diff(r.original, r.formatted, name))
        if args.check or args.diff:
            io.err(f"would reformat {name}")
        else:
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(r.formatted)
            io.err(f"reformatted {name}")
    verb = "would be reformatted" if (args.check or args.diff) else "reformatted"
    summary = f"{changed} file(s) {verb}, {same} unchanged" + (f", {bad} with errors" if bad else "")
    io.err(summary)
    if bad:
        return 2
    return 1 if args.check and changed else 0
