"""The determination record (`--format html|markdown`), citation links, and "What to do next"."""

import json
import re
from html.parser import HTMLParser

from conftest import base_tx, write_policies
from exportctl import citations
from exportctl.cli import main

POLICY = '''
regime us-ear "EAR" binding
  version "2026-07-23" source "15 CFR"
obligation ear.licence license "Apply for an export licence" form "BIS-748P" authority "BIS" by "exporter"
  cite "15 CFR 748.1"
obligation ear.records record "Keep the export records for five years" by "exporter" cite "15 CFR 762.6"
rule ear.rs1 "Spacecraft need a licence (RS1)" cite "15 CFR 742.6(a)(1); 89 FR 84766"
  when item.classification.eccn startswith "9A515" and destination not in {AU, CA, GB}
  then license_required
  oblige ear.licence, ear.records
'''


def run(argv):
    import io

    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err, env={"NO_COLOR": "1"})
    return code, out.getvalue(), err.getvalue()


def tx_file(tmp_path, data, name="tx.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data), encoding="utf-8")
    return str(p)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.srcs, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        a = dict(attrs)
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "a":
            self.links.append(a.get("href"))
        if tag == "link":
            self.srcs.append(a.get("href"))


def test_html_record_is_self_contained_and_says_what_to_do(tmp_path):
    pol = str(write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": POLICY}))
    code, out, err = run(["evaluate", tx_file(tmp_path, base_tx(destination="BR")), "--policies", pol, "--format", "html"])
    assert code == 0, err
    p = _Tags()
    p.feed(out)
    assert p.srcs == [] and "script" not in p.tags          # nothing fetched, nothing run
    assert out.startswith("<!doctype html>") and "@media print" in out
    assert "LICENSE REQUIRED" in out and "What to do next" in out
    assert "Apply for an export licence (form BIS-748P; at BIS; by the exporter) for sat-1" in out
    assert "https://www.ecfr.gov/current/title-15/section-742.6" in p.links
    assert "https://www.federalregister.gov/citation/89-FR-84766" in p.links
    assert re.search(r"policy digest <code>sha256:[0-9a-f]{64}</code>", out)
    assert "Checked, and why each did not apply" not in out      # nothing was considered and refused here


def test_html_takes_one_transaction_markdown_several(tmp_path):
    pol = str(write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": POLICY}))
    lines = "\n".join(json.dumps(base_tx(id=f"T{i}", destination=d)) for i, d in enumerate(["BR", "GB"]))
    f = tx_file(tmp_path, None, "many.jsonl")
    (tmp_path / "many.jsonl").write_text(lines + "\n", encoding="utf-8")
    code, out, err = run(["evaluate", f, "--policies", pol, "--format", "html"])
    assert code == 2 and "one transaction" in err
    code, out, err = run(["evaluate", f, "--policies", pol, "--format", "markdown"])
    assert code == 0
    assert out.count("## Export-control determination") == 2
    assert "- [ ] Apply for an export licence" in out and "[15 CFR 742.6](https://www.ecfr.gov" in out


def test_text_ends_with_what_to_do_next(tmp_path):
    pol = str(write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": POLICY}))
    code, out, _ = run(["evaluate", tx_file(tmp_path, base_tx(destination="BR")), "--policies", pol])
    assert code == 0
    tail = out[out.index("What to do next:"):]
    assert "1. Apply for an export licence" in tail and "2. Keep the export records for five years" in tail


def test_citation_forms_of_the_bundled_policies_link_or_are_listed():
    from exportctl.policyset import load

    ps = load()
    cites = {r.cite for p in ps.policies for r in p.rules if r.cite}
    linked = {c for c in cites if citations.links(c)}
    # every US and EU citation names a provision with an official text to link to
    for c in cites:
        if re.search(r"\b(15|22) CFR \d{3}\.\d", c) or "2021/821" in c:
            assert c in linked, c
    assert citations.links("15 CFR 742.6(a)(1)")[0][2] == "https://www.ecfr.gov/current/title-15/section-742.6"
    assert citations.links("Regulation (EU) 2021/821, Art. 3(1)")[0][2] == "https://eur-lex.europa.eu/eli/reg/2021/821/oj"
    assert citations.unlinked("MOFCOM Announcement 2024 No. 46; 15 CFR 744.21") == ["MOFCOM Announcement 2024 No. 46"]
    assert citations.to_html('<script> 15 CFR 744.16').startswith("&lt;script&gt; <a href=")


def test_text_shows_what_screening_found():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "transactions" / "us-9a515y-to-cast-513-2026.yaml"
    code, out, _ = run(["evaluate", str(example)])
    section = out[out.index("Screening (parties by name"):]
    assert 'end_user "CAST 513 Research Institute": match us-entity-list entry' in section
    assert "87 FR 51876" in section and "listed 2022-08-24" in section


def test_reference_pages_link_citations_to_the_official_text():
    from exportctl.docs.markdown import cite
    from exportctl.docs import all_pages
    from exportctl.cli import build_parser

    assert cite("15 CFR 744.16(a); MOFCOM Announcement 2024 No. 46 [S]") == (
        "[15 CFR 744.16](https://www.ecfr.gov/current/title-15/section-744.16)(a); "
        "MOFCOM Announcement 2024 No. 46 \\[S\\]")
    page = all_pages(parser=build_parser())["reference/us-ear.md"]
    assert "**Cite:** [15 CFR 744.16](https://www.ecfr.gov/current/title-15/section-744.16)" in page


def test_html_record_shows_the_screening_of_the_parties():
    from pathlib import Path

    example = Path(__file__).resolve().parent.parent / "examples" / "transactions" / "us-9a515y-to-cast-513-2026.yaml"
    code, out, err = run(["evaluate", str(example), "--format", "html"])
    assert code == 0, err
    section = out[out.index("<h2>Screening of the parties</h2>"):out.index("<h2>Binding regimes</h2>")]
    assert "us-entity-list: China Academy of Space Technology (CAST) 513 Research Institute" in section
    assert "https://www.federalregister.gov/citation/87-FR-51876" in section and "1.00" in section
