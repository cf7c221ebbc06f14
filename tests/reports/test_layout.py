"""The reports' page layout against Nghị định 30/2020/NĐ-CP, Phụ lục I, checked on WeasyPrint's own
layout of the real templates (real data in the database, real fonts): margins, appendix headings and
page numbers, text that passes the edge of its cell or of the page, numbers split from their unit."""
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from weasyprint.formatting_structure import boxes as B

from khuyencong.models import Province
from reports import pdf, selectors, services
from reports.models import ReportJob
from tests.reports.conftest import pdf_text
from tests.reports.factories import build_year

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]

MM = 96 / 25.4  # WeasyPrint lays out in CSS px
PT = 96 / 72


def job_for(kind, year, **kwargs):
    return ReportJob(kind=kind, year=year, grouping="current", issued_on=timezone.localdate(), **kwargs)


def layout(job):
    return pdf.html_to_document(services.report_html(job))


def walk(box):
    yield box
    for child in getattr(box, "children", None) or []:
        yield from walk(child)


def page_numbers(data):
    """The first word of each page's text (the page number in the top margin, when there is one)."""
    import subprocess

    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    return [pdf_text(data, first=n, last=n).split()[:2] for n in range(1, pages + 1)]


def bac_ninh():
    return Province.objects.current().get(code="24")


# --- margins -------------------------------------------------------------------------------------

def test_every_page_is_a4_with_the_decree_margins_landscape_appendices_included():
    """Top and bottom 20–25 mm, left 30–35 mm, right 15–20 mm on every page: the portrait body and the
    landscape appendices alike (the appendices had 25 mm on the left, 20 mm on the right)."""
    build_year(year=2025, n_de_an=30, n_records=12, provinces=[bac_ninh()])
    document = layout(job_for("province", 2025, province=bac_ninh()))
    orientations = set()
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        size = (round(page.width / MM), round(page.height / MM))
        assert size in ((210, 297), (297, 210)), (number, size)
        orientations.add(size)
        assert 20 <= round(box.margin_top / MM, 1) <= 25, number
        assert 20 <= round(box.margin_bottom / MM, 1) <= 25, number
        assert 30 <= round(box.margin_left / MM, 1) <= 35, (number, box.margin_left / MM)
        assert 15 <= round(box.margin_right / MM, 1) <= 20, (number, box.margin_right / MM)
    assert orientations == {(210, 297), (297, 210)}


# --- appendices: heading, reference in the text, their own page numbers ---------------------------

def test_two_appendices_are_phu_luc_i_and_ii_each_numbered_from_its_own_first_page(tmp_path):
    build_year(year=2025, n_de_an=40, n_records=14, provinces=[bac_ninh()])
    job = job_for("province", 2025, province=bac_ninh())
    out = tmp_path / "bn.pdf"
    services.report_generate_sync(kind="province", year=2025, province=bac_ninh(), output=str(out))
    data = out.read_bytes()
    flat = " ".join(pdf_text(data).split())
    # «Phụ lục I» lower case on its own line, then the appendix's name in upper case; the text points to each.
    assert "Phụ lục I DANH MỤC ĐỀ ÁN KHUYẾN CÔNG TRIỂN KHAI NĂM 2025" in flat
    assert "Phụ lục II KẾT QUẢ KIỂM TRA, GIÁM SÁT ĐỀ ÁN NĂM 2025" in flat
    assert "PHỤ LỤC" not in flat
    assert "tại Phụ lục I kèm theo" in flat and "tại Phụ lục II kèm theo" in flat
    # The label is 14 pt bold (NĐ 30: «Phụ lục» and its number: lower case, 14 pt, upright, bold).
    labels = [b for page in layout(job).pages for b in walk(page._page_box)
              if isinstance(b, B.BlockBox) and "appendix-label" in (b.element.get("class") or "")]
    assert len(labels) == 2
    for label in labels:
        assert label.style["font_size"] == pytest.approx(14 * PT) and label.style["font_weight"] == 700
        assert label.style["font_style"] == "normal" and label.style["text_transform"] == "none"
    # Page numbers: the report 2…N from its second page; each appendix again from its own page 1,
    # which, like the report's first page, shows no number.
    firsts = page_numbers(data)
    starts = [n for n, words in enumerate(firsts) if words[:2] == ["Phụ", "lục"]]
    assert len(starts) == 2 and starts[1] - starts[0] >= 2 and len(firsts) - starts[1] >= 2, firsts
    assert firsts[0][0] != "1"
    assert [words[0] for words in firsts[1:starts[0]]] == [str(n) for n in range(2, starts[0] + 1)]
    assert [words[0] for words in firsts[starts[0] + 1:starts[1]]] == [str(n) for n in range(2, starts[1] - starts[0] + 1)]
    assert [words[0] for words in firsts[starts[1] + 1:]] == [str(n) for n in range(2, len(firsts) - starts[1] + 1)]


