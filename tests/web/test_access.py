"""Who sees what in the web UI, and which forms are accepted, over plain HTTP.

A caseworker never sees another area's case or an action outside their role: not in a page,
not by typing its address (a 404 or 403 page), not by posting its form. A form posted without
its session's CSRF token is refused (403) and records nothing.
"""

from __future__ import annotations

import re
import uuid

import httpx

from domain.codec import case_stream_id
from store.directory import Directory, User
from tests.web.conftest import (
    FAR_VILLAGE,
    SCORES,
    Site,
    assessed_case_awaiting_approval,
    command,
    csrf_in,
    events_of,
    report_child,
    signed_in,
    wait_until,
)

POST_FORMS = re.compile(r'<form method="post" action="([^"]+)"')


def post_forms(page: str) -> set[str]:
    """Where the page's forms post to, the header's own (language, sign out) left out."""
    return {
        action
        for action in POST_FORMS.findall(page)
        if action not in ("/ui/language", "/ui/sign-out")
    }


async def test_every_page_needs_signing_in(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url) as anonymous:
        for path in ("/ui/cases", "/ui/approvals", "/ui/report", f"/ui/cases/{uuid.uuid4()}"):
            answer = await anonymous.get(path)
            assert answer.status_code == 303, path
            assert answer.headers["location"].startswith("/ui/sign-in?next=")


async def test_an_unknown_token_does_not_sign_in(site: Site) -> None:
    async with httpx.AsyncClient(base_url=site.url, headers={"Accept-Language": "en"}) as client:
        form = await client.get("/ui/sign-in")
        answer = await client.post(
            "/ui/sign-in", data={"csrf_token": csrf_in(form.text), "token": "cf_not-a-token"}
        )
        assert answer.status_code == 401
        assert "unknown or has been revoked" in answer.text
        assert (await client.get("/ui/cases")).status_code == 303


async def test_the_session_cookie_is_httponly_lax_and_secure_over_https(site: Site) -> None:
    for base, secure in (("http://caseflow.test", False), ("https://caseflow.test", True)):
        transport = httpx.ASGITransport(app=site.app)
        async with httpx.AsyncClient(transport=transport, base_url=base) as client:
            form = await client.get("/ui/sign-in")
            answer = await client.post(
                "/ui/sign-in",
                data={"csrf_token": csrf_in(form.text), "token": site.tokens["demo-caseworker"]},
            )
            assert answer.status_code == 303
            cookie = answer.headers["set-cookie"].lower()
            assert cookie.startswith("caseflow_session=")
            assert "httponly" in cookie
            assert "samesite=lax" in cookie
            assert ("secure" in cookie.split("; ")) is secure
            # The token is never kept by the browser.
            assert site.tokens["demo-caseworker"].lower() not in cookie


async def test_a_form_without_its_csrf_token_is_refused(site: Site) -> None:
    case_id = await report_child(site, "demo-caseworker")
    before = await events_of(site, case_id)
    assessment = {f"scores.{need}": str(score) for need, score in SCORES.items()}
    async with signed_in(site, "demo-caseworker") as client:
        page = await client.get(f"/ui/cases/{case_id}")
        token = csrf_in(page.text)
        path = f"/ui/cases/{case_id}/assessment"
        missing = await client.post(path, data=assessment)
        wrong = await client.post(path, data={**assessment, "csrf_token": token[::-1]})
        async with signed_in(site, "demo-social-worker") as other:
            # A token is its session's: another session's does not do.
            theirs = csrf_in((await other.get("/ui/cases")).text)
        borrowed = await client.post(path, data={**assessment, "csrf_token": theirs})
        for refused in (missing, wrong, borrowed):
            assert refused.status_code == 403
            assert refused.headers["content-type"].startswith("text/html")
            assert "reload the page" in refused.text
        assert await events_of(site, case_id) == before
        accepted = await client.post(path, data={**assessment, "csrf_token": token})
        assert accepted.status_code == 303
        assert await events_of(site, case_id) > before
    async with httpx.AsyncClient(base_url=site.url) as anonymous:
        answer = await anonymous.post("/ui/sign-in", data={"token": site.tokens["demo-caseworker"]})
        assert answer.status_code == 403


async def test_signing_out_ends_the_session_and_its_token(site: Site) -> None:
    async with signed_in(site, "demo-caseworker") as client:
        page = await client.get("/ui/cases")
        token = csrf_in(page.text)
        out = await client.post("/ui/sign-out", data={"csrf_token": token})
        assert out.status_code == 303
        assert (await client.get("/ui/cases")).status_code == 303
        # The form token of the ended session no longer works in the new one.
        assert (await client.post("/ui/sign-out", data={"csrf_token": token})).status_code == 403


