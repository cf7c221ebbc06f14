"""Evidence files of a remedial report: the province (Sở or centre) that may answer a recommendation
attaches photos and scanned documents while it is not closed, through the checks of the record's
attachments; the ministry and that province see and download them through a permission-checked view;
the uploader's province deletes them (with a confirmation page) while not closed; every add and delete
is in the recommendation's history. Each refusal says why in Vietnamese and leaves the database and the
storage as they were; ids of another province or another recommendation answer 404."""
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from khuyencong.models import AuditEvent
from reports import inspection_services as svc
from reports.models import FollowUp, Recommendation, RecommendationEvidence
from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"0" * 64


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer(), "admin": f.admin_user(), "province": f.province_user("24"),
            "centre": f.centre_user("24"), "other": f.province_user("19"), "other_centre": f.centre_user("19")}


@pytest.fixture
def world(people, media_root):
    d1, d_other = f.de_an("24"), f.de_an("19")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [d1, d_other], provinces=("24", "19"))
    record = f.record(people["reviewer"], d1, mission, recommendations=[
        {"text": "Hoàn thành lắp đặt máy sấy chè.", "deadline": date(2026, 6, 30)},
        {"text": "Bổ sung hóa đơn mua thiết bị.", "deadline": date(2026, 7, 30)}])
    record_other = f.record(people["reviewer"], d_other, mission)
    rec, rec_b = record.recommendations.order_by("order")
    return {"record": record, "rec": rec, "rec_b": rec_b, "rec_other": record_other.recommendations.get(),
            "media": media_root}


def _png(name="ảnh máy sấy.png", content=PNG):
    return SimpleUploadedFile(name, content, "image/png")


def _stored(media):
    return sorted(p.name for p in media.rglob("*") if p.is_file()) if media.exists() else []


def _state(world):
    return (tuple(RecommendationEvidence.objects.values_list("pk", "recommendation_id", "original_name")),
            tuple(Recommendation.objects.values_list("pk", "status", "response")),
            AuditEvent.objects.count(), _stored(world["media"]))


def _add(people, world, who="province", rec="rec", **kwargs):
    kwargs.setdefault("file", _png())
    return svc.recommendation_evidence_add(actor=people[who], recommendation=world[rec], **kwargs)


def _refused(world, call, words, exc=(PermissionDenied, ValidationError)):
    before = _state(world)
    with pytest.raises(exc) as info:
        call()
    message = " ".join(info.value.messages) if isinstance(info.value, ValidationError) else str(info.value)
    assert words in message, message
    assert _state(world) == before
    return message


def _url(name, rec, evidence=None):
    return reverse(f"reports:{name}", args=[rec.pk] if evidence is None else [rec.pk, evidence.pk])


# --- the service ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["province", "centre"])
def test_the_province_attaches_evidence(people, world, who):
    evidence = _add(people, world, who, description=" Máy sấy đã lắp ")
    assert (evidence.original_name, evidence.is_photo, evidence.content_type, evidence.size) == (
        "ảnh máy sấy.png", True, "image/png", len(PNG))
    assert evidence.description == "Máy sấy đã lắp" and evidence.uploaded_by == people[who]
    assert evidence.province.code == "24" and evidence.file.name.startswith("inspections/evidence/")
    assert evidence.file.read() == PNG
    assert _stored(world["media"]) == [evidence.file.name.rsplit("/", 1)[1]]  # stored privately, under MEDIA_ROOT
    event = AuditEvent.objects.get(action="recommendation_evidence.add")
    assert (event.object_type, event.object_id) == ("recommendation", str(world["rec"].pk))
    assert event.data["name"] == "ảnh máy sấy.png"
    assert list(svc.recommendation_history(world["rec"]).values_list("action", flat=True)) == ["recommendation_evidence.add"]


def test_a_scanned_pdf_is_a_document_not_a_photo(people, world):
    evidence = _add(people, world, file=SimpleUploadedFile("biên bản bàn giao.pdf", PDF, "application/pdf"))
    assert not evidence.is_photo and evidence.content_type == "application/pdf"


@pytest.mark.parametrize("name, content, words", [
    ("virus.exe", b"MZ\x90\x00" + b"\x00" * 32, "không được chấp nhận: chỉ nhận PDF, ảnh (JPG, PNG, WEBP)"),
    ("ảnh.png", b"GIF89a" + b"\x00" * 32, "Nội dung tệp «ảnh.png» không đúng định dạng PNG."),
    ("bản chụp.pdf", b"MZ not a pdf at all", "không đúng định dạng PDF"),
    ("rỗng.png", b"", "Tệp «rỗng.png» rỗng."),
])
def test_a_wrong_file_is_refused(people, world, name, content, words):
    _refused(world, lambda: _add(people, world, file=SimpleUploadedFile(name, content)), words)


