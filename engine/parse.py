"""Policy text to AST. Lark trees and Lark exceptions never leave this module."""

from __future__ import annotations

import datetime as _dt
import re

from lark import Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast as A
from .diagnostics import Diagnostic, ExportctlError
from .grammar import parser
from .source import Span

# How Lark's terminal names read to a person, for "expected ..." hints.
_TERMINAL_WORDS = {
    "NAME": "a name", "STRING": 'a "string"', "NUMBER": "a number", "DATE": "a date (YYYY-MM-DD)",
    "PERCENT": "a percentage", "RULE_ID": "a rule id (like ear.9a515.rs1)",
    "REGIME_ID": "a regime id (like us-ear)", "COMP_OP": "a comparison", "ADD_OP": "+ or -",
    "MUL_OP": "* or /", "LPAR": "(", "RPAR": ")", "LBRACE": "{", "RBRACE": "}", "COMMA": ",",
    "COLON": ":", "DOT": ".", "EQUAL": "=", "$END": "end of file", "MINUS": "-",
}


def _span(file: str, meta) -> Span:
    if getattr(meta, "empty", True) and not hasattr(meta, "line"):
        return Span(file, 0, 0)
    return Span(file, meta.line, meta.column, meta.end_line, meta.end_column)


def _tspan(file: str, tok: Token) -> Span:
    return Span(file, tok.line, tok.column, tok.end_line, tok.end_column)


# Limits of the language (docs/language.md, "Limits"): checked on the text before Lark builds a
# tree, so that nothing downstream (parse, check, compile, codegen: all recurse over the AST)
# can hit Python's recursion limit or run out of memory on a hostile policy.
MAX_DEPTH = 64              # nesting of one expression (see _prescan for what counts)
MAX_STRING = 10_000         # characters in one string literal, quotes included
MAX_NUMBER = 100            # characters in one number
MAX_FILE = 1_000_000        # characters in one policy file
MAX_DECLARATIONS = 5_000    # declarations in one policy file
MAX_MEMBERS = 10_000        # members of one set literal { ... }

_ESCAPE = re.compile(r'\\(.?)', re.S)


def _string(tok: Token, file: str = "<policy>") -> str:
    """A string literal's value. The only escapes are \\" and \\\\ (docs/language.md); any other
    backslash is a located E108, never a codec error."""
    raw = str(tok)[1:-1]
    if "\\" not in raw:
        return raw

    def unescape(m):
        if m.group(1) in ('"', "\\"):
            return m.group(1)
        col = (getattr(tok, "column", 0) or 0) + 1 + m.start()
        shown = "\\" + m.group(1)
        raise ExportctlError(Diagnostic("E108", f"unknown escape `{shown}` in a string",
                                        Span(file, getattr(tok, "line", 0) or 0, col,
                                             getattr(tok, "line", 0) or 0, col + len(shown)),
                                        hint='a string knows only \\" (a quote) and \\\\ (a backslash); '
                                             'write other characters as they are (UTF-8)'))

    return _ESCAPE.sub(unescape, raw)


def _date(tok: Token, file: str) -> _dt.date:
    try:
        return _dt.date.fromisoformat(str(tok))
    except ValueError:
        raise ExportctlError(Diagnostic("E101", f"not a calendar date: {tok}", _tspan(file, tok),
                                        hint="dates are written YYYY-MM-DD"))


