"""Undo of a plan-annex batch: everything the batch created goes, everything it updated comes back,
the database is exactly as before the import; refused, naming the đề án, while anything depends on it."""
import io
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from dashboards.models import QueueTotals
from funding import services as funding_services
from funding.models import Allocation, AnnualPlan, Commitment, Disbursement, ImportBatch, ImportRow, ImportStatus
from funding.services import ImportFailed, disbursement_record, import_file, import_undo
from khuyencong.models import AuditEvent, Province
from projects import services as projects_services
from projects.models import (
    Attachment,
    BudgetLine,
    CodeSequence,
    DeAn,
    DeAnBeneficiary,
    Establishment,
    Transition,
)
from projects.services import _m2m_history_model
from tests.funding.conftest import ANNEX, load_bench_import
from tests.funding.factories import make_de_an

pytestmark = pytest.mark.django_db


def rows_of(model):
    return sorted(map(repr, model._base_manager.values_list()))


def database():
    """Every row of every table a plan-annex import writes to (except the batch log and the audit
    trail, which keep the import and its undo), with every column."""
    models = [AnnualPlan, Allocation, Commitment, Disbursement, DeAn, DeAn.history.model, _m2m_history_model(),
              DeAn.contents.through, BudgetLine, BudgetLine.history.model, DeAnBeneficiary,
              DeAnBeneficiary.history.model, Transition, Establishment, CodeSequence, QueueTotals]
    return {model._meta.db_table: rows_of(model) for model in models}


def assert_same(before, after):
    for table in before:
        assert after[table] == before[table], table


def import_annex(actor, data=None, name="ke-hoach.xlsx"):
    if data is None:
        with open(ANNEX, "rb") as fh:
            data = fh.read()
    preview = import_file(fileobj=io.BytesIO(data), name=name, actor=actor)
    assert preview.ok and preview.batch is not None, [p.message for p in preview.problems][:5]
    return preview


def test_undo_of_the_sample_annex_leaves_the_database_as_before(admin_user):
    # A đề án already holding money against an allocation the annex also commits against.
    plan = AnnualPlan.objects.create(year=2024, level="kcqg", decision_number="1/QĐ-BCT", decision_date=date(2024, 1, 2))
    bac_ninh = Province.objects.get(code="24", era="current")
    Allocation.objects.create(plan=plan, province=bac_ninh, source="national", amount=10_000_000_000)
    funding_services.commitment_reserve(de_an=make_de_an(province=bac_ninh, year=2024), amount=1_000_000)
    CodeSequence.objects.create(prefix="KCQG-2024-19", last=5)  # codes handed out before: put back to 5
    before = database()
    audits = AuditEvent.objects.count()

    preview = import_annex(admin_user)
    assert preview.counts()["create"] == 30
    assert DeAn.objects.filter(code="KCQG-2024-19-0006").exists()
    assert DeAn.objects.count() == 31 and Commitment.objects.count() == 31
    assert Allocation.objects.filter(import_batch=preview.batch).exists()  # created from the annex
    assert AnnualPlan.objects.get().decision_number != "1/QĐ-BCT"  # the annex's decision filled in
    assert Establishment.objects.exists()

    import_undo(batch=preview.batch, actor=admin_user)
    assert_same(before, database())
    batch = ImportBatch.objects.get(pk=preview.batch.pk)
    assert batch.status == ImportStatus.UNDONE and batch.undone_by == admin_user
    event = AuditEvent.objects.filter(action="funding.import_undone").get()
    assert event.data["de_an_removed"] == 30 and event.object_id == str(batch.pk)
    assert AuditEvent.objects.count() == audits + 2  # the import and its undo
    # Figures: what is allocated and committed is what it was.
    allocation = Allocation.objects.get()
    assert (allocation.amount, allocation.committed) == (10_000_000_000, 1_000_000)

    # The same file can be imported again after the undo (not a duplicate any more), with the same codes.
    again = import_annex(admin_user)
    assert again.counts()["create"] == 30
    assert DeAn.objects.filter(code__endswith="-0001").exists()


