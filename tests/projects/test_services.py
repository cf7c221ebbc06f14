"""Dossier writes: money typed the Vietnamese way, budget rules and caps, beneficiaries and their
tax codes, attachments, and recording an already-approved đề án from the plan annex."""
from datetime import date

import pytest
from django.core.files.base import ContentFile

from khuyencong.choices import FundingSource, Level
from projects import rules, services
from projects.models import Attachment, BudgetLine, DeAn, Establishment, KindRule, Status, Transition
from projects.services import WorkflowError

from .factories import EstablishmentFactory, content, current, pdf_file, ready_de_an

pytestmark = pytest.mark.django_db


# --- money ---------------------------------------------------------------------------------------

def test_money_typed_the_vietnamese_way_is_read_as_dong(users):
    d = ready_de_an(users.centre)
    line = services.budget_line_add(actor=users.centre, de_an=d, description="Tập huấn", source="counterpart",
                                    amount="1.500.000")
    assert line.amount == 1_500_000
    assert DeAn.objects.get(pk=d.pk).counterpart_amount == 400_000_000 + 1_500_000


@pytest.mark.parametrize("value, fragment", [
    ("-1.000", "số âm"),
    (-5, "số âm"),
    ("1.500,5", "phần lẻ"),
    (1500.5, "phần lẻ"),
    ("10.000.000.000.000.000", "lớn bất thường"),
    ("1,500,000", "kiểu tiếng Anh"),
    ("abc", "không phải là số tiền"),
    ("", "chưa nhập số tiền"),
])
def test_bad_money_is_refused_with_a_message_and_nothing_changes(users, value, fragment):
    d = ready_de_an(users.centre)
    before = list(BudgetLine.objects.filter(de_an=d).values_list("amount", flat=True))
    with pytest.raises(WorkflowError) as err:
        services.budget_line_add(actor=users.centre, de_an=d, description="Dòng lỗi", source="national", amount=value)
    assert fragment in str(err.value)
    assert "Dòng «Dòng lỗi»" in str(err.value)
    assert list(BudgetLine.objects.filter(de_an=d).values_list("amount", flat=True)) == before
    assert DeAn.objects.get(pk=d.pk).revision == d.revision


def test_amounts_add_up_by_source(users):
    d = ready_de_an(users.centre)
    assert (d.national_amount, d.counterpart_amount, d.total_amount) == (400_000_000, 400_000_000, 800_000_000)
    assert rules.check_budget(d, list(d.budget_lines.all())) == []
    # Totals that no longer match the lines (e.g. written around the services) are caught.
    DeAn.objects.filter(pk=d.pk).update(total_amount=1)
    d.refresh_from_db()
    assert any("không khớp" in e for e in rules.check_budget(d, list(d.budget_lines.all())))


def test_national_support_over_the_tt28_cap_is_refused(users):
    d = ready_de_an(users.centre)
    lines = [
        {"description": "Máy chẻ nan", "source": "national", "amount": "320.000.000", "content": content("1.2"),
         "cost_basis": "1.000.000.000"},  # 50 % = 500 triệu but the amount cap is 300 triệu: lower wins
    ]
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    errors = rules.check_caps(d, list(d.budget_lines.all()))
    assert len(errors) == 1 and "300.000.000 đ" in errors[0] and "28/2018/TT-BTC" in errors[0]
    # The percentage is lower here: 50 % of 400 triệu = 200 triệu.
    lines[0].update(amount="250.000.000", cost_basis="400.000.000")
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    errors = rules.check_caps(d, list(d.budget_lines.all()))
    assert len(errors) == 1 and "200.000.000 đ" in errors[0]
    lines[0].update(amount="200.000.000")
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    assert rules.check_caps(d, list(d.budget_lines.all())) == []


def _machinery_lines(est, *amounts, cost_basis=600_000_000):
    return [{"description": f"Máy chẻ nan {i}", "source": "national", "amount": amount, "content": content("1.2"),
             "cost_basis": cost_basis, "establishment": est} for i, amount in enumerate(amounts, 1)]


