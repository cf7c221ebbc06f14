"""Scope after the 2025 merger: an account still attached to an organisation of a former province works
for its successor (``access.user_province``), so every scoping function must treat it as one of that
province's accounts — no more and no less."""
import pytest
from django.urls import reverse

from khuyencong.access import user_province, visible_de_an, visible_users
from khuyencong.models import Organisation
from tests.khuyencong.factories import centre_user, province_user
from tests.projects.factories import current, ready_de_an

pytestmark = pytest.mark.django_db


def _former_centre_user():
    """A centre account of former Bắc Ninh (27), merged into current Bắc Ninh (24)."""
    user = centre_user("24")
    user.organisation = Organisation.objects.get(code="ttkc-cu-27")
    user.save()
    assert user_province(user) == current("24")
    return user


def test_accounts_of_a_merged_former_province_see_and_are_seen_by_their_province():
    former = _former_centre_user()
    colleague = province_user("24")
    stranger = centre_user("19")
    assert former in set(visible_users(colleague))
    assert {former, colleague} <= set(visible_users(former))
    assert stranger not in set(visible_users(former))


def test_user_list_page_of_a_merged_province(client):
    former = _former_centre_user()
    colleague = province_user("24")
    stranger = centre_user("19")
    client.force_login(colleague)
    body = client.get(reverse("user_list")).content.decode()
    assert former.username in body and stranger.username not in body


def test_former_province_account_sees_its_successors_de_an_only(users):
    former = _former_centre_user()
    own = ready_de_an(users.centre)
    other = ready_de_an(users.centre_other, province=current("19"))
    seen = set(visible_de_an(former))
    assert own in seen and other not in seen