@v_args(meta=True)
class _ToAst(Transformer):
    """Builds AST nodes; one method per `-> alias` of the grammar."""

    def __init__(self, file: str, keywords: dict):
        super().__init__()
        self.file = file
        self.keywords = keywords  # (line, col) of a token -> the anonymous keyword before it

    # -- helpers
    def _s(self, meta):
        return _span(self.file, meta)

    def _str(self, tok):
        return _string(tok, self.file)

    # -- atoms
    def number(self, meta, c):
        text = str(c[0]).replace("_", "")
        value = float(text) if any(ch in text for ch in ".eE") else int(text)
        return A.Literal(value, self._s(meta))

    def percent(self, meta, c):
        return A.Literal(float(str(c[0])[:-1]) / 100.0, self._s(meta))

    def string(self, meta, c):
        return A.Literal(self._str(c[0]), self._s(meta))

    def date(self, meta, c):
        return A.Literal(_date(c[0], self.file), self._s(meta))

    def true(self, meta, c):
        return A.Literal(True, self._s(meta))

    def false(self, meta, c):
        return A.Literal(False, self._s(meta))

    def null(self, meta, c):
        return A.Literal(None, self._s(meta))

    def ref(self, meta, c):
        return A.Ref(tuple(str(t) for t in c), self._s(meta))

    def call(self, meta, c):
        names = [t for t in c if isinstance(t, Token) and t.type == "NAME"]
        args = tuple(x for x in c if not isinstance(x, Token))
        if len(names) == 2:
            return A.Call(str(names[1]), str(names[0]), args, self._s(meta))
        return A.Call(str(names[0]), None, args, self._s(meta))

    def member(self, meta, c):
        value_tok = c[0]
        value = self._str(value_tok) if value_tok.type == "STRING" else str(value_tok)
        aliases, dates = [], []
        for t in c[1:]:
            (aliases if t.type == "STRING" else dates).append(t)
        start = end = None
        # "from" and "until" are anonymous keywords: tell them apart by source order in the text.
        for tok in dates:
            kw = self.keywords.get((tok.line, tok.column), "from")
            if kw == "from":
                start = _date(tok, self.file)
            else:
                end = _date(tok, self.file)
        return A.Member(value, tuple(self._str(a) for a in aliases), start, end, self._s(meta))

    def set_literal(self, meta, c):
        return A.SetLiteral(tuple(c), self._s(meta))

    # -- operators
    def or_(self, meta, c):
        return c[0] if len(c) == 1 else A.Or(tuple(c), self._s(meta))

    def and_(self, meta, c):
        return c[0] if len(c) == 1 else A.And(tuple(c), self._s(meta))

    def not_(self, meta, c):
        return A.Not(c[0], self._s(meta))

    def arith(self, meta, c):
        node = c[0]
        for i in range(1, len(c), 2):
            right = c[i + 1]
            node = A.Arith(str(c[i]), node, right,
                           Span(self.file, node.span.line, node.span.col, right.span.end_line, right.span.end_col))
        return node

    def neg(self, meta, c):
        return A.Neg(c[0], self._s(meta))

    def compare(self, meta, c):
        return A.Compare(str(c[1]), c[0], c[2], self._s(meta))

    def in_(self, meta, c):
        return A.In(c[0], c[1], False, self._s(meta))

    def not_in(self, meta, c):
        return A.In(c[0], c[1], True, self._s(meta))

    def startswith(self, meta, c):
        return A.StartsWith(c[0], c[1], self._s(meta))

    def is_known(self, meta, c):
        return A.IsKnown(c[0], False, self._s(meta))

    def is_not_known(self, meta, c):
        return A.IsKnown(c[0], True, self._s(meta))

    def any_(self, meta, c):
        return A.Quantifier("any", str(c[0]), c[1], c[2], None, self._s(meta))

    def all_(self, meta, c):
        return A.Quantifier("all", str(c[0]), c[1], c[2], None, self._s(meta))

    def count_(self, meta, c):
        return A.Quantifier("count", str(c[0]), c[1], c[2] if len(c) > 2 else None, None, self._s(meta))

    def sum_(self, meta, c):
        return A.Quantifier("sum", str(c[1]), c[2], c[3] if len(c) > 3 else None, c[0], self._s(meta))

    # -- outcomes
    def o_prohibited(self, meta, c):
        return ("prohibited", None)

    def o_license_required(self, meta, c):
        return ("license_required", None)

    def o_no_license_required(self, meta, c):
        return ("no_license_required", None)

    def o_authorized(self, meta, c):
        return ("authorized", self._str(c[0]))

    # -- clauses: (keyword, value, span)
    def c_cite(self, meta, c):
        return ("cite", self._str(c[0]), self._s(meta))

    def c_from(self, meta, c):
        return ("from", _date(c[0], self.file), self._s(meta))

    def c_until(self, meta, c):
        return ("until", _date(c[0], self.file), self._s(meta))

    def c_unverified(self, meta, c):
        return ("unverified", self._str(c[0]), self._s(meta))

    def c_note(self, meta, c):
        return ("note", self._str(c[0]), self._s(meta))

    def c_exception(self, meta, c):
        return ("exception", str(c[0]), self._s(meta))

    def c_when(self, meta, c):
        return ("when", c[0], self._s(meta))

    def c_then(self, meta, c):
        return ("then", c[0], self._s(meta))

    def c_denial(self, meta, c):
        return ("denial", str(c[0]), self._s(meta))

    def c_oblige(self, meta, c):
        return ("oblige", tuple(str(x) for x in c), self._s(meta))

    def c_oblige_none(self, meta, c):
        return ("oblige_none", self._str(c[0]), self._s(meta))

    def o_form(self, meta, c):
        return ("form", self._str(c[0]), self._s(meta))

    def o_authority(self, meta, c):
        return ("authority", self._str(c[0]), self._s(meta))

    def o_by(self, meta, c):
        return ("by", self._str(c[0]), self._s(meta))

    def obligation_decl(self, meta, c):
        oid, kind, text, *clauses = c
        f, spans = _collect(clauses)
        return A.Obligation(str(oid), str(kind), self._str(text), f.get("form"), f.get("authority"), f.get("by"),
                            f.get("cite"), f.get("unverified"), tuple(f.get("note", ())), self._s(meta), spans)

    def c_with(self, meta, c):
        return ("with", tuple(str(t) for t in c), self._s(meta))

    h_version = lambda self, meta, c: ("version", self._str(c[0]))  # noqa: E731
    h_source = lambda self, meta, c: ("source", self._str(c[0]))  # noqa: E731
    h_note = lambda self, meta, c: ("note", self._str(c[0]))  # noqa: E731

    def h_from(self, meta, c):
        return ("from", _date(c[0], self.file))

    def h_until(self, meta, c):
        return ("until", _date(c[0], self.file))

    def binding(self, meta, c):
        return True

    def advisory(self, meta, c):
        return False

    # -- declarations
    def header(self, meta, c):
        regime, title, binding, *clauses = c
        found: dict = {"note": []}
        for key, value in clauses:
            if key == "note":
                found["note"].append(value)
            else:
                found[key] = value
        return A.Header(str(regime), self._str(title), binding, found.get("version"), found.get("source"),
                        found.get("from"), found.get("until"), tuple(found["note"]), self._s(meta))

    def use_decl(self, meta, c):
        regime = str(c[0])
        alias = str(c[1]) if len(c) > 1 else regime.replace("-", "_")
        return A.Use(regime, alias, self._s(meta))

    def applies_decl(self, meta, c):
        return A.Applies(c[0], self._str(c[1]) if len(c) > 1 else None, self._s(meta))

    def change_decl(self, meta, c):
        return A.Change(_date(c[0], self.file), self._str(c[1]), self._str(c[2]) if len(c) > 2 else None,
                        self._s(meta))

    def set_body(self, meta, c):
        terms = [("+", c[0])]
        for i in range(1, len(c), 2):
            terms.append((str(c[i]), c[i + 1]))
        return tuple(terms)

    def set_decl(self, meta, c):
        name = str(c[0])
        found: dict = {}
        for i, tok in enumerate(c[1:-1]):
            kw = self.keywords.get((tok.line, tok.column)) or ("title" if i == 0 else "cite")
            found.setdefault(kw, self._str(tok))
        return A.SetDecl(name, found.get("title"), found.get("cite"), c[-1], self._s(meta), found.get("partial"))

    def encodes_decl(self, meta, c):
        path, entries, *clauses = c
        f, _ = _collect(clauses)
        return A.Encodes(path, entries, f.get("when"), f.get("cite"), tuple(f.get("note", ())), self._s(meta))

    def params(self, meta, c):
        return tuple(str(t) for t in c)

    def define_decl(self, meta, c):
        name = str(c[0])
        params: tuple = ()
        title = None
        for x in c[1:-1]:
            if isinstance(x, tuple):
                params = x
            else:
                title = self._str(x)
        return A.Define(name, params, title, c[-1], self._s(meta))

    def rule_decl(self, meta, c):
        rid, title, *clauses = c
        f, spans = _collect(clauses)
        outcome, auth = f.get("then", (None, None))
        return A.Rule(str(rid), self._str(title), f.get("cite"), f.get("from"), f.get("until"),
                      f.get("unverified"), tuple(f.get("note", ())), f.get("exception"), f.get("when"),
                      outcome, auth, self._s(meta), spans, f.get("denial"), f.get("oblige", ()),
                      f.get("oblige_none"))

    def conflict_decl(self, meta, c):
        cid, title, *clauses = c
        f, spans = _collect(clauses)
        return A.Conflict(str(cid), self._str(title), f.get("cite"), tuple(f.get("with", ())),
                          tuple(f.get("note", ())), f.get("when"), self._s(meta), spans, f.get("unverified"))

    def start(self, meta, c):
        return c


