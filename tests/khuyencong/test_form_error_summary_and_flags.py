"""«Đổi mật khẩu» sent with errors opens with a summary of them (role="alert"), each linked to its
field, as the đề án form does; and on the đề án form each beneficiary flag's checkbox is inside its
own label, so box and text never part on a narrow screen."""
import re

import pytest
from django.urls import reverse

from .factories import PASSWORD, centre_user

pytestmark = pytest.mark.django_db


def _summary(html):
    match = re.search(r'<div role="alert" id="form-errors">(.*?)</div>', html, re.S)
    assert match, "no error summary"
    return match.group(1)


def test_password_change_errors_are_summarised_at_the_top_with_links_to_the_fields(client):
    user = centre_user()
    client.force_login(user)
    response = client.post(reverse("password_change"), {"old_password": "sai-" + PASSWORD,
                                                         "new_password1": "MatKhauMoi#2026x",
                                                         "new_password2": "KhacHan#2026y"})
    assert response.status_code == 200
    html = response.content.decode()
    summary = _summary(html)
    assert html.index('id="form-errors"') < html.index('id="id_old_password"')  # at the top, before the fields
    assert "Mật khẩu chưa được đổi" in summary
    links = dict(re.findall(r'<a href="#(id_[a-z0-9_]+)">(.*?)</a>', summary, re.S))
    form = response.context["form"]
    assert set(links) == {f"id_{name}" for name in form.errors} == {"id_old_password", "id_new_password2"}
    for name, errors in form.errors.items():
        assert all(str(e).replace("'", "&#x27;") in links[f"id_{name}"] for e in errors), name
        assert f'id="id_{name}"' in html and f'id="id_{name}_error"' in html  # the target and its inline message
    assert "Mật khẩu cũ:" in links["id_old_password"] and "Xác nhận mật khẩu mới:" in links["id_new_password2"]


def test_password_change_page_has_no_summary_before_a_send(client):
    client.force_login(centre_user())
    assert 'id="form-errors"' not in client.get(reverse("password_change")).content.decode()


def test_each_beneficiary_flag_checkbox_is_inside_its_own_label(client):
    client.force_login(centre_user("24"))
    html = client.get(reverse("projects:create")).content.decode()
    for field in ("women_owned", "ethnic_minority", "craft_village", "DELETE"):
        box_id = f"id_ben-0-{field}"
        labels = re.findall(r"<label\b[^>]*>(.*?)</label>", html, re.S)
        own = [text for text in labels if f'id="{box_id}"' in text]
        assert len(own) == 1, f"{box_id} is not inside a label"
        assert own[0].count('type="checkbox"') == 1, f"{box_id}'s label holds another checkbox"
        assert re.sub(r"<[^>]+>", "", own[0]).strip(), f"{box_id}'s label has no text"