async def test_an_altered_or_revoked_session_is_signed_out(site: Site) -> None:
    async with signed_in(site, "demo-caseworker") as client:
        cookie = client.cookies["caseflow_session"]
        version, payload, signature = cookie.split(".")
        forged = f"{version}.{payload[:-2]}{'AB' if payload[-2:] != 'AB' else 'CD'}.{signature}"
        client.cookies.set("caseflow_session", forged)
        assert (await client.get("/ui/cases")).status_code == 303
    directory = Directory(site.engine.pool)
    user_id = f"leaving-{uuid.uuid4().hex[:8]}"
    site.tokens[user_id] = await directory.add_user(
        User(user_id, "Caseworker who leaves", "caseworker", "530627101201")
    )
    async with signed_in(site, user_id) as client:
        assert (await client.get("/ui/cases")).status_code == 200
        await directory.revoke_user(user_id)
        assert (await client.get("/ui/cases")).status_code == 303


async def test_a_caseworker_never_sees_another_areas_case(site: Site) -> None:
    far = await report_child(site, "far-caseworker", FAR_VILLAGE)
    own = await report_child(site, "demo-caseworker")

    async def listed() -> bool:
        async with signed_in(site, "demo-caseworker") as client:
            return own.hex[:8] in (await client.get("/ui/cases")).text

    await wait_until(listed, what="the caseload to list the new case")
    async with signed_in(site, "demo-caseworker") as client:
        caseload = (await client.get("/ui/cases")).text
        assert far.hex[:8] not in caseload
        assert "Far Village" not in caseload
        for path in (f"/ui/cases/{far}", f"/ui/cases/{far}/history"):
            answer = await client.get(path)
            assert answer.status_code in (403, 404)
            assert "Wang Xiaoyu" not in answer.text
        typed = await client.get(f"/ui/cases/{far}")
        nowhere = await client.get(f"/ui/cases/{uuid.uuid4()}")
        assert typed.status_code == nowhere.status_code == 404
        # A case elsewhere answers exactly as a case that does not exist.
        assert typed.text.replace(str(far), "X") == nowhere.text.replace(
            nowhere.url.path.rsplit("/", 1)[1], "X"
        )
        found = await client.get("/ui/cases", params={"q": far.hex[:8]})
        assert f"/ui/cases/{far}" not in found.text
        assert "No cases match." in found.text
        # Asking for the other area's caseload by its code is refused.
        assert (await client.get("/ui/cases", params={"area": "520524"})).status_code == 403
        # And a search by the case's whole id leads to the same 404 page.
        searched = await client.get("/ui/cases", params={"q": str(far)}, follow_redirects=True)
        assert searched.status_code == 404


async def test_a_caseworker_reaches_no_page_beyond_their_role(site: Site) -> None:
    own = await report_child(site, "demo-caseworker")
    async with signed_in(site, "demo-caseworker") as client:
        for path in (
            "/ui/approvals",
            "/ui/area",
            "/ui/report",
            "/ui/integrity",
            f"/ui/cases/{own}/history",
            "/ui/report/facts?year=2025&county=530627&figure=assistance.total",
        ):
            answer = await client.get(path)
            assert answer.status_code == 403, path
            assert answer.headers["content-type"].startswith("text/html")
            assert "Your role cannot do this." in answer.text
        assert (await client.get("/ui/no-such-page")).status_code == 404
        # A decision's address typed into the browser is no page at all.
        typed = await client.get(f"/ui/cases/{own}/approvals/{uuid.uuid4()}/decision")
        assert typed.status_code == 404


async def test_the_case_page_offers_only_what_fits_the_case_and_the_user(site: Site) -> None:
    case_id = await report_child(site, "demo-caseworker")
    base = f"/ui/cases/{case_id}"
    async with signed_in(site, "demo-caseworker") as caseworker:
        reported = post_forms((await caseworker.get(base)).text)
        assert f"{base}/assessment" in reported
        assert f"{base}/assistance" not in reported  # not assessed yet
        assert f"{base}/plan" not in reported
        assert not any("/approvals/" in action for action in reported)

        await command(site, "demo-caseworker", f"/cases/{case_id}/assessment", {"scores": SCORES})
        assessed = post_forms((await caseworker.get(base)).text)
        assert {f"{base}/assistance", f"{base}/plan"} <= assessed
        assert f"{base}/assessment" in assessed  # a reassessment

        await command(
            site,
            "demo-caseworker",
            f"/cases/{case_id}/assistance",
            {"kind": "quilt", "quantity": 1, "unit": "piece", "value_yuan": 2500},
        )
        waiting = await caseworker.get(base)
        assert not any("/approvals/" in action for action in post_forms(waiting.text))
        assert "Waiting for a supervisor&#39;s decision." in waiting.text

    for supervisor in ("demo-supervisor", "demo-county-officer"):
        async with signed_in(site, supervisor) as client:
            forms = post_forms((await client.get(base)).text)
            assert sum("/approvals/" in action for action in forms) == 1, supervisor
    async with signed_in(site, "demo-social-worker") as elsewhere:
        assert (await elsewhere.get(base)).status_code == 404  # another township's caseworker
    async with signed_in(site, "demo-auditor") as auditor:
        page = await auditor.get(base)
        assert page.status_code == 200
        assert post_forms(page.text) == set()
        assert f"{base}/history" in page.text


