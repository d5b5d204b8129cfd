"""The language server (`exportctl lsp`, LSP over stdio, on pygls): what a legal team's editor
shows while they write a policy.

- diagnostics as you type: every `check` diagnostic (parse, names, fact paths, rules), with its
  code, for the whole policy folder the file belongs to (so `use` resolves), open buffers read
  instead of the files on disk; golden-case coverage (E5xx) is left to `exportctl check`, which
  runs every case;
- hover: a rule's title, citation, dates, `unverified` text and how many golden cases name it;
  a definition's text; a set's members with their dates;
- go to definition: rules (after `exception to`), sets and definitions, across `use`, and the
  regime of a `use`;
- completion: fact paths from the transaction schema, set and definition names (with `use`
  aliases), rule ids after `exception to`;
- document symbols, and formatting (the formatter of `exportctl fmt`).

The analysis below is plain Python over the AST; only `_server()` knows pygls.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from . import ast as A
from .diagnostics import Diagnostic, ExportctlError
from .parse import parse_policy
from .source import Span

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[.-][A-Za-z0-9_]+)*")


def uri_to_path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


def path_to_uri(path: str | Path) -> str:
    return Path(path).resolve().as_uri()


def policy_root(file: Path) -> Path:
    """The policy folder a file belongs to: the nearest folder above it with a `schema/`
    (like the bundled `policies/`), else the folder above the regime's folder."""
    folder = file.resolve().parent
    for up in [folder, *folder.parents][:4]:
        if (up / "schema").is_dir():
            return up
    return folder.parent if folder.parent != folder else folder


# ---------------------------------------------------------------- analysis


@dataclass
class Analysis:
    root: Path
    policies: list[A.Policy]
    diagnostics: list[Diagnostic]
    texts: dict[str, str]                 # file (absolute path) -> text analysed
    schema: dict
    cases: dict[str, int] = field(default_factory=dict)   # rule id -> golden cases naming it

    def policy_of(self, file: str) -> A.Policy | None:
        return next((p for p in self.policies if p.path == file), None)

    def rule(self, rule_id: str):
        for p in self.policies:
            for r in list(p.rules) + list(p.conflicts):
                if r.id == rule_id:
                    return p, r
        return None

    def regime(self, regime_id: str) -> A.Policy | None:
        return next((p for p in self.policies if p.regime == regime_id), None)

    def declarations(self, policy: A.Policy) -> dict:
        return {d.name: d for d in list(policy.sets) + list(policy.defines)}

    def resolve_name(self, policy: A.Policy, dotted: str):
        """(policy, set or definition) that `dotted` names in `policy`: `name` or `alias.name`."""
        parts = dotted.split(".")
        local = self.declarations(policy)
        if parts[0] in local:
            return policy, local[parts[0]]
        aliases = {u.alias: self.regime(u.regime) for u in policy.uses}
        if len(parts) >= 2 and aliases.get(parts[0]) is not None:
            other = aliases[parts[0]]
            found = self.declarations(other).get(parts[1])
            if found is not None:
                return other, found
        return None


class Project:
    """Parsed policies cached by text, so a keystroke re-parses only the buffer that changed."""

    def __init__(self):
        self._parsed: dict[tuple[str, str], A.Policy | ExportctlError] = {}

    def _parse(self, text: str, file: str):
        key = (file, text)
        if key not in self._parsed:
            if len(self._parsed) > 64:
                self._parsed.clear()
            try:
                self._parsed[key] = parse_policy(text, file)
            except ExportctlError as e:
                self._parsed[key] = e
        return self._parsed[key]

    def analyse(self, file: Path, overlays: dict[str, str]) -> Analysis:
        """Parse and check every policy of `file`'s folder, open buffers (`overlays`, by absolute
        path) in place of the files on disk."""
        from .check import check
        from .facts import schema as load_schema
        from .policyset import policies_root, policy_files

        root = policy_root(file)
        files = {str(p.resolve()) for p in policy_files(root)} | {str(file.resolve())}
        texts, policies, diags = {}, [], []
        for f in sorted(files):
            text = overlays.get(f)
            if text is None:
                try:
                    text = Path(f).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as e:
                    diags.append(Diagnostic("E102", f"cannot read {f}: {e}", Span(f, 0, 0)))
                    continue
            texts[f] = text
            parsed = self._parse(text, f)
            if isinstance(parsed, ExportctlError):
                diags.extend(parsed.diagnostics)
            else:
                policies.append(parsed)
        own = root / "schema" / "transaction.schema.json"
        folder = str(own.parent.resolve()) if own.is_file() and own.resolve() != (
            policies_root() / "schema" / "transaction.schema.json").resolve() else None
        schema = load_schema("transaction", folder)
        if policies:
            try:
                diags.extend(check(policies, schema))
            except ExportctlError as e:
                diags.extend(e.diagnostics)
        return Analysis(root, policies, diags, texts, schema, _case_counts(root))


