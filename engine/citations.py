"""Citations to the official texts: `15 CFR 742.6(a)(1)` -> eCFR, `89 FR 84766` -> the Federal
Register, `Regulation (EU) 2021/821, Art. 3(1)` -> EUR-Lex.

A citation string may name several provisions (`15 CFR 738.4(a)(2); Supp. No. 1 to Part 738`);
each one recognised becomes a link, the rest stays text. What is not recognised is never
guessed at: `unlinked()` lists it, so a reader (and a test) can see which forms have no link."""

from __future__ import annotations

import html
import re

# (pattern, url template); the first group(s) fill the template.
_FORMS = [
    # 15 CFR 742.6(a)(1), 22 CFR 126.1, 15 CFR 740.20
    (re.compile(r"\b(15|22) CFR (?:§\s*)?(\d{3})\.(\d+[a-z]?)"),
     lambda m: f"https://www.ecfr.gov/current/title-{m[1]}/section-{m[2]}.{m[3]}"),
    # 15 CFR Part 740, 22 CFR Parts 120-130
    (re.compile(r"\b(15|22) CFR Parts? (\d{3})"),
     lambda m: f"https://www.ecfr.gov/current/title-{m[1]}/part-{m[2]}"),
    # Supp. No. 1 to Part 738 (EAR: 15 CFR), Supp. No. 1 to Part 126 (ITAR: 22 CFR)
    (re.compile(r"\bSupp(?:lement)?s?\. Nos?\. (\d+)(?:(?:,| and) \d+)* to Part (7[3-7]\d|1[23]\d)\b"),
     lambda m: f"https://www.ecfr.gov/current/title-{_title(m[2])}/part-{m[2]}"),   # the part; its supplements follow it
    # Part 126, Supp. No. 1
    (re.compile(r"\bPart (7[3-7]\d|1[23]\d), Supp(?:lement)?\. No\. \d+"),
     lambda m: f"https://www.ecfr.gov/current/title-{_title(m[1])}/part-{m[1]}"),
    # 89 FR 84766
    (re.compile(r"\b(\d{2,3}) FR (\d{3,6})\b"),
     lambda m: f"https://www.federalregister.gov/citation/{m[1]}-FR-{m[2]}"),
    # Regulation (EU) 2021/821 (any article: the consolidated text)
    (re.compile(r"\bReg(?:ulation|\.)? \(EU\) (\d{4})/(\d+)"),
     lambda m: f"https://eur-lex.europa.eu/eli/reg/{m[1]}/{m[2]}/oj"),
    # Union Customs Code: Regulation (EU) No 952/2013
    (re.compile(r"\bRegulation \(EU\) No (\d+)/(\d{4})"),
     lambda m: f"https://eur-lex.europa.eu/eli/reg/{m[2]}/{m[1]}/oj"),
    # 22 U.S.C. 2778, 50 U.S.C. 4801
    (re.compile(r"\b(\d{1,2}) U\.S\.C\. (?:§\s*)?(\d+[a-z]?)"),
     lambda m: f"https://uscode.house.gov/view.xhtml?req=granuleid:USC-prelim-title{m[1]}-section{m[2]}"),
]


def _title(part: str) -> int:
    """The CFR title of an export-control part: the ITAR's (120-130) are in 22, the EAR's in 15."""
    return 22 if part.startswith(("12", "13")) else 15


# A further section after a linked CFR section, written without its title: `15 CFR 120.50(a);
# 120.56`, `22 CFR 126.1(a), 126.1(d)`. Only within a citation that has named its title, and only
# for the parts of the EAR (730-774) and the ITAR (120-130).
_BARE_SECTION = re.compile(r"(?:(?<=^)|(?<=; )|(?<=, )|(?<=and )|(?<=\())(7[3-7]\d|1[23]\d)\.(\d+[a-z]?)\b")


def links(cite: str) -> list[tuple[int, int, str]]:
    """(start, end, url) of each provision recognised in `cite`, in order, not overlapping."""
    found: list = []
    cite = cite or ""
    for rx, url in _FORMS:
        for m in rx.finditer(cite):
            if not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(), url(m)))
    titled = [s for s, _, url in found if "ecfr.gov" in url and "/section-" in url]
    if titled:
        for m in _BARE_SECTION.finditer(cite):
            if m.start() > min(titled) and not any(s < m.end() and m.start() < e for s, e, _ in found):
                found.append((m.start(), m.end(),
                              f"https://www.ecfr.gov/current/title-{_title(m[1])}/section-{m[1]}.{m[2]}"))
    return sorted(found)


def to_html(cite: str) -> str:
    """The citation as HTML with each recognised provision linked to its official text."""
    out, pos = [], 0
    for s, e, url in links(cite):
        out.append(html.escape(cite[pos:s]))
        out.append(f'<a href="{html.escape(url)}" rel="noopener">{html.escape(cite[s:e])}</a>')
        pos = e
    out.append(html.escape(cite[pos:]))
    return "".join(out)


def to_markdown(cite: str) -> str:
    out, pos = [], 0
    for s, e, url in links(cite):
        out.append(cite[pos:s])
        out.append(f"[{cite[s:e]}]({url})")
        pos = e
    out.append(cite[pos:])
    return "".join(out)


def unlinked(cite: str) -> list[str]:
    """The parts of a citation (split at `;`) with no recognised provision (read in the whole
    citation: `120.56` after `22 CFR 120.50` is linked)."""
    cite = cite or ""
    spans = links(cite)
    out, pos = [], 0
    for part in cite.split(";"):
        start, pos = pos, pos + len(part) + 1
        if part.strip() and not any(start <= s < start + len(part) for s, _, _ in spans):
            out.append(part.strip())
    return out
