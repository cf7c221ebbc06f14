"""User text (đề án name, comment, establishment, file name, notification) is text on every page that
shows it, including the rows and charts built in Python (``_rows_html``, ``dash_table``, SVG charts)."""
import pytest
from django.urls import reverse

from projects import services
from projects.models import Establishment
from tests.projects.factories import advance, pdf_file, ready_de_an

pytestmark = pytest.mark.django_db

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _assert_escaped(body):
    assert "<script>alert" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert" in body


def test_user_text_is_escaped_everywhere(client, users):
    de_an = ready_de_an(users.centre, name="Đề án " + XSS)
    est = de_an.beneficiaries.first().establishment
    Establishment.objects.filter(pk=est.pk).update(name="HTX " + XSS)
    services.comment_add(actor=users.centre, de_an=de_an, text="Ý kiến " + XSS)
    services.attachment_add(actor=users.centre, de_an=de_an, file=pdf_file("bao-gia.pdf"), description="Mô tả " + XSS)
    de_an = advance(de_an, "submitted", users)  # the Sở is notified (home panel, notifications page)
    client.force_login(users.province)
    pages = [
        (reverse("projects:detail", args=[de_an.pk]), {}), (reverse("projects:list"), {}),
        (reverse("projects:queue"), {}), (reverse("projects:notifications"), {}), (reverse("home"), {}),
        (reverse("projects:establishment_options"), {"q": XSS}), (reverse("projects:list"), {"q": XSS}),
        (reverse("dashboards:province", args=["24"]), {"year_from": "2026", "year_to": "2026"}),
    ]
    for url, query in pages:
        response = client.get(url, query)
        assert response.status_code in (200, 400), (url, response.status_code)
        body = response.content.decode()
        assert "<script>alert" not in body and "<img src=x" not in body, url
    _assert_escaped(client.get(reverse("projects:list"), {"q": XSS}).content.decode())
    detail = client.get(reverse("projects:detail", args=[de_an.pk])).content.decode()
    assert detail.count("&lt;script&gt;alert") >= 3  # name, beneficiary, comment, description
    listing = client.get(reverse("projects:list")).content.decode()
    assert "Đề án &lt;script&gt;" in listing
