"""The import list: every batch an administrator may see is reachable (pages instead of the 50
newest, so older batches can be opened and undone), filters by kind, state and year, the access scope
(administrators only) that no filter widens, and wrong query strings. Also: discarding a previewed
batch is recorded in the audit log."""
import io

import pytest
from django.urls import reverse

from funding import selectors
from funding.models import ImportBatch, ImportKind, ImportStatus
from khuyencong.models import AuditEvent
from tests.funding.conftest import allocation_book, xlsx_bytes
from tests.khuyencong.factories import centre_user, province_user, reviewer

pytestmark = pytest.mark.django_db

LIST = "funding:import_list"


def _batch(n, *, kind=ImportKind.ALLOCATION, status=ImportStatus.APPLIED, year=2026, by=None):
    return ImportBatch.objects.create(original_name=f"phan-bo-{n}.xlsx", sha256=f"{n:064d}", kind=kind, status=status,
                                      year=year, created_by=by)


def _link(batch):
    return reverse("funding:import_detail", kwargs={"pk": batch.pk})


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_older_batches_are_on_later_pages(admin_client, admin_user):
    batches = [_batch(i, by=admin_user) for i in range(120)]
    first = admin_client.get(reverse(LIST)).content.decode()
    assert "1–50 trong 120" in first and 'rel="next"' in first and "page=2" in first
    third = admin_client.get(reverse(LIST), {"page": "3"}).content.decode()
    assert "101–120 trong 120" in third
    oldest = batches[0]
    assert _link(oldest) in third  # the 120th newest: unreachable before
    assert _link(oldest) not in first
    # The oldest batch, reached through the pages, can be undone.
    assert reverse("funding:import_undo", kwargs={"pk": oldest.pk}) in admin_client.get(_link(oldest)).content.decode()


def test_page_links_keep_the_filters(admin_client):
    for i in range(60):
        _batch(i, kind=ImportKind.PLAN_ANNEX if i % 2 else ImportKind.ALLOCATION)
    body = admin_client.get(reverse(LIST), {"kind": "plan_annex"}).content.decode()
    assert "1–30 trong 30" not in body  # 30 batches fit on one page: no page links at all
    assert 'class="pagination"' not in body
    for i in range(60, 100):
        _batch(i, kind=ImportKind.PLAN_ANNEX)
    body = admin_client.get(reverse(LIST), {"kind": "plan_annex"}).content.decode()
    assert "1–50 trong 70" in body and "kind=plan_annex&amp;page=2" in body


def test_filters_by_kind_state_and_year(admin_client):
    allocation = _batch(1, kind=ImportKind.ALLOCATION, year=2026)
    annex = _batch(2, kind=ImportKind.PLAN_ANNEX, year=2026, status=ImportStatus.UNDONE)
    older = _batch(3, kind=ImportKind.PLAN_ANNEX, year=2024, status=ImportStatus.PREVIEWED)
    failed = _batch(4, kind="", year=None, status=ImportStatus.FAILED)
    everything = {allocation, annex, older, failed}

    def shown(**params):
        response = admin_client.get(reverse(LIST), params)
        assert response.status_code == 200
        body = response.content.decode()
        return {b for b in everything if _link(b) in body}

    assert shown() == everything
    assert shown(kind="plan_annex") == {annex, older}
    assert shown(kind="plan_annex", year="2026") == {annex}
    assert shown(status="previewed") == {older}
    assert shown(status="failed") == {failed}
    assert shown(year="2026") == {allocation, annex}
    body = admin_client.get(reverse(LIST), {"year": "2023"}).content.decode()
    assert "Không có lần nhập nào khớp với bộ lọc." in body and "Bỏ lọc" in body
    # The form is the shared field partial: labelled fields, the chosen values kept.
    body = admin_client.get(reverse(LIST), {"kind": "plan_annex", "year": "2024"}).content.decode()
    assert '<label for="id_kind">Loại tệp</label>' in body and '<label for="id_year">Năm</label>' in body
    assert '<option value="plan_annex" selected>' in body and 'value="2024"' in body


@pytest.mark.parametrize(("params", "message"), [
    ({"kind": "<b>đậm</b>"}, "Loại tệp không hợp lệ; hãy chọn trong danh sách."),
    ({"status": "x" * 500}, "Trạng thái không hợp lệ; hãy chọn trong danh sách."),
    ({"year": "hai nghìn"}, "Năm phải là số, ví dụ 2026."),
    ({"year": "1999"}, "Năm phải từ 2000 đến 2100."),
    ({"year": "2101"}, "Năm phải từ 2000 đến 2100."),
    ({"year": "2024", "status": "da-xoa"}, "Trạng thái không hợp lệ; hãy chọn trong danh sách."),
])
def test_a_wrong_filter_is_named_and_the_list_shown_unfiltered(admin_client, params, message):
    batches = [_batch(1, year=2026), _batch(2, kind=ImportKind.PLAN_ANNEX, year=2024, status=ImportStatus.UNDONE)]
    response = admin_client.get(reverse(LIST), params)
    assert response.status_code == 200
    body = response.content.decode()
    assert "<b>đậm</b>" not in body  # echoed escaped, never as markup
    assert 'class="field-error"' in body and message in body
    assert all(_link(b) in body for b in batches)  # unfiltered