def test_splitting_a_line_does_not_get_round_the_cap_per_establishment(users):
    d = ready_de_an(users.centre)
    est = d.beneficiaries.first().establishment
    # Two lines of 250 triệu for one establishment's machinery: 500 triệu > 300 triệu per establishment.
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision,
                              budget_lines=_machinery_lines(est, 250_000_000, 250_000_000))
    errors = rules.check_caps(d, list(d.budget_lines.select_related("establishment")))
    assert len(errors) == 1
    assert "«Máy chẻ nan 1», «Máy chẻ nan 2»" in errors[0] and f"cơ sở «{est.name}»" in errors[0]
    assert "500.000.000 đ" in errors[0] and "300.000.000 đ" in errors[0] and "cho mỗi cơ sở" in errors[0]
    # The same split between two establishments is within each one's cap.
    other = d.beneficiaries.exclude(establishment=est).first().establishment
    lines = _machinery_lines(est, 250_000_000) + _machinery_lines(other, 250_000_000)
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    assert rules.check_caps(d, list(d.budget_lines.select_related("establishment"))) == []


def test_the_percent_cap_applies_to_the_summed_cost(users):
    d = ready_de_an(users.centre)
    est = d.beneficiaries.first().establishment
    # 150 + 150 triệu on 200 + 200 triệu of cost: 50 % of 400 triệu = 200 triệu < 300 triệu.
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision,
                              budget_lines=_machinery_lines(est, 150_000_000, 150_000_000, cost_basis=200_000_000))
    errors = rules.check_caps(d, list(d.budget_lines.select_related("establishment")))
    assert len(errors) == 1 and "300.000.000 đ" in errors[0] and "200.000.000 đ" in errors[0]


def test_split_cap_per_de_an_unit_is_summed(users):
    """Caps whose unit is not an establishment (a cluster, a contest) are summed over the đề án."""
    d = ready_de_an(users.centre)
    lines = [{"description": f"Hạ tầng cụm {i}", "source": "national", "amount": 3_500_000_000,
              "content": content("4.3"), "cost_basis": 8_000_000_000} for i in (1, 2)]
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    errors = rules.check_caps(d, list(d.budget_lines.select_related("establishment")))
    assert len(errors) == 1 and "7.000.000.000 đ" in errors[0] and "6.000.000.000 đ" in errors[0]
    assert "cho mỗi cụm công nghiệp" in errors[0]


def test_submission_over_a_split_cap_is_refused_and_nothing_changes(users):
    d = ready_de_an(users.centre)
    est = d.beneficiaries.first().establishment
    other = d.beneficiaries.exclude(establishment=est).first().establishment
    lines = _machinery_lines(est, 250_000_000, 250_000_000) + [
        {"description": "Liên kết", "source": "national", "amount": 100_000_000, "content": content("4.1"),
         "establishment": other},
        {"description": "Đối ứng", "source": "counterpart", "amount": 700_000_000, "content": content("1.2"),
         "establishment": est},
    ]
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    with pytest.raises(WorkflowError) as err:
        services.de_an_submit(actor=users.centre, de_an=d)
    assert any(f"cơ sở «{est.name}»" in m for m in err.value.messages)
    row = DeAn.objects.get(pk=d.pk)
    assert row.status == Status.DRAFT and row.revision == d.revision
    assert not Transition.objects.filter(de_an=d, action="submit").exists()


def test_cap_lookup_uses_the_de_an_dates(users):
    d = ready_de_an(users.centre)
    DeAn.objects.filter(pk=d.pk).update(start_date=date(2017, 3, 1), end_date=date(2018, 3, 1))
    d.refresh_from_db()
    # TT 28 is in force from 11/05/2018: no cap applies to a start in 2017, so nothing to refuse.
    lines = list(d.budget_lines.all())
    lines[0].amount = 900_000_000
    assert rules.check_caps(d, lines) == []


# --- plan year and programme -----------------------------------------------------------------------

