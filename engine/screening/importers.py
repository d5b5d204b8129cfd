"""Official bulk downloads to list files: the US Consolidated Screening List (ITA, data.trade.gov:
its JSON and CSV downloads) and OpenSanctions' FollowTheMoney entities (JSON Lines or a JSON
array). The user downloads the file; nothing is fetched here. Problems are E663 with the place."""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import re
from pathlib import Path

from ..diagnostics import Diagnostic, ExportctlError
from ..source import Span

# CSL source lists by their abbreviation; the others (UVL, ISN, DTC, SSI, FSE, ...) have no
# list id in the transaction schema and are skipped, counted.
CSL_LISTS = {"EL": "us-entity-list", "MEU": "us-meu-list", "DPL": "us-denied-persons", "SDN": "us-sdn"}
CSL_CITES = {
    "us-entity-list": "15 CFR 744.11, 744.16; Supp. No. 4 to Part 744",
    "us-meu-list": "15 CFR 744.21; Supp. No. 7 to Part 744",
    "us-denied-persons": "15 CFR 736.2(b)(4) (General Prohibition 4); the denial order",
    "us-sdn": "31 CFR Chapter V (OFAC)",
}
# OpenSanctions data sets whose list is known (others need --list).
FTM_DATASETS = {"us_ofac_sdn": "us-sdn", "us_bis_denied": "us-denied-persons"}
FTM_KINDS = {"Person": "individual", "Vessel": "vessel", "Airplane": "aircraft"}
FTM_PARTIES = {"Person", "Company", "Organization", "LegalEntity", "PublicBody", "Vessel", "Airplane"}

_ABBR = re.compile(r"\(([A-Z]{2,5})\)")
_CC = re.compile(r"^[A-Z]{2}$")


def _fail(source: str, message: str, line: int = 0) -> ExportctlError:
    return ExportctlError(Diagnostic("E663", message, Span(source, line, 1 if line else 0)))


def _date(value) -> str | None:
    """ISO date from the forms these files use (2022-08-24, 2022-08-24T..., 08/24/2022)."""
    if not value:
        return None
    s = str(value).strip()
    m = re.match(r"^(\d{4}-\d{2}-\d{2})", s)
    if m:
        try:
            return _dt.date.fromisoformat(m.group(1)).isoformat()
        except ValueError:
            return None
    m = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", s)
    if m:
        try:
            return _dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))).isoformat()
        except ValueError:
            return None
    return None


def _get(rec: dict, *names):
    for n in names:
        if rec.get(n) not in (None, ""):
            return rec[n]
    return None


def _split(value) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(";") if v.strip()]


def csl_list_id(source: str) -> str | None:
    source = (source or "").strip()
    m = _ABBR.search(source)
    abbr = m.group(1) if m else source.upper()
    return CSL_LISTS.get(abbr)


def _csl_entry(rec: dict, n: int) -> dict | None:
    lst = csl_list_id(str(_get(rec, "source", "sourceList", "source_list") or ""))
    if lst is None:
        return None
    name = _get(rec, "name")
    if not name:
        return None
    ident = str(_get(rec, "id", "_id", "entity_number", "entityNumber") or f"row-{n}")
    entry = {"id": ident, "list": lst, "name": str(name).strip()}
    aliases = _split(_get(rec, "alt_names", "altNames"))
    if aliases:
        entry["aliases"] = aliases
    addresses, countries = [], []
    raw = _get(rec, "addresses")
    if isinstance(raw, list):
        for a in raw:
            if isinstance(a, dict):
                parts = [a.get(k) for k in ("address", "city", "state", "postal_code", "postalCode", "country")]
                addresses.append(", ".join(str(p) for p in parts if p))
                if a.get("country") and _CC.match(str(a["country"])):
                    countries.append(str(a["country"]))
            elif a:
                addresses.append(str(a))
    else:
        for a in _split(raw):
            addresses.append(a)
            last = a.rsplit(",", 1)[-1].strip()
            if _CC.match(last):
                countries.append(last)
    if addresses:
        entry["addresses"] = addresses
    if countries:
        entry["countries"] = sorted(set(countries))
    kind = str(_get(rec, "type") or "").lower()
    if kind in ("entity", "individual", "vessel", "aircraft"):
        entry["kind"] = kind
    listed, removed = _date(_get(rec, "start_date", "startDate")), _date(_get(rec, "end_date", "endDate"))
    if listed:
        entry["listed"] = listed
    if removed and (not listed or removed > listed):
        entry["removed"] = removed
    fr = _get(rec, "federal_register_notice", "frNotice", "federalRegisterNotice")
    programs = _split(_get(rec, "programs"))
    cite = "; ".join(x for x in [str(fr) if fr else "", ("programs: " + ", ".join(programs)) if programs else ""] if x)
    entry["cite"] = cite or CSL_CITES[lst]
    url = _get(rec, "source_list_url", "sourceListUrl", "source_information_url", "sourceInformationUrl")
    entry["source"] = "Consolidated Screening List" + (f" ({url})" if url else "")
    return entry