def test_a_single_appendix_is_just_phu_luc():
    """The national report has one appendix (the inspections): «Phụ lục», not a «Phụ lục 2» with no
    «Phụ lục 1» anywhere."""
    build_year(year=2025, n_de_an=20, n_records=4)
    html = services.report_html(job_for("national", 2025))
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Phụ lục 2" not in text and "Phụ lục 1" not in text
    assert "phát hiện và kết luận tại Phụ lục kèm theo." in text
    # The appendix names the document it goes with in full (NĐ 30/2020, Phụ lục I): number, date, issuer.
    agency = selectors.document_header(job_for("national", 2025))["issuer"]
    assert re.search(r"\(Kèm theo Báo cáo số (?:&nbsp;)*/BC-\S+ ngày \d{2} tháng \d{2} năm \d{4} của " + re.escape(agency) + r"\)",
                     text), text[-2000:]
    assert selectors.appendix_labels(de_an=False, inspections=True) == {"inspections": "Phụ lục"}
    assert selectors.appendix_labels(de_an=True, inspections=True) == {"de_an": "Phụ lục I", "inspections": "Phụ lục II"}


# --- nothing passes the edge of its cell, its chart or the page, in the largest report -----------------

def _text_width(text, size):
    from fontTools.ttLib import TTFont

    font = TTFont(Path(settings.BASE_DIR) / "static" / "fonts" / "LiberationSerif-Regular.ttf")
    cmap, hmtx, upm = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    return sum(hmtx[cmap[ord(ch)]][0] for ch in text) * size / upm


def test_national_report_for_every_province_has_no_text_past_a_cell_a_chart_or_the_page():
    """The benchmark's data (34 provinces, 2,000 đề án, 300 biên bản, the previous year): every word of
    every table cell stays inside its cell, every line inside the page's margins, and every bar value
    of the charts inside its SVG (which clips). It printed «1.506,7 %» across the border of the
    indicators' 15 mm ratio column and cut «27.625 triệu đồng» to «27.625 triệu đ» in Hình 3."""
    build_year(year=2024, n_de_an=500, n_records=0, seed=7)
    build_year(year=2025, n_de_an=2000, n_records=300)
    job = job_for("national", 2025)
    context = selectors.report_context(job)
    for chart in (context["province_chart"], context["content_chart"]):
        assert chart["bars"]
        for bar in chart["bars"]:
            assert bar["tx"] + _text_width(bar["text"], selectors.HBAR_FONT_UNITS) <= chart["width"], bar
        assert chart["label_mm"] + 2 + chart["bars_mm"] <= 165
    document = layout(job)
    assert len(document.pages) >= 30
    in_cells, on_page = [], []
    for number, page in enumerate(document.pages, 1):
        box = page._page_box
        right = box.content_box_x() + box.width
        cell = None
        stack = [(box, None)]
        while stack:
            node, cell = stack.pop()
            if isinstance(node, B.TableCellBox):
                cell = node
            if isinstance(node, B.TextBox) and cell is not None:
                left_edge, right_edge = cell.content_box_x(), cell.content_box_x() + cell.width
                if node.position_x < left_edge - 0.5 or node.position_x + node.width > right_edge + 0.5:
                    in_cells.append((number, node.text))
            if isinstance(node, (B.LineBox, B.ReplacedBox, B.TableBox)) and node.position_x + node.margin_width() > right + 0.5:
                on_page.append((number, type(node).__name__, node.element_tag))
            stack.extend((child, cell) for child in getattr(node, "children", None) or [])
    assert in_cells == []
    assert on_page == []