def test_a_new_plan_year_moves_the_de_an_to_that_years_programme(users):
    d = ready_de_an(users.centre, plan_year=2025)
    code = d.code
    assert (d.programme.start_year, d.programme.end_year) == (2021, 2025)
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, plan_year=2027)
    d = DeAn.objects.select_related("programme").get(pk=d.pk)
    assert d.plan_year == 2027 and (d.programme.start_year, d.programme.end_year) == (2026, 2030)
    assert d.code == code  # the code keeps the year it was issued with


def test_a_plan_year_no_programme_covers_is_refused_and_nothing_changes(users):
    d = ready_de_an(users.centre)
    before = DeAn.objects.values("plan_year", "programme_id", "revision", "name").get(pk=d.pk)
    with pytest.raises(WorkflowError) as err:
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, plan_year=2031, name="Tên mới")
    assert "Chưa có chương trình khuyến công nào cho năm kế hoạch 2031" in str(err.value)
    assert DeAn.objects.values("plan_year", "programme_id", "revision", "name").get(pk=d.pk) == before


# --- implementing unit -----------------------------------------------------------------------------

def _create(actor, **fields):
    return services.de_an_create(actor=actor, name="Đề án tập huấn", level=Level.NATIONAL, plan_year=2026, **fields)


def test_a_centre_names_another_implementing_unit_on_create(users):
    d = _create(users.centre, implementing_unit_name="Trung tâm Khuyến công quốc gia khu vực miền Bắc")
    d.refresh_from_db()
    assert d.implementing_unit_id is None
    assert d.unit_name == "Trung tâm Khuyến công quốc gia khu vực miền Bắc"
    # Empty, or their own unit's name (written any way): the centre's own organisation.
    own = users.centre.organisation
    assert _create(users.centre).implementing_unit_id == own.pk
    assert _create(users.centre, implementing_unit_name=f"  {own.name.upper()} ").implementing_unit_id == own.pk


def test_a_centre_names_another_implementing_unit_on_update(users):
    d = ready_de_an(users.centre)
    own = users.centre.organisation
    assert d.implementing_unit_id == own.pk
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision,
                              implementing_unit_name="Viện Nghiên cứu Cơ khí")
    d = DeAn.objects.get(pk=d.pk)
    assert d.implementing_unit_id is None and d.unit_name == "Viện Nghiên cứu Cơ khí"
    # Cleared again by the centre: back to its own organisation.
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, implementing_unit_name="")
    assert DeAn.objects.get(pk=d.pk).implementing_unit_id == own.pk
    # A Sở officer saving the form with the field empty keeps the unit as it is.
    d = services.de_an_update(actor=users.province, de_an=d, revision=d.revision, implementing_unit_name="",
                              name="Tên do Sở sửa")
    assert DeAn.objects.get(pk=d.pk).implementing_unit_id == own.pk


# --- rules ---------------------------------------------------------------------------------------

def test_pilot_kind_rules_are_data(users):
    d = ready_de_an(users.centre)
    assert rules.check_submission(d) == []
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, end_date=date(2026, 12, 31))
    assert any("ít nhất 2 năm" in e for e in rules.check_submission(d))
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, end_date=date(2029, 1, 31))
    assert any("tối đa 3 năm" in e for e in rules.check_submission(d))
    KindRule.objects.filter(kind="diem").update(max_years=4)
    assert rules.check_submission(d) == []


def test_end_before_start_is_refused(users):
    d = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match="Ngày kết thúc phải sau ngày bắt đầu"):
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, end_date=date(2025, 1, 1))
    assert DeAn.objects.get(pk=d.pk).end_date == date(2027, 11, 30)


def test_beneficiary_location_rules(users):
    d = ready_de_an(users.centre)
    links = list(d.beneficiaries.select_related("establishment__province"))
    # Recorded under former Bắc Giang (24, merged into current Bắc Ninh 24): eligible.
    est = links[0].establishment
    est.province = current("24").predecessors.get(code="24")
    est.save()
    assert rules.check_beneficiaries(d, list(d.beneficiaries.select_related("establishment__province"))) == []
    # Another province or no commune: refused.
    est.province = current("19")
    est.commune = ""
    est.save()
    errors = rules.check_beneficiaries(d, list(d.beneficiaries.select_related("establishment__province")))
    assert any("không thuộc địa bàn" in e for e in errors) and any("cấp xã" in e for e in errors)
    # A ward: refused for a đề án starting before 15/10/2025, eligible after (Decree 235).
    est.province = current("24")
    est.commune = "Phường Kinh Bắc"
    est.save()
    assert rules.check_beneficiaries(d, list(d.beneficiaries.select_related("establishment__province"))) == []
    d.start_date = date(2025, 3, 1)
    errors = rules.check_beneficiaries(d, list(d.beneficiaries.select_related("establishment__province")))
    assert len(errors) == 1 and "45/2012/NĐ-CP" in errors[0]


