"""Policy folders and their READMEs are data: the docs build writes only inside its own folder,
`exportctl test` never imports Python from the policy folder, and which policies a command
uses is said when it is not the installed copy."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from conftest import RS1_POLICY, write_policies
from exportctl import docs
from exportctl.cli import main

CASES = '''
cases:
  - name: satellite to Brazil needs a licence
    about: [ear.rs1]
    transaction:
      id: TX-1
      date: 2026-11-28
      ship_from: US
      destination: BR
      end_user: {name: X, country: BR, lists: []}
      items: [{id: sat-1, origin: US, value: 1, classification: {eccn: 9A515.a.1}, components: []}]
    expect: {outcome: license_required, fires: [ear.rs1]}
'''


def run(argv, cwd: Path, monkeypatch) -> tuple[int, str, str]:
    monkeypatch.chdir(cwd)
    o, e = io.StringIO(), io.StringIO()
    code = main(argv, stdout=o, stderr=e, env={"NO_COLOR": "1"})
    return code, o.getvalue(), e.getvalue()


@pytest.mark.parametrize("name", ["../../escaped.txt", "/tmp/exportctl-escaped.txt", "a/../../x", ".hidden/../../y", ".."])
def test_a_titled_block_never_writes_outside_the_example_folder(tmp_path, monkeypatch, name):
    page = f'```yaml title="{name}"\nowned: true\n```\n\n<!-- run: exportctl --version -->\n'
    monkeypatch.chdir(tmp_path)
    with pytest.raises(docs.ExampleFailed, match="refusing to write"):
        docs.run_examples(page)
    assert not any(p.name in ("escaped.txt", "x", "y") for p in tmp_path.parent.rglob("*") if p.is_file())
    assert not Path("/tmp/exportctl-escaped.txt").exists()


def test_a_plain_titled_block_still_works(tmp_path, monkeypatch):
    page = '```yaml title=".github/a.yaml"\nx: 1\n```\n\n<!-- run: exportctl --version -->\n'
    out = docs.run_examples(page)
    assert "exportctl" in out and "<!-- run" not in out


def test_readme_comments_are_not_carried_into_generated_pages():
    readme = "# X\n\n## Not encoded\n\nText.\n<!-- run: exportctl docs --out /tmp/evil -->\n"
    section = docs.not_encoded_section(readme)
    assert "Text." in section and "<!--" not in section and "run:" not in section


def test_exportctl_test_never_imports_the_policy_folders_python(tmp_path, monkeypatch, capsys):
    marker = tmp_path / "imported"
    root = write_policies(tmp_path / "pol", {"us-ear/us-ear.policy": RS1_POLICY, "us-ear/cases/rs1.yaml": CASES})
    for evil in ("conftest.py", "us-ear/conftest.py", "us-ear/cases/conftest.py", "test_evil.py"):
        (root / evil).write_text(f"open({str(marker)!r}, 'w').write('ran')\n", encoding="utf-8")
    (root / "pytest.ini").write_text("[pytest]\naddopts = -p test_evil\n", encoding="utf-8")
    code, out, err = run(["test", "-q", "--policies", str(root)], tmp_path, monkeypatch)
    shown = capsys.readouterr().out     # pytest prints to the real stdout
    assert code == 0, shown + out + err
    assert "1 passed" in shown
    assert not marker.exists()


def test_exportctl_test_without_pytest_says_what_to_install(tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pytest(name, *a, **kw):
        if name == "pytest":
            raise ImportError("No module named 'pytest'")
        return real(name, *a, **kw)

    monkeypatch.setattr(builtins, "__import__", no_pytest)
    code, _, err = run(["test"], tmp_path, monkeypatch)
    assert code == 2 and "exportctl[test]" in err


def test_check_uses_the_checkouts_policies_and_says_so(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    write_policies(tmp_path / "policies", {"us-ear/us-ear.policy": RS1_POLICY + "rule broken\n"})
    (tmp_path / "sub").mkdir()
    code, _, err = run(["check", "--no-coverage"], tmp_path / "sub", monkeypatch)
    assert code == 2
    assert "using policies from" in err and "(the checkout)" in err
    assert "E101" in err


def test_outside_a_checkout_the_bundled_policies_are_used_silently(tmp_path, monkeypatch):
    code, out, err = run(["check", "--no-coverage"], tmp_path, monkeypatch)
    assert code == 0 and "using policies" not in err


def test_docs_refuses_a_folder_that_is_not_a_mkdocs_project(tmp_path, monkeypatch):
    code, _, err = run(["docs"], tmp_path, monkeypatch)
    assert code == 2 and "mkdocs.yml" in err
    assert not (tmp_path / "docs").exists()
