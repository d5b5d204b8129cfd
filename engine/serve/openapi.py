"""The OpenAPI document of `exportctl serve`, and docs/api.md made from it.

Written by hand (the bodies are JSON or YAML, not form models); the transaction and decision
schemas are the contract files themselves, so the document cannot disagree with them.
`python -m exportctl.serve.openapi docs/api.md` rewrites the page; a test fails on drift."""

from __future__ import annotations

import json
import sys

from .. import __version__, facts

_PROBLEMS = {"$ref": "#/components/schemas/Problems"}


def _err(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _PROBLEMS}}}


def _as_of() -> dict:
    return {"name": "as_of", "in": "query", "required": False, "schema": {"type": "string", "format": "date"},
            "description": "Apply the law in force on this date instead of the transaction's `date` (as `--as-of`)."}


_COMMON_ERRORS = {
    "401": _err("A bearer token is required (the server was started with `--token` or `EXPORTCTL_TOKEN`)."),
    "413": _err("The body is over the size limit (`--max-body`, `--max-batch-body`)."),
    "415": _err("Content-Type is not one this route reads."),
    "503": _err("Over the time limit (`--timeout`), or the record file could not take the decision."),
}


def document(desk=None) -> dict:
    """The OpenAPI 3.1 document (the schemas of `desk`'s policy folder, else the bundled ones)."""
    folder = desk.ps.schema_folder if desk is not None else None
    tx = _strip(facts.schema("transaction", folder))
    dec = _strip(facts.schema("decision", folder))
    one_tx = {"application/json": {"schema": {"$ref": "#/components/schemas/Transaction"}},
              "application/yaml": {"schema": {"$ref": "#/components/schemas/Transaction"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "exportctl decision API",
            "version": __version__,
            "summary": "Export-control determinations for space items, with the law behind every finding.",
            "description": "Served by `exportctl serve`. Answers are the decision contract of "
                           "`exportctl evaluate --format json`, byte for byte the same JSON. Not legal advice.",
        },
        "servers": [{"url": "http://127.0.0.1:8000", "description": "exportctl serve (default address)"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "Only when the server was started with a token."}},
            "schemas": {
                "Transaction": tx,
                "Decision": dec,
                "Problems": {
                    "type": "object", "required": ["error", "status", "message", "problems"],
                    "properties": {
                        "error": {"type": "string", "description": "bad-input, bad-parameter, too-large, "
                                  "unsupported-media-type, unauthorized, not-found, timeout, record-failed, internal"},
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "problems": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}},
                    },
                },
                "Problem": {
                    "type": "object", "required": ["code", "severity", "message"],
                    "description": "A diagnostic as `exportctl evaluate` reports it, plus the JSON pointer of the fact.",
                    "properties": {
                        "code": {"type": "string", "description": "E6xx: see the error codes page."},
                        "severity": {"enum": ["error", "warning"]},
                        "message": {"type": "string"},
                        "pointer": {"type": "string", "description": "RFC 6901 pointer into the transaction, e.g. /items/0/origin."},
                        "file": {"type": "string", "description": "request.json, request.yaml or request.jsonl."},
                        "line": {"type": "integer", "description": "1-based line in the body (YAML and JSON Lines)."},
                        "col": {"type": "integer"},
                        "hint": {"type": "string"},
                    },
                },
                "ErrorRecord": {
                    "type": "object", "required": ["source", "error"],
                    "description": "A line of a batch that could not be evaluated, in its place (as the CLI prints it).",
                    "properties": {"source": {"type": "string", "description": "request.jsonl:LINE"},
                                   "error": {"type": "array", "items": {"$ref": "#/components/schemas/Problem"}}},
                },
            },
        },
        "security": [{}, {"bearer": []}],
        "paths": {
            "/v1/decisions": {"post": {
                "summary": "Decide one transaction",
                "description": "The body is one transaction, JSON or YAML (the transaction schema). The answer is "
                               "its decision, exactly what `exportctl evaluate FILE --format json` prints, with the "
                               "same `policy_digest`. With `--record FILE` the decision is recorded before it is sent.",
                "parameters": [_as_of()],
                "requestBody": {"required": True, "content": one_tx},
                "responses": {"200": {"description": "The decision.",
                                      "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Decision"}}}},
                              "400": _err("The transaction is unreadable or violates the schema: every problem, "
                                          "with its JSON pointer and, for YAML, its line and column. Nothing was evaluated."),
                              **_COMMON_ERRORS}}},
            "/v1/decisions:batch": {"post": {
                "summary": "Decide a stream of transactions (JSON Lines)",
                "description": "One transaction per line in, one decision per line out, streamed in input order. "
                               "A line that cannot be evaluated becomes an error record in its place and the rest go on.",
                "parameters": [_as_of()],
                "requestBody": {"required": True, "content": {"application/x-ndjson": {"schema": {"type": "string"}}}},
                "responses": {"200": {"description": "One JSON document per line: a Decision or an ErrorRecord.",
                                      "content": {"application/x-ndjson": {"schema": {"oneOf": [
                                          {"$ref": "#/components/schemas/Decision"},
                                          {"$ref": "#/components/schemas/ErrorRecord"}]}}}},
                              "400": _err("No transaction in the body."), **_COMMON_ERRORS}}},
            "/v1/transactions:validate": {"post": {
                "summary": "Read and validate a transaction without deciding it",
                "description": "The transaction as the evaluator would see it (schema defaults applied), or its problems.",
                "requestBody": {"required": True, "content": one_tx},
                "responses": {"200": {"description": "Valid.", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"valid": {"const": True},
                                                     "transaction": {"$ref": "#/components/schemas/Transaction"},
                                                     "input_digest": {"type": "string"}}}}}},
                              "400": _err("The problems, located."), **_COMMON_ERRORS}}},
            "/v1/policies": {"get": {
                "summary": "The policies this server decides with",
                "description": "Loaded once at start. Each regime with its title, whether it binds, the version of "
                               "the law it encodes, its file digest and its encoded scope; and the `policy_digest` "
                               "every decision carries.",
                "responses": {"200": {"description": "Regimes, versions, digests, encoded scope.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/schema/{name}": {"get": {
                "summary": "A JSON Schema of the contract",
                "parameters": [{"name": "name", "in": "path", "required": True,
                                "schema": {"enum": ["transaction", "decision"]}}],
                "responses": {"200": {"description": "The JSON Schema.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              "404": _err("Not a schema name.")}}},
            "/v1/examples": {"get": {
                "summary": "Example transactions to start from",
                "responses": {"200": {"description": "Names and what each shows.",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/v1/examples/{name}": {"get": {
                "summary": "One example transaction (YAML)",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "The YAML text.", "content": {"application/yaml": {}}},
                              "404": _err("No such example.")}}},
            "/healthz": {"get": {
                "summary": "Liveness, and the policy digest in use", "security": [],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
            "/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}}}},
        },
    }


def _strip(schema: dict) -> dict:
    """A contract schema as an OpenAPI component: its own `$defs` refs point inside it."""
    s = json.loads(json.dumps(schema))
    s.pop("$schema", None)
    return s


def markdown(doc: dict) -> str:
    """docs/api.md: every route with its parameters, bodies and answers, from the document."""
    out = ["# HTTP API\n",
           "<!-- generated by `python -m exportctl.serve.openapi docs/api.md` from the OpenAPI document; "
           "tests/test_serve_docs.py fails when it is out of date. Do not edit by hand. -->\n",
           f"{doc['info']['description']}\n",
           "Start it with `exportctl serve` (see [the web page](web.md) for installing and options); "
           "the live document is at `GET /openapi.json`. Every answer is JSON (`application/json`) "
           "except the batch route (JSON Lines) and an example's text (YAML).\n",
           "| method | path | what |", "| --- | --- | --- |"]
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            out.append(f"| `{method.upper()}` | `{path}` | {op['summary']} |")
    out.append("")
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            out.append(f"## `{method.upper()} {path}`\n")
            out.append(f"{op['summary']}.\n")
            if op.get("description"):
                out.append(f"{op['description']}\n")
            for p in op.get("parameters", []):
                schema = p.get("schema", {})
                kind = schema.get("format") or schema.get("type") or " \\| ".join(schema.get("enum", []))
                out.append(f"- parameter `{p['name']}` ({p['in']}, {kind}{', required' if p.get('required') else ''})"
                           f"{': ' + p['description'] if p.get('description') else ''}")
            body = op.get("requestBody")
            if body:
                out.append(f"- body: {', '.join(f'`{t}`' for t in body['content'])}")
            for code, r in op["responses"].items():
                types = ", ".join(f"`{t}`" for t in r.get("content", {}))
                out.append(f"- **{code}**: {r['description']}" + (f" ({types})" if types else ""))
            out.append("")
    out += ["## Problems\n",
            "Every refusal has the same shape: `error` (a word), `status`, `message`, and `problems`, the "
            "located diagnostics exactly as `exportctl evaluate` reports them (`code`, `severity`, `message`, "
            "`file`, `line`, `col`, `hint`), each with the `pointer` (RFC 6901) of the fact it is about when it "
            "is about one. The codes are explained on the [error codes](errors.md) page.\n",
            "```json",
            json.dumps({"error": "bad-input", "status": 400, "message": "the transaction has problems; nothing was evaluated",
                        "problems": [{"code": "E602", "severity": "error",
                                      "message": "destination: 'France' is not in the expected form (ISO 3166-1 alpha-2 (XK for Kosovo); ISO 3166-2 for a sub-national region.)",
                                      "file": "request.yaml", "line": 4, "col": 1, "pointer": "/destination"}]},
                       indent=2),
            "```\n",
            "## Security\n",
            "- Binds to 127.0.0.1 unless `--host` says otherwise; any other address needs a bearer token "
            "(`--token` or `EXPORTCTL_TOKEN`), sent as `Authorization: Bearer TOKEN` on `/v1/*` and `/openapi.json`.",
            "- The policies are the ones loaded at start; no route uploads policies or names a file.",
            "- Bodies over `--max-body` (1 MiB) or `--max-batch-body` (64 MiB) get 413; reading and deciding "
            "a request over `--timeout` (30 s) gets 503.",
            "- Only `application/json`, `application/yaml` and `application/x-ndjson` bodies are read (a web page "
            "elsewhere cannot post to the server without the browser asking it first), and on loopback only "
            "`Host: 127.0.0.1` or `localhost` is answered.",
            "- An engine error is a 500 with `E901 internal error, please report`, never a traceback.\n"]
    return "\n".join(out)


if __name__ == "__main__":   # python -m exportctl.serve.openapi docs/api.md
    text = markdown(document())
    if len(sys.argv) > 1:
        with open(sys.argv[1], "w", encoding="utf-8") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