def _collect(clauses):
    """Clauses as a dict; a clause given twice keeps every span so `check` can report it."""
    found: dict = {}
    spans: dict = {}
    for key, value, span in clauses:
        spans.setdefault(key, []).append(span)
        if key == "note":
            found.setdefault("note", []).append(value)
        elif key not in found:
            found[key] = value
    return found, spans


def _keywords(text: str, tree) -> dict:
    """Lark drops anonymous keywords; recover `from`/`until`/`cite` before member dates and
    set strings from the text, so `NI until 2024-01-01` is not read as `from`."""
    out = {}
    for node in tree.iter_subtrees():
        if node.data in ("member", "set_decl"):
            for t in node.children[1:]:
                if isinstance(t, Token) and t.type in ("DATE", "STRING"):
                    # a bounded look-back: slicing the whole prefix is quadratic on a long set
                    before = text[max(0, t.start_pos - 200): t.start_pos].rstrip()
                    for kw in ("until", "from", "cite", "aka", "partial"):
                        if before.endswith(kw) and not before[: -len(kw)][-1:].isalnum():
                            out[(t.line, t.column)] = kw
                            break
    return out


_TOKENS = re.compile(r'''
    (?P<str>"(?:[^"\\\n]|\\.)*"?)
  | (?P<comment>\#[^\n]*)
  | (?P<num>[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?%?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<open>[({])
  | (?P<close>[)}])
  | (?P<op>[-+*/])
  | (?P<sep>,)
  | (?P<space>\s+)
  | (?P<other>.)
''', re.X | re.S)
_DECLARATIONS = frozenset({"use", "applies", "change", "set", "define", "rule", "conflict"})
_CLAUSES = _DECLARATIONS | {"regime", "when", "then", "cite", "from", "until", "note", "unverified",
                            "exception", "with", "version", "source", "aka"}