def test_kcdp_cannot_use_national_money(users):
    d = ready_de_an(users.centre, level=Level.LOCAL)
    lines = [{"description": "Hỗ trợ", "source": "national", "amount": 10_000_000}]
    d = services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, budget_lines=lines)
    errors = rules.check_budget(d, list(d.budget_lines.all()))
    assert any("không dùng kinh phí khuyến công quốc gia" in e for e in errors)


# --- establishments --------------------------------------------------------------------------------

@pytest.mark.parametrize("tax_code, ok", [
    ("0123456789", True), ("0123456789-001", True), ("001085012345", True),
    ("012345678", False), ("0123456789-01", False), ("01234567890", False), ("0123 456 789", True), ("abc", False),
])
def test_tax_code_validation(users, tax_code, ok):
    fields = {"name": "Hộ kinh doanh Nguyễn Thị Hoa", "legal_form": "household_business", "province": current("24"),
              "commune": "Xã Việt Yên", "tax_code": tax_code}
    if ok:
        est = services.establishment_create(actor=users.centre, **fields)
        assert est.tax_code == tax_code.replace(" ", "")
    else:
        with pytest.raises(WorkflowError, match="Mã số thuế"):
            services.establishment_create(actor=users.centre, **fields)


def test_establishment_is_kept_once_and_reused(users):
    fields = {"name": "Công ty TNHH Gốm Thổ Hà", "legal_form": "sme", "province": current("24"), "commune": "Xã Vân Hà"}
    est, created = services.establishment_get_or_create(actor=users.centre, tax_code="2400123456", **fields)
    again, created_again = services.establishment_get_or_create(actor=users.province, tax_code="2400123456", **fields)
    assert created and not created_again and est.pk == again.pk
    with pytest.raises(WorkflowError, match="đã có trong danh sách"):
        services.establishment_create(actor=users.centre, tax_code="2400123456", **fields)
    with pytest.raises(WorkflowError, match="12 số"):
        services.establishment_create(actor=users.centre, **{**fields, "tax_code": "001085012345"})
    with pytest.raises(WorkflowError, match="không thuộc đối tượng thụ hưởng"):
        services.establishment_create(actor=users.centre, **{**fields, "legal_form": "large_enterprise"})
    with pytest.raises(WorkflowError, match="tỉnh, thành phố mình"):
        services.establishment_create(actor=users.centre_other, **fields)
    assert Establishment.objects.filter(tax_code="2400123456").count() == 1


def test_beneficiary_of_another_province_cannot_be_attached(users):
    d = ready_de_an(users.centre)
    foreign = EstablishmentFactory(province=current("19"))
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.beneficiary_add(actor=users.centre, de_an=d, establishment=foreign)
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, beneficiaries=[foreign.pk])
    assert d.beneficiaries.count() == 2


# --- attachments -----------------------------------------------------------------------------------

def test_attachment_is_stored_privately_with_a_sanitised_name(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    att = services.attachment_add(actor=users.centre, de_an=d, file=pdf_file("../../etc/Văn bản đề nghị; rm -rf.pdf"),
                                  kind="request_letter")
    assert att.original_name == "Văn bản đề nghị_ rm -rf.pdf"
    assert att.content_type == "application/pdf" and att.size > 0
    assert att.file.name.startswith("de-an/") and "Văn" not in att.file.name and ".." not in att.file.name
    assert att.file.storage.exists(att.file.name)


@pytest.mark.parametrize("name, data, fragment", [
    ("virus.exe", b"MZ\x90\x00", "không được chấp nhận"),
    ("trang.html", b"<html>", "không được chấp nhận"),
    ("gia-mao.pdf", b"MZ\x90\x00 not a pdf", "không đúng định dạng"),
    ("rong.pdf", b"", "rỗng"),
])
def test_attachment_type_and_content_are_checked(users, settings, tmp_path, name, data, fragment):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match=fragment):
        services.attachment_add(actor=users.centre, de_an=d, file=ContentFile(data, name=name))
    assert not Attachment.objects.exists()


