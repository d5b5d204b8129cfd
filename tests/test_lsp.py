"""The language server, end to end: `exportctl lsp` in a subprocess, spoken to over stdio with
LSP's JSON-RPC framing, as an editor does."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the `lsp` extra (pygls) is not installed")

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "policies"


class Client:
    """A minimal LSP client: Content-Length framing over the server's stdin/stdout."""

    def __init__(self, cwd):
        exe = Path(sys.executable).with_name("exportctl")
        cmd = [str(exe), "lsp"] if exe.exists() else [sys.executable, "-m", "exportctl.cli", "lsp"]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=cwd, env={**os.environ, "NO_COLOR": "1"})
        self.next_id = 0
        self.notifications = []

    def send(self, message):
        body = json.dumps(message).encode("utf-8")
        self.proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n".encode("ascii") + body)
        self.proc.stdin.flush()

    def read(self):
        headers = {}
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("server closed: " + self.proc.stderr.read().decode("utf-8", "replace"))
            line = line.decode("ascii").strip()
            if not line:
                break
            key, value = line.split(":", 1)
            headers[key.lower()] = value.strip()
        return json.loads(self.proc.stdout.read(int(headers["content-length"])))

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        while True:
            msg = self.read()
            if msg.get("id") == self.next_id and "method" not in msg:
                assert "error" not in msg, msg
                return msg["result"]
            if "method" in msg and "id" in msg:  # a request from the server (e.g. registerCapability)
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            else:
                self.notifications.append(msg)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics(self, uri):
        """Wait for the next publishDiagnostics for `uri` (a ping request flushes the queue)."""
        while True:
            for i, n in enumerate(self.notifications):
                if n["method"] == "textDocument/publishDiagnostics" and n["params"]["uri"] == uri:
                    del self.notifications[: i + 1]
                    return n["params"]["diagnostics"]
            self.notifications.append(self.read())

    def close(self):
        try:
            self.request("shutdown", None)
            self.notify("exit", None)
            self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            for s in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                s.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    c = Client(tmp_path_factory.mktemp("lsp"))
    result = c.request("initialize", {"processId": None, "rootUri": BUNDLED.as_uri(), "capabilities": {}})
    caps = result["capabilities"]
    assert caps["hoverProvider"] and caps["definitionProvider"] and caps["documentFormattingProvider"]
    assert caps["documentSymbolProvider"] and "completionProvider" in caps
    c.notify("initialized", {})
    yield c
    c.close()


def open_doc(client, path: Path, text=None):
    uri = path.resolve().as_uri()
    text = path.read_text(encoding="utf-8") if text is None else text
    client.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "exportctl", "version": 1,
                                                            "text": text}})
    return uri, text


def pos(text, needle, offset=0):
    """0-based (line, character) of the first `needle` in `text`, plus `offset` characters."""
    i = text.index(needle) + offset
    line = text.count("\n", 0, i)
    return {"line": line, "character": i - (text.rfind("\n", 0, i) + 1)}


@pytest.fixture(scope="module")
def ear(client):
    path = BUNDLED / "us-ear" / "us-ear.policy"
    uri, text = open_doc(client, path)
    assert client.diagnostics(uri) == []  # the bundled policy is clean
    return uri, text


def test_hover_on_an_exception_target_shows_the_rule(client, ear):
    uri, text = ear
    at = pos(text, "exception to ear.", len("exception to "))
    hover = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})
    value = hover["contents"]["value"]
    rid = text[text.index("exception to ear.") + 13:].split()[0]
    assert f"`{rid}`" in value and "cite:" in value
    n = int(value.rsplit("golden cases naming it: ", 1)[1].split()[0])
    assert n >= 2  # a case where it fires and a near miss, at least


def test_hover_on_a_set_lists_members_with_dates(client, ear):
    uri, text = ear
    at = pos(text, "destination in D5", len("destination in "))
    value = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})["contents"]["value"]
    assert "**set `D5`**" in value and "HK (from 2020-12-23)" in value and "cite: 15 CFR Part 740" in value


def test_hover_on_a_definition_shows_its_text(client, ear):
    uri, text = ear
    at = pos(text, "and not on_usml(x)", len("and not "))
    value = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": at})["contents"]["value"]
    assert "**define `on_usml(x)`**" in value and "x.classification.usml != null" in value


def test_definition_of_a_set_in_the_same_file(client, ear):
    uri, text = ear
    at = pos(text, "destination in D5", len("destination in "))
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": at})
    assert locs[0]["uri"] == uri
    assert locs[0]["range"]["start"] == pos(text, 'set D5 "')


BASE = """regime base "Base" advisory
  version "1"
  source "s"
define big(x) "Worth more than one" =
  x.value > 1
set S "partners" = {FR, DE until 2020-01-01}
"""
USER = """regime user "User" binding
  version "1"
  source "s"
use base as b
rule user.a "A"
  cite "c"
  when b.big(item) and destination in b.S
  then license_required
"""


