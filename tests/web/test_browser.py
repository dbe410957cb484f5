"""The web UI in a real browser (headless Debian chromium, driven by Playwright) against the app
served by uvicorn, with the real worker, the simulators and the projector.

One child's way through the program: a caseworker signs in, reports the child (the form checks
as they type), records the assessment and asks for assistance above the 2,000 yuan threshold; a
supervisor approves it from the inbox; an auditor opens the case as it stood before the approval,
sees what the approval changed, verifies the record and runs the program report. Each page is
saved as a screenshot under test-artifacts/web/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize, expect

from domain.commands import PROGRAM_TIMEZONE
from tests.web.conftest import Site

PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=900)


@pytest_asyncio.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(locale="en-US", viewport=DESKTOP)
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        await context.close()


async def sign_in(page: Page, site: Site, user_id: str) -> None:
    await page.goto(f"{site.url}/ui/sign-in")
    await page.fill("#token", site.tokens[user_id])
    await page.click("main button[type=submit]")
    await page.wait_for_url(re.compile(r"/ui/(cases|approvals|integrity)"))


async def sign_out(page: Page) -> None:
    await page.click("header form[action='/ui/sign-out'] button")
    await page.wait_for_url(re.compile(r"/ui/sign-in"))


async def shot(page: Page, folder: Path, name: str) -> None:
    await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


async def test_a_child_from_report_to_approval_and_audit(
    site: Site, context: BrowserContext, artifacts: Path
) -> None:
    page = await context.new_page()

    # --- the caseworker ---------------------------------------------------------------------
    await sign_in(page, site, "demo-caseworker")
    await expect(page.locator("h1")).to_have_text("My caseload")
    await shot(page, artifacts, "01-caseworker-caseload")

    await page.click("main a[href='/ui/cases/new']")
    await page.wait_for_url(re.compile(r"/ui/cases/new$"))
    # Sent empty, the form says what is missing before anything leaves the browser.
    await page.click("main form button[type=submit]")
    await expect(page.locator("#child-name-error")).to_have_text("This field is required.")
    await expect(page.locator("#child-name")).to_have_attribute("aria-invalid", "true")
    assert page.url.endswith("/ui/cases/new")
    # As the caseworker types, each field is checked: a birth date in the future is refused.
    await page.fill("#child-date_of_birth", "2099-01-01")
    await expect(page.locator("#child-date_of_birth-error")).to_have_text(
        "The date cannot be in the future."
    )
    await shot(page, artifacts, "02-report-form-checked-as-you-type")

    await page.fill("#child-name", "Li Xiaomei")
    await page.select_option("#child-sex", "female")
    await page.fill("#child-date_of_birth", "2015-03-02")
    await expect(page.locator("#child-date_of_birth-error")).to_have_text("")
    await page.fill("#household-address", "Group 3, Upper Hamlet")
    await page.fill("#household-members", "2")
    await page.fill("#guardians-0-name", "Li Nainai")
    await page.fill("#guardians-0-relation", "grandmother")
    await page.select_option("#father-situation", "imprisoned")
    await page.fill("#father-since", "2024-01-10")
    await page.select_option("#mother-situation", "missing")
    await page.fill("#mother-since", "2023-06-01")
    await page.check("input[name=categories][value=de_facto_orphan]")
    await page.fill("#observations", "Lives with her grandmother, who is 78.")
    await page.click("main form button[type=submit]")
    await page.wait_for_url(re.compile(r"/ui/cases/[0-9a-f-]{36}\?done=report"))
    case_url = page.url.split("?")[0]

    await expect(page.locator(".notice")).to_contain_text("Child reported, case opened")
    await expect(page.locator("h1")).to_contain_text("Li Xiaomei")
    await expect(page.locator("main p").first).to_contain_text("Reported")
    await expect(page.locator("main p").first).to_contain_text("Urgent (72 h)")
    await expect(page.locator("form[action$='/assessment']")).to_be_visible()
    # Only what fits a case just reported: no assistance before an assessment, no decisions.
    await expect(page.locator("form[action$='/assistance']")).to_have_count(0)
    await expect(page.locator("form[action*='/approvals/']")).to_have_count(0)
    await expect(page.locator("ul.pending-list")).to_contain_text("Assessment due")
    await shot(page, artifacts, "03-case-reported")

    scores = {"survival": 2, "education": 3, "health": 1, "guardianship": 2, "safety": 1}
    for need, score in {**scores, "psychosocial": 2}.items():
        await page.select_option(f"#score-{need}", str(score))
    await page.fill("#assessment-summary", "Fees unpaid since September; risk of dropping out.")
    await page.click("form[action$='/assessment'] button[type=submit]")
    await page.wait_for_url(re.compile(r"\?done=assess"))
    await expect(page.locator(".notice")).to_contain_text("Assessment recorded")
    await expect(page.locator("main p").first).to_contain_text("High")

    await page.select_option("#assistance-kind", "tuition_and_fees")
    await page.fill("#assistance-value", "3000")
    await expect(page.locator("#threshold-note")).to_be_visible()  # above 2,000 yuan
    await page.fill("#assistance-quantity", "1")
    await page.fill("#assistance-unit", "term")
    await page.fill("#assistance-purpose", "Tuition and fees for the spring term.")
    await page.click("form[action$='/assistance'] button[type=submit]")
    await page.wait_for_url(re.compile(r"\?done=assistance"))
    await expect(page.locator(".notice")).to_contain_text("Assistance requested")
    await expect(page.locator("table.assistance")).to_contain_text("Awaiting approval")
    await expect(page.locator("ul.pending-list")).to_contain_text("Approval by the township")
    # No approve button for the requester (a caseworker at that).
    await expect(page.locator("form[action*='/approvals/']")).to_have_count(0)
    await expect(page.locator("#actions")).to_contain_text("Waiting for a supervisor's decision.")
    await shot(page, artifacts, "04-case-awaiting-approval")
    await sign_out(page)

    # --- the supervisor ---------------------------------------------------------------------
    await sign_in(page, site, "demo-supervisor")
    await expect(page.locator("h1")).to_have_text("Approvals inbox")
    case_id = case_url.rsplit("/", 1)[1]
    item = page.locator(f"article.approval:has(a[href='/ui/cases/{case_id}'])")
    for _ in range(50):  # the inbox is a projection: it shows the request within moments
        if await item.count():
            break
        await page.wait_for_timeout(200)
        await page.reload()
    await expect(item).to_contain_text("Tuition and fees · 1 term · 3000 ¥")
    await expect(item.locator(".time-left")).to_contain_text("left")
    await expect(item.locator(".badge.escalated")).to_have_count(0)
    await shot(page, artifacts, "05-supervisor-inbox")
    await item.locator("textarea[name=comment]").fill("Fees confirmed with the school.")
    await item.locator("button[value=approve]").click()
    await page.wait_for_url(re.compile(r"/ui/approvals\?done=decide"))
    await expect(page.locator(".notice")).to_contain_text("Decision recorded")
    await expect(
        page.locator(f"article.approval:has(a[href='/ui/cases/{case_id}'])")
    ).to_have_count(0)
    await shot(page, artifacts, "06-supervisor-inbox-after-approval")

    await page.goto(case_url)
    await expect(page.locator("table.assistance")).to_contain_text("To deliver")
    await expect(page.locator("table.approvals")).to_contain_text("Approved")
    await shot(page, artifacts, "07-case-approved")
    await page.goto(f"{site.url}/ui/area")
    await expect(page.locator("tr[data-township='530627101']")).to_be_visible()
    await shot(page, artifacts, "08-supervisor-area-overview")
    await sign_out(page)

    # --- the auditor ------------------------------------------------------------------------
    await sign_in(page, site, "demo-auditor")
    await page.goto(case_url)
    await expect(page.locator("main form[method=post]")).to_have_count(0)  # auditors write nothing
    await page.click("a[href$='/history']")
    await page.wait_for_url(re.compile(r"/history$"))
    approval_row = page.locator("tr[data-type=ApprovalGranted]")
    await expect(approval_row).to_have_count(1)
    await approval_row.locator("a.as-before").click()
    await page.wait_for_url(re.compile(r"/history\?at="))
    as_of = page.locator("#as-of")
    await expect(as_of).to_contain_text("As it stood at")
    await expect(as_of.locator("table.assistance")).to_contain_text("Awaiting approval")
    await expect(as_of.locator("table.approvals")).to_contain_text("Pending")
    await shot(page, artifacts, "09-auditor-case-before-approval")

    await page.locator("tr[data-type=ApprovalGranted] a.what-changed").click()
    await page.wait_for_url(re.compile(r"/history\?from="))
    diff = page.locator("#diff")
    await expect(diff.locator("tr[data-field=approvals]")).to_have_count(1)
    await expect(diff.locator("tr[data-field=assistance]")).to_have_count(1)
    await expect(diff).to_contain_text("Approved")
    await shot(page, artifacts, "10-auditor-what-the-approval-changed")

    await page.click("form[action$='/integrity'] button")
    await expect(page.locator("#integrity-result")).to_contain_text("The record is intact.")
    await shot(page, artifacts, "11-auditor-case-integrity")

    year = datetime.now(UTC).astimezone(PROGRAM_TIMEZONE).year
    await page.goto(f"{site.url}/ui/report?year={year}&county=530627")
    await expect(page.locator("svg.chart")).to_have_count(2)
    orphans = page.locator("svg.chart a[href*='children_covered.de_facto_orphan']")
    await expect(orphans.locator("text.count")).not_to_have_text("0")
    await shot(page, artifacts, "12-auditor-program-report")
    csv = await page.request.get(f"{site.url}/ui/report.csv?year={year}&county=530627")
    assert csv.ok
    assert (await csv.text()).startswith("year,county,figure,count,facts")
    await orphans.click()
    await page.wait_for_url(re.compile(r"/ui/report/facts\?"))
    await expect(page.locator(f"a[href='/ui/cases/{case_id}']")).to_have_count(1)
    await shot(page, artifacts, "13-auditor-events-behind-a-figure")


async def test_on_a_phone_in_chinese(site: Site, browser: Browser, artifacts: Path) -> None:
    context = await browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True)
    try:
        page = await context.new_page()
        await sign_in(page, site, "demo-caseworker")
        await expect(page.locator("h1")).to_have_text("我的个案")
        await page.goto(f"{site.url}/ui/cases/new")
        await expect(page.locator("main")).to_contain_text("事实无人抚养儿童")
        await expect(page.locator("header")).to_contain_text("儿童主任")
        # Checked as one types, in Chinese.
        await page.click("main form button[type=submit]")
        await expect(page.locator("#child-name-error")).to_have_text("此项必填。")
        # Nothing wider than the phone's screen but the tables, which scroll on their own.
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await shot(page, artifacts, "14-phone-report-form-zh")
        await page.goto(f"{site.url}/ui/cases")
        await page.locator("table.caseload a").first.click()
        await expect(page.locator("main")).to_contain_text("个案现状")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await shot(page, artifacts, "15-phone-case-zh")
        await page.click("header button[value=en]")
        await expect(page.locator("main")).to_contain_text("Case as it stands")
        await page.goto(f"{site.url}/ui/cases")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]
        await shot(page, artifacts, "16-phone-caseload-en")
    finally:
        await context.close()