def test_attachment_size_limit(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.UPLOAD_MAX_BYTES = 1024
    d = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match="Tệp «lon.pdf» dung lượng 2 KB, vượt giới hạn 1 KB."):
        services.attachment_add(actor=users.centre, de_an=d, file=ContentFile(b"%PDF-" + b"x" * 2000, name="lon.pdf"))
    services.attachment_add(actor=users.centre, de_an=d, file=ContentFile(b"\x89PNG\r\n\x1a\n" + b"x" * 100, name="anh.PNG"))


def test_attachment_other_province_refused(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.attachment_add(actor=users.centre_other, de_an=d, file=pdf_file())


def _attachment_events(de_an):
    from khuyencong.models import AuditEvent

    return list(AuditEvent.objects.filter(object_type="projects.DeAn", object_id=str(de_an.pk),
                                          action__startswith="attachment.").order_by("id"))


def test_attachment_added_and_deleted_are_audited(users, settings, tmp_path):
    import hashlib

    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    body = pdf_file().read()
    att = services.attachment_add(actor=users.centre, de_an=d, file=ContentFile(body, name="Báo giá máy.pdf"),
                                  kind="quotation")
    [added] = _attachment_events(d)
    assert added.action == "attachment.add" and added.actor == users.centre
    assert added.summary == "Thêm tài liệu «Báo giá máy.pdf»"
    assert added.data == {"attachment": att.pk, "name": "Báo giá máy.pdf", "kind": "quotation", "size": len(body),
                          "content_type": "application/pdf", "sha256": hashlib.sha256(body).hexdigest()}
    services.attachment_delete(actor=users.province, attachment=att)
    added_again, deleted = _attachment_events(d)
    assert added_again == added
    assert deleted.action == "attachment.delete" and deleted.actor == users.province
    assert deleted.summary == "Xóa tài liệu «Báo giá máy.pdf»"
    assert deleted.data == {**added.data}  # the same file: its name, size and hash as recorded when added
    assert not Attachment.objects.filter(pk=att.pk).exists()


def test_refused_attachment_writes_leave_no_audit_event(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    with pytest.raises(WorkflowError, match="không được chấp nhận"):
        services.attachment_add(actor=users.centre, de_an=d, file=ContentFile(b"MZ", name="virus.exe"))
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.attachment_add(actor=users.centre_other, de_an=d, file=pdf_file())
    att = services.attachment_add(actor=users.centre, de_an=d, file=pdf_file())
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.attachment_delete(actor=users.centre_other, attachment=att)
    services.de_an_submit(actor=users.centre, de_an=d)
    with pytest.raises(WorkflowError, match="đang soạn hoặc bị trả lại"):
        services.attachment_delete(actor=users.centre, attachment=att)
    assert [e.action for e in _attachment_events(d)] == ["attachment.add"]


def test_deleting_an_attachment_already_deleted_is_refused_once(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    att = services.attachment_add(actor=users.centre, de_an=d, file=pdf_file())
    services.attachment_delete(actor=users.centre, attachment=att)
    with pytest.raises(WorkflowError, match="Không tìm thấy tài liệu."):
        services.attachment_delete(actor=users.centre, attachment=att)
    assert [e.action for e in _attachment_events(d)] == ["attachment.add", "attachment.delete"]


# --- recording an approved đề án (funding's import) ---------------------------------------------------

def record(**overrides):
    values = dict(
        actor=None, plan_year=2026, level="kcqg", province=current("24"),
        name="Hỗ trợ ứng dụng máy móc thiết bị tiên tiến trong sản xuất gốm", implementing_unit_name=
        "Trung tâm Khuyến công tỉnh Bắc Ninh", beneficiary_name="HTX Gốm Thổ Hà", contents_text="1.2 Hỗ trợ máy móc",
        location="Xã Vân Hà", start_date=date(2026, 3, 1), end_date=date(2026, 11, 30), total_amount=1_000_000_000,
        national_amount=300_000_000, local_amount=0, counterpart_amount=700_000_000, decision_number="2646/QĐ-BCT",
        decision_date=date(2025, 12, 20), source_ref="plan-2026:row-12",
    )
    values.update(overrides)
    return services.de_an_record_approved(**values)


def test_record_approved_is_idempotent(users):
    d, action = record(actor=users.reviewer)
    assert action == "created"
    assert d.status == Status.APPROVED and d.code.startswith("KCQG-2026-24-")
    assert d.implementing_unit is not None and d.implementing_unit.code == "ttkc-24"
    assert d.approved_national_amount == 300_000_000 and d.total_amount == 1_000_000_000
    assert sorted(d.budget_lines.values_list("source", "amount")) == [
        (FundingSource.COUNTERPART, 700_000_000), (FundingSource.NATIONAL, 300_000_000)]
    assert [c.code for c in d.contents.all()] == ["1.2"]
    assert d.beneficiaries.get().establishment.legal_form == "cooperative"
    assert Transition.objects.get(de_an=d).action == "import_approved"
    again, action = record(actor=users.reviewer)
    assert (again.pk, action) == (d.pk, "unchanged")
    changed, action = record(actor=users.reviewer, national_amount=350_000_000, counterpart_amount=650_000_000)
    assert (changed.pk, action) == (d.pk, "updated")
    assert DeAn.objects.get(pk=d.pk).national_amount == 350_000_000
    assert DeAn.objects.filter(source_ref="plan-2026:row-12").count() == 1
    assert Transition.objects.filter(de_an=d).count() == 2


def test_record_approved_refusals(users):
    with pytest.raises(WorkflowError, match="Chỉ chuyên viên"):
        record(actor=users.centre)
    with pytest.raises(WorkflowError, match="nhỏ hơn tổng các nguồn"):
        record(total_amount=100)
    with pytest.raises(WorkflowError, match="số âm"):
        record(national_amount=-1)
    d, action = record(implementing_unit_name="Viện Nghiên cứu Cơ khí", source_ref="r2")
    assert d.implementing_unit is None and d.implementing_unit_name == "Viện Nghiên cứu Cơ khí"
    assert DeAn.objects.count() == 1


def test_hostile_hidden_fields_are_refused(users):
    from khuyencong.models import Organisation

    d = ready_de_an(users.centre)
    other_unit = Organisation.objects.get(code="ttkc-19")
    with pytest.raises(WorkflowError, match="Đơn vị thực hiện thuộc tỉnh, thành phố khác"):
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, implementing_unit=other_unit)
    other = ready_de_an(users.centre_other, province=current("19"))
    foreign_line = other.budget_lines.first()
    with pytest.raises(WorkflowError, match="không thuộc đề án này"):
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision,
                              budget_lines=[{"id": foreign_line.pk, "description": "x", "source": "national", "amount": 1}])
    with pytest.raises(WorkflowError, match="tỉnh, thành phố khác"):
        services.budget_line_remove(actor=users.centre, line=foreign_line)
    with pytest.raises(TypeError):
        services.de_an_update(actor=users.centre, de_an=d, revision=d.revision, status="approved")
    assert DeAn.objects.get(pk=d.pk).status == Status.DRAFT
    assert other.budget_lines.count() == 4


def test_approved_amount_cannot_exceed_the_request(users):
    from .factories import advance, allocate

    d = advance(ready_de_an(users.centre), "under_appraisal", users)
    allocate(d)
    with pytest.raises(WorkflowError, match="lớn hơn kinh phí khuyến công quốc gia đề nghị"):
        services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="1/QĐ-BCT",
                               decision_date=date(2026, 1, 1), approved_national_amount="500.000.000")
    d = services.de_an_approve(actor=users.reviewer, de_an=d, decision_number="1/QĐ-BCT",
                               decision_date=date(2026, 1, 1), approved_national_amount="350.000.000")
    assert d.approved_national_amount == 350_000_000