@pytest.mark.parametrize("page", ["999", "abc", "-1", "0", ""])
def test_a_page_past_the_end_or_not_a_number_shows_the_nearest_page(admin_client, page):
    batches = [_batch(i) for i in range(55)]
    response = admin_client.get(reverse(LIST), {"page": page})
    assert response.status_code == 200
    body = response.content.decode()
    if page == "999":
        assert "51–55 trong 55" in body and _link(batches[0]) in body
    else:  # not a number, or below the first page: the first page (khuyencong.pagination)
        assert "1–50 trong 55" in body and _link(batches[-1]) in body


def test_only_administrators_see_the_list_and_no_filter_widens_that(client, admin_user):
    batch = _batch(1)
    for user in (province_user("24"), centre_user("24"), reviewer()):
        client.force_login(user)
        for params in ({}, {"kind": "allocation"}, {"status": "applied", "year": "2026"}, {"page": "1"}):
            response = client.get(reverse(LIST), params)
            assert response.status_code == 403
            assert _link(batch) not in response.content.decode()
        # The selector itself: the filters only narrow access.visible_import_batches.
        assert not selectors.import_batch_list(user=user, kind="allocation", status="applied", year=2026).exists()
    assert list(selectors.import_batch_list(user=admin_user, kind="allocation", status="applied", year=2026)) == [batch]
    client.logout()
    response = client.get(reverse(LIST), {"kind": "allocation"})
    assert response.status_code == 302 and "next=" in response["Location"]


def test_queries_do_not_grow_with_the_batches(admin_client, admin_user, django_assert_max_num_queries):
    _batch(0, by=admin_user)
    admin_client.get(reverse(LIST))
    with django_assert_max_num_queries(30) as few:
        admin_client.get(reverse(LIST), {"kind": "allocation"})
    for i in range(1, 80):
        _batch(i, by=admin_user, kind=ImportKind.ALLOCATION, status=ImportStatus.PREVIEWED if i % 3 else ImportStatus.APPLIED)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse(LIST), {"kind": "allocation"})
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(reverse(LIST), {"page": "2"})


# --- discarding a previewed batch -----------------------------------------------------------------

def _previewed(actor):
    from funding.services import import_preview

    data = xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Bắc Ninh", "24", 70, 30)]))
    preview = import_preview(fileobj=io.BytesIO(data), name="phan-bo-thu.xlsx", actor=actor)
    assert preview.ok and preview.batch is not None
    return preview.batch


def test_discarding_a_previewed_batch_is_audited_with_file_name_and_hash(admin_client, admin_user,
                                                                          django_capture_on_commit_callbacks):
    batch = _previewed(admin_user)
    stored = batch.file.name
    storage = batch.file.storage
    assert storage.exists(stored)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("funding:import_discard", kwargs={"pk": batch.pk}), follow=True)
    assert f"Đã hủy lô #{batch.pk}." in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DISCARDED and not batch.rows.exists()
    assert not storage.exists(stored)
    event = AuditEvent.objects.get(action="funding.import_discarded")
    assert event.actor == admin_user and event.created_at is not None
    assert (event.object_type, event.object_id) == ("funding.ImportBatch", str(batch.pk))
    assert event.summary == f"Hủy lô nhập #{batch.pk} «phan-bo-thu.xlsx» (chưa nhập)"
    assert event.data["sha256"] == batch.sha256 and len(batch.sha256) == 64
    assert event.data["original_name"] == "phan-bo-thu.xlsx" and event.data["file"] == stored
    assert event.data["kind"] == "allocation" and event.data["rows_total"] == 2


@pytest.mark.parametrize("status", [ImportStatus.APPLIED, ImportStatus.UNDONE, ImportStatus.DISCARDED,
                                    ImportStatus.APPLYING, ImportStatus.FAILED])
def test_discarding_a_batch_not_waiting_is_refused_and_not_audited(admin_client, status):
    batch = _batch(1, status=status)
    response = admin_client.post(reverse("funding:import_discard", kwargs={"pk": batch.pk}), follow=True)
    assert "Chỉ hủy được lô đang chờ xác nhận." in response.content.decode()
    assert ImportBatch.objects.get(pk=batch.pk).status == status
    assert not AuditEvent.objects.filter(action="funding.import_discarded").exists()


def test_discarding_is_for_administrators_only(client, admin_user):
    batch = _previewed(admin_user)
    client.force_login(province_user("24"))
    assert client.post(reverse("funding:import_discard", kwargs={"pk": batch.pk})).status_code == 403
    assert ImportBatch.objects.get(pk=batch.pk).status == ImportStatus.PREVIEWED
    assert not AuditEvent.objects.filter(action="funding.import_discarded").exists()