def test_definition_and_hover_across_use(client, tmp_path):
    root = tmp_path / "pols"
    for name, text in (("base", BASE), ("user", USER)):
        (root / name).mkdir(parents=True)
        (root / name / f"{name}.policy").write_text(text, encoding="utf-8")
    uri, text = open_doc(client, root / "user" / "user.policy")
    assert client.diagnostics(uri) == []
    base_uri = (root / "base" / "base.policy").resolve().as_uri()
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": pos(text, "b.big", 3)})
    assert locs == [{"uri": base_uri, "range": locs[0]["range"]}] and locs[0]["range"]["start"] == pos(BASE, "define big")
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": pos(text, "b.S", 2)})
    assert locs[0]["uri"] == base_uri and locs[0]["range"]["start"] == pos(BASE, "set S")
    value = client.request("textDocument/hover", {"textDocument": {"uri": uri},
                                                  "position": pos(text, "b.S", 2)})["contents"]["value"]
    assert "**set `S`** (base)" in value and "DE (until 2020-01-01)" in value
    locs = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": pos(text, "use base", 5)})
    assert locs[0]["uri"] == base_uri
    labels = {i["label"] for i in client.request("textDocument/completion", {
        "textDocument": {"uri": uri}, "position": pos(text, "when b.big", 5)})["items"]}
    assert {"b.big", "b.S", "item.value"} <= labels


def test_completion_offers_fact_paths_names_and_rule_ids(client, ear):
    uri, text = ear
    at = pos(text, "when subject_to_ear(item)", len("when "))
    labels = {i["label"] for i in client.request("textDocument/completion",
                                                 {"textDocument": {"uri": uri}, "position": at})["items"]}
    assert {"destination", "item.classification.eccn", "end_user.kind", "D5", "subject_to_ear"} <= labels
    at = pos(text, "exception to ear.", len("exception to "))
    rules = {i["label"] for i in client.request("textDocument/completion",
                                                {"textDocument": {"uri": uri}, "position": at})["items"]}
    assert "ear.chart.ns1" in rules and "destination" not in rules


def test_document_symbols(client, ear):
    uri, _ = ear
    syms = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    names = [s["name"] for s in syms]
    assert names[0] == "us-ear" and "D5" in names and "ear.chart.ns1" in names and "subject_to_ear" in names


def write_folder(tmp_path):
    root = tmp_path / "pols"
    (root / "demo").mkdir(parents=True)
    f = root / "demo" / "demo.policy"
    f.write_text(textwrap.dedent('''\
        regime demo "Demo" binding
          version "1"
          source "s"
        set G "group" = {FR, DE}
        rule demo.a "A"
          cite "c"
          when destination in G
          then license_required
        '''), encoding="utf-8")
    return f


def test_diagnostics_as_you_type_with_codes(client, tmp_path):
    f = write_folder(tmp_path)
    uri, text = open_doc(client, f)
    assert client.diagnostics(uri) == []
    broken = text.replace("destination in G", "item.clasification.eccn in H")
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                             "contentChanges": [{"text": broken}]})
    diags = client.diagnostics(uri)
    codes = sorted(d["code"] for d in diags)
    assert codes == ["E201", "E301"], diags
    e301 = next(d for d in diags if d["code"] == "E301")
    assert e301["range"]["start"]["line"] == 6 and e301["severity"] == 1 and "clasification" in e301["message"]
    client.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
                                             "contentChanges": [{"text": broken.replace("rule demo.a", "rule demo")}]})
    (syntax,) = client.diagnostics(uri)
    assert syntax["code"] == "E101" and syntax["range"]["start"] == {"line": 4, "character": 5}
    # the file on disk never changed: the buffer is what was checked
    assert f.read_text(encoding="utf-8") == text


def test_formatting_returns_the_canonical_text(client, tmp_path):
    f = write_folder(tmp_path)
    compact = 'regime demo "Demo" binding version "1" source "s"  \nset G "group" = { FR ,DE }\n'
    uri, _ = open_doc(client, f, compact)
    client.diagnostics(uri)
    edits = client.request("textDocument/formatting", {"textDocument": {"uri": uri},
                                                       "options": {"tabSize": 2, "insertSpaces": True}})
    assert len(edits) == 1 and edits[0]["range"]["start"] == {"line": 0, "character": 0}
    assert edits[0]["newText"] == 'regime demo "Demo" binding\n  version "1"\n  source "s"\nset G "group" = {FR, DE}\n'


def test_lsp_without_pygls_says_what_to_install(monkeypatch):
    import builtins
    import io

    from exportctl.cli import main

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("pygls") or (name == "lsp" and a and a[2] and "serve" in a[2]):
            raise ModuleNotFoundError("No module named 'pygls'", name="pygls")
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    monkeypatch.delitem(sys.modules, "exportctl.lsp", raising=False)
    err = io.StringIO()
    assert main(["lsp"], stdout=io.StringIO(), stderr=err, env={}) == 2
    assert "pip install 'exportctl[lsp]'" in err.getvalue() and "pygls" in err.getvalue()
