"""The inspection plan PDF: issued with a decision it is a document attached to that decision (NĐ
30/2020), so it prints no number, place-and-date line or «Nơi nhận» of its own; a plan without a decision
keeps them."""
import pytest
from django.utils import timezone

from khuyencong.formatting import format_date_long
from reports import services
from reports.models import InspectionPlan
from tests.reports.conftest import pdf_text
from tests.reports.factories import build_year

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


def _plan_pdf(tmp_path):
    out = tmp_path / "kh.pdf"
    services.report_generate_sync(kind="plan", year=2025, output=str(out))
    return out, " ".join(pdf_text(out).split())


def test_plan_issued_with_a_decision_has_no_number_date_or_recipients_of_its_own(users, media_root, tmp_path):
    build_year(year=2025, n_de_an=6, n_records=2)  # plan 55/QĐ-ĐMST of 10/03/2025
    out, text = _plan_pdf(tmp_path)
    assert "(Ban hành kèm theo Quyết định số 55/QĐ-ĐMST ngày 10 tháng 3 năm 2025)" in text
    assert "Số:" not in text and "/KH-" not in text
    assert "Hà Nội, ngày" not in text and format_date_long(timezone.localdate()) not in text
    assert "Nơi nhận" not in text and "Lưu: VT, KC" not in text
    assert "PHÓ CỤC TRƯỞNG" in text  # the signature stays
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Đoàn kiểm tra số 1" in text


def test_plan_without_a_decision_keeps_its_number_date_and_recipients(users, media_root, tmp_path):
    build_year(year=2025, n_de_an=6, n_records=2)
    InspectionPlan.objects.filter(year=2025).update(decision_number="", decision_date=None)
    out, text = _plan_pdf(tmp_path)
    assert "Ban hành kèm theo" not in text
    assert "Số:" in text and "/KH-ĐMSTKC" in text
    assert f"Hà Nội, {format_date_long(timezone.localdate())}" in text
    assert "Nơi nhận" in text and "Lưu: VT, KC" in text
