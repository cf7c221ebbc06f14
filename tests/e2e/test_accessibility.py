"""Accessibility: axe-core (through axe-playwright-python) checks the portal's main pages in Chromium
against the WCAG 2.0 and 2.1 A and AA rules and axe's best practices, signed in as each kind of user that uses the page —
centre and Sở staff of a province, the ministry's reviewer, the administrator — and, for the login
page, signed out and in English. Forms are also checked after a send with errors, so the error
messages and their links to the fields are checked too.

One test per area of the portal (sign-in, home and accounts, đề án, funding, reports and inspection,
dashboards): it builds the data once and signs each role in once, then checks every page of the area
that role uses, and goes on after a page fails. A failure names each page and role, each rule broken
(id, impact, help) and the elements that break it, with a screenshot. (It was one test per page: 51
tests each building the data and signing in again, a quarter of the whole suite's time.)

The Django admin (/quan-tri/) is not the portal's own markup and is not checked here.
"""
import os
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from khuyencong.choices import Level
from reports.models import ReportJob
from tests.browser import sign_in
from tests.funding.conftest import ANNEX, allocation_book, xlsx_bytes
from tests.funding.factories import AllocationFactory
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer
from tests.projects.factories import advance, current, ready_de_an
from tests.reports import inspection_factories as insp

AXE = Axe()
# WCAG 2.0 and 2.1, levels A and AA — the level the portal is held to — and axe's best practices
# (one <main>, landmarks, heading order, a level-one heading, …). No rule is excluded.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
               "resultTypes": ["violations"]}
ROLES = ("centre", "province", "reviewer", "admin")


def _world():
    """Users of every role (Bắc Ninh for the local ones) and one of each thing the pages show: a đề án
    in draft (form, edit) and an approved one (detail, money); enough đề án for a second list page;
    an inspection plan with a mission, a record and its recommendation; a report job; an allocation."""
    users = SimpleNamespace(centre=centre_user("24"), province=province_user("24"), reviewer=reviewer(),
                            admin=admin_user())
    draft = ready_de_an(users.centre, name="Đề án điểm máy chẻ nan tự động Bắc Ninh")
    appraisal = advance(ready_de_an(users.centre, name="Đề án hỗ trợ thiết bị dệt thổ cẩm"), "under_appraisal",
                        SimpleNamespace(**vars(users)))
    approved = advance(ready_de_an(users.centre, name="Đề án hỗ trợ máy sấy chè Tân Cương"), "approved",
                       SimpleNamespace(**vars(users)))
    listed = [insp.de_an("24", status=status) for status in ("submitted", "forwarded", "in_implementation") * 9]
    AllocationFactory(year=2026, level=Level.LOCAL, province=current("24"), amount=2_000_000_000)
    plan = insp.plan(users.reviewer)
    mission = insp.mission(users.reviewer, plan, [listed[2]])
    record = insp.record(users.reviewer, listed[2], mission)
    job = ReportJob.objects.create(kind="province", year=2025, province=current("24"), request_key="a11y",
                                   status="failed", error="Máy chủ báo cáo không phản hồi.",
                                   requested_by=users.province, finished_at=None)
    return SimpleNamespace(users=users, draft=draft, appraisal=appraisal, approved=approved, plan=plan, mission=mission,
                           record=record, recommendation=record.recommendations.first(), job=job)


def _goto(url, status=200):
    """Open the page; it must answer ``status`` (else an error page would be checked instead of the page meant)."""
    def visit(page, base, w):
        response = page.goto(f"{base}{url(w) if callable(url) else url}")
        assert response.status == status, f"{response.status} {response.url}"
    return visit


SEND_WITH_REQUIRED_EMPTIED = """() => {
    const forms = [...document.querySelectorAll('main form')];
    const form = forms.sort((a, b) => b.elements.length - a.elements.length)[0];
    form.noValidate = true;  // let the server answer, as for a browser that does not check
    for (const el of form.querySelectorAll('input[required], textarea[required]')) {
        if (!['file', 'checkbox', 'radio', 'hidden'].includes(el.type)) el.value = '';
    }
    form.requestSubmit(form.querySelector('[type=submit]'));
}"""


def _send_empty(url):
    """Open the form and send it with its required fields emptied: the page comes back with errors."""
    def visit(page, base, w):
        page.goto(f"{base}{url(w) if callable(url) else url}")
        with page.expect_navigation():
            page.evaluate(SEND_WITH_REQUIRED_EMPTIED)
        expect(page.locator(".field-error, .errorlist, #form-errors, .msg-error").first).to_be_visible()
    return visit


