"""In Chromium, keyboard only: marking a notification read in place keeps the row (now read), moves the
focus to the next unread notification's button, updates the unread count and says what happened."""
import pytest
from django.urls import reverse
from playwright.sync_api import expect

from projects.models import Notification
from tests.browser import sign_in
from tests.khuyencong.factories import centre_user


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
def test_marking_read_with_the_keyboard_moves_on_to_the_next(live_server, page):
    base = live_server.url
    user = centre_user("24")
    first = Notification.objects.create(recipient=user, verb="submit", message="Thông báo thứ nhất")
    second = Notification.objects.create(recipient=user, verb="submit", message="Thông báo thứ hai")
    sign_in(page, base, user)
    page.goto(f"{base}{reverse('projects:notifications')}")
    rows = {n.pk: page.locator(f"#tb-{n.pk}") for n in (first, second)}
    top = page.locator("table.data tbody tr").first
    top.get_by_role("button").focus()
    marked = first if top.get_attribute("id") == f"tb-{first.pk}" else second
    other = second if marked is first else first
    with page.expect_response(lambda r: r.url.endswith(reverse("projects:notifications_mark_read"))):
        page.keyboard.press("Enter")
    expect(rows[marked.pk]).to_be_visible()
    expect(rows[marked.pk].get_by_role("button")).to_have_count(0)
    expect(rows[other.pk].get_by_role("button")).to_be_focused()
    expect(page.locator("#notif-status")).to_have_text("Đã đánh dấu đã đọc.")
    expect(page.locator("#unread-count")).to_contain_text("1")
    # The last one: the focus goes to the heading.
    with page.expect_response(lambda r: r.url.endswith(reverse("projects:notifications_mark_read"))):
        page.keyboard.press("Enter")
    expect(page.locator("#notif-heading")).to_be_focused()
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
