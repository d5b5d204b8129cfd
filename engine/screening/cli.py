"""`exportctl screen NAME` and `exportctl lists [import FILE]`: thin adapters over the model."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

from ..diagnostics import Diagnostic, ExportctlError
from ..source import Span


def _root(policies) -> Path:
    from ..policyset import policies_root

    return Path(policies) if policies else policies_root()


def _lists(args):
    from .model import load

    root = _root(args.policies)
    lists = load(root, getattr(args, "good_guys", None))
    if lists is None:
        raise ExportctlError(Diagnostic("E661", f"{root} has no lists/ folder: nothing to screen against",
                                        Span(str(root), 0, 0)))
    return lists


def run_screen(args, io) -> int:
    from ..render import json_text
    from .screen import screen_party

    lists = _lists(args)
    day = args.as_of or _dt.date.today()
    party = {"name": args.name, "aliases": list(args.alias), "country": args.country}
    res = screen_party(lists, "name", "party", party, day)
    if args.floor is not None:
        from .screen import match_dict

        keep = {(m["list"], m["entry"]) for m in res.matches}
        for hit in lists.index().search([args.name] + list(args.alias), day, args.country, floor=args.floor):
            if (hit.entry.list, hit.entry.id) not in keep:
                res.matches.append(match_dict(hit, lists.params, "below"))
    p = lists.params
    if args.format == "json":
        io.out(json_text({"name": args.name, "country": args.country, "as_of": day.isoformat(),
                          "status": res.status, "matches": res.matches, "lists_digest": lists.digest,
                          "parameters": {"version": p.version, "threshold": p.threshold, "review": p.review}},
                         pretty=True))
        return 0
    io.out(f"{args.name}{' (' + args.country + ')' if args.country else ''}: {res.status}"
           f"  [entries in force on {day}; match >= {p.threshold}, review >= {p.review}; parameters {p.version}]")
    for m in res.matches:
        io.out(f"  {m['score']:.2f} {m['status']:<7} {m['list']}/{m['entry']}  {m['entry_name']}")
        io.out(f"       matched \"{m['matched']['party']}\" ~ \"{m['matched']['entry']}\": "
               + ", ".join(f"{x['party']}~{x['entry']} ({x['how']})" for x in m["pairs"]))
        io.out(f"       listed {m['listed'] or '?'}{', removed ' + m['removed'] if m['removed'] else ''}; {m['cite']}")
        if m.get("country_mismatch"):
            io.out(f"       country {args.country} is not the entry's ({', '.join(m['countries'])}): score lowered")
        if m.get("good_guy"):
            g = m["good_guy"]
            io.out(f"       cleared: reviewed by {g['reviewed_by']} on {g['reviewed_on']}, until {g['expires']}: {g['reason']}")
    if not res.matches:
        io.out("  no entry scores at or above the review level")
    return 0


def run_lists(args, io) -> int:
    if getattr(args, "lists_command", None) == "import":
        return _import(args, io)
    from ..render import json_text

    lists = _lists(args)
    p = lists.params
    if args.format == "json":
        io.out(json_text({
            "lists_digest": lists.digest,
            "parameters": {"version": p.version, "threshold": p.threshold, "review": p.review, "cite": p.cite,
                           "digest": p.digest},
            "datasets": [{"id": d.id, "title": d.title, "version": d.version, "retrieved": d.retrieved,
                          "source": d.source, "file": Path(d.file).name, "digest": d.digest,
                          "entries": len(d.entries), "lists": d.counts()} for d in lists.datasets],
            "good_guys": {"file": lists.good_guys_file, "records": len(lists.good_guys)} if lists.good_guys_file else None,
        }, pretty=True))
        return 0
    for d in lists.datasets:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(d.counts().items())) or "no entries"
        io.out(f"{d.id}  version {d.version}  ({counts})")
        io.out(f"  {d.title}")
        io.out(f"  source: {d.source}")
        io.out(f"  file: {Path(d.file).name}  {d.digest}")
    io.out(f"matching parameters {p.version}: match >= {p.threshold}, review >= {p.review}")
    if lists.good_guys_file:
        io.out(f"good guys: {lists.good_guys_file} ({len(lists.good_guys)} record(s))")
    io.out(f"lists digest: {lists.digest}")
    return 0


def _import(args, io) -> int:
    import yaml

    from .. import facts
    from .importers import import_file

    version = None
    if args.version:
        try:
            version = _dt.date.fromisoformat(args.version).isoformat()
        except ValueError:
            raise ExportctlError(Diagnostic("E663", f"--version: not a date (YYYY-MM-DD): {args.version!r}"))
    data, report = import_file(args.file, args.source_format, args.list_id, args.dataset_id, version)
    diags = facts.validate(data, args.file, {}, schema_name="list")
    if diags:
        raise ExportctlError([Diagnostic("E663", "the converted data is not a valid list file: " + d.message,
                                         Span(args.file, 0, 0)) for d in diags[:10]])
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=120)
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as e:
            raise ExportctlError(Diagnostic("E663", f"cannot write {args.out}: {e.strerror or e}", Span(args.out, 0, 0)))
    else:
        io.out(text)
    lists = ", ".join(f"{k}: {v}" for k, v in report["lists"].items()) or "none"
    io.err(f"{args.file}: {report['format']}, {report['entries']} entries ({lists}); "
           f"{report['skipped']} skipped (lists exportctl does not read, or no name)"
           + (f"; wrote {args.out}" if args.out else ""))
    return 0
