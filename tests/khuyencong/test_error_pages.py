"""Refusals reach the user as Vietnamese pages that say why, not Django's English defaults."""
import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.views import defaults

pytestmark = pytest.mark.django_db


def test_403_page_shows_the_access_reason_in_vietnamese(rf: RequestFactory, django_user_model):
    request = rf.get("/bao-cao/kiem-tra/")
    request.user = django_user_model(username="x", role="reviewer")
    response = defaults.permission_denied(request, PermissionDenied("Kiến nghị này đã được đóng."))
    body = response.content.decode()
    assert response.status_code == 403
    assert "Bạn không được thực hiện thao tác này" in body and "Kiến nghị này đã được đóng." in body
    assert "Forbidden" not in body


def test_404_page_is_vietnamese_and_does_not_echo_internal_messages(client):
    from django.http import Http404

    request = RequestFactory().get("/de-an/999999/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = defaults.page_not_found(request, Http404("No DeAn matches the given query."))
    body = response.content.decode()
    assert response.status_code == 404
    assert "Không tìm thấy trang hoặc hồ sơ" in body and "No DeAn matches" not in body


def test_500_page_is_vietnamese():
    request = RequestFactory().get("/")
    response = defaults.server_error(request)
    assert response.status_code == 500 and "Hệ thống gặp lỗi" in response.content.decode()
