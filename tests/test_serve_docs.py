"""docs/api.md is generated from the OpenAPI document: it must not drift from it."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("starlette")

from exportctl.serve.openapi import document, markdown  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def test_api_page_is_up_to_date():
    page = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    assert page == markdown(document()), "run: python -m exportctl.serve.openapi docs/api.md"


def test_every_route_of_the_app_is_documented():
    from exportctl.serve.app import create_app

    app = create_app().app
    served = {r.path for r in app.routes if getattr(r, "methods", None)} - {"/"}
    assert served == set(document()["paths"])


def test_screenshots_are_in_the_repository():
    shots = {p.name for p in (ROOT / "docs" / "screenshots").glob("*.png")}
    assert {"desktop-form.png", "desktop-decision.png", "phone-form.png", "desktop-field-error.png"} <= shots
