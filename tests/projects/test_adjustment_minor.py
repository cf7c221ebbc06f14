"""A minor adjustment's changes reach the dossier: a new place of implementation or partner unit asked
for is written to the đề án when the adjustment is approved (and found by the search), never when it
is rejected; a blank one leaves the đề án's own."""
import pytest
from django.urls import reverse

from projects import selectors, services
from projects.models import Adjustment, DeAn
from projects.services import WorkflowError

from .factories import advance, confirm_adjustment, ready_de_an

pytestmark = pytest.mark.django_db

NEW_PLACE = "Xã Việt Yên, tỉnh Bắc Ninh"


def in_implementation(users):
    return advance(ready_de_an(users.centre), "in_implementation", users)


def test_an_approved_minor_adjustment_moves_the_place_and_partner(users):
    d = in_implementation(users)
    adj = services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi địa điểm trình diễn",
                                            new_location=f"  {NEW_PLACE} ", new_partner_unit="Viện Cơ điện")
    confirm_adjustment(d)
    assert (adj.kind, adj.new_location, adj.new_partner_unit) == ("minor", NEW_PLACE, "Viện Cơ điện")
    assert DeAn.objects.get(pk=d.pk).location == "Xã Tân Yên, tỉnh Bắc Ninh"  # asked, not applied
    services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    d = DeAn.objects.get(pk=d.pk)
    assert (d.location, d.partner_unit) == (NEW_PLACE, "Viện Cơ điện")
    assert d.history.latest().history_user == users.reviewer
    found = selectors.de_an_list(user=users.reviewer, filters={"q": "viet yen"})
    assert list(found.values_list("pk", flat=True)) == [d.pk]
    notes = " ".join(str(e.note) + str(getattr(e, "title", "")) for e in selectors.timeline(d))
    assert f"địa điểm thực hiện mới: {NEW_PLACE}" in notes


def test_a_blank_change_keeps_the_dossier_and_a_rejected_one_changes_nothing(users):
    d = in_implementation(users)
    services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi đơn vị phối hợp",
                                      new_partner_unit="Viện Cơ điện")
    confirm_adjustment(d)
    services.de_an_reject_adjustment(actor=users.reviewer, de_an=d, comment="Không có lý do xác đáng")
    d = DeAn.objects.get(pk=d.pk)
    assert (d.location, d.partner_unit) == ("Xã Tân Yên, tỉnh Bắc Ninh", "")
    services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi đơn vị phối hợp",
                                      new_partner_unit="Viện Cơ điện")
    confirm_adjustment(d)
    services.de_an_approve_adjustment(actor=users.reviewer, de_an=d)
    d = DeAn.objects.get(pk=d.pk)
    assert (d.location, d.partner_unit) == ("Xã Tân Yên, tỉnh Bắc Ninh", "Viện Cơ điện")


def test_a_too_long_place_is_refused_and_nothing_is_written(users, client):
    d = in_implementation(users)
    with pytest.raises(WorkflowError, match="quá dài"):
        services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi", new_location="x" * 256)
    assert not Adjustment.objects.filter(de_an=d).exists()
    client.force_login(users.centre)
    response = client.post(reverse("projects:transition", args=[d.pk]), {
        "action": "request_adjustment", "comment": "Đổi địa điểm", "new_location": "x" * 256})
    assert response.status_code == 400
    assert "Địa điểm thực hiện mới" in response.content.decode()
    assert not Adjustment.objects.filter(de_an=d).exists()


def test_the_page_asks_and_shows_the_new_place(users, client):
    d = in_implementation(users)
    client.force_login(users.centre)
    response = client.post(reverse("projects:transition", args=[d.pk]), {
        "action": "request_adjustment", "comment": "Đổi địa điểm", "new_location": NEW_PLACE})
    assert response.status_code == 302
    assert Adjustment.objects.get(de_an=d).new_location == NEW_PLACE
    client.force_login(users.reviewer)
    page = client.get(reverse("projects:detail", args=[d.pk])).content.decode()
    assert f"địa điểm thực hiện mới: {NEW_PLACE}" in page