def read_csl_json(text: str, source: str) -> tuple[list, dict]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise _fail(source, f"not JSON: {e.msg} (line {e.lineno}, column {e.colno})", e.lineno)
    rows = data.get("results") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        raise _fail(source, "not a Consolidated Screening List JSON download: expected a `results` array")
    meta = {}
    if isinstance(data, dict):
        dates = [_date(s.get("last_imported") or s.get("import_rate") or s.get("source_last_updated"))
                 for s in data.get("sources_used") or [] if isinstance(s, dict)]
        dates = [d for d in dates if d]
        if dates:
            meta["version"] = max(dates)
    return [r for r in rows if isinstance(r, dict)], meta


def read_csl_csv(text: str, source: str) -> tuple[list, dict]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "name" not in reader.fieldnames or "source" not in reader.fieldnames:
        raise _fail(source, "not a Consolidated Screening List CSV download: the header needs `source` and `name` "
                            f"(found: {', '.join(reader.fieldnames or [])[:200]})", 1)
    try:
        return list(reader), {}
    except csv.Error as e:
        raise _fail(source, f"bad CSV: {e}", reader.line_num)


def from_csl(rows: list) -> tuple[list, int]:
    entries, skipped = [], 0
    for n, rec in enumerate(rows):
        e = _csl_entry(rec, n)
        if e is None:
            skipped += 1
        else:
            entries.append(e)
    return entries, skipped


def read_ftm(text: str, source: str) -> list:
    s = text.lstrip()
    if s.startswith("["):
        try:
            data = json.loads(s)
        except json.JSONDecodeError as e:
            raise _fail(source, f"not JSON: {e.msg}", e.lineno)
        return [d for d in data if isinstance(d, dict)]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise _fail(source, f"line {n} is not a JSON object: {e.msg}", n)
        if not isinstance(obj, dict) or "schema" not in obj:
            raise _fail(source, f"line {n} is not a FollowTheMoney entity (no `schema`)", n)
        out.append(obj)
    return out


def from_ftm(entities: list, list_id: str | None, source: str) -> tuple[list, int]:
    sanctions: dict = {}
    for ent in entities:
        if ent.get("schema") == "Sanction":
            props = ent.get("properties") or {}
            for target in props.get("entity") or []:
                sanctions.setdefault(target if isinstance(target, str) else target.get("id"), []).append(props)
    entries, skipped = [], 0
    for ent in entities:
        if ent.get("schema") not in FTM_PARTIES:
            continue
        props = ent.get("properties") or {}
        names = [n for n in props.get("name") or [] if isinstance(n, str) and n.strip()]
        if not names:
            skipped += 1
            continue
        lst = list_id or next((FTM_DATASETS[d] for d in ent.get("datasets") or [] if d in FTM_DATASETS), None)
        if lst is None:
            skipped += 1
            continue
        sanc = sanctions.get(ent.get("id"), [])
        entry = {"id": str(ent.get("id")), "list": lst, "name": names[0].strip()}
        aliases = [a for a in names[1:] + (props.get("alias") or []) + (props.get("previousName") or [])
                   + (props.get("weakAlias") or []) if isinstance(a, str) and a.strip()]
        if aliases:
            entry["aliases"] = list(dict.fromkeys(a.strip() for a in aliases))
        countries = sorted({c.upper() for key in ("country", "jurisdiction", "nationality")
                            for c in props.get(key) or [] if isinstance(c, str) and _CC.match(c.upper())})
        if countries:
            entry["countries"] = countries
        if props.get("address"):
            entry["addresses"] = [a for a in props["address"] if isinstance(a, str)]
        if ent["schema"] in FTM_KINDS:
            entry["kind"] = FTM_KINDS[ent["schema"]]
        elif ent["schema"] != "PublicBody":
            entry["kind"] = "entity"
        starts = [_date(d) for s in sanc for d in (s.get("listingDate") or []) + (s.get("startDate") or [])]
        ends = [_date(d) for s in sanc for d in s.get("endDate") or []]
        starts, ends = [d for d in starts if d], [d for d in ends if d]
        listed = min(starts) if starts else _date(ent.get("first_seen"))
        if listed:
            entry["listed"] = listed
        if ends and (not listed or max(ends) > listed):
            entry["removed"] = max(ends)
        programs = sorted({p for s in sanc for p in (s.get("program") or []) + (s.get("authority") or [])
                           if isinstance(p, str)})
        entry["cite"] = "; ".join(programs) if programs else CSL_CITES.get(lst, "")
        entry["source"] = f"OpenSanctions FollowTheMoney ({', '.join(ent.get('datasets') or []) or source})" + (
            "" if starts else "; listing date = first seen by OpenSanctions")
        entries.append(entry)
    return entries, skipped


