"""Uploads: path-like and quoted Vietnamese names, content that does not match its extension, the
size limit, and how the file comes back (type, disposition, private)."""
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from projects.models import Attachment
from tests.projects.factories import ready_de_an

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% thu\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _upload(client, de_an, name, content, **extra):
    return client.post(reverse("projects:attachment_upload", args=[de_an.pk]),
                       {"file": SimpleUploadedFile(name, content), "kind": "other", **extra}, follow=True)


def test_a_path_in_the_file_name_is_dropped_and_the_file_stays_in_private_storage(client, users, settings):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    _upload(client, de_an, "../../../../etc/Báo giá \"máy sấy\"; rm -rf.pdf", PDF)
    attachment = Attachment.objects.get(de_an=de_an)
    assert "/" not in attachment.original_name and "\\" not in attachment.original_name
    assert '"' not in attachment.original_name and ";" not in attachment.original_name
    root = os.path.realpath(settings.MEDIA_ROOT)
    assert os.path.realpath(attachment.file.path).startswith(root + os.sep)
    response = client.get(reverse("projects:attachment_download", args=[attachment.pk]))
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "\n" not in disposition and "\r" not in disposition
    assert "filename*=utf-8''" in disposition  # Vietnamese name, RFC 5987
    assert response["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("name, content", [
    ("trang.pdf", b"<html><script>alert(document.cookie)</script></html>"),
    ("anh.png", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
    ("trang.html", b"<html></html>"),
    ("anh.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),
    ("chay.exe", b"MZ\x90\x00"),
    ("khong-duoi", PDF),
    ("am-thanh.webp", b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00"),  # a WAV file named .webp
    ("phim.webp", b"RIFF\x00\x10\x00\x00AVI LIST"),
])
def test_content_must_match_an_allowed_extension(client, users, name, content):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    response = _upload(client, de_an, name, content)
    assert not Attachment.objects.filter(de_an=de_an).exists()
    assert "không" in response.content.decode()  # the Vietnamese refusal is shown


def test_size_limit(client, users, settings):
    settings.UPLOAD_MAX_BYTES = 1024
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    response = _upload(client, de_an, "lon.pdf", PDF + b"0" * 2048)
    assert not Attachment.objects.filter(de_an=de_an).exists()
    assert "vượt giới hạn" in response.content.decode()


def test_only_pdf_and_photos_open_in_the_browser(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    _upload(client, de_an, "bang-tinh.xlsx", b"PK\x03\x04" + b"\x00" * 40)
    attachment = Attachment.objects.get(de_an=de_an)
    response = client.get(reverse("projects:attachment_download", args=[attachment.pk]) + "?xem=1")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_real_webp_photo_is_accepted(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    _upload(client, de_an, "anh-nha-xuong.webp", b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10")
    attachment = Attachment.objects.get(de_an=de_an)
    assert attachment.content_type == "image/webp"
