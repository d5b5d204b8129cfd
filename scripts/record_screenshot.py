"""A screenshot of the determination record (`exportctl evaluate --format html`) for docs/determination.md,
taken in Debian's headless Chromium (Playwright drives it; no browser download).

    python scripts/record_screenshot.py      # writes docs/screenshots/determination-record.png
"""

from __future__ import annotations

import io
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from exportctl.cli import main as cli
from exportctl.serve.running import chromium

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots" / "determination-record.png"
EXAMPLE = ROOT / "examples" / "transactions" / "us-comsat-to-br-2026.yaml"


def main() -> int:
    out, err = io.StringIO(), io.StringIO()
    code = cli(["evaluate", str(EXAMPLE), "--format", "html"], stdout=out, stderr=err, env={"NO_COLOR": "1"})
    if code != 0:
        print(err.getvalue(), file=sys.stderr)
        return code
    with tempfile.TemporaryDirectory() as tmp:
        page_file = Path(tmp) / "record.html"
        page_file.write_text(out.getvalue(), encoding="utf-8")
        with sync_playwright() as pw, chromium(pw) as browser:
            page = browser.new_page()
            page.set_viewport_size({"width": 1000, "height": 1400})
            page.goto(page_file.as_uri())
            page.screenshot(path=str(OUT), full_page=False)
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