async def test_no_supervisor_is_offered_their_own_request(site: Site) -> None:
    case_id, approval_id = await assessed_case_awaiting_approval(site, "demo-supervisor")
    async with signed_in(site, "demo-supervisor") as requester:
        page = await requester.get(f"/ui/cases/{case_id}")
        assert not any("/approvals/" in action for action in post_forms(page.text))
        assert "another supervisor decides it" in page.text
        # And posting it anyway is refused by the engine's rule, with nothing recorded.
        before = await events_of(site, case_id)
        answer = await requester.post(
            f"/ui/cases/{case_id}/approvals/{approval_id}/decision",
            data={"csrf_token": csrf_in(page.text), "decision": "approve"},
        )
        assert answer.status_code == 403
        assert "another supervisor must decide it" in answer.text
        assert await events_of(site, case_id) == before


async def test_a_caseworkers_decision_is_refused_and_records_nothing(site: Site) -> None:
    case_id, approval_id = await assessed_case_awaiting_approval(site, "demo-caseworker")
    before = await events_of(site, case_id)
    async with signed_in(site, "demo-caseworker") as client:
        page = await client.get(f"/ui/cases/{case_id}")
        answer = await client.post(
            f"/ui/cases/{case_id}/approvals/{approval_id}/decision",
            data={"csrf_token": csrf_in(page.text), "decision": "approve", "comment": "ok"},
        )
        assert answer.status_code == 403
        assert "Your role cannot do this." in answer.text
    assert await events_of(site, case_id) == before
    assert len(await site.engine.events.read_stream(case_stream_id(case_id))) == before


async def test_a_refused_report_is_explained_in_plain_words(site: Site) -> None:
    async with signed_in(site, "demo-caseworker") as client:
        form = await client.get("/ui/cases/new")
        fields = {
            "csrf_token": csrf_in(form.text),
            "idempotency_key": str(uuid.uuid4()),
            "child.name": "Zhao Xiaohua",
            "child.sex": "female",
            "child.date_of_birth": "2001-01-01",  # of age: the program serves children
            "village": "530627101201",
            "household.address": "Group 2",
            "household.members": "3",
            "guardians.0.name": "Zhao Nainai",
            "guardians.0.relation": "grandmother",
            "guardians.0.able_to_care": "yes",
            "categories": "in_difficulty",
        }
        answer = await client.post("/ui/cases/new", data=fields)
        assert answer.status_code == 422
        assert "The child is 18 or older." in answer.text
        assert "the program serves children under 18" in answer.text  # the problem's detail
        invalid = await client.post(
            "/ui/cases/new", data={**fields, "child.date_of_birth": "2016-01-01", "child.name": ""}
        )
        assert invalid.status_code == 422
        assert 'id="child-name-error" aria-live="polite">This field is required.' in invalid.text
        # What was typed stays in the form, to be corrected rather than typed again.
        assert 'value="Group 2"' in invalid.text
        elsewhere = await client.post(
            "/ui/cases/new",
            data={**fields, "child.date_of_birth": "2016-01-01", "village": FAR_VILLAGE},
        )
        assert elsewhere.status_code == 403
        assert "This lies outside your area." in elsewhere.text


async def test_the_caseload_finds_a_case_by_its_number(site: Site) -> None:
    case_id = await report_child(site, "demo-caseworker")

    async def found() -> bool:
        async with signed_in(site, "demo-caseworker") as client:
            page = await client.get("/ui/cases", params={"q": case_id.hex[:8]})
            return f"/ui/cases/{case_id}" in page.text

    await wait_until(found, what="the search to find the case")
    async with signed_in(site, "demo-caseworker") as client:
        whole = await client.get("/ui/cases", params={"q": str(case_id)})
        assert whole.status_code == 303
        assert whole.headers["location"] == f"/ui/cases/{case_id}"
        nonsense = await client.get("/ui/cases", params={"q": "Wang"})
        assert "first 8 characters" in nonsense.text
        for view in ("due_today", "overdue"):
            listed = await client.get("/ui/cases", params={"view": view, "priority": "urgent"})
            assert listed.status_code == 200
        assert (await client.get("/ui/cases", params={"view": "soon"})).status_code == 422


