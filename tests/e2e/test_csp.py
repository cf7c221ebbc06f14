"""In Chromium, under the portal's Content-Security-Policy: no page logs a blocked script or a script
error, the đề án form's own script (rows, live totals) and the date field still work, and a
confirmation that is cancelled sends nothing."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects import services
from projects.models import Attachment
from tests.browser import sign_in
from tests.khuyencong.factories import centre_user
from tests.projects.factories import pdf_file, ready_de_an


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_pages_run_under_the_policy_and_a_cancelled_confirmation_sends_nothing(live_server, page):
    base = live_server.url
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    user = centre_user("24")
    de_an = ready_de_an(user)
    services.attachment_add(actor=user, de_an=de_an, file=pdf_file("bao-gia.pdf"), kind="other")
    sign_in(page, base, user)
    for url in ("/", reverse("projects:list"), reverse("projects:detail", args=[de_an.pk]), "/tong-quan/",
                "/kinh-phi/", "/bao-cao/"):
        response = page.goto(f"{base}{url}")
        assert response.status == 200 and "script-src 'self'" in response.headers["content-security-policy"]

    # The đề án form's script, now a static file: a row is added, totals follow what is typed.
    page.goto(f"{base}{reverse('projects:create')}")
    rows = page.locator("#line-rows tr")
    before = rows.count()
    page.get_by_role("button", name="+ Thêm dòng kinh phí").click()
    expect(rows).to_have_count(before + 1)
    expect(page.get_by_label(f"Số tiền (đồng), dòng {before + 1}")).to_be_visible()
    page.locator("#id_line-0-amount").fill("1.500.000")
    expect(page.locator("[data-total=all]")).to_have_text("1.500.000 đ")
    expect(page.get_by_role("button", name="Chọn ngày trên lịch").first).to_be_visible()
    # The same in English: the new row is numbered in its own language.
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page.goto(f"{base}{reverse('projects:create')}")
    page.get_by_role("button", name="+ Add funding line").click()
    expect(page.get_by_label(f"Amount (VND), line {before + 1}")).to_be_visible()
    page.context.clear_cookies(name="django_language")

    # Delete the attachment: «Cancel» keeps it, «OK» deletes it.
    page.goto(f"{base}{reverse('projects:detail', args=[de_an.pk])}")
    delete = page.get_by_role("button", name="Xóa tài liệu bao-gia.pdf")
    questions = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    delete.click()
    page.wait_for_timeout(300)
    assert questions == ["Xóa tài liệu này?"]
    assert Attachment.objects.filter(de_an=de_an).count() == 1
    page.once("dialog", lambda d: d.accept())
    delete.click()
    expect(page.get_by_role("button", name="Xóa tài liệu bao-gia.pdf")).to_have_count(0)
    assert Attachment.objects.filter(de_an=de_an).count() == 0
    assert problems == [], problems