def test_undo_of_an_updating_annex_restores_the_previous_rows_then_the_first_undo_empties(admin_user):
    bench = load_bench_import()
    plan = AnnualPlan.objects.create(year=2024, level="kcqg")
    for province in Province.objects.current():
        Allocation.objects.create(plan=plan, province=province, source="national", amount=50_000_000_000)
    empty = database()
    first_data, _n = bench.plan_annex(12, seed=1)
    first = import_annex(admin_user, first_data, "phu-luc-1.xlsx")
    assert first.counts()["create"] == 12
    after_first = database()
    committed_first = sum(Allocation.objects.values_list("committed", flat=True))

    # Same đề án (same names, province, beneficiary) with other amounts, and two more.
    second_data, _n = bench.plan_annex(14, seed=2)
    second = import_annex(admin_user, second_data, "phu-luc-2.xlsx")
    counts = second.counts()
    assert counts["create"] == 2 and counts["update"] == 12, counts
    assert ImportRow.objects.filter(batch=second.batch, action="update").exclude(data__before=None).count() == 12
    assert sum(Allocation.objects.values_list("committed", flat=True)) != committed_first

    import_undo(batch=second.batch, actor=admin_user)
    assert_same(after_first, database())
    assert sum(Allocation.objects.values_list("committed", flat=True)) == committed_first

    import_undo(batch=first.batch, actor=admin_user)
    assert_same(empty, database())


def test_a_batch_updated_by_a_later_batch_cannot_be_undone_first(admin_user):
    bench = load_bench_import()
    plan = AnnualPlan.objects.create(year=2024, level="kcqg")
    for province in Province.objects.current():
        Allocation.objects.create(plan=plan, province=province, source="national", amount=50_000_000_000)
    first = import_annex(admin_user, bench.plan_annex(3, seed=1)[0], "phu-luc-1.xlsx")
    import_annex(admin_user, bench.plan_annex(3, seed=2)[0], "phu-luc-2.xlsx")
    before = database()
    with pytest.raises(ImportFailed) as err:
        import_undo(batch=first.batch, actor=admin_user)
    assert "đã được sửa sau khi nhập" in str(err.value)
    assert_same(before, database())
    assert ImportBatch.objects.get(pk=first.batch.pk).status == ImportStatus.APPLIED


# --- refusals: one per kind of dependency; each names the đề án and changes nothing -----------------

def _start_implementation(de_an, admin):
    from tests.khuyencong.factories import province_user

    projects_services.de_an_start_implementation(actor=province_user(de_an.current_province.code), de_an=de_an)
    return "bắt đầu thực hiện"


def _disbursement(de_an, admin):
    disbursement_record(actor=admin, de_an=de_an, kind="advance", amount=1_000_000, date=date(2024, 5, 1),
                        document_number="TU-01")
    return "giải ngân"


def _inspection_record(de_an, admin):
    from reports.models import InspectionRecord

    InspectionRecord.objects.create(de_an=de_an, inspected_on=date(2024, 9, 1), place="Tại cơ sở")
    return "biên bản kiểm tra"


def _indicator_output(de_an, admin):
    from dashboards.models import DeAnIndicatorOutput
    from khuyencong.models import Indicator

    DeAnIndicatorOutput.objects.create(de_an=de_an, indicator=Indicator.objects.order_by("pk").first(), planned=3)
    return "sản phẩm đầu ra"


def _attachment(de_an, admin):
    Attachment.objects.create(de_an=de_an, file=ContentFile(b"%PDF-1.4", name="qd.pdf"), original_name="qd.pdf",
                              size=8, content_type="application/pdf")
    return "tài liệu đính kèm"


def _comment(de_an, admin):
    projects_services.comment_add(actor=admin, de_an=de_an, text="Đề nghị bổ sung hồ sơ")
    return "ý kiến trao đổi"


def _edited(de_an, admin):
    DeAn.objects.filter(pk=de_an.pk).update(revision=2)
    return "đã được sửa sau khi nhập"


def _establishment_used_elsewhere(de_an, admin):
    link = DeAnBeneficiary.objects.filter(de_an=de_an).select_related("establishment").get()
    other = make_de_an(province=link.establishment.province.current, year=2024, name="Đề án khác")
    DeAnBeneficiary.objects.create(de_an=other, establishment=link.establishment)
    return "đã được dùng ở nơi khác"


def _commitment_changed(de_an, admin):
    from django.db.models import F

    Allocation.objects.filter(commitments__de_an=de_an).update(amount=F("amount") + 1_000)  # room for more
    funding_services.commitment_reserve(de_an=de_an, amount=1_000)
    return "cam kết kinh phí đã thay đổi"


@pytest.mark.parametrize("depend", [_start_implementation, _disbursement, _inspection_record, _indicator_output,
                                    _attachment, _comment, _edited, _establishment_used_elsewhere,
                                    _commitment_changed], ids=lambda f: f.__name__.strip("_"))