_QUANTIFIERS = frozenset({"any", "all", "count", "sum"})


def _prescan(text: str, file: str) -> None:
    """Enforce the limits on the raw text, before Lark builds a tree (which, like every later
    stage, recurses over it). The nesting depth is an upper bound of the AST's depth: per level
    of ( or {, one for the level, one per quantifier (its body reaches right), and one per
    `not` or arithmetic operator since the last `and`, `or` or `,` (an arithmetic chain nests
    one level per operator). Lexical errors are left to Lark, which locates them better."""

    def where(pos: int, length: int = 1) -> Span:
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return Span(file, line, col, line, col + max(1, length))

    def fail(code: str, message: str, pos: int, length: int = 1, hint: str | None = None):
        raise ExportctlError(Diagnostic(code, message, where(pos, length), hint=hint))

    if len(text) > MAX_FILE:
        fail("E106", f"the policy file has {len(text):,} characters, more than the limit of {MAX_FILE:,}",
             MAX_FILE, hint="split the regime's lists into a shared policy (`use`) or shorten it")
    levels = [[0, 0, 0]]     # per open bracket: [quantifiers, operators since the last and/or/,, commas]
    depth = 1
    declarations = 0
    for m in _TOKENS.finditer(text):
        kind = m.lastgroup
        if kind in ("space", "comment", "other"):
            continue
        tok = m.group()
        if kind == "str":
            if len(tok) > MAX_STRING:
                fail("E104", f"a string of {len(tok):,} characters, more than the limit of {MAX_STRING:,}",
                     m.start(), hint="quote the law by reference (cite) rather than in full")
            continue
        if kind == "num":
            if len(tok) > MAX_NUMBER:
                fail("E105", f"a number of {len(tok):,} characters, more than the limit of {MAX_NUMBER}",
                     m.start(), hint="no law needs that many digits: check the number")
            continue
        if kind == "word":
            if tok in _CLAUSES and len(levels) == 1:
                levels[0] = [0, 0, 0]
                depth = 1
                if tok in _DECLARATIONS:
                    declarations += 1
                    if declarations > MAX_DECLARATIONS:
                        fail("E107", f"more than {MAX_DECLARATIONS:,} declarations in one policy file",
                             m.start(), len(tok), hint="split the regime into policies that `use` each other")
                continue
            if tok in ("and", "or"):
                depth -= levels[-1][1]
                levels[-1][1] = 0
                continue
            if tok in _QUANTIFIERS:
                levels[-1][0] += 1 + levels[-1][1]
                levels[-1][1] = 0
                depth += 1
            elif tok == "not":
                levels[-1][1] += 1
                depth += 1
            else:
                continue
        elif kind == "op":
            levels[-1][1] += 1
            depth += 1
        elif kind == "sep":
            depth -= levels[-1][1]
            levels[-1][1] = 0
            levels[-1][2] += 1
            if levels[-1][2] >= MAX_MEMBERS:
                fail("E110", f"more than {MAX_MEMBERS:,} members or arguments in one list", m.start(),
                     hint="split the set into several sets and join them: set all = part1 + part2")
            continue
        elif kind == "open":
            levels.append([0, 0, 0])
            depth += 1
        elif kind == "close":
            if len(levels) > 1:
                q, o, _ = levels.pop()
                depth -= 1 + q + o
            continue
        if depth > MAX_DEPTH:
            fail("E103", f"the expression nests deeper than {MAX_DEPTH} levels", m.start(), len(tok),
                 hint="name parts of it with `define` (each definition starts a new expression)")


