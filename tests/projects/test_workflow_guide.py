"""«Quy trình xử lý đề án» (/de-an/quy-trinh/): generated from the one workflow table, so every state and
every step of ``workflow.WORKFLOW`` is on it, in Vietnamese, with who takes it, for which level, what
it needs and who is told; the signed-in role's own steps are marked; đề án pages link to their state."""
import re

import pytest
from django.urls import reverse

from projects import workflow
from projects.models import Status

from .factories import make_users, ready_de_an

pytestmark = pytest.mark.django_db

GUIDE = reverse("projects:workflow")


def sections(page):
    """State code → the HTML of its section."""
    return dict(re.findall(r'<section class="card" id="trang-thai-([a-z_]+)".*?>(.*?)</section>', page, re.S))


def test_every_state_and_step_of_the_table_is_explained():
    for steps in workflow.WORKFLOW.values():
        for step in steps:
            assert set(step.requires) <= set(workflow.REQUIREMENT_LABELS), step.action


def test_the_guide_follows_the_table_and_marks_the_reader_s_steps(client):
    u = make_users()
    client.force_login(u.province)
    page = client.get(GUIDE).content.decode()
    found = sections(page)
    assert list(found) == list(workflow.STATES)  # lifecycle order, each once
    for state, steps in workflow.WORKFLOW.items():
        html = found[state]
        assert str(Status(state).label) in html
        assert html.count("<tr") == (len(steps) + 1 if steps else 0)  # one row per step, and the header
        for step in steps:
            assert str(step.label) in html
            for code in step.requires:
                assert str(workflow.REQUIREMENT_LABELS[code]) in html
        if state in workflow.FINAL_STATES:
            assert "Trạng thái kết thúc" in html
    # The Sở's own steps are marked, the Cục's are not.
    submitted = found[workflow.SUBMITTED]
    assert submitted.count("Bạn thực hiện") == len(workflow.WORKFLOW[workflow.SUBMITTED])
    appraisal = found[workflow.UNDER_APPRAISAL]
    assert "Bạn thực hiện" not in appraisal and "Chuyên viên thẩm định (Cục)" in appraisal
    assert "Khuyến công quốc gia" in appraisal and "Khuyến công địa phương" not in appraisal
    assert "vai trò Cán bộ Sở Công Thương của bạn" in page
    client.force_login(u.reviewer)
    assert "Bạn thực hiện" in sections(client.get(GUIDE).content.decode())[workflow.UNDER_APPRAISAL]


def test_the_list_and_each_de_an_link_to_the_guide(client):
    u = make_users()
    de_an = ready_de_an(u.centre)
    client.force_login(u.centre)
    assert f'href="{GUIDE}"' in client.get(reverse("projects:list")).content.decode()
    detail = client.get(reverse("projects:detail", kwargs={"pk": de_an.pk})).content.decode()
    assert f'href="{GUIDE}#trang-thai-{de_an.status}"' in detail


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get(GUIDE).status_code == 302