def annex_rows(n, **overrides):
    rows = []
    for i in range(n):
        row = dict(
            plan_year=2026, level="kcqg", province=current("24") if i % 2 else current("19"),
            name=f"Hỗ trợ máy móc thiết bị số {i}", implementing_unit_name="Trung tâm Khuyến công tỉnh Bắc Ninh"
            if i % 2 else "Trung tâm Khuyến công tỉnh Thái Nguyên", beneficiary_name=f"HTX Chè Tân Cương {i % 3}",
            contents_text="1.2 Hỗ trợ máy móc", location="Xã A", start_date=date(2026, 3, 1), end_date=date(2026, 11, 30),
            total_amount=1_000_000_000, national_amount=300_000_000, local_amount=0, counterpart_amount=650_000_000,
            decision_number="2646/QĐ-BCT", decision_date=date(2025, 12, 20), source_ref=f"annex:{i}",
        )
        row.update(overrides)
        rows.append(row)
    return rows


def test_record_approved_many_matches_the_one_row_path(users, django_assert_max_num_queries):
    rows = annex_rows(6)
    single = [services.de_an_record_approved(actor=users.reviewer, **{**r, "source_ref": f"one:{i}"})[0]
              for i, r in enumerate(rows)]
    for n in (6, 40):
        many_rows = annex_rows(n, source_ref=None)
        for i, r in enumerate(many_rows):
            r["source_ref"] = f"many{n}:{i}"
        with django_assert_max_num_queries(45):
            results = services.de_an_record_approved_many(actor=users.reviewer, rows=many_rows)
        assert [a for _d, a in results] == ["created"] * n
    many = [d for d, _a in results[:6]]
    fields = ("name", "level", "plan_year", "province_id", "current_province_id", "implementing_unit_id", "status",
              "total_amount", "national_amount", "counterpart_amount", "other_amount", "approved_national_amount",
              "decision_number")
    for a, b in zip(single, many, strict=True):
        b = DeAn.objects.get(pk=b.pk)
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
        assert sorted(a.budget_lines.values_list("source", "amount")) == sorted(b.budget_lines.values_list("source", "amount"))
        assert list(a.contents.values_list("code", flat=True)) == list(b.contents.values_list("code", flat=True))
        assert a.beneficiaries.get().establishment_id == b.beneficiaries.get().establishment_id  # reused
        assert b.history.count() == 1 and b.transitions.get().action == "import_approved"
    codes = list(DeAn.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes))
    # Idempotent: unchanged rows write nothing; a changed row is updated.
    again_rows = annex_rows(40)
    for i, r in enumerate(again_rows):
        r["source_ref"] = f"many40:{i}"
    again_rows[3]["national_amount"] = 250_000_000
    n_transitions = Transition.objects.count()
    results = services.de_an_record_approved_many(actor=users.reviewer, rows=again_rows)
    assert [a for _d, a in results].count("unchanged") == 39 and results[3][1] == "updated"
    assert Transition.objects.count() == n_transitions + 1


def test_record_approved_many_refuses_a_bad_row_and_writes_nothing(users):
    rows = annex_rows(5)
    rows[2]["national_amount"] = "1.500,5"
    with pytest.raises(services.RecordError) as err:
        services.de_an_record_approved_many(actor=users.reviewer, rows=rows)
    assert err.value.index == 2 and "phần lẻ" in str(err.value)
    assert not DeAn.objects.exists()
    rows = annex_rows(3)
    rows[1]["source_ref"] = rows[0]["source_ref"]
    with pytest.raises(services.RecordError, match="hai lần"):
        services.de_an_record_approved_many(actor=users.reviewer, rows=rows)
    with pytest.raises(WorkflowError, match="Chỉ chuyên viên"):
        services.de_an_record_approved_many(actor=users.centre, rows=annex_rows(1))
