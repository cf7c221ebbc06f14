"""What the annual report counts as money: the approved amount of a đề án carried out (not the amount it
asked for), once settled its settled amount, money paid out (advances and payments, never the settlement
row) and money settled (the settlement rows) — with the expected figures computed here from the rows,
not by the report's own aggregation."""
import re
from datetime import date
from unittest import mock

import pytest

from funding.models import Disbursement
from projects.models import BudgetLine, DeAn
from reports import selectors, services
from reports.models import Grouping
from tests.reports.conftest import pdf_text
from tests.reports.factories import build_year, group_dots

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore"), pytest.mark.usefixtures("eager_celery")]

IMPLEMENTED = selectors.IMPLEMENTED_STATUSES


@pytest.fixture
def no_dispatch():
    with mock.patch.object(services, "report_dispatch", return_value=True) as patched:
        yield patched


def _implemented_rows(year, province=None):
    """(national, local, counterpart + other) per đề án, as the report should count them, in plain Python."""
    out = {}
    for d in DeAn.objects.filter(plan_year=year):
        if d.status not in IMPLEMENTED or (province is not None and d.current_province_id != province.pk):
            continue
        national = d.national_amount if d.approved_national_amount is None else d.approved_national_amount
        local = d.local_amount if d.approved_local_amount is None else d.approved_local_amount
        if d.status == "settled" and d.settled_amount is not None:  # the settled amount, for its level's source
            if d.level == "kcqg":
                national = d.settled_amount
            else:
                local = d.settled_amount
        out[d.pk] = (national, local, d.counterpart_amount + d.other_amount)
    return out