def test_a_file_too_big_is_refused(people, world, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    big = PNG + b"\x00" * (1024 * 1024)
    _refused(world, lambda: _add(people, world, file=_png("ảnh lớn.png", big)),
             "Tệp «ảnh lớn.png» dung lượng 1.024,1 KB, vượt giới hạn 1 MB.")  # 1 MB + 72 bytes


def test_a_closed_recommendation_takes_no_evidence(people, world):
    svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"], comment="Đã khắc phục tại chỗ")
    closed = Recommendation.objects.get(pk=world["rec"].pk)
    _refused(world, lambda: svc.recommendation_evidence_add(actor=people["province"], recommendation=closed, file=_png()),
             "Kiến nghị đã được Cục đóng (đã hoàn thành) nên không thêm tệp minh chứng được.")
    # A page loaded before the close: checked again on the locked row.
    _refused(world, lambda: _add(people, world), "nên không thêm tệp minh chứng được")


@pytest.mark.parametrize("who, words", [
    ("other", "thuộc tỉnh, thành phố khác"), ("other_centre", "thuộc tỉnh, thành phố khác"),
    ("reviewer", "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công"),
    ("admin", "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công"),
])
def test_only_the_province_of_the_de_an_attaches_evidence(people, world, who, words):
    _refused(world, lambda: _add(people, world, who), words)


def test_at_most_so_many_files(people, world, monkeypatch):
    monkeypatch.setattr(svc, "EVIDENCE_MAX_FILES", 2)
    _add(people, world)
    _add(people, world, "centre", file=_png("ảnh 2.png"))
    _refused(world, lambda: _add(people, world, file=_png("ảnh 3.png")), "Mỗi kiến nghị có tối đa 2 tệp minh chứng")
    _add(people, world, rec="rec_b", file=_png("ảnh 3.png"))  # per recommendation


def test_the_uploaders_province_deletes_while_not_closed(people, world, django_capture_on_commit_callbacks):
    evidence = _add(people, world)
    stored = evidence.file.name
    assert (world["media"] / stored).exists()
    with django_capture_on_commit_callbacks(execute=True):
        svc.recommendation_evidence_delete(actor=people["centre"], evidence=evidence)  # the Sở's file, same province
    assert not RecommendationEvidence.objects.exists()
    assert not (world["media"] / stored).exists()
    event = AuditEvent.objects.get(action="recommendation_evidence.delete")
    assert event.object_id == str(world["rec"].pk) and event.data["name"] == "ảnh máy sấy.png"


@pytest.mark.parametrize("who, words", [
    ("other", "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công của tỉnh đã tải tệp lên"),
    ("reviewer", "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công của tỉnh đã tải tệp lên"),
    ("admin", "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công của tỉnh đã tải tệp lên"),
])
def test_delete_refused_to_others(people, world, who, words):
    evidence = _add(people, world)
    _refused(world, lambda: svc.recommendation_evidence_delete(actor=people[who], evidence=evidence), words)


def test_delete_refused_once_closed(people, world):
    evidence = _add(people, world)
    svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="Đã xong",
                              responded_on=date(2026, 6, 1))
    svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"])
    _refused(world, lambda: svc.recommendation_evidence_delete(actor=people["province"], evidence=evidence),
             "Kiến nghị đã được Cục đóng (đã hoàn thành) nên không xóa tệp minh chứng được.")


# --- the pages --------------------------------------------------------------------------------------------

def test_upload_through_the_page_shows_the_file_under_the_response(client, people, world):
    svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="Đã lắp xong máy sấy",
                              responded_on=date(2026, 6, 1))
    client.force_login(people["province"])
    page = _url("inspection_recommendation", world["rec"])
    body = client.get(page).content.decode()
    assert 'enctype="multipart/form-data"' in body and "Tệp minh chứng khắc phục" in body
    response = client.post(_url("inspection_evidence_add", world["rec"]),
                           {"evidence-file": _png(), "evidence-description": "Máy sấy đã lắp"})
    assert response.status_code == 302 and response["Location"] == page
    evidence = RecommendationEvidence.objects.get()
    download = _url("inspection_evidence", world["rec"], evidence)
    body = client.get(page).content.decode()
    assert "Đã thêm tệp minh chứng vào báo cáo khắc phục." in body
    response_at = body.index("Đã lắp xong máy sấy")
    assert body.index(f'href="{download}">ảnh máy sấy.png</a>') > response_at  # under the response
    assert f'href="{_url("inspection_evidence_delete", world["rec"], evidence)}"' in body
    assert "Thêm tệp minh chứng «ảnh máy sấy.png» vào báo cáo khắc phục" in body  # the history
    # The list and the biên bản show it too; the ministry sees it, without a delete link.
    for url in (reverse("reports:inspection_recommendations"), reverse("reports:inspection_record", args=[world["record"].pk])):
        assert f'href="{download}">ảnh máy sấy.png</a>' in client.get(url).content.decode(), url
    client.force_login(people["reviewer"])
    body = client.get(page).content.decode()
    assert f'href="{download}">ảnh máy sấy.png</a>' in body
    assert "minh-chung/" + str(evidence.pk) + "/xoa/" not in body and "Tải tệp lên" not in body