def test_a_group_heading_row_is_never_the_last_row_of_a_page():
    """Phụ lục of a province's report by recorded province: the bold «Tỉnh Bắc Giang (n)» row that heads
    a group and carries its subtotal stayed alone at the foot of a page, its rows on the next one (the
    benchmark's data, Bắc Ninh and Hưng Yên, page 7)."""
    build_year(year=2024, n_de_an=500, n_records=0, seed=7)
    build_year(year=2025, n_de_an=2000, n_records=300)
    seen = 0
    for code in ("24", "33"):
        job = job_for("province", 2025, province=Province.objects.current().get(code=code))
        job.grouping = "historical"
        for number, page in enumerate(layout(job).pages, 1):
            rows = [row for group in walk(page._page_box) if isinstance(group, B.TableRowGroupBox) and not group.is_header
                    for row in group.children if isinstance(row, B.TableRowBox)]
            seen += sum("subtotal" in (row.element.get("class") or "") for row in rows)
            assert not rows or "subtotal" not in (rows[-1].element.get("class") or ""), (code, number)
    assert seen >= 4


# --- running text ---------------------------------------------------------------------------------

def test_a_number_and_its_unit_stay_on_one_line_in_running_text():
    """«… vốn đối ứng và nguồn khác 71,6» at the end of one line and «%.» at the start of the next (page 1
    of the benchmark's report): in paragraphs a number and its «%» or «đ» are joined by a no-break space."""
    build_year(year=2025, n_de_an=20, n_records=4)
    html = services.report_html(job_for("national", 2025))
    paragraphs = re.findall(r"<p[ >].*?</p>", html, re.S)
    assert any("%" in p for p in paragraphs) and any(" đ" in p or "\u00a0đ" in p for p in paragraphs)
    broken = [m.group(0) for p in paragraphs for m in re.finditer(r"\d [%đ](?!\w)", p)]
    assert broken == []
    assert re.search(r"\d\u00a0%", html) and re.search(r"\d\u00a0đ", html)


def test_kinh_gui_line_is_centred():
    """The addressee line of a province's report is centred: it carried the paragraphs' 1 cm first-line
    indent, which pushed its first line right of the centre."""
    build_year(year=2025, n_de_an=6, n_records=0, provinces=[bac_ninh()])
    document = layout(job_for("province", 2025, province=bac_ninh()))
    page = document.pages[0]._page_box
    left, right = page.content_box_x(), page.content_box_x() + page.width
    addressee = next(b for b in walk(page) if isinstance(b, B.BlockBox) and (b.element.get("class") or "") == "addressee")
    lines = [b for b in walk(addressee) if isinstance(b, B.LineBox)]
    assert lines
    for line in lines:
        start = min(child.position_x for child in line.children)
        end = max(child.position_x + child.margin_width() for child in line.children)
        assert abs((start - left) - (right - end)) < 1 * PT, (start - left, right - end)


def test_province_report_cites_in_full_and_draws_no_one_bar_comparison(tmp_path):
    """Formal text cites a decree with its date in words («ngày 21 tháng 5 năm 2012», as NĐ 30/2020 and the
    decrees themselves do; it said «ngày 21/5/2012»), and a province's own report does not draw «Hình 3.
    Các tỉnh, thành phố có kinh phí … lớn nhất» with one bar: its own."""
    build_year(year=2025, n_de_an=8, n_records=0, provinces=[bac_ninh()])
    out = tmp_path / "bn.pdf"
    services.report_generate_sync(kind="province", year=2025, province=bac_ninh(), output=str(out))
    flat = " ".join(pdf_text(out).split())
    assert "Nghị định số 45/2012/NĐ-CP ngày 21 tháng 5 năm 2012 của Chính phủ" in flat and "21/5/2012" not in flat
    # The province mid-sentence: «… năm 2025 (tỉnh Bắc Ninh) như sau», not «(Tỉnh Bắc Ninh)».
    assert "hoạt động khuyến công năm 2025 (tỉnh Bắc Ninh) như sau:" in flat
    assert "Hình 1." in flat and "Hình 2." in flat and "Hình 3." not in flat