def sniff(path: str, text: str) -> str:
    s = text.lstrip()
    if s.startswith("{") and '"schema"' in s.split("\n", 1)[0]:
        return "ftm"
    if s.startswith("[") and '"schema"' in s[:2000] and '"properties"' in s[:4000]:
        return "ftm"
    if s.startswith("{") or s.startswith("["):
        return "csl-json"
    if path.lower().endswith(".csv") or s.split("\n", 1)[0].count(",") >= 3:
        return "csl-csv"
    return "unknown"


def import_file(path: str, fmt: str = "auto", list_id: str | None = None, dataset_id: str | None = None,
                version: str | None = None, today: _dt.date | None = None) -> tuple[dict, dict]:
    """(list file data, report) for one download. Raises ExportctlError (E663) on bad input."""
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise _fail(path, f"cannot read {path}: {e.strerror or e}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _fail(path, f"not UTF-8 text: {e.reason} at byte {e.start}")
    kind = sniff(path, text) if fmt == "auto" else fmt
    if kind == "csl-json":
        rows, meta = read_csl_json(text, path)
        entries, skipped = from_csl(rows)
        title, source = "US Consolidated Screening List (ITA)", f"Consolidated Screening List JSON download ({Path(path).name})"
    elif kind == "csl-csv":
        rows, meta = read_csl_csv(text, path)
        entries, skipped = from_csl(rows)
        title, source = "US Consolidated Screening List (ITA)", f"Consolidated Screening List CSV download ({Path(path).name})"
    elif kind == "ftm":
        ents = read_ftm(text, path)
        meta = {}
        if list_id is None and not any(d in FTM_DATASETS for e in ents for d in e.get("datasets") or []):
            raise _fail(path, "which list do these entities belong to? None of their data sets is known "
                              f"({', '.join(sorted(FTM_DATASETS))}): say --list ID")
        entries, skipped = from_ftm(ents, list_id, path)
        seen = [e.get("last_change") or e.get("last_seen") for e in ents]
        dates = [d for d in (_date(x) for x in seen) if d]
        if dates:
            meta["version"] = max(dates)
        title, source = "OpenSanctions (FollowTheMoney entities)", f"OpenSanctions FollowTheMoney download ({Path(path).name})"
    else:
        raise _fail(path, "cannot tell the format: say --from csl-json, csl-csv or ftm")
    if list_id and kind != "ftm":
        entries = [e for e in entries if e["list"] == list_id]
    # ids unique per list
    count: dict = {}
    for e in entries:
        k = (e["list"], e["id"])
        count[k] = count.get(k, 0) + 1
        if count[k] > 1:
            e["id"] = f"{e['id']}-{count[k]}"
    today = today or _dt.date.today()
    stem = re.sub(r"[^a-z0-9._-]+", "-", Path(path).stem.lower()).strip("-") or "imported"
    data = {
        "id": dataset_id or stem,
        "title": title,
        "version": version or meta.get("version") or today.isoformat(),
        "retrieved": today.isoformat(),
        "source": source + "; sha256:" + hashlib.sha256(raw).hexdigest()[:16],
        "entries": entries,
    }
    report = {"format": kind, "entries": len(entries), "skipped": skipped,
              "lists": {l: sum(1 for e in entries if e["list"] == l) for l in sorted({e["list"] for e in entries})}}
    return data, report
