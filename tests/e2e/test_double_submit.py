"""In Chromium: a form sent once ignores a second send while the page waits for the answer
(static/js/portal.js marks it busy), and a form shown again from the back/forward cache can be sent
again. The server does not rely on this (comments and create forms are deduplicated there too)."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Comment
from tests.browser import sign_in
from tests.khuyencong.factories import centre_user
from tests.projects.factories import ready_de_an

SEND_TWICE = """() => {
  const form = document.querySelector('form[action$="/y-kien/"]');
  const seen = [];
  document.addEventListener('submit', e => seen.push(e.defaultPrevented));  // after the portal's own handlers
  form.requestSubmit();
  form.requestSubmit();   // the second click, before the answer has come
  const button = form.querySelector('button[type=submit]');
  return {seen, sending: form.getAttribute('data-sending'), busy: button.getAttribute('aria-disabled')};
}"""


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_a_second_send_while_waiting_is_ignored(live_server, page):
    base = live_server.url
    user = centre_user("24")
    de_an = ready_de_an(user)
    sign_in(page, base, user)
    comment_url = f"{base}{reverse('projects:comment', args=[de_an.pk])}"
    posts = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url == comment_url else None)
    page.goto(f"{base}{reverse('projects:detail', args=[de_an.pk])}")
    page.get_by_label("Thêm ý kiến trao đổi").fill("Đã bổ sung báo giá")
    with page.expect_navigation():
        state = page.evaluate(SEND_TWICE)
    assert state == {"seen": [False, True], "sending": "1", "busy": "true"}
    expect(page.get_by_text("Đã ghi ý kiến.")).to_be_visible()
    assert posts == [comment_url]
    assert Comment.objects.filter(de_an=de_an).count() == 1

    # Back to the page as the browser kept it, then a new comment: the form works again.
    page.go_back()
    expect(page.get_by_role("button", name="Gửi ý kiến")).not_to_have_attribute("aria-disabled", "true")
    page.get_by_label("Thêm ý kiến trao đổi").fill("Ý kiến thứ hai")
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi ý kiến").click()
    expect(page.get_by_text("Đã ghi ý kiến.")).to_be_visible()
    assert len(posts) == 2
    assert list(Comment.objects.filter(de_an=de_an).order_by("id").values_list("text", flat=True)) == [
        "Đã bổ sung báo giá", "Ý kiến thứ hai"]