def test_annual_report_cites_the_amending_texts_and_the_years_programme():
    """The opening paragraph names what it reports under: the decree with its amending decree and date,
    the circular with its amending circular, and the national programme of the report's year with its
    approving decision (QĐ 1881/QĐ-TTg for 2025, QĐ 2646/QĐ-BCT for 2026); a year outside every
    programme leaves the programme out rather than citing the wrong one."""
    from khuyencong.models import Programme

    build_year(year=2025, n_de_an=4, n_records=0, provinces=[bac_ninh()])
    flat = {year: " ".join(re.sub(r"<[^>]+>", "", services.report_html(job_for("national", year))).split())
            for year in (2025, 2026)}
    for text in flat.values():
        assert ("Nghị định số 45/2012/NĐ-CP ngày 21 tháng 5 năm 2012 của Chính phủ về khuyến công (được sửa đổi, "
                "bổ sung bởi Nghị định số 235/2025/NĐ-CP ngày 27 tháng 8 năm 2025)") in text
        assert "Thông tư số 46/2012/TT-BCT của Bộ Công Thương (được sửa đổi, bổ sung bởi Thông tư số 20/2017/TT-BCT)" in text
    assert ("Chương trình khuyến công quốc gia giai đoạn 2021 – 2025 được phê duyệt tại Quyết định số 1881/QĐ-TTg "
            "ngày 20 tháng 11 năm 2020, báo cáo kết quả thực hiện hoạt động khuyến công năm 2025") in flat[2025]
    assert "2646/QĐ-BCT ngày 23 tháng 9 năm 2025, báo cáo kết quả thực hiện hoạt động khuyến công năm 2026" in flat[2026]
    assert "1881/QĐ-TTg" not in flat[2026].split("như sau:")[0]

    Programme.objects.filter(start_year__lte=2026, end_year__gte=2026).delete()
    without = " ".join(re.sub(r"<[^>]+>", "", services.report_html(job_for("national", 2026))).split())
    opening = without.split("như sau:")[0]
    assert "Quyết định số" not in opening and "Chương trình khuyến công quốc gia" not in opening
    assert "(được sửa đổi, bổ sung bởi Thông tư số 20/2017/TT-BCT), báo cáo kết quả thực hiện" in opening


def test_bien_ban_and_plan_write_their_dates_in_words(tmp_path):
    """Formal text: «Hôm nay, ngày 01 tháng 6 năm 2025, tại …» (it said «ngày 01/06/2025») and «(Ban hành
    kèm theo Quyết định số 55/QĐ-ĐMST ngày 10 tháng 3 năm 2025)» (it said «ngày 10/03/2025»)."""
    from reports.models import InspectionRecord

    build_year(year=2025, n_de_an=6, n_records=2)
    record = InspectionRecord.objects.order_by("inspected_on", "id").first()
    assert str(record.inspected_on) == "2025-06-01"
    services.report_generate_sync(kind="record", year=2025, target_id=record.pk, output=str(tmp_path / "bb.pdf"))
    services.report_generate_sync(kind="plan", year=2025, output=str(tmp_path / "kh.pdf"))
    bien_ban = " ".join(pdf_text(tmp_path / "bb.pdf").split())
    plan = " ".join(pdf_text(tmp_path / "kh.pdf").split())
    assert f"Hôm nay, ngày 01 tháng 6 năm 2025, tại {record.place}" in bien_ban
    assert "(Ban hành kèm theo Quyết định số 55/QĐ-ĐMST ngày 10 tháng 3 năm 2025)" in plan