async def test_pages_speak_chinese_by_default_and_english_on_request(site: Site) -> None:
    async with signed_in(site, "demo-caseworker", language="zh-CN,zh;q=0.9") as client:
        chinese = await client.get("/ui/cases/new")
        assert "事实无人抚养儿童" in chinese.text
        assert "儿童主任" in chinese.text
        switch = await client.post(
            "/ui/language",
            data={"csrf_token": csrf_in(chinese.text), "lang": "en", "next": "/ui/cases/new"},
        )
        assert switch.status_code == 303
        assert switch.headers["location"] == "/ui/cases/new"
        english = await client.get("/ui/cases/new")
        assert "De facto orphan" in english.text
        assert "Child welfare director" in english.text
        # Never a redirect to another site.
        away = await client.post(
            "/ui/language",
            data={"csrf_token": csrf_in(english.text), "lang": "zh", "next": "//evil.test/"},
        )
        assert away.headers["location"] == "/ui/"


async def test_a_guardian_change_and_a_transfer_are_proposed_through_the_case_page(
    site: Site,
) -> None:
    case_id = await report_child(site, "demo-caseworker")
    base = f"/ui/cases/{case_id}"
    proposals = {f"{base}/guardian-changes", f"{base}/transfers"}
    async with signed_in(site, "demo-caseworker") as caseworker:
        page = await caseworker.get(base)
        offered = post_forms(page.text)
        assert proposals | {f"{base}/school-status", f"{base}/corrections"} <= offered
        assert f"{base}/recognition" in offered

        # A mistake comes back on the page, named by field, with nothing recorded.
        before = await events_of(site, case_id)
        wrong = await caseworker.post(
            f"{base}/guardian-changes",
            data={"csrf_token": csrf_in(page.text), "new_guardian.name": "Li Ayi"},
        )
        assert wrong.status_code == 422
        assert "new_guardian.relation" in wrong.text
        assert await events_of(site, case_id) == before

        answer = await caseworker.post(
            f"{base}/guardian-changes",
            data={
                "csrf_token": csrf_in(page.text),
                "idempotency_key": str(uuid.uuid4()),
                "new_guardian.name": "Li Ayi",
                "new_guardian.relation": "aunt",
                "new_guardian.able_to_care": "on",
                "reason": "The grandfather is ill",
            },
        )
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"{base}?done=guardian_change"
        answer = await caseworker.post(
            f"{base}/transfers",
            data={
                "csrf_token": csrf_in(page.text),
                "idempotency_key": str(uuid.uuid4()),
                "destination_kind": "boarding_school",
                "destination": "Township boarding school",
                "reason": "Closer to school",
            },
        )
        assert answer.status_code == 303, answer.text
        done = await caseworker.get(answer.headers["location"])
        assert "Transfer proposed" in done.text
        assert not proposals & post_forms(done.text)  # both now wait for a decision
        assert not any("/approvals/" in action for action in post_forms(done.text))
        assert await events_of(site, case_id) == before + 4  # two proposals, two approvals

    async with signed_in(site, "demo-supervisor") as supervisor:
        page = await supervisor.get(base)
        decisions = sorted(action for action in post_forms(page.text) if "/approvals/" in action)
        assert len(decisions) == 2
        for decision in decisions:
            answer = await supervisor.post(
                decision, data={"csrf_token": csrf_in(page.text), "decision": "approve"}
            )
            assert answer.status_code == 303, answer.text

    await command(
        site,
        "demo-caseworker",
        f"/cases/{case_id}/referrals",
        {"agency_kind": "hospital", "agency": "County hospital", "service": "Check-up"},
    )
    async with signed_in(site, "demo-caseworker") as caseworker:

        async def transfer_moves_on() -> bool:
            # The school system's simulator answers the approved transfer in its own time: its
            # place is recorded on the page, or the child's arrival once the place is confirmed.
            found = post_forms((await caseworker.get(base)).text)
            return any(action.endswith(("/place", "/arrival")) for action in found)

        await wait_until(transfer_moves_on, what="the transfer's next form")
        offered = post_forms((await caseworker.get(base)).text)
        assert any(action.endswith("/answer") for action in offered)  # the open referral
        assert any(action.endswith("/withdrawal") for action in offered)
    async with signed_in(site, "demo-auditor") as auditor:
        page = await auditor.get(base)
        assert page.status_code == 200
        assert post_forms(page.text) == set()
        # And posting a proposal anyway is refused, with nothing recorded.
        count = await events_of(site, case_id)
        refused = await auditor.post(
            f"{base}/transfers",
            data={
                "csrf_token": csrf_in(page.text),
                "destination_kind": "institution",
                "destination": "County home",
                "reason": "x",
            },
        )
        assert refused.status_code == 403
        assert await events_of(site, case_id) == count