def test_undo_is_refused_while_something_depends_on_a_created_de_an(admin_user, depend):
    preview = import_annex(admin_user)
    row = ImportRow.objects.filter(batch=preview.batch, action="create").order_by("sheet_row").first()
    de_an = DeAn.objects.get(pk=row.object_id)
    expected = depend(de_an, admin_user)
    before = database()
    with pytest.raises(ImportFailed) as err:
        import_undo(batch=preview.batch, actor=admin_user)
    text = str(err.value) + "\n" + "\n".join(p.message for p in err.value.problems)
    assert expected in text, text
    if depend is not _establishment_used_elsewhere:
        assert de_an.code in str(err.value), str(err.value)  # the reason names the đề án
    assert_same(before, database())
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportStatus.APPLIED


def test_the_database_foreign_keys_are_the_last_guard(admin_user, monkeypatch):
    """Should the checks miss a dependency, the database refuses to delete the đề án and the undo
    reports it, naming the đề án; nothing is changed."""
    preview = import_annex(admin_user)
    de_an = DeAn.objects.get(pk=ImportRow.objects.filter(batch=preview.batch, action="create").first().object_id)
    _inspection_record(de_an, admin_user)
    monkeypatch.setattr(funding_services, "_annex_undo_problems", lambda *a, **k: [])
    before = database()
    with pytest.raises(ImportFailed) as err:
        import_undo(batch=preview.batch, actor=admin_user)
    assert "tham chiếu" in str(err.value)
    from django.db import connection

    if connection.vendor == "postgresql":  # SQLite's error does not say which row: the message is generic there
        assert de_an.code in str(err.value), str(err.value)
    assert_same(before, database())
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportStatus.APPLIED


def test_undo_page_asks_for_confirmation_then_undoes_an_annex(client, admin_user):
    preview = import_annex(admin_user)
    client.force_login(admin_user)
    url = reverse("funding:import_undo", kwargs={"pk": preview.batch.pk})
    detail = client.get(reverse("funding:import_detail", kwargs={"pk": preview.batch.pk}))
    assert url in detail.content.decode()
    page = client.get(url)
    text = page.content.decode()
    assert page.status_code == 200 and "Xác nhận hoàn tác" in text and "30 đề án" in text
    assert DeAn.objects.count() == 30  # a GET changes nothing
    response = client.post(url, follow=True)
    assert "Đã hoàn tác lô" in response.content.decode()
    assert DeAn.objects.count() == 0
    assert ImportBatch.objects.get(pk=preview.batch.pk).status == ImportStatus.UNDONE
    again = client.post(url, follow=True)  # a second click: refused, explained
    assert "Chỉ hoàn tác được lô đã nhập" in again.content.decode()


def test_undo_page_shows_the_refusal_naming_the_de_an(client, admin_user):
    preview = import_annex(admin_user)
    de_an = DeAn.objects.get(pk=ImportRow.objects.filter(batch=preview.batch, action="create").first().object_id)
    _comment(de_an, admin_user)
    client.force_login(admin_user)
    response = client.post(reverse("funding:import_undo", kwargs={"pk": preview.batch.pk}), follow=True)
    assert de_an.code in response.content.decode()
    assert DeAn.objects.count() == 30


def test_undo_page_undoes_an_allocation_table_too(client, admin_user):
    from tests.funding.conftest import allocation_book, xlsx_bytes

    before = database()
    data = xlsx_bytes(allocation_book([("Thành phố Hà Nội", "01", 100, 50), ("Tỉnh Cao Bằng", "04", 30, 20)]))
    preview = import_file(fileobj=io.BytesIO(data), name="phan-bo.xlsx", actor=admin_user)
    assert Allocation.objects.count() == 4
    client.force_login(admin_user)
    url = reverse("funding:import_undo", kwargs={"pk": preview.batch.pk})
    page = client.get(url).content.decode()
    assert "Xác nhận hoàn tác" in page and "Sẽ xóa 4 khoản phân bổ" in page
    response = client.post(url, follow=True)
    assert "Đã hoàn tác lô" in response.content.decode()
    assert_same(before, database())


def test_undo_query_count_does_not_grow_with_rows(admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bench = load_bench_import()
    counts = {}
    for n in (12, 120):
        preview = import_annex(admin_user, bench.plan_annex(n, seed=n)[0], f"phu-luc-{n}.xlsx")
        assert preview.counts()["create"] == n
        with CaptureQueriesContext(connection) as ctx:
            import_undo(batch=preview.batch, actor=admin_user)
        counts[n] = len(ctx.captured_queries)
        assert not DeAn.objects.exists()
    assert counts[12] == counts[120], counts
