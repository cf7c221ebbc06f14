"""A refused workflow step (or bulk approval) is shown at the POST's address; opening that address again
(the footer's language switch carries it as ``next``, a reload from the address bar) gave the browser's
bare «HTTP ERROR 405». It now leads back to the đề án (the queue for bulk approval), changing nothing,
and still hides another province's đề án and refuses local staff the ministry's page."""
from django.urls import reverse

from projects.models import DeAn, Transition

from .factories import current, ready_de_an


def test_get_on_the_action_address_leads_back_to_the_de_an(users, client_as):
    de_an = ready_de_an(users.centre)
    transitions = Transition.objects.count()
    response = client_as(users.centre).get(reverse("projects:transition", args=[de_an.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("projects:detail", args=[de_an.pk])
    assert Transition.objects.count() == transitions
    assert DeAn.objects.get(pk=de_an.pk).status == de_an.status


def test_get_on_the_action_address_of_another_province_is_404(users, client_as):
    other = ready_de_an(users.centre_other, province=current("19"))
    assert client_as(users.centre).get(reverse("projects:transition", args=[other.pk])).status_code == 404


def test_get_on_the_bulk_approval_address(users, client_as):
    response = client_as(users.reviewer).get(reverse("projects:bulk_approve"))
    assert response.status_code == 302 and response["Location"] == reverse("projects:queue")
    assert client_as(users.centre).get(reverse("projects:bulk_approve")).status_code == 403
