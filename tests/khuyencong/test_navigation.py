"""The main menu marks where the user is: aria-current="page" on an entry's own page, "true" on the
pages of its section, the longest section winning; never two entries at once."""
import re

import pytest
from django.urls import reverse

from .factories import admin_user, centre_user, reviewer

pytestmark = pytest.mark.django_db


def marked(client, path):
    page = client.get(path).content.decode()
    nav = page[page.index('class="mainnav"'):page.index("</nav>", page.index('class="mainnav"'))]
    return re.findall(r'<a href="[^"]*" aria-current="(page|true)">([^<]+)</a>', nav)


@pytest.mark.parametrize("who, path, expected", [
    (reviewer, "/de-an/", [("page", "Đề án")]),
    (reviewer, "/de-an/cho-xu-ly/", [("page", "Việc chờ xử lý")]),
    (reviewer, "/de-an/co-so/", [("true", "Đề án")]),
    (reviewer, "/de-an/thong-bao/", [("page", "Thông báo")]),
    (reviewer, "/bao-cao/kiem-tra/kien-nghi/", [("true", "Kiểm tra, giám sát")]),
    (reviewer, "/bao-cao/", [("page", "Báo cáo")]),
    (centre_user, "/bao-cao/kiem-tra/kien-nghi/", [("true", "Kiểm tra, giám sát")]),
    (centre_user, "/bao-cao/kiem-tra/bien-ban/", [("page", "Kiểm tra, giám sát")]),
    (admin_user, "/kinh-phi/toan-quoc/", [("true", "Kinh phí")]),
    (admin_user, "/kinh-phi/nhap/", [("page", "Nhập Excel")]),
    (admin_user, "/kinh-phi/nhap/tai-len/", [("true", "Nhập Excel")]),
    (reviewer, "/tai-khoan/", []),
])
def test_the_menu_marks_the_page_or_its_section(client, who, path, expected):
    client.force_login(who())
    assert marked(client, path) == expected


def test_a_de_an_page_is_under_de_an(client):
    from tests.projects.factories import make_users, ready_de_an

    u = make_users()
    d = ready_de_an(u.centre)
    client.force_login(u.centre)
    assert marked(client, reverse("projects:detail", args=[d.pk])) == [("true", "Đề án")]
