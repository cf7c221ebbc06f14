"""Every file the portal hands out (exports, the import's original workbook, attachments) is private:
``Cache-Control: private, no-store`` so neither a shared proxy nor the browser's disk cache of a
shared office computer keeps a province's figures after the user signs out; ``nosniff`` and an
attachment disposition so the browser never renders it as a page."""
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from dashboards.selectors import BLOCKS
from funding.models import ImportBatch
from projects import services
from tests.projects.factories import pdf_file, ready_de_an

pytestmark = pytest.mark.django_db


def _assert_private_download(response):
    assert response.status_code == 200, response.status_code
    cache = response.get("Cache-Control", "")
    assert "no-store" in cache and "private" in cache, cache
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;"), response["Content-Disposition"]


@pytest.mark.parametrize("url", [
    "/de-an/xuat-excel/",
    "/kinh-phi/xuat/phan-bo.xlsx?nam=2026",
    "/kinh-phi/xuat/cam-ket.xlsx?nam=2026",
    "/kinh-phi/mau-nhap.xlsx?nam=2026",
])
def test_exports_are_not_cached(client, users, url):
    ready_de_an(users.centre)
    client.force_login(users.province)
    _assert_private_download(client.get(url))


def test_dashboard_exports_are_not_cached(client, users):
    key = next(iter(BLOCKS))
    client.force_login(users.province)
    _assert_private_download(client.get(reverse("dashboards:province_export", args=["24", key])))
    client.force_login(users.reviewer)
    _assert_private_download(client.get(reverse("dashboards:national_export", args=[key])))


def test_original_import_workbook_is_not_cached(client, users):
    batch = ImportBatch.objects.create(original_name="Phân bổ \"2026\" – bản cuối.xlsx", sha256="1" * 64,
                                       created_by=users.admin, status="failed", error="Tệp thử")
    batch.file.save("phan-bo.xlsx", ContentFile(b"PK\x03\x04 not really a workbook"), save=True)
    client.force_login(users.admin)
    response = client.get(reverse("funding:import_file", args=[batch.pk]))
    _assert_private_download(response)
    assert "filename*=utf-8''" in response["Content-Disposition"]


def test_attachment_download_stays_private(client, users):
    de_an = ready_de_an(users.centre)
    attachment = services.attachment_add(actor=users.centre, de_an=de_an, file=pdf_file("Báo giá \"máy sấy\".pdf"))
    client.force_login(users.province)
    _assert_private_download(client.get(reverse("projects:attachment_download", args=[attachment.pk])))
