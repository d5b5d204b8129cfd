"""The page as a person uses it, in a real headless Chromium (Debian's package, driven by
Playwright): fill the form for a real case, see the outcome, answer a question, see it change;
a bad value shows its message beside the field."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")

expect = sync_api.expect

from exportctl.serve.running import CHROMIUM, chromium, running  # noqa: E402

if not os.path.exists(CHROMIUM):
    pytest.skip(f"no browser at {CHROMIUM}: apt-get install -y chromium (.ci/run does)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with running() as base, sync_api.sync_playwright() as pw, chromium(pw) as ctx:
        ctx.base = base
        yield ctx


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(browser.base + "/")
    page.wait_for_selector(".item")
    yield page
    page.close()
    assert not errors, errors


def label(page, text):
    return page.get_by_label(text, exact=True)


def test_fill_the_form_for_a_real_case_and_answer_a_question(page):
    page.get_by_role("button", name="Blank").click()
    label(page, "Reference (id)").fill("WEB-1")
    label(page, "Date of export").fill("2026-03-02")
    label(page, "Ships from (country)").fill("FR")
    label(page, "Destination (country)").fill("CN")
    label(page, "Exporter").fill("Garonne Satellites SAS")
    label(page, "Exporter's country").fill("FR")
    label(page, "End user").fill("China Great Wall Industry Corporation")
    label(page, "End user's country").fill("CN")
    label(page, "End user is").select_option("commercial")
    page.get_by_label("The end user was screened (else: unknown)").check()
    page.get_by_label("The end use is declared (none ticked: none of these)").check()
    page.get_by_label("satellite launch", exact=True).check()
    page.get_by_label("telecommunications", exact=True).check()
    item = page.locator("fieldset.item").first
    item.get_by_label("Id", exact=True).fill("sat-1")
    item.get_by_label("Description", exact=True).fill("GEO communications satellite")
    item.get_by_label("Made in (origin)", exact=True).fill("FR")
    item.get_by_label("Value", exact=True).fill("180000000")
    item.get_by_label("EU Annex I", exact=True).select_option("entry")
    item.get_by_label("EU Annex I entry").fill("9A004.b")
    for lst in ("USML", "ECCN (CCL)", "MTCR Annex", "Wassenaar", "China control list"):
        item.get_by_label(lst, exact=True).select_option("none")
    page.get_by_role("button", name="Evaluate").click()
    outcome = page.locator("#outcome .o-word")
    outcome.wait_for()
    # the bill of materials is not given: a US part could make ITAR bite
    assert outcome.inner_text() == "Indeterminate: facts missing"
    question = page.locator("#questions")
    assert "bill of materials" in question.inner_text()
    question.get_by_label("For item sat-1: what is its bill of materials (`components`; [] if it has none)?").fill("[]")
    question.get_by_role("button", name="Answer and re-evaluate").click()
    expect(page.locator("#questions")).to_have_count(0)
    expect(outcome).to_have_text("Licence required")
    assert "eu-dual-use" in page.locator("#outcome").inner_text()
    # the answer went into the form: the bill of materials is now known (no components)
    assert page.get_by_label("The bill of materials of sat-1 is known (none added: it has no components)").is_checked()
    # advisory regimes are apart and never shown as a requirement
    adv = page.locator(".advisory-group")
    assert "not binding" in adv.inner_text()
    assert adv.locator(".badge.o-license_required").count() == 0


def test_a_bad_value_shows_its_message_beside_the_field(page):
    dest = label(page, "Destination (country)")
    dest.fill("China")
    page.get_by_role("button", name="Evaluate").click()
    err = page.locator("[data-error-for='/destination']")
    err.wait_for(state="visible")
    assert "not in the expected form" in err.inner_text()
    assert dest.get_attribute("aria-invalid") == "true"
    assert err.get_attribute("id") in dest.get_attribute("aria-describedby")
    assert page.locator("#outcome").count() == 0
    dest.fill("CN")
    page.get_by_role("button", name="Evaluate").click()
    page.locator("#outcome").wait_for()
    assert err.is_hidden()


def test_yaml_tab_round_trip_and_located_errors(page):
    page.get_by_role("tab", name="YAML").click()
    text = page.locator("#yaml").input_value()
    assert "destination: CN" in text
    page.locator("#yaml").fill(text.replace("destination: CN", "destination: CN\nbogus: 1"))
    page.get_by_role("button", name="Evaluate").click()
    first = page.locator("#yaml-errors li").first
    first.wait_for()
    assert "unknown key 'bogus'" in first.inner_text() and first.inner_text().startswith("line ")
    page.locator("#yaml").fill(text.replace("destination: CN", "destination: JP"))
    page.keyboard.press("Shift+Tab")  # keyboard: back to the tabs
    page.get_by_role("tab", name="Form").click()
    expect(label(page, "Destination (country)")).to_have_value("JP")


def test_examples_and_as_of(page):
    page.get_by_label("Start from an example").select_option("us-eo-sat-to-au-2024-06")
    page.get_by_role("button", name="Load").click()
    expect(page.locator("[data-pointer='/id']")).not_to_have_value("GARO-EXP-2026-0301")
    page.get_by_role("button", name="Evaluate").click()
    page.locator("#outcome").wait_for()
    before = page.locator("#outcome .o-meta").first.inner_text()
    page.get_by_label("Law in force on (optional: instead of the transaction date)").fill("2024-11-30")
    page.get_by_role("button", name="Evaluate").click()
    expect(page.locator("#outcome .o-meta").first).to_contain_text("2024-11-30")
    assert before != page.locator("#outcome .o-meta").first.inner_text()
