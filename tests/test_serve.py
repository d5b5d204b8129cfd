"""The decision API against a real `exportctl serve` (uvicorn on a free loopback port)."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
httpx = pytest.importorskip("httpx")

from exportctl import records  # noqa: E402
from exportctl.cli import main  # noqa: E402
from exportctl.serve.running import running  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples" / "transactions").glob("*.yaml"))
YAML = {"content-type": "application/yaml"}
JSONL = {"content-type": "application/x-ndjson"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    record = tmp_path_factory.mktemp("rec") / "records.jsonl"
    with running("--record", str(record)) as base, httpx.Client(base_url=base, timeout=60) as client:
        client.record = record
        yield client


def cli_json(*args) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    main(["evaluate", *args, "--format", "json"], stdout=out, stderr=err, env={})
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_example_decides_as_the_cli_does(server):
    expected = cli_json(*map(str, EXAMPLES))
    assert len(expected) == len(EXAMPLES) > 40
    for path, want in zip(EXAMPLES, expected):
        r = server.post("/v1/decisions", content=path.read_bytes(), headers=YAML)
        assert r.status_code == 200, (path.name, r.text)
        assert r.json() == want, path.name


def test_json_body_and_as_of_as_the_cli(server, tmp_path):
    path = ROOT / "examples" / "transactions" / "us-eo-sat-to-au-2024-06.yaml"
    [want] = cli_json(str(path), "--as-of", "2024-11-30")
    data = records.canonical_json(_yaml(path))
    r = server.post("/v1/decisions", params={"as_of": "2024-11-30"}, content=data,
                    headers={"content-type": "application/json"})
    assert r.status_code == 200
    assert r.json() == want and r.json()["as_of"] == "2024-11-30"


def _yaml(path):
    from exportctl.facts import normalise, yaml_load

    return normalise(yaml_load(path.read_text()))


def test_batch_streams_in_input_order_with_error_records_in_place(server):
    lines = (ROOT / "examples" / "transactions.jsonl").read_text().splitlines()[:6]
    body = "\n".join(lines[:3] + ["{not json", '{"id": "X", "date": "2026-01-01", "destination": "FR"}'] + lines[3:]) + "\n"
    r = server.post("/v1/decisions:batch", content=body, headers=JSONL)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
    got = [json.loads(x) for x in r.text.splitlines()]
    assert len(got) == 8
    want = cli_json(str(ROOT / "examples" / "transactions.jsonl"))[:6]
    assert [g for g in got if "error" not in g] == want
    assert got[3]["source"] == "request.jsonl:4" and got[3]["error"][0]["code"] == "E601"
    assert got[3]["error"][0]["line"] == 4
    assert got[4]["source"] == "request.jsonl:5" and got[4]["error"][0]["code"] == "E602"
    assert "items" in got[4]["error"][0]["message"]


def test_bad_yaml_is_located_by_line_column_and_pointer(server):
    body = "id: T\ndate: 2026-01-01\ndestination: France\nitems:\n  - id: a\n    origin: US\n    colour: red\n"
    r = server.post("/v1/decisions", content=body, headers=YAML)
    assert r.status_code == 400
    problems = {p["pointer"]: p for p in r.json()["problems"]}
    assert problems["/destination"]["line"] == 3 and problems["/destination"]["code"] == "E602"
    assert "unknown key 'colour'" in problems["/items/0"]["message"] and problems["/items/0"]["line"] == 7
    r = server.post("/v1/decisions", content="id: [\n", headers=YAML)
    assert r.status_code == 400
    [p] = r.json()["problems"]
    assert p["code"] == "E601" and p["line"] == 2 and "Traceback" not in r.text


def test_missing_required_key_points_at_the_key(server):
    r = server.post("/v1/decisions", content=json.dumps({"id": "T", "date": "2026-01-01", "items": [{"id": "a"}]}),
                    headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "/destination" in [p.get("pointer") for p in r.json()["problems"]]


def test_refusals_are_json_never_tracebacks(server):
    big = "id: T\n" + "#" * (1 << 20) + "\n"
    r = server.post("/v1/decisions", content=big, headers=YAML)
    assert r.status_code == 413 and r.json()["error"] == "too-large"
    r = server.post("/v1/decisions", content="id: T", headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 415
    r = server.post("/v1/decisions", params={"as_of": "yesterday"}, content="id: T", headers=YAML)
    assert r.status_code == 400 and r.json()["parameter"] == "as_of"
    r = server.post("/v1/decisions", content=b"id: \xff\xfe\n", headers=YAML)
    assert r.status_code == 400 and "UTF-8" in r.json()["message"]
    r = server.post("/v1/decisions", content="---\nid: a\n---\nid: b\n", headers=YAML)
    assert r.status_code == 400 and "batch" in r.json()["message"]
    r = server.post("/v1/decisions:batch", content="\n\n", headers=JSONL)
    assert r.status_code == 400
    assert server.get("/v1/nothing").status_code == 404
    assert server.get("/v1/examples/..%2F..%2Fpyproject").status_code == 404
    assert server.get("/v1/decisions").status_code == 405


def test_policies_schema_health_openapi(server):
    p = server.get("/v1/policies").json()
    ids = [r["regime"] for r in p["regimes"]]
    assert set(ids) == {"us-itar", "us-ear", "eu-dual-use", "cn-export-control", "mtcr", "wassenaar"}
    assert [r["binding"] for r in p["regimes"]] == sorted((r["binding"] for r in p["regimes"]), reverse=True)
    assert p["policy_digest"] == server.get("/healthz").json()["policy_digest"]
    assert all(isinstance(r["encodes"], list) for r in p["regimes"])
    ear = next(r for r in p["regimes"] if r["regime"] == "us-ear")
    assert ear["version"] and ear["digest"].startswith("sha256:")
    schema = server.get("/v1/schema/transaction").json()
    assert schema["title"] == "exportctl transaction"
    doc = server.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.1") and "/v1/decisions:batch" in doc["paths"]
    assert doc["components"]["schemas"]["Decision"]["required"][:3] == ["transaction", "as_of", "outcome"]


def test_concurrent_requests_keep_one_record_chain(server):
    body = (ROOT / "examples" / "quickstart.yaml").read_bytes()
    before = records.verify(server.record).records
    errors = []

    def post():
        try:
            with httpx.Client(base_url=str(server.base_url), timeout=60) as c:
                for _ in range(5):
                    assert c.post("/v1/decisions", content=body, headers=YAML).status_code == 200
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    report = records.verify(server.record)
    assert report.ok and report.records == before + 30


def test_token_required_when_set_and_off_loopback(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert main(["serve", "--host", "0.0.0.0"], stdout=out, stderr=err, env={}) == 2
    assert "needs a bearer token" in err.getvalue()
    with running("--token", "s3cret") as base, httpx.Client(base_url=base) as c:
        assert c.get("/v1/policies").status_code == 401
        assert c.get("/v1/policies", headers={"authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/v1/policies", headers={"authorization": "Bearer s3cret"}).status_code == 200
        assert c.get("/healthz").status_code == 200 and c.get("/").status_code == 200


def test_broken_policy_folder_refuses_to_start_with_check_diagnostics(tmp_path):
    bad = tmp_path / "policies"
    bad.mkdir()
    (bad / "x.policy").write_text('regime x "X" binding\n  version "1" source "s"\nrule r "R" cite "c"\n  when destination ==\n')
    out, err = io.StringIO(), io.StringIO()
    assert main(["serve", "--policies", str(bad), "--port", "1"], stdout=out, stderr=err, env={}) == 2
    assert "E101" in err.getvalue() and "not started" in err.getvalue()