def _case_counts(root: Path) -> dict[str, int]:
    """How many golden cases name each rule (fires, not_fires or about): read, not run."""
    files = sorted(root.glob("*/cases/*.yaml"))
    stamp = tuple((str(f), f.stat().st_mtime_ns) for f in files if f.is_file())
    return _counts(stamp)


@lru_cache(maxsize=4)
def _counts(stamp: tuple) -> dict[str, int]:
    import yaml

    counts: dict[str, int] = {}
    for f, _ in stamp:
        try:
            data = yaml.safe_load(Path(f).read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        for case in (data.get("cases") or []) if isinstance(data, dict) else []:
            if not isinstance(case, dict):
                continue
            expect = case.get("expect") if isinstance(case.get("expect"), dict) else {}
            named = set()
            for key in ("fires", "not_fires"):
                named |= {str(x) for x in (expect.get(key) or []) if isinstance(x, str)}
            named |= {str(x) for x in (case.get("about") or []) if isinstance(x, str)}
            for rid in named:
                counts[rid] = counts.get(rid, 0) + 1
    return counts


# ---------------------------------------------------------------- features (plain data in, plain data out)


def word_at(text: str, line: int, character: int) -> tuple[str, int, int] | None:
    """The name, dotted path, rule id or regime id under a 0-based position, with its columns."""
    lines = text.split("\n")
    if not 0 <= line < len(lines):
        return None
    for m in _WORD.finditer(lines[line]):
        if m.start() <= character <= m.end():
            return m.group(), m.start(), m.end()
    return None


def target_at(an: Analysis, file: str, line: int, character: int):
    """What the word under the cursor names: ("rule", policy, rule) | ("decl", policy, set/define)
    | ("regime", policy, header) | None."""
    policy = an.policy_of(file)
    found = word_at(an.texts.get(file, ""), line, character)
    if policy is None or found is None:
        return None
    word, start, _ = found
    hit = an.rule(word)
    if hit:
        return ("rule", *hit)
    # in `a.b.c` the part under the cursor and what is left of it: `mtcr.controlled`, `D5`
    upto = word[: word.find(".", character - start) if "." in word[character - start:] else len(word)]
    for candidate in (upto, word):
        hit = an.resolve_name(policy, candidate)
        if hit:
            return ("decl", *hit)
    other = an.regime(word)
    if other is not None:
        return ("regime", other, other.header)
    return None


def _dates(start, end) -> str:
    if start and end:
        return f"from {start} until {end}"
    return f"from {start}" if start else (f"until {end}" if end else "")


def _source_of(an: Analysis, policy: A.Policy, span: Span) -> str:
    lines = an.texts.get(policy.path, policy.text).split("\n")
    end = span.end_line or span.line
    return "\n".join(lines[span.line - 1:end]).rstrip()


def hover_markdown(an: Analysis, file: str, line: int, character: int) -> str | None:
    target = target_at(an, file, line, character)
    if target is None:
        return None
    kind, policy, node = target
    if kind == "rule":
        what = "conflict" if isinstance(node, A.Conflict) else "rule"
        out = [f"**{what} `{node.id}`** ({policy.regime})", "", node.title, ""]
        if node.cite:
            out.append(f"- cite: {node.cite}")
        dates = _dates(getattr(node, "start", None), getattr(node, "end", None))
        if dates:
            out.append(f"- in force {dates}")
        if getattr(node, "exception_to", None):
            out.append(f"- exception to `{node.exception_to}`")
        if getattr(node, "outcome", None):
            out.append(f"- then {node.outcome}" + (f" \"{node.authorization}\"" if node.authorization else ""))
        if node.unverified:
            out.append(f"- **unverified**: {node.unverified}")
        for note in node.notes:
            out.append(f"- note: {note}")
        out.append(f"- golden cases naming it: {an.cases.get(node.id, 0)}")
        return "\n".join(out)
    if kind == "regime":
        h = node
        return "\n".join([f"**regime `{h.regime}`** ({'binding' if h.binding else 'advisory'})", "", h.title, "",
                          f"- version: {h.version}", f"- source: {h.source}"])
    if isinstance(node, A.Define):
        sig = node.name + (f"({', '.join(node.params)})" if node.params else "")
        out = [f"**define `{sig}`** ({policy.regime})"]
        if node.title:
            out += ["", node.title]
        out += ["", "```exportctl", _source_of(an, policy, node.span), "```"]
        return "\n".join(out)
    s = node
    out = [f"**set `{s.name}`** ({policy.regime})"]
    if s.title:
        out += ["", s.title]
    out.append("")
    if s.cite:
        out.append(f"- cite: {s.cite}")
    if s.partial:
        out.append(f"- partial: {s.partial}")
    members = []
    for op, term in s.terms:
        if isinstance(term, A.SetLiteral):
            for m in term.members:
                dates = _dates(m.start, m.end)
                members.append(("- " if op == "-" else "") + m.value + (f" ({dates})" if dates else ""))
        else:
            members.append(f"{op} {term.dotted}")
    shown = members[:80]
    out.append(f"- members ({len(members)}): " + ", ".join(shown) + (" ..." if len(members) > len(shown) else ""))
    return "\n".join(out)


def definition_at(an: Analysis, file: str, line: int, character: int) -> tuple[str, Span] | None:
    target = target_at(an, file, line, character)
    if target is None:
        return None
    _, policy, node = target
    return policy.path, node.span


def fact_paths(schema: dict) -> list[str]:
    """Every fact path a policy can name: top-level ones, and `item.` paths for an item."""
    defs = schema.get("$defs", {})

    def resolve(node):
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < 10:
            node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        return node if isinstance(node, dict) else {}

    out: list[str] = []

    def walk(prefix: str, node, depth: int):
        node = resolve(node)
        for key, sub in sorted(node.get("properties", {}).items()):
            path = f"{prefix}{key}"
            out.append(path)
            sub = resolve(sub)
            if depth < 3 and "properties" in sub and sub is not resolve(defs.get("item")):
                walk(path + ".", sub, depth + 1)

    walk("", schema, 0)
    if "item" in defs:
        out.append("item")
        walk("item.", defs["item"], 1)
    return sorted(set(out))


def completions(an: Analysis, file: str, line: int, character: int) -> list[tuple[str, str, str]]:
    """(label, kind, detail) for the cursor: rule ids after `exception to`, else fact paths and
    the set and definition names the policy sees."""
    text = an.texts.get(file, "")
    lines = text.split("\n")
    before = lines[line][:character] if 0 <= line < len(lines) else ""
    if re.search(r"\bexception\s+to\s+[\w.]*$", before):
        return [(r.id, "rule", r.title) for p in an.policies for r in p.rules]
    policy = an.policy_of(file)
    out = [(p, "fact", "fact path (transaction schema)") for p in fact_paths(an.schema)]
    if policy is not None:
        for name, d in sorted(an.declarations(policy).items()):
            out.append((name, "set" if isinstance(d, A.SetDecl) else "define", d.title or ""))
        for u in policy.uses:
            other = an.regime(u.regime)
            if other is not None:
                for name, d in sorted(an.declarations(other).items()):
                    out.append((f"{u.alias}.{name}", "set" if isinstance(d, A.SetDecl) else "define", d.title or ""))
    return out


def symbols(policy: A.Policy) -> list[tuple[str, str, str, Span]]:
    """(name, kind, detail, span) of each declaration, in file order."""
    out = [(policy.header.regime, "regime", policy.header.title, policy.header.span)]
    for s in policy.sets:
        out.append((s.name, "set", s.title or "", s.span))
    for d in policy.defines:
        out.append((d.name, "define", d.title or "", d.span))
    for r in policy.rules:
        out.append((r.id, "rule", r.title, r.span))
    for c in policy.conflicts:
        out.append((c.id, "conflict", c.title, c.span))
    for i, a in enumerate(policy.applies, 1):
        out.append((f"applies #{i}", "applies", a.cite or "", a.span))
    for e in policy.encodes:
        out.append((f"encodes {e.path.dotted}", "encodes", e.cite or "", e.span))
    return sorted(out, key=lambda s: (s[3].line, s[3].col))


# ---------------------------------------------------------------- the server (pygls)


def _server():
    from lsprotocol import types as T
    from pygls.lsp.server import LanguageServer

    from . import __version__
    from .fmt import format_text

    ls = LanguageServer("exportctl", __version__)
    project = Project()

    def rng(span: Span | None, text: str = "") -> T.Range:
        if span is None or span.line <= 0:
            return T.Range(T.Position(0, 0), T.Position(0, 1))
        start = T.Position(span.line - 1, max(span.col - 1, 0))
        if span.end_line and span.end_col and (span.end_line, span.end_col) > (span.line, span.col):
            return T.Range(start, T.Position(span.end_line - 1, span.end_col - 1))
        lines = text.split("\n")
        line = lines[span.line - 1] if span.line - 1 < len(lines) else ""
        m = _WORD.match(line, span.col - 1)
        return T.Range(start, T.Position(span.line - 1, m.end() if m else span.col))

    def analyse(uri: str) -> tuple[Analysis, str]:
        overlays = {str(uri_to_path(d.uri).resolve()): d.source for d in ls.workspace.text_documents.values()}
        file = uri_to_path(uri).resolve()
        return project.analyse(file, overlays), str(file)

    def publish(uri: str) -> None:
        an, file = analyse(uri)
        text = an.texts.get(file, "")
        out = []
        for d in an.diagnostics:
            if d.span is None or d.span.file != file:
                continue
            message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
            out.append(T.Diagnostic(range=rng(d.span, text), message=message, code=d.code, source="exportctl",
                                    severity=T.DiagnosticSeverity.Warning if d.severity == "warning"
                                    else T.DiagnosticSeverity.Error))
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=out))

    @ls.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: T.DidOpenTextDocumentParams):
        publish(params.text_document.uri)

    @ls.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: T.DidChangeTextDocumentParams):
        publish(params.text_document.uri)

    @ls.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(params: T.DidSaveTextDocumentParams):
        publish(params.text_document.uri)

    @ls.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(params: T.HoverParams):
        an, file = analyse(params.text_document.uri)
        md = hover_markdown(an, file, params.position.line, params.position.character)
        if md is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=md))

    @ls.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(params: T.DefinitionParams):
        an, file = analyse(params.text_document.uri)
        found = definition_at(an, file, params.position.line, params.position.character)
        if found is None:
            return None
        target, span = found
        return [T.Location(uri=path_to_uri(target), range=rng(span, an.texts.get(target, "")))]

    kinds = {"rule": T.CompletionItemKind.Event, "fact": T.CompletionItemKind.Field,
             "set": T.CompletionItemKind.Constant, "define": T.CompletionItemKind.Function}

    @ls.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["."]))
    def completion(params: T.CompletionParams):
        an, file = analyse(params.text_document.uri)
        items = [T.CompletionItem(label=label, kind=kinds[kind], detail=detail)
                 for label, kind, detail in completions(an, file, params.position.line, params.position.character)]
        return T.CompletionList(is_incomplete=False, items=items)

    symbol_kinds = {"regime": T.SymbolKind.Namespace, "set": T.SymbolKind.Constant, "define": T.SymbolKind.Function,
                    "rule": T.SymbolKind.Event, "conflict": T.SymbolKind.Event, "applies": T.SymbolKind.Boolean,
                    "encodes": T.SymbolKind.Array}

    @ls.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbol(params: T.DocumentSymbolParams):
        an, file = analyse(params.text_document.uri)
        policy = an.policy_of(file)
        if policy is None:
            return []
        text = an.texts.get(file, "")
        out = []
        for name, kind, detail, span in symbols(policy):
            r = rng(span, text)
            out.append(T.DocumentSymbol(name=name, kind=symbol_kinds[kind], range=r, selection_range=r,
                                        detail=detail[:120] or None))
        return out

    @ls.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(params: T.DocumentFormattingParams):
        doc = ls.workspace.get_text_document(params.text_document.uri)
        try:
            new = format_text(doc.source, str(uri_to_path(doc.uri)))
        except ExportctlError:
            return []  # the syntax error is already among the diagnostics
        if new == doc.source:
            return []
        end = T.Position(len(doc.source.split("\n")), 0)
        return [T.TextEdit(range=T.Range(T.Position(0, 0), end), new_text=new)]

    return ls


def serve() -> int:
    """Speak LSP on stdin/stdout until the client says exit."""
    _server().start_io()
    return 0
