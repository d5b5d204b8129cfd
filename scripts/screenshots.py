"""Screenshots of the web page for docs/web.md, at a laptop's and a phone's width, taken from a
real `exportctl serve` in Debian's headless Chromium (Playwright drives it; no browser download).

    python scripts/screenshots.py            # writes docs/screenshots/*.png
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

from exportctl.serve.running import chromium, running

OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def shoot(page, name: str, locator=None) -> None:
    path = OUT / f"{name}.png"
    (locator.screenshot(path=str(path)) if locator is not None else page.screenshot(path=str(path)))
    print(f"wrote {path.relative_to(OUT.parent.parent)}")


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    with running() as base, sync_playwright() as pw, chromium(pw) as browser:
        for size, viewport in SIZES.items():
            page = browser.new_page()
            page.set_viewport_size(viewport)
            # a real case with a question: a satellite whose bill of materials is not known yet
            page.goto(f"{base}/?example=fr-sat-unknown-bom-to-cn-2026")
            page.wait_for_selector(".item")
            page.evaluate("window.scrollTo(0, 0)")
            shoot(page, f"{size}-form")
            page.click("#evaluate")
            page.wait_for_selector("#outcome")
            page.locator("#decision").scroll_into_view_if_needed()
            shoot(page, f"{size}-decision", page.locator("#result").locator("xpath=..") if size == "desktop" else None)
            # a bad value beside its field
            page.fill("[data-pointer='/destination']", "China")
            page.click("#evaluate")
            page.wait_for_selector(".field-error:not([hidden])")
            page.locator("[data-pointer='/destination']").scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -120)")
            shoot(page, f"{size}-field-error")
            page.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
