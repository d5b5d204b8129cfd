"""The policy AST: frozen dataclasses, each with the span it was parsed from."""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from operator import attrgetter

from .source import Span

OUTCOMES = ("prohibited", "indeterminate", "license_required", "authorized", "no_license_required")
"""Outcome words, most restrictive first (DESIGN.md). `not_applicable` sits outside the order."""

RANK = {name: len(OUTCOMES) - i for i, name in enumerate(OUTCOMES)}
RANK["not_applicable"] = 0


# ---------------------------------------------------------------- expressions

@dataclass(frozen=True)
class Literal:
    """A number, string, date, boolean or `null` as written."""

    value: object  # int | float | str | date | bool | None
    span: Span


@dataclass(frozen=True)
class Member:
    """A member of a set literal, with optional aliases and an effective period."""

    value: str
    aliases: tuple[str, ...]
    start: _dt.date | None
    end: _dt.date | None
    span: Span


@dataclass(frozen=True)
class SetLiteral:
    """`{a, b, ...}`: members written in place."""

    members: tuple[Member, ...]
    span: Span


@dataclass(frozen=True)
class Ref:
    """A dotted name: a fact path (`item.classification.eccn`), a set, or `alias.name`."""

    parts: tuple[str, ...]
    span: Span

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Call:
    """`name(args)`, or `ns.name(args)` for a definition of a used regime."""

    name: str
    namespace: str | None
    args: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Arith:
    """`left op right` for `+ - * /`."""

    op: str  # + - * /
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class Neg:
    """`-operand`."""

    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class Compare:
    """`left op right` for `== != < <= > >=`."""

    op: str  # == != < <= > >=
    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class In:
    """`left in right` (or `not in`): membership in a set."""

    left: "Expr"
    right: "Expr"
    negated: bool
    span: Span


@dataclass(frozen=True)
class StartsWith:
    """`left startswith right`: a string's prefix, or any prefix of a set."""

    left: "Expr"
    right: "Expr"
    span: Span


@dataclass(frozen=True)
class IsKnown:
    """`operand is known` (or `is unknown`): whether a fact is given."""

    operand: "Expr"
    negated: bool
    span: Span


@dataclass(frozen=True)
class Not:
    """`not operand`."""

    operand: "Expr"
    span: Span


@dataclass(frozen=True)
class And:
    """`a and b and ...`, flattened."""

    operands: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Or:
    """`a or b or ...`, flattened."""

    operands: tuple["Expr", ...]
    span: Span


@dataclass(frozen=True)
class Quantifier:
    """`any v in coll: body`, `all ...`, `count v in coll where body`, `sum value for v in coll where body`."""

    kind: str  # any | all | count | sum
    var: str
    collection: "Expr"
    body: "Expr | None"
    value: "Expr | None"
    span: Span


Expr = (Literal | SetLiteral | Ref | Call | Arith | Neg | Compare | In | StartsWith | IsKnown
        | Not | And | Or | Quantifier)
"""Any expression node. Written with `|` (types.UnionType), not typing.Union: importing `typing`
costs a warm start about 11 million instructions, and a decision needs it for no more than hints."""


def children(e: Expr) -> tuple:
    """The direct sub-expressions of `e` (for walkers in check and docs). Looked up by the node's
    class (a decision's explanations ask about 3,500 times); anything else, a subclass included,
    goes through `_children_of`, which answers for every class."""
    get = _CHILDREN.get(type(e))
    return get(e) if get is not None else _children_of(e)


def _children_of(e) -> tuple:
    if isinstance(e, (Arith, Compare)):
        return (e.left, e.right)
    if isinstance(e, (In, StartsWith)):
        return (e.left, e.right)
    if isinstance(e, (Neg, Not, IsKnown)):
        return (e.operand,)
    if isinstance(e, (And, Or)):
        return e.operands
    if isinstance(e, Call):
        return e.args
    if isinstance(e, Quantifier):
        return tuple(x for x in (e.collection, e.value, e.body) if x is not None)
    return ()


def _operand(e) -> tuple:
    return (e.operand,)


def _no_children(e) -> tuple:
    return ()


_CHILDREN = {Arith: attrgetter("left", "right"), Compare: attrgetter("left", "right"),
             In: attrgetter("left", "right"), StartsWith: attrgetter("left", "right"),
             Neg: _operand, Not: _operand, IsKnown: _operand, And: attrgetter("operands"),
             Or: attrgetter("operands"), Call: attrgetter("args"), Quantifier: _children_of,
             Literal: _no_children, SetLiteral: _no_children, Ref: _no_children}