@pytest.mark.parametrize("name, content, words", [
    ("virus.exe", b"MZ\x90\x00" + b"\x00" * 32, "không được chấp nhận"),
    ("giả.png", b"MZ not a picture", "không đúng định dạng PNG"),
])
def test_a_wrong_file_through_the_page(client, people, world, name, content, words):
    client.force_login(people["centre"])
    before = _state(world)
    response = client.post(_url("inspection_evidence_add", world["rec"]),
                           {"evidence-file": SimpleUploadedFile(name, content), "evidence-description": "Ảnh"})
    assert response.status_code == 400
    body = response.content.decode()
    assert words in body and 'id="form-errors"' in body and '<a href="#id_evidence-file">' in body
    assert _state(world) == before


def test_a_file_too_big_through_the_page(client, people, world, settings):
    settings.UPLOAD_MAX_BYTES = 1024 * 1024
    client.force_login(people["province"])
    before = _state(world)
    response = client.post(_url("inspection_evidence_add", world["rec"]),
                           {"evidence-file": _png("ảnh lớn.png", PNG + b"\x00" * (1024 * 1024))})
    assert response.status_code == 400 and "vượt giới hạn 1 MB." in response.content.decode()
    assert _state(world) == before


def test_no_file_chosen(client, people, world):
    client.force_login(people["province"])
    before = _state(world)
    response = client.post(_url("inspection_evidence_add", world["rec"]), {"evidence-description": "Ảnh"})
    assert response.status_code == 400 and "Chọn tệp cần tải lên." in response.content.decode()
    assert _state(world) == before


def test_a_closed_recommendation_through_the_page(client, people, world):
    evidence = _add(people, world)
    svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"], comment="Đã khắc phục tại chỗ")
    client.force_login(people["province"])
    body = client.get(_url("inspection_recommendation", world["rec"])).content.decode()
    assert "Tải tệp lên" not in body and "ảnh máy sấy.png" in body  # still shown, no more uploads or deletes
    assert "/xoa/" not in body
    before = _state(world)
    response = client.post(_url("inspection_evidence_add", world["rec"]), {"evidence-file": _png("ảnh 2.png")})
    assert response.status_code == 403 and "không thêm tệp minh chứng được" in response.content.decode()
    response = client.post(_url("inspection_evidence_delete", world["rec"], evidence))
    assert response.status_code == 403 and "không xóa tệp minh chứng được" in response.content.decode()
    assert _state(world) == before


def test_download_by_the_ministry_and_the_province(client, people, world):
    evidence = _add(people, world, file=SimpleUploadedFile("biên bản.pdf", PDF, "application/pdf"))
    url = _url("inspection_evidence", world["rec"], evidence)
    for who in ("reviewer", "admin", "province", "centre"):
        client.force_login(people[who])
        response = client.get(url)
        assert response.status_code == 200, who
        assert b"".join(response.streaming_content) == PDF
        assert response["X-Content-Type-Options"] == "nosniff" and "attachment" in response["Content-Disposition"]
        assert "no-store" in response["Cache-Control"]
    response = client.get(url + "?xem=1")
    assert "inline" in response["Content-Disposition"]


def test_another_provinces_user_gets_404_and_changes_nothing(client, people, world):
    evidence = _add(people, world)
    before = _state(world)
    for who in ("other", "other_centre"):
        client.force_login(people[who])
        assert client.get(_url("inspection_evidence", world["rec"], evidence)).status_code == 404
        assert client.get(_url("inspection_evidence_delete", world["rec"], evidence)).status_code == 404
        assert client.post(_url("inspection_evidence_delete", world["rec"], evidence)).status_code == 404
        assert client.post(_url("inspection_evidence_add", world["rec"]), {"evidence-file": _png()}).status_code == 404
    assert _state(world) == before


