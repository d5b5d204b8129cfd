"""Editor support: the generated TextMate grammar is current and knows every keyword of the Lark
grammar; the VS Code extension's manifests are valid; the pre-commit hooks exist. No npm here."""

import importlib.util
import json
import re
from pathlib import Path

import yaml

from exportctl.grammar import grammar_text

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"


def _generator():
    spec = importlib.util.spec_from_file_location("generate_tm", VSCODE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_textmate_grammar_is_current():
    gen = _generator()
    committed = (VSCODE / "syntaxes" / "exportctl.tmLanguage.json").read_text(encoding="utf-8")
    assert committed == gen.render(grammar_text()), "stale: run python editors/vscode/generate.py"


def test_keyword_list_is_the_lark_grammars():
    kws = set(_generator().keywords(grammar_text()))
    code = "\n".join(line.split("//", 1)[0] for line in grammar_text().splitlines())   # not the comments
    quoted = set(re.findall(r'"([a-z_]+)"', code))
    assert {"regime", "rule", "encodes", "partial", "denial", "startswith", "exception", "aka"} <= kws
    assert {"policy_of_denial", "in_principle_not_permitted", "obligation", "oblige", "license"} <= kws
    assert quoted <= kws


def test_every_keyword_is_highlighted_as_a_keyword():
    tm = json.loads((VSCODE / "syntaxes" / "exportctl.tmLanguage.json").read_text(encoding="utf-8"))
    word_rules = [(p["name"], re.compile(p["match"])) for p in tm["patterns"]
                  if "match" in p and p["name"].startswith(("keyword.", "constant.language"))]
    for kw in _generator().keywords(grammar_text()):
        scopes = [name for name, rx in word_rules if rx.fullmatch(kw)]
        assert scopes, f"keyword `{kw}` of grammar/policy.lark is not highlighted"
    # and a name that merely starts with a keyword is not one
    assert not any(rx.fullmatch("rules") or rx.fullmatch("index") for _, rx in word_rules)


def test_package_json_is_a_valid_extension_manifest():
    pkg = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    for key in ("name", "publisher", "version", "engines", "main", "contributes", "license", "repository"):
        assert key in pkg, key
    assert re.fullmatch(r"\d+\.\d+\.\d+", pkg["version"]) and pkg["engines"]["vscode"].startswith("^")
    assert (VSCODE / pkg["main"]).is_file()
    (lang,) = pkg["contributes"]["languages"]
    assert lang["id"] == "exportctl" and ".policy" in lang["extensions"]
    conf = json.loads((VSCODE / lang["configuration"]).read_text(encoding="utf-8"))
    assert conf["comments"]["lineComment"] == "#"
    assert re.fullmatch(conf["wordPattern"], "item.classification.eccn")
    (gram,) = pkg["contributes"]["grammars"]
    assert gram["language"] == "exportctl" and (VSCODE / gram["path"]).is_file()
    assert json.loads((VSCODE / gram["path"]).read_text(encoding="utf-8"))["scopeName"] == gram["scopeName"]
    assert "vscode-languageclient" in pkg["dependencies"]
    default = pkg["contributes"]["configuration"]["properties"]["exportctl.server.command"]["default"]
    assert default == ["exportctl", "lsp"]
    js = (VSCODE / pkg["main"]).read_text(encoding="utf-8")
    assert "vscode-languageclient/node" in js and 'getConfiguration("exportctl").get("server.command")' in js
    assert (VSCODE / "README.md").is_file() and (VSCODE / "LICENSE").is_file()


def test_pre_commit_hooks_offer_check_and_fmt():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    by_id = {h["id"]: h for h in hooks}
    assert by_id["exportctl-fmt"]["entry"] == "exportctl fmt --check"
    assert by_id["exportctl-check"]["entry"] == "exportctl check"
    for h in hooks:
        assert {"id", "name", "entry", "language"} <= set(h) and h["language"] == "python"
        re.compile(h["files"])
    assert re.search(by_id["exportctl-fmt"]["files"], "policies/us-ear/us-ear.policy")