def _lines(block):
    return [line for line in walk(block) if isinstance(line, B.LineBox)]


def _line_width(line):
    return sum(child.margin_width() for child in line.children)


def _line_text(line):
    return "".join(box.text for box in walk(line) if isinstance(box, B.TextBox))


def test_rules_under_the_issuer_and_the_title_are_a_third_to_a_half_of_their_line():
    """NĐ 30/2020: the rule under the issuing body and the one under the trích yếu are 1/3 to 1/2 as long
    as the line above them. They were fixed widths: 30 % of the page under the title (0,31 of the biên
    bản's two-line title) and 35 % of the column under the issuer (0,56 of «TỈNH BẮC NINH»). A Sở's
    name breaks before its province, not before the province's last word («… TỈNH BẮC» / «NINH»)."""
    from reports.models import InspectionRecord

    build_year(year=2025, n_de_an=6, n_records=2)
    record = InspectionRecord.objects.first()
    jobs = [job_for("national", 2025), job_for("province", 2025, province=bac_ninh()), job_for("plan", 2025),
            job_for("record", 2025, target_id=record.pk)]
    for job in jobs:
        page = layout(job).pages[0]._page_box
        found = {}
        for box in walk(page):
            classes = (box.element.get("class") or "").split() if getattr(box, "element", None) is not None else []
            for name in ("doc-titles", "issuer-block", "doc-title-rule", "rule-issuer", "issuer"):
                if name in classes and isinstance(box, B.BlockBox):
                    found.setdefault(name, box)
        title = max(_line_width(line) for line in _lines(found["doc-titles"]) if line.children and _line_text(line).strip())
        issuer = max(_line_width(line) for line in _lines(found["issuer"]))
        assert 1 / 3 <= found["doc-title-rule"].width / title <= 1 / 2, (job.kind, found["doc-title-rule"].width / title)
        assert 1 / 3 <= found["rule-issuer"].width / issuer <= 1 / 2, (job.kind, found["rule-issuer"].width / issuer)
        if job.kind == "province":
            assert [_line_text(line).strip() for line in _lines(found["issuer"])] == ["SỞ CÔNG THƯƠNG", "TỈNH BẮC NINH"]


def test_clipped_texts_end_on_a_whole_word_and_no_money_cell_is_left_blank(tmp_path):
    """Hình 2's labels and the inspection appendix cut long names at a word («1. Hỗ trợ xây dựng mô hình
    trình…»), not inside one («… trình di…»); a biên bản whose đề án has no approved national amount
    says «–» instead of an empty cell a reader may fill in."""
    from projects.models import DeAn
    from reports.models import InspectionRecord

    build_year(year=2025, n_de_an=40, n_records=6)
    context = selectors.report_context(job_for("national", 2025))
    names = {f"{row['code']}. {row['name']}": row for row in context["contents"] if row["code"]}
    clipped = 0
    for bar in context["content_chart"]["bars"]:
        full = next(name for name in names if name.startswith(bar["label"].rstrip("…")))
        if bar["label"] != full:
            clipped += 1
            head = bar["label"][:-1]
            assert bar["label"].endswith("…") and full[len(head)] in " ,;:", (bar["label"], full)
    assert clipped
    for row in context["inspections"]["records"]:
        assert not row[0].endswith("…") or row[0][:-1].split()[-1] in row[0][:-1]
    assert selectors.clip_words("Hỗ trợ xây dựng mô hình trình diễn kỹ thuật", 30) == "Hỗ trợ xây dựng mô hình…"
    assert selectors.clip_words("Hỗ trợ", 30) == "Hỗ trợ"
    record = InspectionRecord.objects.select_related("de_an").order_by("id").first()
    DeAn.objects.filter(pk=record.de_an_id).update(approved_national_amount=None)
    services.report_generate_sync(kind="record", year=2025, target_id=record.pk, output=str(tmp_path / "bb.pdf"))
    assert re.search(r"Kinh phí KCQG được duyệt +–\n", pdf_text(tmp_path / "bb.pdf", layout=True))


