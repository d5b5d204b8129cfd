"""Syntax highlighting of the policy language for Pygments (and so for mkdocs-material).

Registered through the `pygments.lexers` entry point, so any Pygments user (the docs site,
`pygmentize -l exportctl`, editors that use Pygments) finds it by the name `exportctl`.
The token classes follow what a reader needs to see: declarations and clauses (keywords),
outcomes, rule ids, regime ids, dates, percentages, strings and comments."""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, default, words
from pygments.token import (Comment, Keyword, Literal, Name, Number, Operator, Punctuation, String,
                            Whitespace)

__all__ = ["PolicyLexer"]

REGIME_ID = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"
RULE_ID = r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+"
NAME = r"[A-Za-z_][A-Za-z0-9_]*"

DECLARATIONS = ("regime", "use", "applies", "change", "set", "define", "rule", "conflict", "encodes")
CLAUSES = ("binding", "advisory", "version", "source", "from", "until", "note", "as", "when",
           "cite", "unverified", "exception", "to", "then", "aka", "for", "where", "partial", "denial",
           "absolute", "policy_of_denial", "presumption_of_denial", "in_principle_not_permitted")
OPERATOR_WORDS = ("and", "or", "not", "in", "startswith", "is", "known", "any", "all", "count", "sum")
CONSTANTS = ("true", "false", "null")
OUTCOMES = ("prohibited", "license_required", "no_license_required", "authorized",
            "indeterminate", "not_applicable")


class PolicyLexer(RegexLexer):
    """Lexer for exportctl policy files (`*.policy`)."""

    name = "exportctl"
    aliases = ["exportctl", "policy"]
    filenames = ["*.policy"]
    mimetypes = ["text/x-exportctl-policy"]
    url = "https://github.com/exportctl/exportctl"

    tokens = {
        "root": [
            (r"[ \t\r\n]+", Whitespace),
            (r"#[^\n]*", Comment.Single),
            (r'"(?:[^"\\\n]|\\.)*"', String.Double),
            # declarations that name something: color the name they introduce
            (rf"\b(regime)(\s+)({REGIME_ID})\b", bygroups(Keyword.Declaration, Whitespace, Name.Namespace)),
            (rf"\b(use)(\s+)({REGIME_ID})(?:(\s+)(as)(\s+)({NAME}))?",
             bygroups(Keyword.Declaration, Whitespace, Name.Namespace, Whitespace, Keyword, Whitespace,
                      Name.Namespace)),
            (rf"\b(rule|conflict)(\s+)({RULE_ID})", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (rf"\b(exception)(\s+)(to)(\s+)({RULE_ID})",
             bygroups(Keyword, Whitespace, Keyword, Whitespace, Name.Function)),
            (rf"\b(set)(\s+)({NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Class)),
            (rf"\b(define)(\s+)({NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Function)),
            (r"\b(with)(\s+)", bygroups(Keyword, Whitespace), "regimes"),
            # literals
            (r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}\b", Literal.Date),
            (r"\b[0-9]+(?:\.[0-9]+)?%", Number),
            (r"\b[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\b", Number),
            # a part after a dot is a field, whatever it is called (`item.count` is no keyword)
            (rf"(?<=\.){NAME}", Name.Attribute),
            (words(OUTCOMES, prefix=r"\b", suffix=r"\b"), Name.Builtin),
            (words(DECLARATIONS, prefix=r"\b", suffix=r"\b"), Keyword.Declaration),
            (words(CLAUSES, prefix=r"\b", suffix=r"\b"), Keyword),
            (words(OPERATOR_WORDS, prefix=r"\b", suffix=r"\b"), Operator.Word),
            (words(CONSTANTS, prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (r"\b(components_of|outcome)(?=\s*\()", Name.Builtin),
            (rf"{NAME}(?=\s*\()", Name.Function),
            (r"\b[A-Z]{2}(?:-[A-Z0-9]{1,3})?\b(?!\s*\.)", Name.Constant),  # country codes
            (NAME, Name),
            (r"==|!=|<=|>=|<|>|\+|-|\*|/|=", Operator),
            (r"[{}(),:.]", Punctuation),
        ],
        "regimes": [  # `with us-itar, us-ear` in a conflict
            (r"[ \t]+", Whitespace),
            (r"(?=(?:when|cite|note)\b)", Whitespace, "#pop"),
            (REGIME_ID, Name.Namespace),
            (r"(,)(\s*)", bygroups(Punctuation, Whitespace)),
            default("#pop"),
        ],
    }
