"""Screenshots of the documentation site, at a laptop's and a phone's width, in Debian's headless
Chromium (Playwright drives it; no browser download). The network is blocked: a page that needs
anything but its own files fails here, as it would for a reader offline.

    python scripts/site_screenshots.py            # builds the site, writes docs/screenshots/site-*.png
    python scripts/site_screenshots.py --no-build # uses the site/ folder as it is

The pages are opened from disk (file://), as a reader who unpacked the site would; only the
search result is shot through a local server (the browser runs the search in a worker, which it
does not start for a file:// page).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import subprocess
import sys
import threading
from pathlib import Path

from playwright.sync_api import sync_playwright

from exportctl.serve.running import chromium

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
OUT = ROOT / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
RULE = ("reference/us-ear.html", "ear.chart.ns1")   # a rule with exceptions and definitions


def shoot(page, name: str, full: bool = False) -> None:
    path = OUT / f"site-{name}.png"
    page.wait_for_timeout(400)   # the header's title changes with a short animation after a scroll
    page.screenshot(path=str(path), full_page=full)
    print(f"wrote {path.relative_to(ROOT)}")


def scroll_to(page, element_js: str) -> None:
    """Scroll down (never up: the theme then shows its "back to top" button) to put the element
    just below the header."""
    page.evaluate("(() => { const e = %s; window.scrollTo(0, 0); "
                  "window.scrollTo(0, e.getBoundingClientRect().top - 64); })()" % element_js)


def block_network(page, blocked: list) -> None:
    """Abort every request that is not for a file of the site (or the local server)."""
    def route(r):
        url = r.request.url
        if url.startswith(("file:", "http://127.0.0.1", "data:", "blob:")):
            r.continue_()
        elif url.startswith("https://api.github.com/repos/"):   # the repository link's star count: optional
            r.abort()
        else:
            blocked.append(url)
            r.abort()
    page.route("**/*", route)


def diagrams_drawn(page) -> tuple[int, int]:
    """(diagrams on the page, diagrams drawn). Material replaces each `pre.mermaid` by a
    `div.mermaid` holding the SVG in a closed shadow root: a drawn diagram is a div with a size."""
    return page.evaluate("""() => {
        const all = document.querySelectorAll('.mermaid');
        const drawn = [...all].filter(d => d.tagName === 'DIV' && d.getBoundingClientRect().height > 20);
        return [all.length, drawn.length];
    }""")


def wait_diagrams(page) -> None:
    page.wait_for_function("""() => document.querySelectorAll('pre.mermaid').length === 0""", timeout=30000)


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--no-build", action="store_true", help="use site/ as it is")
    args = ap.parse_args()
    if not args.no_build:
        subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    blocked: list = []
    problems = []
    try:
        with sync_playwright() as pw, chromium(pw) as browser:
            for size, viewport in SIZES.items():
                page = browser.new_page()
                page.set_viewport_size(viewport)
                block_network(page, blocked)

                page.goto((SITE / "index.html").as_uri())
                wait_diagrams(page)
                shoot(page, f"{size}-home")
                scroll_to(page, "document.querySelector('.ec-decision')")
                shoot(page, f"{size}-home-decision")
                scroll_to(page, "document.getElementById('how-a-transaction-becomes-a-decision')")
                shoot(page, f"{size}-home-flow")

                page.goto((SITE / RULE[0]).as_uri())
                wait_diagrams(page)
                n, drawn = diagrams_drawn(page)
                if n == 0 or drawn != n:
                    problems.append(f"{RULE[0]}: {drawn} of {n} diagrams drawn")
                scroll_to(page, "document.getElementById('map-of-the-rules')")
                shoot(page, f"{size}-regime-map")
                page.goto((SITE / RULE[0]).as_uri() + "#" + RULE[1])
                wait_diagrams(page)
                scroll_to(page, f"document.getElementById({RULE[1]!r})")
                shoot(page, f"{size}-rule")
                # the rule's diagram: the first one after its heading
                scroll_to(page, "(() => { let e = document.getElementById(%r).nextElementSibling; "
                                "while (e && !e.classList.contains('ec-diagram')) e = e.nextElementSibling; "
                                "return e; })()" % RULE[1])
                shoot(page, f"{size}-rule-diagram")

                page.goto((SITE / "reference" / "index.html").as_uri())
                shoot(page, f"{size}-reference")

                page.goto((SITE / "errors.html").as_uri())
                shoot(page, f"{size}-errors")

                page.goto(f"{base}/index.html?q=de+minimis")
                page.wait_for_selector(".md-search-result__item", timeout=30000)
                shoot(page, f"{size}-search")
                page.close()
    finally:
        server.shutdown()
    if blocked:
        problems.append("requests outside the site (blocked): " + ", ".join(sorted(set(blocked))))
    for p in problems:
        print("PROBLEM:", p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
