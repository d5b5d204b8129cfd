"""Every citation the bundled policies make (rules, sets, obligations, encodes blocks, applicability,
conflicts, changes) links each of its parts to an official text, or the part has a form listed here
as unlinked, with the reason. A new citation form fails this test until it links
(engine/citations.py) or is listed: the site never silently shows a citation a reader cannot follow."""

from __future__ import annotations

import re

import pytest

from exportctl import citations
from exportctl.policyset import load

CN = {"cn-export-control"}
US = {"us-ear", "us-itar"}
EU = {"eu-dual-use"}
ANY = None

# (regimes that may use the form, pattern of a `;`-part of a citation, why it has no link)
UNLINKED = [
    (CN, r"^(cf\. )?ECL Arts?\.|^Art\. 12 \(|^MOFCOM|^State Council|^Regulations on|^Provisions on the Unreliable"
         r"|^Anti-Foreign Sanctions|^Presidential Order|^Dual-use Items Export Control List"
         r"|^Export Control List of Dual-use|^repealed by State Council|^suspension|^working mechanism|^decision of \d",
     "Chinese law and MOFCOM announcements: no stable official address per provision"),
    ({"mtcr"}, r"^MTCR|^Annex Items|^Annex, Introduction|^Annex 1\.B|^Equipment, Software and Technology Annex"
               r"|^Guidelines para|^mtcr\.info",
     "MTCR Guidelines and Annex: one document, no address per paragraph"),
    ({"wassenaar"}, r"^Wassenaar|^wassenaar\.org|^US CCL 9A010 Related Controls\)|^\d+ per NTI",
     "Wassenaar lists: one document per edition, no address per entry"),
    (US, r"^NDAA FY|^Pub\. L\.|^State Department designation|^state sponsors of terrorism|^Specially Designated Nationals"
         r"|^31 CFR Chapter V|^BIS (FAQs|de minimis guidance|conforming rule|interim final rule)|^AU, GB: RIN|^IQ: 126\.1",
     "statutes, designations and agency guidance without a section address"),
    (US, r"^the ITAR has no|^the exemption's own section",
     "a remark after a linked section (what the ITAR lacks, the section an exemption names), not a provision"),
    (EU, r"^Union Customs Code|^Annex (I|II|IV)\b|^Art\. 2\(|^France except|^Monaco\)|^the Netherlands|^French customs",
     "the annexes and definitions of Reg. 2021/821 after its linked article, and the Union Customs Code"),
    (ANY, r"[Ss]econdary sources|Crowell & Moring|Export Compliance Daily|review[- ]2026-11|unverified|UNVERIFIED"
          r"|not in the (brief|research)|\[S\b",
     "a remark on the source (secondary, the 2026-11 review, unverified), not a provision"),
]


def _cited():
    """(regime, where, citation) for every citation of every bundled policy."""
    ps = load()
    out = []
    for p in ps.policies:
        for kind, group in (("rule", p.rules), ("set", p.sets), ("obligation", p.obligations),
                            ("encodes", p.encodes), ("applies", p.applies), ("conflict", p.conflicts),
                            ("change", p.changes)):
            for x in group:
                cite = getattr(x, "cite", None)
                if cite:
                    name = getattr(x, "id", None) or getattr(x, "name", None) or str(getattr(x, "date", kind))
                    out.append((p.regime, f"{p.regime} {kind} {name}", cite))
    return out


CITED = _cited()


def test_a_further_section_or_supplement_links_in_the_title_of_the_citation():
    """`22 CFR 126.1(a); 126.1(d)`: the bare section after a titled one is linked, to the title
    of its part (ITAR parts in 22, EAR parts in 15); a number with no titled section before it is not."""
    assert [u for _, _, u in citations.links("22 CFR 126.1(a); 126.4 and Supp. No. 1 to Part 126")] == [
        "https://www.ecfr.gov/current/title-22/section-126.1", "https://www.ecfr.gov/current/title-22/section-126.4",
        "https://www.ecfr.gov/current/title-22/part-126"]
    assert [u for _, _, u in citations.links("15 CFR 740.20; 740.2(a)(12), Part 774, Supp. No. 1")] == [
        "https://www.ecfr.gov/current/title-15/section-740.20", "https://www.ecfr.gov/current/title-15/section-740.2",
        "https://www.ecfr.gov/current/title-15/part-774"]
    assert citations.links("version 740.2; 126.1") == []
    assert citations.unlinked("22 CFR 120.50(a); 120.56; the ITAR has no de minimis rule") == [
        "the ITAR has no de minimis rule"]


def test_every_kind_of_declaration_is_read():
    kinds = {where.split()[1] for _, where, _ in CITED}
    assert {"rule", "set", "obligation", "encodes", "applies", "change"} <= kinds


@pytest.mark.parametrize("regime,where,cite", CITED, ids=[w for _, w, _ in CITED])
def test_each_part_of_a_citation_links_or_is_a_listed_form(regime, where, cite):
    for part in citations.unlinked(cite):
        reasons = [why for regimes, pattern, why in UNLINKED
                   if (regimes is None or regime in regimes) and re.search(pattern, part)]
        assert reasons, (f"{where}: citation part {part!r} neither links to an official text nor has a form "
                         "listed in UNLINKED: link it in engine/citations.py or list it here with the reason")


def test_us_and_eu_provisions_link():
    for _, where, cite in CITED:
        if re.search(r"\b(15|22) CFR \d{3}\.\d", cite) or "2021/821" in cite:
            assert citations.links(cite), where


def test_every_listed_form_is_still_used():
    parts = [(regime, part) for regime, _, cite in CITED for part in citations.unlinked(cite)]
    for regimes, pattern, why in UNLINKED:
        assert any((regimes is None or r in regimes) and re.search(pattern, part) for r, part in parts), why
