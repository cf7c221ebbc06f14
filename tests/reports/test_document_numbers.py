"""A document number and symbol («120/QĐ-ĐMST») is never split across two lines of a PDF: the templates
wrap it in ``<span class="docno">`` (``white-space: nowrap``), in free text too."""
import pytest
from django.utils import timezone

from reports import pdf, services
from reports.models import InspectionRecord, ReportJob
from reports.templatetags.report_pdf import docno, docnos
from tests.reports.factories import build_year

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


def test_docno_filters_wrap_numbers_and_escape():
    assert docno("120/QĐ-ĐMST") == '<span class="docno">120/QĐ-ĐMST</span>'
    assert docno("") == "" and docno(None) == ""
    assert docno("1/<b>") == '<span class="docno">1/&lt;b&gt;</span>'
    assert docnos("Căn cứ Quyết định số 77/QĐ-ĐMST và Nghị định 30/2020/NĐ-CP.") == (
        'Căn cứ Quyết định số <span class="docno">77/QĐ-ĐMST</span> và Nghị định '
        '<span class="docno">30/2020/NĐ-CP</span>.')
    # A span of years is kept on one line too; a lone year or a plain number is left alone.
    assert docnos("Năm 2021–2025 <x>") == 'Năm <span class="docno">2021–2025</span> &lt;x&gt;'
    assert docnos("giai đoạn 2026 – 2030") == 'giai đoạn <span class="docno">2026 – 2030</span>'
    assert docnos("năm 2026, 12 – 30 đề án") == "năm 2026, 12 – 30 đề án"


def test_annual_report_keeps_decision_numbers_unbroken():
    build_year(year=2025, n_de_an=6, n_records=2)
    job = ReportJob(kind="national", year=2025, grouping="current", issued_on=timezone.localdate())
    html = services.report_html(job)
    assert '(<span class="docno">55/QĐ-ĐMST</span>)' in html  # «Thực hiện Kế hoạch … (55/QĐ-ĐMST)»
    assert '<span class="docno">1881/QĐ-TTg</span>' in html  # the programme's decision
    # Laid out: every box of a document number is on one line, none split.
    document = pdf.html_to_document(html)

    def walk(box):
        yield box
        for child in getattr(box, "children", None) or []:
            yield from walk(child)

    spans = [b for page in document.pages for b in walk(page._page_box)
             if getattr(b, "element", None) is not None and b.element.get("class") == "docno"]
    assert spans and all(b.style["white_space"] == "nowrap" for b in spans)


def test_bien_ban_keeps_its_numbers_unbroken():
    build_year(year=2025, n_de_an=4, n_records=1)
    record = InspectionRecord.objects.get()
    InspectionRecord.objects.filter(pk=record.pk).update(legal_basis="Quyết định số 77/QĐ-ĐMST ngày 10/3/2025")
    html = services.report_html(ReportJob(kind="record", year=2025, target_id=record.pk, issued_on=timezone.localdate()))
    assert 'Căn cứ: Quyết định số <span class="docno">77/QĐ-ĐMST</span>' in html