def parse_policy(text: str, file: str) -> A.Policy:
    """Parse one policy file. Raises ExportctlError with a located E1xx diagnostic on a syntax
    error or a text beyond the language's limits (never a RecursionError or a codec error)."""
    _prescan(text, file)
    try:
        tree = parser().parse(text)
    except UnexpectedInput as e:
        raise ExportctlError(_syntax_diagnostic(e, text, file)) from None
    except RecursionError:  # a backstop: _prescan's bound should make this unreachable
        raise ExportctlError(Diagnostic("E103", "the policy nests too deeply to be read", Span(file, 1, 1))) from None
    try:
        header, *decls = _ToAst(file, _keywords(text, tree)).transform(tree)
    except VisitError as e:
        if isinstance(e.orig_exc, ExportctlError):
            raise e.orig_exc from None
        raise
    except RecursionError:
        raise ExportctlError(Diagnostic("E103", "the policy nests too deeply to be read", Span(file, 1, 1))) from None
    groups: dict = {k: [] for k in (A.Use, A.Applies, A.Change, A.SetDecl, A.Define, A.Rule, A.Conflict, A.Encodes,
                                     A.Obligation)}
    for d in decls:
        groups[type(d)].append(d)
    return A.Policy(file, text, header, *(tuple(groups[k]) for k in groups))


def parse_expression(text: str, file: str = "<expr>") -> A.Expr:
    """Parse a lone expression (for tests and the REPL-like `explain`)."""
    policy = parse_policy(f'regime x "x" binding\ndefine _ = {text}\n', file)
    return policy.defines[0].body


def _syntax_diagnostic(e: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line, col = getattr(e, "line", 0) or 0, getattr(e, "column", 0) or 0
    expected = sorted(getattr(e, "expected", None) or getattr(e, "allowed", None) or [])
    words = []
    for name in expected:
        if name in _TERMINAL_WORDS:
            words.append(_TERMINAL_WORDS[name])
        elif name.isupper() and not name.startswith("__"):
            words.append(f"`{name.lower()}`")
    words = sorted(set(words))
    hint = ("expected " + ", ".join(words[:12]) + (" ..." if len(words) > 12 else "")) if words else None
    if isinstance(e, UnexpectedToken):
        tok = e.token
        what = "end of file" if tok.type == "$END" else f"`{tok}`"
        message = f"unexpected {what}"
        if tok.type != "$END":
            return Diagnostic("E101", message, Span(file, tok.line, tok.column, tok.end_line, tok.end_column),
                              hint=hint)
    elif isinstance(e, UnexpectedCharacters):
        ch = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        message = f"unexpected character `{ch}`"
    elif isinstance(e, UnexpectedEOF):
        message = "unexpected end of file"
    else:
        message = "syntax error"
    if line <= 0:
        lines = text.splitlines() or [""]
        line, col = len(lines), len(lines[-1]) + 1
    return Diagnostic("E101", message, Span(file, line, col), hint=hint)
