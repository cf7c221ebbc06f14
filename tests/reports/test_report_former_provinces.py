"""An annual report grouped by the province recorded on the dossier (``grouping=historical``) tells a former
province from the current one of the same name: «Bắc Ninh (cũ)» (Province.era_name), in Section III's
table and chart (Hình 3), the appendix's subtotal headings («Tỉnh Bắc Ninh (cũ) (2)») and the inspection
appendix. New Bắc Ninh (24) kept the name of old Bắc Ninh (27) and the code of old Bắc Giang (24): the
appendix printed «Tỉnh Bắc Ninh (4)» and «Tỉnh Bắc Ninh (10)», Hình 3 two «Bắc Ninh» bars."""
import re
from collections import Counter

import pytest
from django.utils import timezone

from khuyencong.models import Province
from projects.models import DeAn
from reports import selectors, services
from reports.models import ReportJob
from tests.reports.conftest import pdf_text
from tests.reports.factories import build_year

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


def bac_ninh():
    return Province.objects.current().get(code="24")


@pytest.fixture
def year_2025():
    """A 2025 of Bắc Ninh: đề án recorded under the current Bắc Ninh, the former Bắc Ninh (27) and the
    former Bắc Giang (24); five of them inspected. Returns {era_full_name of the recorded province: count}."""
    build_year(year=2025, n_de_an=12, n_records=5, provinces=[bac_ninh()])
    counts = Counter(
        d.province.era_full_name
        for d in DeAn.objects.filter(plan_year=2025, status__in=selectors.IMPLEMENTED_STATUSES).select_related("province")
    )
    assert counts.keys() == {"Tỉnh Bắc Ninh", "Tỉnh Bắc Ninh (cũ)", "Tỉnh Bắc Giang (cũ)"}, counts
    return counts


def _report(tmp_path, grouping, kind="province"):
    out = tmp_path / f"{kind}-{grouping}.pdf"
    services.report_generate_sync(kind=kind, year=2025, province=bac_ninh() if kind == "province" else None,
                                  grouping=grouping, output=str(out))
    return pdf_text(out)


def test_province_report_grouped_by_recorded_province(year_2025, tmp_path):
    text = _report(tmp_path, "historical")
    flat = " ".join(text.split())
    # Phụ lục I: one subtotal heading per province recorded, the former ones marked, with their own counts.
    appendix = flat[flat.index("Phụ lục I DANH MỤC"):flat.index("Phụ lục II KẾT QUẢ")]
    headings = re.findall(r"(Tỉnh B[^()\d]*?(?: \(cũ\))?) \((\d+)\)", appendix)
    assert {name: int(n) for name, n in headings} == dict(year_2025)
    assert len(headings) == 3
    # Section III: the table and Hình 3's labels, each province once in each.
    section = text[text.index("III. ĐỀ ÁN THEO TỈNH"):text.index("Hình 3.")]
    table, chart = section[:section.rindex("Tổng cộng")], section[section.rindex("Tổng cộng"):]
    for part in (table, chart):
        lines = Counter(line.strip() for line in part.splitlines())
        assert (lines["Bắc Ninh"], lines["Bắc Ninh (cũ)"], lines["Bắc Giang (cũ)"]) == (1, 1, 1), part
    # Phụ lục II (inspections): the province each inspected đề án was recorded under.
    inspected = flat[flat.index("Phụ lục II KẾT QUẢ"):]
    recorded = Counter(d.province.era_name for d in DeAn.objects.filter(inspection_records__isnull=False)
                       .select_related("province"))
    assert recorded["Bắc Ninh (cũ)"] and recorded["Bắc Giang (cũ)"] and recorded["Bắc Ninh"], recorded
    assert len(re.findall(r"\d{2}/\d{2}/2025", inspected)) == sum(recorded.values())
    for name, n in recorded.items():
        found = len(re.findall(rf"{re.escape(name)} \d{{2}}/\d{{2}}/2025", inspected))
        assert found == n, (name, found, inspected)


def test_province_report_grouped_by_current_province_says_no_former(year_2025, tmp_path):
    flat = " ".join(_report(tmp_path, "current").split())
    assert "(cũ)" not in flat
    assert f"Tỉnh Bắc Ninh ({sum(year_2025.values())})" in flat


def test_national_report_chart_labels(year_2025):
    """Hình 3 of the national report, grouped by the province recorded: distinct labels, the former marked."""
    job = ReportJob(kind="national", year=2025, grouping="historical", issued_on=timezone.localdate())
    context = selectors.annual_report_context(job)
    labels = [bar["label"] for bar in context["province_chart"]["bars"]]
    assert sorted(labels) == sorted(["Bắc Ninh", "Bắc Ninh (cũ)", "Bắc Giang (cũ)"])
    records = {row[1] for row in context["inspections"]["records"]}
    assert {"Bắc Ninh (cũ)", "Bắc Giang (cũ)", "Bắc Ninh"} == records