@pytest.fixture
def reduced(db):
    """A 2025 year where one KCQG đề án was approved at 250 triệu of the 400 it asked for, and one KCĐP đề
    án approved below its request by the UBND tỉnh (then lowered again by an adjustment)."""
    build_year(year=2025, n_de_an=12, n_records=0)
    national = DeAn.objects.filter(plan_year=2025, level="kcqg", status__in=IMPLEMENTED).order_by("code").first()
    DeAn.objects.filter(pk=national.pk).update(national_amount=400_000_000, approved_national_amount=250_000_000,
                                               total_amount=400_000_000 + national.counterpart_amount + national.other_amount)
    BudgetLine.objects.filter(de_an=national, source="national").update(amount=400_000_000)
    local = DeAn.objects.filter(plan_year=2025, level="kcdp", status__in=IMPLEMENTED).order_by("code").first()
    DeAn.objects.filter(pk=local.pk).update(approved_local_amount=local.local_amount // 3)
    national.refresh_from_db()
    local.refresh_from_db()
    return national, local


def test_sections_i_and_iii_count_the_approved_amount(reduced):
    national, local = reduced
    rows = _implemented_rows(2025)
    money = selectors.money_summary(2025)
    assert money["implemented"]["national"] == sum(r[0] for r in rows.values())
    assert money["implemented"]["local"] == sum(r[1] for r in rows.values())
    assert money["implemented"]["counterpart"] + money["implemented"]["other"] == sum(r[2] for r in rows.values())
    assert money["rows"][0]["implemented"] == sum(r[0] for r in rows.values())
    # the 400 triệu asked for is not what is reported
    assert money["implemented"]["national"] == sum(
        d.national_amount for d in DeAn.objects.filter(plan_year=2025, status__in=IMPLEMENTED)) - 150_000_000
    by_province = {row["province"].pk: row for row in selectors.by_province(2025, Grouping.CURRENT)}
    for pk in (national.current_province_id, local.current_province_id):
        want = [r for d_pk, r in rows.items() if DeAn.objects.get(pk=d_pk).current_province_id == pk]
        assert by_province[pk]["national"] == sum(r[0] for r in want)
        assert by_province[pk]["local"] == sum(r[1] for r in want)


def test_appendix_lists_each_de_an_at_its_approved_amount(reduced):
    national, _local = reduced
    province = national.current_province
    rows = _implemented_rows(2025, province)
    groups = selectors.de_an_list(2025, Grouping.CURRENT, province)
    listed = {d.pk: d for g in groups for d in g["rows"]}
    assert set(listed) == set(rows)
    d = listed[national.pk]
    assert (d.implemented_national, d.implemented_local) == (250_000_000, national.local_amount)
    assert d.implemented_total == 250_000_000 + national.local_amount + national.counterpart_amount + national.other_amount
    assert sum(g["national"] for g in groups) == sum(r[0] for r in rows.values())
    assert sum(g["total"] for g in groups) == sum(sum(r) for r in rows.values())


def test_content_section_scales_lines_to_the_approved_amount(reduced):
    rows = _implemented_rows(2025)
    contents = selectors.by_content(2025)
    assert sum(r["national"] for r in contents) == sum(r[0] for r in rows.values())
    assert sum(r["local"] for r in contents) == sum(r[1] for r in rows.values())


def test_apportion_keeps_whole_dong_and_the_total():
    parts = [("1", 100_000_001), ("2", 200_000_000), ("3", 100_000_000)]
    scaled = selectors.apportion(parts, 250_000_000, 400_000_001)
    assert sum(a for _k, a in scaled) == 250_000_000
    assert [k for k, _a in scaled] == ["1", "2", "3"]
    assert selectors.apportion([("1", 7)], 0, 7) == [("1", 0)]


def _province_report_text(user, province, year=2025):
    """The province report of ``year`` rendered by the real path (request → run → PDF), as one line of text."""
    job = services.report_request(user=user, kind="province", year=year, province=province)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    return " ".join(pdf_text(job.file.path).split())


def test_province_report_prints_the_approved_amount(reduced, users, media_root, no_dispatch):
    national, _local = reduced
    province = national.current_province
    rows = _implemented_rows(2025, province)
    text = _province_report_text(users["reviewer"], province)
    counterpart = national.counterpart_amount + national.other_amount
    row = [250_000_000, national.local_amount, counterpart, 250_000_000 + national.local_amount + counterpart]
    assert " ".join(group_dots(n) for n in row) in text  # Phụ lục: KCQG, KCĐP, đối ứng, tổng
    assert group_dots(400_000_000) not in text
    support = sum(r[0] + r[1] for r in rows.values())
    assert f"thực hiện năm 2025 là {group_dots(support)} đ" in text  # Section I


def test_settlement_rows_are_not_disbursed_money(users, media_root, no_dispatch):
    """An approved 100 triệu đề án paid 100 triệu in advance, then settled at 100 triệu: 100 triệu paid out,
    as funding counts it (funding.services.paid_amount), not 200."""
    build_year(year=2025, n_de_an=4, n_records=0)
    d = DeAn.objects.filter(plan_year=2025, status="settled").first()
    DeAn.objects.filter(pk=d.pk).update(approved_national_amount=100_000_000, national_amount=100_000_000, level="kcqg",
                                        settled_amount=100_000_000, settled_on=date(2026, 2, 1))
    Disbursement.objects.create(de_an=d, kind="advance", source="national", amount=100_000_000, date=date(2025, 5, 1),
                                document_number="1/TU")
    # The row the «Quyết toán» step writes with the settled amount and date (test data written directly).
    Disbursement.objects.create(de_an=d, kind="settlement", source="national", amount=100_000_000, date=date(2026, 2, 1),
                                document_number="1/QT")
    from funding.services import paid_amount

    assert selectors.money_summary(2025)["disbursed"] == paid_amount(d) == 100_000_000
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    assert f"đã giải ngân (tạm ứng, thanh toán) là {group_dots(100_000_000)} đ" in text


# --- settled đề án: the settled amount is what was carried out ---------------------------------------------

APPROVED, SETTLED, ADVANCED = 512_345_000, 421_234_000, 300_000_000
LOCAL_APPROVED, LOCAL_SETTLED = 187_650_000, 166_660_000


def _settlement(d, source, amount, day=date(2026, 2, 1), **fields):
    return Disbursement.objects.create(de_an=d, kind="settlement", source=source, amount=amount, date=day,
                                       document_number=f"{d.pk}/QT", **fields)


@pytest.fixture
def settled_below(db):
    """A 2025 year where a KCQG đề án asked 600 triệu, was approved at 512,345 triệu and settled at 421,234
    triệu (300 triệu advanced), and a KCĐP đề án approved at 187,65 triệu was settled at 166,66 triệu; a
    voided settlement row of a third đề án counts nowhere. The settlement rows are the ones the
    «Quyết toán» step writes (test data written directly)."""
    from django.utils import timezone

    build_year(year=2025, n_de_an=12, n_records=0)
    settled = DeAn.objects.filter(plan_year=2025, status="settled")
    national = settled.filter(level="kcqg").order_by("code").first()
    local = settled.filter(level="kcdp").order_by("code").first()
    DeAn.objects.filter(pk=national.pk).update(
        code="KCQG-2025-24-0006", national_amount=600_000_000, approved_national_amount=APPROVED, settled_amount=SETTLED,
        settled_on=date(2026, 2, 1), total_amount=600_000_000 + national.counterpart_amount + national.other_amount)
    BudgetLine.objects.filter(de_an=national, source="national").update(amount=600_000_000)
    DeAn.objects.filter(pk=local.pk).update(approved_local_amount=LOCAL_APPROVED, settled_amount=LOCAL_SETTLED,
                                            settled_on=date(2026, 2, 1))
    national.refresh_from_db()
    local.refresh_from_db()
    Disbursement.objects.create(de_an=national, kind="advance", source="national", amount=ADVANCED, date=date(2025, 5, 1),
                                document_number="1/TU")
    _settlement(national, "national", SETTLED)
    _settlement(local, "local", LOCAL_SETTLED)
    voided = settled.filter(level="kcqg").exclude(pk=national.pk).order_by("code").first()
    _settlement(voided, "national", 77_777_777, voided_at=timezone.now(), void_reason="Nhập sai")
    return national, local


def test_a_settled_de_an_counts_at_its_settled_amount_and_the_settled_money_is_summed(settled_below, users):
    from funding.selectors import funding_summary

    national, local = settled_below
    rows = _implemented_rows(2025)
    assert rows[national.pk][0] == SETTLED and rows[local.pk][1] == LOCAL_SETTLED
    money = selectors.money_summary(2025)
    assert money["implemented"]["national"] == sum(r[0] for r in rows.values())
    assert money["implemented"]["local"] == sum(r[1] for r in rows.values())
    assert money["rows"][0]["implemented"] == sum(r[0] for r in rows.values())
    # What was settled, by source, as the funding page counts it (the voided row nowhere).
    summary = funding_summary(user=users["reviewer"], year=2025)
    assert money["rows"][0]["settled"] == summary.by_source("national", "settled") == SETTLED
    assert money["rows"][1]["settled"] == summary.by_source("local", "settled") == LOCAL_SETTLED
    assert money["settled"] == money["total"]["settled"] == SETTLED + LOCAL_SETTLED
    assert money["settled_count"] == 2
    assert money["rows"][0]["disbursed"] == money["disbursed"] == summary.by_source("national", "disbursed") == ADVANCED
    # Sections II and III and the appendix count it the same way.
    contents = selectors.by_content(2025)
    assert sum(r["national"] for r in contents) == sum(r[0] for r in rows.values())
    assert sum(r["local"] for r in contents) == sum(r[1] for r in rows.values())
    by_province = {row["province"].pk: row for row in selectors.by_province(2025, Grouping.CURRENT)}
    for d in (national, local):
        want = [r for pk, r in rows.items() if DeAn.objects.get(pk=pk).current_province_id == d.current_province_id]
        assert by_province[d.current_province_id]["support"] == sum(r[0] + r[1] for r in want)
    listed = {d.pk: d for g in selectors.de_an_list(2025, Grouping.CURRENT, national.current_province) for d in g["rows"]}
    assert listed[national.pk].implemented_national == SETTLED


def test_national_and_province_reports_agree_on_settled_money(settled_below):
    """The national report's figures are the sums of the provinces' own: implemented, disbursed, settled."""
    national, local = settled_below
    whole = selectors.money_summary(2025)
    parts = [selectors.money_summary(2025, row["province"]) for row in selectors.by_province(2025, Grouping.CURRENT)]
    for key in ("settled", "disbursed", "settled_count"):
        assert sum(p[key] for p in parts) == whole[key], key
    assert sum(p["implemented"]["support"] for p in parts) == whole["implemented"]["support"]
    own = selectors.money_summary(2025, national.current_province)
    same = local.current_province_id == national.current_province_id
    assert own["rows"][0]["settled"] == SETTLED
    assert own["settled"] == SETTLED + (LOCAL_SETTLED if same else 0)


def test_reports_print_the_settled_amount(settled_below, users, media_root, no_dispatch):
    national, local = settled_below
    province = national.current_province
    rows = _implemented_rows(2025, province)
    text = _province_report_text(users["reviewer"], province)
    counterpart = national.counterpart_amount + national.other_amount
    row = [SETTLED, national.local_amount, counterpart, SETTLED + national.local_amount + counterpart]
    assert "KCQG-2025-24-0006 " in text  # the code on one line
    assert " ".join(group_dots(n) for n in row) in text  # Phụ lục: KCQG at the settled amount
    assert group_dots(APPROVED) not in text and group_dots(600_000_000) not in text
    support = sum(r[0] + r[1] for r in rows.values())
    assert f"thực hiện năm 2025 là {group_dots(support)} đ" in text  # Section I
    assert "Đã quyết toán" in text
    assert local.current_province_id != province.pk
    assert f"đã quyết toán là {group_dots(SETTLED)} đ (1 đề án)" in text
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    text = " ".join(pdf_text(job.file.path).split())
    assert f"đã quyết toán là {group_dots(SETTLED + LOCAL_SETTLED)} đ (2 đề án)" in text
    assert group_dots(77_777_777) not in text  # the voided settlement


# --- Section I's sentence: the total carried out and its parts --------------------------------------------

SECTION_I = re.compile(
    r"Tổng kinh phí thực hiện các đề án là ([\d.]+) đ, gồm kinh phí khuyến công quốc gia ([\d.]+) đ \(([\d,]+) %\), "
    r"kinh phí khuyến công địa phương ([\d.]+) đ \(([\d,]+) %\) và vốn đối ứng, nguồn khác ([\d.]+) đ \(([\d,]+) %\)\.")


def _section_i(text):
    """(total, national, local, counterpart and other) in đồng and the three shares in tenths of a percent."""
    match = SECTION_I.search(text)
    assert match, text[:1500]
    total, national, national_pct, local, local_pct, other, other_pct = match.groups()
    money = [int(v.replace(".", "")) for v in (total, national, local, other)]
    shares = [int(v.replace(",", "")) if "," in v else int(v) * 10 for v in (national_pct, local_pct, other_pct)]
    return money, shares


def _check_section_i(text, rows):
    """The sentence names the total (khuyến công money, counterpart and other sources) and its three parts,
    each as computed here from the đề án rows, adding up to it to the đồng; the shares add up to 100 %."""
    national = sum(r[0] for r in rows.values())
    local = sum(r[1] for r in rows.values())
    other = sum(r[2] for r in rows.values())
    (total, *parts), shares = _section_i(text)
    assert parts == [national, local, other]
    assert total == national + local + other == sum(parts)
    assert sum(shares) == 1000  # tenths of a percent: 100,0 %
    for part, share in zip(parts, shares, strict=True):
        assert abs(share - part * 1000 / total) < 1, (part, share)  # within 0,1 % of the exact share
    assert "vốn huy động" not in text and "chiếm" not in text
    assert "kinh phí khuyến công thực hiện)." in text  # the disbursed share is of khuyến công money, not of the total


def test_section_i_names_the_total_and_its_parts(reduced, users, media_root, no_dispatch):
    national, _local = reduced
    province = national.current_province
    _check_section_i(_province_report_text(users["reviewer"], province), _implemented_rows(2025, province))
    job = services.report_request(user=users["reviewer"], kind="national", year=2025)
    services.report_run(job_id=job.pk)
    job.refresh_from_db()
    _check_section_i(" ".join(pdf_text(job.file.path).split()), _implemented_rows(2025))


def test_section_i_counts_a_settled_de_an_at_its_settled_amount(settled_below, users, media_root, no_dispatch):
    national, _local = settled_below
    rows = _implemented_rows(2025, national.current_province)
    assert rows[national.pk][0] == SETTLED
    _check_section_i(_province_report_text(users["reviewer"], national.current_province), rows)


def test_shares_add_up_to_one_hundred_percent():
    money = selectors.money_summary(2025)  # nothing carried out: no shares
    assert (money["national_share"], money["local_share"], money["counterpart_share"]) == (None, None, None)
    assert selectors._shares([3665, 1225, 5110], 10000) == [36.7, 12.2, 51.1]  # not 36,7 + 12,3 + 51,1 = 100,1
    assert selectors._shares([1, 1, 1], 3) == [33.4, 33.3, 33.3]
    assert selectors._shares([0, 0, 7], 7) == [0.0, 0.0, 100.0]
    assert selectors._shares([1, 0, 999_999], 1_000_000) == [0.0, 0.0, 100.0]