def test_forged_ids_answer_404(client, people, world):
    """A file id under another recommendation's address (one's own or another province's), another
    province's file under one's own recommendation, an id that does not exist: not found, nothing changed."""
    mine = _add(people, world)
    theirs = _add(people, world, "other", rec="rec_other", file=_png("ảnh Thái Nguyên.png"))
    before = _state(world)
    client.force_login(people["province"])
    for rec, evidence in ((world["rec_b"], mine), (world["rec"], theirs), (world["rec_other"], theirs),
                          (world["rec_other"], mine)):
        for name in ("inspection_evidence", "inspection_evidence_delete"):
            assert client.get(_url(name, rec, evidence)).status_code == 404, (name, rec, evidence)
        assert client.post(_url("inspection_evidence_delete", rec, evidence)).status_code == 404
    assert client.get(reverse("reports:inspection_evidence", args=[world["rec"].pk, 999999])).status_code == 404
    assert _state(world) == before


def test_anonymous_is_sent_to_the_login_page(client, people, world):
    evidence = _add(people, world)
    before = _state(world)
    for method, url, data in (("get", _url("inspection_evidence", world["rec"], evidence), None),
                              ("get", _url("inspection_evidence_delete", world["rec"], evidence), None),
                              ("post", _url("inspection_evidence_delete", world["rec"], evidence), {}),
                              ("post", _url("inspection_evidence_add", world["rec"]), {"evidence-file": _png()})):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302 and "/dang-nhap/" in response["Location"], url
    assert _state(world) == before


def test_the_ministry_cannot_upload_or_delete(client, people, world):
    evidence = _add(people, world)
    client.force_login(people["reviewer"])
    before = _state(world)
    response = client.post(_url("inspection_evidence_add", world["rec"]), {"evidence-file": _png("ảnh 2.png")})
    assert response.status_code == 403 and "Chỉ cán bộ Sở Công Thương hoặc Trung tâm khuyến công" in response.content.decode()
    assert client.post(_url("inspection_evidence_delete", world["rec"], evidence)).status_code == 403
    assert _state(world) == before


def test_delete_asks_first_then_deletes(client, people, world, django_capture_on_commit_callbacks):
    evidence = _add(people, world)
    stored = evidence.file.name
    client.force_login(people["province"])
    url = _url("inspection_evidence_delete", world["rec"], evidence)
    before = _state(world)
    body = client.get(url).content.decode()
    assert "Bạn có chắc muốn xóa tệp «ảnh máy sấy.png»" in body and '<button type="submit" class="btn danger">Xóa tệp</button>' in body
    assert _state(world) == before  # GET only asks
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == _url("inspection_recommendation", world["rec"])
    assert not RecommendationEvidence.objects.exists() and not (world["media"] / stored).exists()
    assert AuditEvent.objects.filter(action="recommendation_evidence.delete").count() == 1
    body = client.get(response["Location"]).content.decode()
    assert "Đã xóa tệp minh chứng «ảnh máy sấy.png»." in body
    assert "Xóa tệp minh chứng «ảnh máy sấy.png» khỏi báo cáo khắc phục" in body  # the history


def test_the_recommendation_list_reads_the_files_in_one_query(client, people, world):
    client.force_login(people["province"])
    url = reverse("reports:inspection_recommendations")
    _add(people, world)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(4):
        _add(people, world, rec="rec_b", file=_png(f"ảnh {i}.png"))
    with CaptureQueriesContext(connection) as many:
        body = client.get(url).content.decode()
    assert "ảnh 3.png" in body and len(many) == len(few)


def test_the_file_stays_for_the_record_when_the_status_changes(people, world):
    evidence = _add(people, world)
    svc.recommendation_answer(actor=people["province"], recommendation=world["rec"], response="Xong",
                              responded_on=date(2026, 6, 1))
    svc.recommendation_close(actor=people["reviewer"], recommendation=world["rec"])
    assert Recommendation.objects.get(pk=world["rec"].pk).status == FollowUp.CLOSED
    assert RecommendationEvidence.objects.get().pk == evidence.pk


def test_the_nightly_sweep_keeps_evidence_files(people, world):
    """khuyencong.files removes stored files no row names: an evidence file's row names it."""
    from khuyencong.files import referenced_names

    evidence = _add(people, world)
    assert evidence.file.name in referenced_names()


def test_the_evidence_form_says_the_size_limit_in_force(client, people, world, settings):
    settings.UPLOAD_MAX_BYTES = 7 * 1024 * 1024
    client.force_login(people["province"])
    body = client.get(_url("inspection_recommendation", world["rec"])).content.decode()
    assert "Dung lượng tối đa 7 MB." in body and 'aria-describedby="id_evidence-file_helptext"' in body
