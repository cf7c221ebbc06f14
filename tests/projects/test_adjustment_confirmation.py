"""A centre's adjustment request of a KCQG đề án goes to the Sở Công Thương first (DOMAIN §2: the Sở
confirms adjustment requests): the Sở confirms it (then the Cục decides) or refuses it; the Cục cannot
decide an unconfirmed request and does not see it in its queue. The Sở's own requests and KCĐP ones
(which the Sở decides) are confirmed as they are made."""
from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from projects import selectors, services
from projects.models import Adjustment, DeAn, Notification, Status, Transition
from projects.services import WorkflowError

from .factories import advance, local_in_implementation, ready_de_an

pytestmark = pytest.mark.django_db


def in_implementation(users):
    return advance(ready_de_an(users.centre), "in_implementation", users)


def told(user, de_an):
    return Notification.objects.filter(recipient=user, de_an=de_an, verb="request_adjustment").exists()


def state(de_an):
    d = DeAn.objects.get(pk=de_an.pk)
    return d.status, d.revision, Transition.objects.filter(de_an=d).count(), list(
        Adjustment.objects.filter(de_an=d).values_list("status", "confirmed_at"))


def offered(user, de_an):
    return [s.action for s in selectors.available_actions(user=user, de_an=DeAn.objects.get(pk=de_an.pk))]


def test_a_centre_s_request_waits_for_the_so_and_the_cuc_cannot_decide_it(users, client):
    d = in_implementation(users)
    adj = services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Kéo dài do thiết bị về muộn",
                                            extension=True, new_end_date=date(2028, 6, 30))
    assert adj.confirmed_at is None and adj.confirmed_by is None
    assert told(users.province, d) and not told(users.reviewer, d)
    before = state(d)
    with pytest.raises(WorkflowError, match="Sở Công Thương chưa xác nhận đề nghị điều chỉnh này"):
        services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="9/QĐ-BCT",
                                          decision_date=date(2026, 7, 1))
    with pytest.raises(WorkflowError, match="Sở Công Thương chưa xác nhận"):
        services.de_an_reject_adjustment(actor=users.reviewer, de_an=d, comment="Không")
    assert state(d) == before
    # Whose move it is: the Sở's, not the Cục's.
    assert offered(users.reviewer, d) == []
    assert set(offered(users.province, d)) == {"confirm_adjustment", "reject_adjustment"}
    assert d.pk in set(selectors.queue_for(users.province).values_list("pk", flat=True))
    assert d.pk not in set(selectors.queue_for(users.reviewer).values_list("pk", flat=True))
    client.force_login(users.province)
    page = client.get(reverse("projects:detail", args=[d.pk])).content.decode()
    assert "Xác nhận, gửi Cục" in page and "Chờ Sở Công Thương xác nhận trước khi gửi Cục." in page
    # The page's own form: a centre cannot confirm.
    client.force_login(users.centre)
    response = client.post(reverse("projects:transition", args=[d.pk]), {"action": "confirm_adjustment"}, follow=True)
    assert "Chỉ Cán bộ Sở Công Thương được xác nhận đề nghị điều chỉnh đề án này." in response.content.decode()
    assert state(d) == before


def test_the_so_confirms_then_the_cuc_decides(users, client):
    d = in_implementation(users)
    services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Kéo dài", extension=True,
                                      new_end_date=date(2028, 6, 30))
    client.force_login(users.province)
    response = client.post(reverse("projects:transition", args=[d.pk]),
                           {"action": "confirm_adjustment", "comment": "Đồng ý, đề nghị Cục xem xét"})
    assert response.status_code == 302
    adj = Adjustment.objects.get(de_an=d)
    assert adj.confirmed_by == users.province and adj.confirmed_at is not None and adj.status == "pending"
    assert DeAn.objects.get(pk=d.pk).status == Status.ADJUSTMENT_REQUESTED
    assert Notification.objects.filter(recipient=users.reviewer, de_an=d, verb="confirm_adjustment").exists()
    assert d.pk in set(selectors.queue_for(users.reviewer).values_list("pk", flat=True))
    assert d.pk not in set(selectors.queue_for(users.province).values_list("pk", flat=True))
    assert offered(users.province, d) == []
    # A second click of «Xác nhận», or the Sở refusing it now: the Cục decides from here.
    before = state(d)
    for action in ("confirm_adjustment", "reject_adjustment"):
        response = client.post(reverse("projects:transition", args=[d.pk]), {"action": action, "comment": "Lại"},
                               follow=True)
        assert "đã được Sở Công Thương xác nhận và gửi Cục; Cục quyết định" in response.content.decode()
    assert state(d) == before
    client.force_login(users.reviewer)
    assert "Sở Công Thương đã xác nhận ngày" in client.get(reverse("projects:detail", args=[d.pk])).content.decode()
    services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="9/QĐ-BCT",
                                      decision_date=timezone.localdate())
    d = DeAn.objects.get(pk=d.pk)
    assert d.status == Status.IN_IMPLEMENTATION and d.end_date == date(2028, 6, 30)


def test_the_so_may_refuse_a_centre_s_request(users):
    d = in_implementation(users)
    services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi địa điểm",
                                      new_location="Xã Việt Yên")
    with pytest.raises(WorkflowError, match="lý do|ý kiến"):
        services.de_an_reject_adjustment(actor=users.province, de_an=d, comment="")
    services.de_an_reject_adjustment(actor=users.province, de_an=d, comment="Chưa đủ căn cứ đổi địa điểm")
    d = DeAn.objects.get(pk=d.pk)
    assert d.status == Status.IN_IMPLEMENTATION and d.location == "Xã Tân Yên, tỉnh Bắc Ninh"
    assert Adjustment.objects.get(de_an=d).status == "rejected"
    assert Notification.objects.filter(recipient=users.centre, de_an=d, verb="reject_adjustment").exists()


def test_the_so_s_own_request_goes_straight_to_the_cuc(users):
    d = in_implementation(users)
    adj = services.de_an_request_adjustment(actor=users.province, de_an=d, reason="Kéo dài", extension=True,
                                            new_end_date=date(2028, 6, 30))
    assert adj.confirmed_by == users.province and adj.confirmed_at is not None
    assert told(users.reviewer, d)
    assert set(offered(users.reviewer, d)) == {"approve_adjustment", "reject_adjustment"}
    services.de_an_approve_adjustment(actor=users.reviewer, de_an=d, decision_number="9/QĐ-BCT",
                                      decision_date=timezone.localdate())
    assert DeAn.objects.get(pk=d.pk).status == Status.IN_IMPLEMENTATION


def test_a_local_request_is_decided_by_the_so_without_a_confirmation_step(users):
    d, _allocation = local_in_implementation(users)
    adj = services.de_an_request_adjustment(actor=users.centre, de_an=d, reason="Đổi địa điểm",
                                            new_location="Xã Việt Yên")
    assert adj.confirmed_at is not None
    assert set(offered(users.province, d)) == {"approve_adjustment", "reject_adjustment"}
    services.de_an_approve_adjustment(actor=users.province, de_an=d)
    assert DeAn.objects.get(pk=d.pk).location == "Xã Việt Yên"
