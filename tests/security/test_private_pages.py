"""A signed-in user's pages are not kept by the browser's cache or a proxy: Back after signing out
on a shared office computer must not show them again."""
import pytest
from django.urls import reverse

from tests.projects.factories import ready_de_an

pytestmark = pytest.mark.django_db


def test_pages_of_a_signed_in_user_are_private_and_not_stored(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    for url in ("/", reverse("projects:list"), reverse("projects:detail", args=[de_an.pk]), "/kinh-phi/",
                reverse("projects:notifications")):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        assert response["Cache-Control"] == "private, no-store", url


def test_a_download_keeps_its_own_cache_policy(client, users):
    client.force_login(users.centre)
    response = client.get(reverse("projects:export"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]