def test_change_columns_carry_their_sign():
    """The money table's «So với năm trước — Tăng (+), giảm (−)» columns print «+…» for an increase and
    «−…» (the header's minus sign) for a decrease; they printed increases bare and decreases with «-»."""
    from reports.templatetags.report_pdf import signed, signed_percent

    build_year(year=2024, n_de_an=10, n_records=0, seed=5)
    build_year(year=2025, n_de_an=40, n_records=0)
    money = selectors.money_summary(2025)
    html = services.report_html(job_for("national", 2025))
    table = re.search(r"So với năm trước.*?</table>", html, re.S).group(0)
    increases = [row for row in money["rows"] if row["change"] > 0]
    assert increases
    for row in increases:
        assert f">{signed(row['change'])}<" in table and signed(row["change"]).startswith("+")
    assert signed(-1234567) == "\u22121.234.567" and signed(0) == "0" and signed(None) == ""
    assert signed_percent(-12.5) == "\u221212,5 %" and signed_percent(304.6) == "+304,6 %"
    assert not re.search(r">-\d", table)


def test_an_empty_field_of_a_bien_ban_is_a_dotted_line_to_complete_by_hand(tmp_path):
    """A biên bản printed before the visit (or with parts not typed in) leaves a dotted line to write on,
    instead of a bare label («3. Hồ sơ, chứng từ:» followed by nothing); what was typed is printed as is."""
    from reports.models import InspectionRecord

    build_year(year=2025, n_de_an=4, n_records=1)
    record = InspectionRecord.objects.get()
    InspectionRecord.objects.filter(pk=record.pk).update(
        progress_check="Đúng kế hoạch", equipment_check="Đúng hồ sơ", effectiveness="Tốt", conclusion_text="Đạt.",
        inspected_parties="Cơ sở thụ hưởng", documents_check="", findings="", inspected_opinion="Thống nhất\nvới kết luận")
    job = ReportJob(kind="record", year=2025, target_id=record.pk, issued_on=timezone.localdate())
    html = services.report_html(job)
    body = html[html.index("III."):]
    assert re.search(r"3\. Hồ sơ, chứng từ:</b>\s*<span class=\"fill-line\"></span>", body)
    assert re.search(r"IV\. Phát hiện</h3>\s*<p><span class=\"fill-line\"></span>", body)
    assert "1. Tiến độ so với kế hoạch:</b> Đúng kế hoạch</p>" in body
    assert "Thống nhất<br>với kết luận" in body
    # Drawn: each empty field is a dotted rule across the text width on a line of its own.
    document = pdf.html_to_document(html)
    rules = [b for page in document.pages for b in walk(page._page_box)
             if "fill-line" in (getattr(b, "element", None) is not None and b.element.get("class") or "")]
    assert len(rules) == 2 and all(b.style["border_bottom_style"] == "dotted" and b.width > 150 * MM for b in rules)


def test_counts_in_the_report_carry_vietnamese_separators():
    """The real template with the real context of a province's report, its counts raised past a thousand:
    every count is written «1.234», as the money is (they were printed «1234»)."""
    from django.template.loader import render_to_string

    build_year(year=2025, n_de_an=6, n_records=2, provinces=[bac_ninh()])
    job = job_for("province", 2025, province=bac_ninh())
    context = selectors.report_context(job)
    assert context["groups"] and context["inspections"]["count"]
    context["de_an_count"] = 1234
    context["money"]["settled_count"] = 1500
    context["inspections"].update(count=1200, plan=None)
    context["inspections"]["recommendations"] = dict(context["inspections"]["recommendations"], total=2345)
    flat = " ".join(render_to_string(services.TEMPLATES[job.kind], context).split())
    assert "Tổng cộng (1.234)" in flat
    assert re.search(r"đã quyết toán là [^(]+ \(1\.500 đề án\)", flat)
    assert "Trong năm đã kiểm tra 1.200 đề án." in flat and "Tổng số kiến nghị: 2.345" in flat