# ---------------------------------------------------------------- declarations

def regime_sort_key(regime: str, binding: bool) -> tuple:
    """The order of regimes everywhere (decisions, docs, diff): binding before advisory, each
    alphabetical by id. It comes from the policies (`binding`/`advisory` in their header), so
    the engine never needs the names of the laws it runs."""
    return (not binding, regime)


@dataclass(frozen=True)
class Header:
    """A policy's `regime` block: which law, its version and period."""

    regime: str
    title: str
    binding: bool
    version: str | None
    source: str | None
    start: _dt.date | None
    end: _dt.date | None
    notes: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Use:
    """`use regime as alias`: another regime's sets and definitions."""

    regime: str
    alias: str
    span: Span


@dataclass(frozen=True)
class Applies:
    """When the regime applies at all (`applies when ...`)."""

    condition: Expr
    cite: str | None
    span: Span


@dataclass(frozen=True)
class Change:
    """A dated entry of the policy's change log."""

    date: _dt.date
    text: str
    cite: str | None
    span: Span


@dataclass(frozen=True)
class SetDecl:
    """A named set: members and other sets added or taken away, in order."""

    name: str
    title: str | None
    cite: str | None
    terms: tuple[tuple[str, SetLiteral | Ref], ...]  # (op, term); first op is "+"
    span: Span
    partial: str | None = None    # why the list is known to be incomplete: a non-member is unknown


@dataclass(frozen=True)
class Define:
    """A named definition, with parameters or without."""

    name: str
    params: tuple[str, ...]
    title: str | None
    body: Expr
    span: Span


@dataclass(frozen=True)
class Rule:
    """A rule: what it finds, when, under which citation, and its exceptions."""

    id: str
    title: str
    cite: str | None
    start: _dt.date | None
    end: _dt.date | None
    unverified: str | None
    notes: tuple[str, ...]
    exception_to: str | None
    when: Expr | None
    outcome: str | None
    authorization: str | None
    span: Span
    clause_spans: dict = field(default_factory=dict, compare=False, hash=False)
    denial: str | None = None     # for `prohibited`: absolute, policy_of_denial, presumption_of_denial, ...
    obliges: tuple[str, ...] = ()  # ids of the obligations its finding brings
    obliges_none: str | None = None  # why it brings none (for the obligations coverage gate)


DENIAL_KINDS = ("absolute", "policy_of_denial", "presumption_of_denial", "in_principle_not_permitted")
"""What a `prohibited` stands for: a ban, or a policy or presumption of denial (a licence is
still applied for and may, rarely, be granted)."""


OBLIGATION_KINDS = ("license", "condition", "document", "notify", "record")
"""What an obligation asks: apply for a licence, meet an exception's condition, send a document
with the shipment, notify or report, keep records. Also the order of "What to do next"."""


@dataclass(frozen=True)
class Obligation:
    """A duty a finding brings: what, by whom, on which form, at which authority, under which law."""

    id: str
    kind: str
    text: str
    form: str | None
    authority: str | None
    by: str | None
    cite: str | None
    unverified: str | None
    notes: tuple[str, ...]
    span: Span
    clause_spans: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Encodes:
    """The classification entries a regime's rules were written for (its encoded scope).

    An item or component whose entry on `path` (e.g. `item.classification.eccn`) is a string
    outside `entries` makes a binding regime indeterminate: the policy cannot see it."""

    path: Ref
    entries: SetLiteral | Ref
    when: "Expr | None"
    cite: str | None
    notes: tuple[str, ...]
    span: Span


@dataclass(frozen=True)
class Conflict:
    """Two or more regimes whose findings disagree, and how that is resolved."""

    id: str
    title: str
    cite: str | None
    regimes: tuple[str, ...]
    notes: tuple[str, ...]
    when: Expr | None
    span: Span
    clause_spans: dict = field(default_factory=dict, compare=False, hash=False)
    unverified: str | None = None


@dataclass(frozen=True)
class Policy:
    """One parsed policy file: a regime's header and its declarations, in source order."""

    path: str
    text: str
    header: Header
    uses: tuple[Use, ...]
    applies: tuple[Applies, ...]
    changes: tuple[Change, ...]
    sets: tuple[SetDecl, ...]
    defines: tuple[Define, ...]
    rules: tuple[Rule, ...]
    conflicts: tuple[Conflict, ...]
    encodes: tuple[Encodes, ...] = ()
    obligations: tuple[Obligation, ...] = ()

    @property
    def regime(self) -> str:
        return self.header.regime