def _approve_without_decision(page, base, w):
    """The reviewer sends «Phê duyệt» with no decision number: the panel reopens with its errors."""
    page.goto(f"{base}{reverse('projects:detail', args=[w.appraisal.pk])}")
    panel = page.locator("details.action", has=page.locator("input[name=decision_number]")).first
    panel.locator("summary").click()
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        panel.locator("form").evaluate("f => { f.noValidate = true; f.requestSubmit(f.querySelector('[type=submit]')); }")
    expect(page.locator("[id^=errors-]").first).to_be_visible()


def _wrong_password(page, base, w):
    page.goto(f"{base}/dang-nhap/")
    page.get_by_label("Tên đăng nhập").fill(w.users.centre.username)
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _reset_link(w):
    """A valid «đặt lại mật khẩu» link of the centre's account (what the mail holds)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    user = w.users.centre
    return f"/dat-lai-mat-khau/{urlsafe_base64_encode(force_bytes(user.pk))}/{default_token_generator.make_token(user)}/"


def _invitation_link(w):
    """A valid invitation link (what an administrator's «thư mời đặt mật khẩu» holds) of the centre's account."""
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from khuyencong.tokens import invitation_token_generator

    user = w.users.centre
    user.refresh_from_db()
    return f"/kich-hoat-tai-khoan/{urlsafe_base64_encode(force_bytes(user.pk))}/{invitation_token_generator.make_token(user)}/"


def _account_with_errors(page, base, w):
    """«Thông tin liên hệ» sent with a telephone of words and a new address without the password."""
    page.goto(f"{base}/tai-khoan/")
    page.get_by_label("Điện thoại").fill("gọi tôi")
    page.get_by_label("Thư điện tử", exact=True).fill("moi@congthuong.gov.vn")
    page.get_by_role("button", name="Lưu thông tin liên hệ").click()
    expect(page.locator("#form-errors")).to_be_visible()


def _in_english(page, base, w):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.goto(f"{base}/dang-nhap/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def _home_in_english(page, base, w):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.goto(f"{base}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def _upload(path_of):
    def visit(page, base, w):
        page.goto(f"{base}{reverse('funding:import_upload')}")
        page.get_by_label("Tệp Excel (.xlsx)").set_input_files(path_of())
        page.get_by_role("button", name="Tải lên và xem trước").click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    return visit


def _upload_without_file(page, base, w):
    _send_empty(reverse("funding:import_upload"))(page, base, w)


def _problem_book():
    """A workbook that reads but has a wrong row: the preview lists the problem and keeps nothing."""
    path = os.path.join(os.environ.get("TEST_OUTPUT_DIR", "test-output"), "a11y-phan-bo-sai.xlsx")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    book = allocation_book([("Tỉnh Bắc Ninh", "24", 1500, 300), ("Tỉnh Không Có", "99", 100, 50)])
    with open(path, "wb") as out:
        out.write(xlsx_bytes(book))
    return os.path.abspath(path)


def _report_with_errors(page, base, w):
    page.goto(f"{base}{reverse('reports:job_list')}")
    page.get_by_role("region", name="Yêu cầu tạo báo cáo").get_by_label("Năm", exact=True).fill("1990")
    with page.expect_navigation():
        page.evaluate(SEND_WITH_REQUIRED_EMPTIED.replace("el.value = ''", "el.value = el.value"))
    expect(page.locator(".field-error, .errorlist").first).to_be_visible()


@dataclass
class Page:
    name: str
    visit: object
    roles: tuple = ROLES


# In the order each role visits them after signing in once: a page that sets the English cookie comes
# last in its area (the next role's sign-in clears it).
PAGES = [
    Page("login", _goto("/dang-nhap/"), roles=(None,)),
    Page("login-wrong-password", _wrong_password, roles=(None,)),
    Page("password-reset", _goto("/quen-mat-khau/"), roles=(None,)),
    Page("password-reset-errors", _send_empty("/quen-mat-khau/"), roles=(None,)),
    Page("password-reset-done", _goto("/quen-mat-khau/da-gui/"), roles=(None,)),
    Page("password-reset-new", _goto(_reset_link), roles=(None,)),
    Page("password-reset-new-errors", _send_empty(_reset_link), roles=(None,)),
    Page("password-reset-bad-link", _goto("/dat-lai-mat-khau/MQ/khong-hop-le/"), roles=(None,)),
    Page("password-reset-complete", _goto("/dat-lai-mat-khau/xong/"), roles=(None,)),
    Page("invitation", _goto(_invitation_link), roles=(None,)),
    Page("invitation-errors", _send_empty(_invitation_link), roles=(None,)),
    Page("invitation-bad-link", _goto("/kich-hoat-tai-khoan/MQ/khong-hop-le/"), roles=(None,)),
    Page("invitation-complete", _goto("/kich-hoat-tai-khoan/xong/"), roles=(None,)),
    Page("login-english", _in_english, roles=(None,)),
    Page("home", _goto("/")),
    Page("account", _goto("/tai-khoan/"), roles=("centre", "reviewer")),
    Page("account-errors", _account_with_errors, roles=("province",)),
    Page("password-change", _goto("/doi-mat-khau/"), roles=("province",)),
    Page("password-change-errors", _send_empty("/doi-mat-khau/"), roles=("province",)),
    Page("password-change-done", _goto("/doi-mat-khau/xong/"), roles=("province",)),
    Page("user-list", _goto("/can-bo/"), roles=("province", "reviewer", "admin")),
    Page("province-list", _goto("/danh-muc/tinh-thanh-pho/"), roles=("reviewer",)),
    Page("not-found", _goto("/de-an/999999/", status=404), roles=("province",)),
    Page("forbidden", _goto("/kinh-phi/nhap/", status=403), roles=("centre",)),
    Page("home-english", _home_in_english, roles=("province", "reviewer")),
    Page("de-an-list", _goto("/de-an/")),
    Page("de-an-list-search", _goto("/de-an/?q=ch%C3%A8&status=in_implementation"), roles=("province", "reviewer")),
    Page("de-an-list-page-2", _goto("/de-an/?size=20&page=2"), roles=("province",)),
    Page("de-an-queue", _goto("/de-an/cho-xu-ly/"), roles=("province", "reviewer")),
    Page("establishments", _goto("/de-an/co-so/"), roles=("province", "reviewer")),
    Page("workflow-guide", _goto("/de-an/quy-trinh/"), roles=("centre",)),
    Page("establishment", _goto(lambda w: reverse("projects:establishment", args=[
        w.approved.beneficiaries.first().establishment_id])), roles=("centre", "reviewer")),
    Page("establishment-edit", _goto(lambda w: reverse("projects:establishment_edit", args=[
        w.approved.beneficiaries.first().establishment_id])), roles=("province",)),
    Page("establishment-edit-errors", _send_empty(lambda w: reverse("projects:establishment_edit", args=[
        w.approved.beneficiaries.first().establishment_id])), roles=("province",)),
    Page("notifications", _goto("/de-an/thong-bao/"), roles=("centre", "reviewer")),
    Page("de-an-detail-draft", _goto(lambda w: reverse("projects:detail", args=[w.draft.pk])), roles=("centre", "admin")),
    Page("de-an-detail-approved", _goto(lambda w: reverse("projects:detail", args=[w.approved.pk]))),
    Page("de-an-detail-action-errors", _approve_without_decision, roles=("reviewer",)),
    Page("de-an-create", _goto("/de-an/tao-moi/"), roles=("centre",)),
    Page("de-an-create-errors", _send_empty("/de-an/tao-moi/"), roles=("centre",)),
    Page("de-an-edit", _goto(lambda w: reverse("projects:edit", args=[w.draft.pk])), roles=("centre",)),
    Page("de-an-edit-errors", _send_empty(lambda w: reverse("projects:edit", args=[w.draft.pk])),
         roles=("centre",)),
    Page("funding-overview", _goto("/kinh-phi/")),
    Page("funding-national", _goto("/kinh-phi/toan-quoc/?nam=2026"), roles=("reviewer", "admin")),
    Page("funding-province", _goto("/kinh-phi/tinh/24/2026/"), roles=("province", "reviewer")),
    Page("funding-de-an", _goto(lambda w: reverse("funding:de_an_money", args=[w.approved.pk])),
         roles=("centre", "reviewer", "admin")),
    Page("import-list", _goto("/kinh-phi/nhap/"), roles=("admin",)),
    Page("import-upload", _goto("/kinh-phi/nhap/tai-len/"), roles=("admin",)),
    Page("import-upload-errors", _upload_without_file, roles=("admin",)),
    Page("import-preview", _upload(lambda: ANNEX), roles=("admin",)),
    Page("import-preview-problems", _upload(_problem_book), roles=("admin",)),
    Page("reports", _goto("/bao-cao/"), roles=("province", "reviewer")),
    Page("reports-request-errors", _report_with_errors, roles=("reviewer",)),
    Page("report-job", _goto(lambda w: reverse("reports:job_detail", args=[w.job.pk])), roles=("province",)),
    Page("inspection-plans", _goto("/bao-cao/kiem-tra/"), roles=("reviewer", "admin")),
    Page("inspection-plan", _goto(lambda w: reverse("reports:inspection_plan", args=[w.plan.pk])), roles=("reviewer",)),
    Page("inspection-plan-form", _goto("/bao-cao/kiem-tra/ke-hoach/moi/"), roles=("reviewer",)),
    Page("inspection-plan-form-errors", _send_empty("/bao-cao/kiem-tra/ke-hoach/moi/"), roles=("reviewer",)),
    Page("inspection-mission", _goto(lambda w: reverse("reports:inspection_mission", args=[w.mission.pk])),
         roles=("reviewer",)),
    Page("inspection-mission-form", _goto(lambda w: reverse("reports:inspection_mission_edit", args=[w.mission.pk])),
         roles=("reviewer",)),
    Page("inspection-records", _goto("/bao-cao/kiem-tra/bien-ban/"), roles=("province", "reviewer")),
    Page("inspection-record", _goto(lambda w: reverse("reports:inspection_record", args=[w.record.pk])),
         roles=("province", "reviewer")),
    Page("inspection-record-form", _goto(lambda w: reverse("reports:inspection_record_edit", args=[w.record.pk])),
         roles=("reviewer",)),
    Page("inspection-recommendations", _goto("/bao-cao/kiem-tra/kien-nghi/"), roles=("province", "reviewer")),
    Page("inspection-recommendation",
         _goto(lambda w: reverse("reports:inspection_recommendation", args=[w.recommendation.pk])),
         roles=("province", "reviewer")),
    Page("dashboard-national", _goto("/tong-quan/toan-quoc/"), roles=("reviewer", "admin")),
    Page("dashboard-province", _goto("/tong-quan/tinh/24/"), roles=("province", "centre")),
    Page("dashboard-table", _goto("/tong-quan/toan-quoc/bang/tinh/"), roles=("reviewer",)),
    Page("dashboard-outputs", _goto(lambda w: f"/tong-quan/ket-qua/?de_an={w.approved.pk}"),
         roles=("centre", "reviewer")),
]
# Each page's area: the first page name of each area in PAGES, and the area's test id.
AREAS = {"login": "sign-in", "home": "home-accounts", "de-an-list": "de-an", "funding-overview": "funding",
         "reports": "reports-inspection", "dashboard-national": "dashboards"}


def _areas():
    areas, current = {}, None
    for spec in PAGES:
        current = AREAS.get(spec.name, current)
        areas.setdefault(current, []).append(spec)
    return areas


AREA_PAGES = _areas()


def _report(violations):
    lines = []
    for v in violations:
        lines.append(f"  {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            lines.append(f"      {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def _check(page, spec, role, base, w, screenshot_dir):
    """Open ``spec``'s page as the signed-in ``role`` and run axe on it; a failure's text, or None."""
    where = f"{spec.name} as {role or 'anonymous'}"
    try:
        spec.visit(page, base, w)
        page.wait_for_load_state("networkidle")
        # Closed <details> (a đề án's action panels, a chart's data table) are checked open as well.
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
    except (AssertionError, PlaywrightError) as exc:  # the page did not open as meant: the others still run
        violations, problem = None, f"{where}: could not be checked: {exc}"
    else:
        problem = f"{where} ({page.url}):\n{_report(violations)}" if violations else None
    if problem:
        page.screenshot(path=os.path.join(screenshot_dir, f"a11y-{spec.name}-{role or 'anon'}.png"), full_page=True)
    return problem


def test_every_page_belongs_to_one_area():
    assert [spec for specs in AREA_PAGES.values() for spec in specs] == PAGES
    assert len({spec.name for spec in PAGES}) == len(PAGES) and None not in AREA_PAGES


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("area", list(AREA_PAGES))
def test_pages_have_no_accessibility_violations(area, live_server, page, screenshot_dir, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    base = live_server.url
    w = _world()
    specs = AREA_PAGES[area]
    failures, checked = [], 0
    for role in (None, *ROLES):
        mine = [spec for spec in specs if role in spec.roles]
        if not mine:
            continue
        if role is None:
            page.context.clear_cookies()
        else:
            sign_in(page, base, getattr(w.users, role))
        for spec in mine:
            checked += 1
            problem = _check(page, spec, role, base, w, screenshot_dir)
            if problem:
                failures.append(problem)
    assert checked == sum(len(spec.roles) for spec in specs)
    assert not failures, "axe-core (WCAG 2.0/2.1 A, AA) found:\n" + "\n".join(failures)
