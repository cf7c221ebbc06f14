"""The create form preselected «Đề án điểm» (the first choice), so a đề án saved without looking became a
pilot, with a pilot's caps and rules. It now starts as «Đề án thường», like the model's default."""
import re

from django.urls import reverse


def test_the_create_form_starts_as_an_ordinary_de_an(users, client_as):
    page = client_as(users.centre).get(reverse("projects:create")).content.decode()
    select = re.search(r'<select name="kind"[^>]*>(.*?)</select>', page, re.S).group(1)
    selected = re.findall(r'<option value="(\w+)"[^>]*selected', select)
    assert selected == ["thuong"]
