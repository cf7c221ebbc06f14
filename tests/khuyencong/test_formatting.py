"""Money, numbers, dates and document numbers the Vietnamese way, including every rejection."""
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from khuyencong.formatting import (
    DocumentNumber,
    MoneyError,
    format_date,
    format_date_long,
    format_datetime,
    format_decimal,
    format_dong,
    format_number,
    format_percent,
    format_trieu,
    format_ty,
    parse_date,
    parse_document_number,
    parse_money,
    split_unit,
)

# --- display -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [(1_234_567, "1.234.567 đ"), (0, "0 đ"), (999, "999 đ"), (1_000, "1.000 đ"), (None, "")],
)
def test_format_dong(amount, text):
    assert format_dong(amount) == text


def test_format_trieu_and_ty():
    assert format_trieu(1_500_000_000) == "1.500 triệu đồng"
    assert format_trieu(1_250_500_000) == "1.250,5 triệu đồng"
    assert format_trieu(1_500_000_000, unit=False) == "1.500"
    assert format_trieu(1_234_567, places=2) == "1,23 triệu đồng"
    assert format_ty(1_440_000_000) == "1,44 tỷ đồng"
    assert format_ty(1_436_000_000_000) == "1.436 tỷ đồng"
    assert format_ty(1_500_000_000) == "1,5 tỷ đồng"
    assert format_ty(1_500_000_000, trim=False) == "1,50 tỷ đồng"
    assert format_ty(1_445_000_000) == "1,45 tỷ đồng"  # half up
    assert format_ty(None) == ""


def test_format_percent_and_numbers():
    assert format_percent(36.6) == "36,6 %"
    assert format_percent(Decimal("36.65")) == "36,7 %"
    assert format_percent(100, places=0) == "100 %"
    assert format_number(10_000) == "10.000"
    assert format_number(0.1) == "0,1"
    assert format_decimal(Decimal("-1250.5")) == "-1.250,5"


def test_formatting_round_trips_through_parsing():
    for amount in (0, 7, 1_234_567, 1_250_500_000, 98_765_432_100):
        assert parse_money(format_dong(amount)) == amount
        assert parse_money(format_trieu(amount)) == amount
    assert parse_money(format_ty(1_440_000_000)) == 1_440_000_000


# --- parsing -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "dong"),
    [
        ("1.500", "trieu", 1_500_000_000),  # never 1,5 nor 1
        ("1.250,5", "trieu", 1_250_500_000),
        ("1.234.567", "dong", 1_234_567),
        ("1.234.567 đ", "dong", 1_234_567),
        ("1.234.567đ", "dong", 1_234_567),
        ("1.234.567 VNĐ", "dong", 1_234_567),
        ("1.234.567 đồng", "dong", 1_234_567),
        ("1 234 567", "dong", 1_234_567),
        ("1.500 triệu đồng", "dong", 1_500_000_000),  # the unit in the text wins
        ("1,44 tỷ đồng", "dong", 1_440_000_000),
        ("1,44 tỷ", "trieu", 1_440_000_000),
        ("250 nghìn đồng", "dong", 250_000),
        ("1,5", "ty", 1_500_000_000),
        ("1,5", "trieu", 1_500_000),
        ("0,5", "trieu", 500_000),
        ("1500", "trieu", 1_500_000_000),
        ("+300", "trieu", 300_000_000),
        ("1.234.567,00", "dong", 1_234_567),
        ("0", "dong", 0),
        (1500, "trieu", 1_500_000_000),
        (1250.5, "trieu", 1_250_500_000),
        (Decimal("1250.5"), "trieu", 1_250_500_000),
        ("\u00a01.500\u00a0", "trieu", 1_500_000_000),
    ],
)
def test_parse_money(text, unit, dong):
    value = parse_money(text, unit)
    assert value == dong and isinstance(value, int)


@pytest.mark.parametrize(
    ("text", "unit", "message"),
    [
        ("-5", "dong", "số âm"),
        ("−5", "dong", "số âm"),  # Unicode minus
        ("(1.500)", "trieu", "số âm"),
        (-1, "dong", "số âm"),
        (Decimal("-0.5"), "trieu", "số âm"),
        ("1,500", "trieu", "không rõ nghĩa"),  # 1.500 or 1,5?
        ("1.5", "trieu", "không rõ nghĩa"),
        ("1.50", "trieu", "không rõ nghĩa"),
        ("1.5000", "dong", "không rõ nghĩa"),
        ("1,500,000", "dong", "kiểu tiếng Anh"),
        ("1,234,567.89", "dong", "kiểu tiếng Anh"),
        ("0,5", "dong", "phần lẻ dưới 1 đồng"),
        ("1,2345678", "trieu", "phần lẻ dưới 1 đồng"),
        (0.5, "dong", "phần lẻ dưới 1 đồng"),
        ("10.000.000.000.000.000", "dong", "lớn bất thường"),
        ("10.000.000", "ty", "lớn bất thường"),
        (1e20, "dong", "lớn bất thường"),
        ("abc", "dong", "không phải là số tiền hợp lệ"),
        ("12.34.567", "dong", "không phải là số tiền hợp lệ"),
        ("", "dong", "Chưa nhập số tiền"),
        ("   ", "dong", "Chưa nhập số tiền"),
        (None, "dong", "Chưa nhập số tiền"),
        ("triệu đồng", "dong", "Chưa nhập số tiền"),
        (True, "dong", "không phải là số tiền"),
        (float("nan"), "dong", "không phải là số tiền"),
        (float("inf"), "dong", "không phải là số tiền"),
        (Decimal("NaN"), "dong", "không phải là số tiền"),
    ],
)
def test_parse_money_rejections(text, unit, message):
    with pytest.raises(MoneyError) as exc:
        parse_money(text, unit)
    assert message in str(exc.value)


def test_ambiguous_message_explains_both_readings():
    with pytest.raises(MoneyError) as exc:
        parse_money("1,500", "trieu")
    assert "1.500 hoặc 1,5" in str(exc.value)


def test_unknown_unit_is_a_programming_error():
    with pytest.raises(ValueError):
        parse_money("1", "usd")


def test_split_unit():
    assert split_unit("1.500 triệu đồng") == ("1.500", "trieu")
    assert split_unit("1,44 tỉ") == ("1,44", "ty")
    assert split_unit("1.500") == ("1.500", None)


# --- dates -------------------------------------------------------------------------------------


def test_format_dates():
    assert format_date(date(2020, 11, 20)) == "20/11/2020"
    assert format_date(date(2025, 3, 1)) == "01/03/2025"
    assert format_date(None) == ""
    aware = datetime(2025, 6, 30, 17, 30, tzinfo=ZoneInfo("UTC"))
    assert format_date(aware) == "01/07/2025"  # Hà Nội is UTC+7
    assert format_datetime(aware) == "00:30 01/07/2025"


def test_format_date_long():
    assert format_date_long(date(2020, 11, 20)) == "ngày 20 tháng 11 năm 2020"
    assert format_date_long(date(2026, 1, 15), place="Hà Nội") == "Hà Nội, ngày 15 tháng 01 năm 2026"
    assert format_date_long(date(2025, 3, 5)) == "ngày 05 tháng 3 năm 2025"
    assert format_date_long(date(2025, 12, 5)) == "ngày 05 tháng 12 năm 2025"


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("20/11/2020", date(2020, 11, 20)),
        ("1/3/2025", date(2025, 3, 1)),
        ("20-11-2020", date(2020, 11, 20)),
        ("2020-11-20", date(2020, 11, 20)),
        ("ngày 20 tháng 11 năm 2020", date(2020, 11, 20)),
        ("Hà Nội, ngày 15 tháng 01 năm 2026", date(2026, 1, 15)),
        (date(2020, 1, 2), date(2020, 1, 2)),
    ],
)
def test_parse_date(text, day):
    assert parse_date(text) == day


@pytest.mark.parametrize("text", ["31/02/2025", "11/20/2020", "hôm qua", "", "ngày 30 tháng 2 năm 2025"])
def test_parse_date_rejections(text):
    with pytest.raises(ValueError) as exc:
        parse_date(text)
    assert "Ngày" in str(exc.value)


# --- document numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "parsed", "canonical"),
    [
        ("2646/QĐ-BCT", DocumentNumber(2646, "QĐ", "BCT"), "2646/QĐ-BCT"),
        ("1881/QĐ-TTg", DocumentNumber(1881, "QĐ", "TTg"), "1881/QĐ-TTg"),
        ("28/2018/TT-BTC", DocumentNumber(28, "TT", "BTC", 2018), "28/2018/TT-BTC"),
        ("45/2012/NĐ-CP", DocumentNumber(45, "NĐ", "CP", 2012), "45/2012/NĐ-CP"),
        ("202/2025/QH15", DocumentNumber(202, "NQ", "QH15", 2025), "202/2025/QH15"),
        ("213/TTr-SCT", DocumentNumber(213, "TTr", "SCT"), "213/TTr-SCT"),
        ("2646/QD-BCT", DocumentNumber(2646, "QĐ", "BCT"), "2646/QĐ-BCT"),
        ("2646/qd-bct", DocumentNumber(2646, "QĐ", "BCT"), "2646/QĐ-BCT"),
        ("45/2012/ND-CP", DocumentNumber(45, "NĐ", "CP", 2012), "45/2012/NĐ-CP"),
        (" 2646 / QĐ - BCT ", DocumentNumber(2646, "QĐ", "BCT"), "2646/QĐ-BCT"),
        ("2646/Q\u00d0-BCT", DocumentNumber(2646, "QĐ", "BCT"), "2646/QĐ-BCT"),  # Ð look-alike
        ("15/BC-UBND", DocumentNumber(15, "BC", "UBND"), "15/BC-UBND"),
    ],
)
def test_parse_document_number(text, parsed, canonical):
    if parsed is None:
        with pytest.raises(ValueError):
            parse_document_number(text)
        return
    result = parse_document_number(text)
    assert result == parsed
    assert str(result) == canonical


def test_document_type_name():
    assert parse_document_number("2646/QĐ-BCT").type_name == "Quyết định"
    assert parse_document_number("28/2018/TT-BTC").type_name == "Thông tư"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("QĐ-BCT", "không đúng dạng"),
        ("2646", "không đúng dạng"),
        ("", "không đúng dạng"),
        ("2646/XYZ-BCT", "không có trong danh mục"),
        ("28/1800/TT-BTC", "Năm 1800"),
        ("0/QĐ-BCT", "lớn hơn 0"),
    ],
)
def test_parse_document_number_rejections(text, message):
    with pytest.raises(ValueError) as exc:
        parse_document_number(text)
    assert message in str(exc.value)


def test_template_filters():
    from django.template import Context, Template

    html = Template("{% load kc %}{{ a|dong }}|{{ a|trieu }}|{{ b|ty }}|{{ p|percent }}|{{ d|vndate }}").render(
        Context({"a": 1_500_000_000, "b": 1_440_000_000, "p": 36.6, "d": date(2020, 11, 20)})
    )
    assert html == "1.500.000.000 đ|1.500 triệu đồng|1,44 tỷ đồng|36,6 %|20/11/2020"


def test_minutes_filter():
    from datetime import timedelta

    from khuyencong.templatetags.kc import minutes

    assert minutes(timedelta(minutes=15)) == 15
    assert minutes(timedelta(seconds=61)) == 2
    assert minutes(None) == ""


def test_clip_cuts_to_the_limit_with_an_ellipsis_as_truncatechars_does():
    from django.utils.text import Truncator

    from khuyencong.formatting import clip

    name = "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến trong chế biến nông sản"
    assert clip(name, 200) == name
    assert clip(name, 20) == Truncator(name).chars(20) == "Hỗ trợ ứng dụng máy…"
    assert len(clip(name, 20)) == 20
    assert clip(None, 5) == "" and clip("", 5) == ""
    # Decomposed input (NFD, as some keyboards and PDFs give it) is composed first: "ỗ" stays one letter.
    assert clip(unicodedata.normalize("NFD", name), 20) == "Hỗ trợ ứng dụng máy…"


def test_django_formats_dates_as_dd_mm_yyyy_in_vietnamese():
    """Where Django formats a date by itself (the admin, ``{{ value }}``, ``|date`` without a format):
    dd/mm/yyyy, not Django's "Ngày 05 tháng 3 năm 2025" or "05-03-2025"; English keeps its own."""
    from django.template import Context, Template
    from django.utils import formats, translation

    day, moment = date(2025, 3, 5), datetime(2025, 3, 5, 14, 7)
    with translation.override("vi"):
        assert formats.date_format(day) == "05/03/2025"
        assert formats.date_format(day, "SHORT_DATE_FORMAT") == "05/03/2025"
        assert formats.date_format(moment, "DATETIME_FORMAT") == "14:07 05/03/2025" == format_datetime(moment)
        assert Template("{{ d }}|{{ d|date }}").render(Context({"d": day})) == "05/03/2025|05/03/2025"
    with translation.override("en"):
        assert formats.date_format(day) == "March 5, 2025"


def test_file_sizes_read_as_people_write_them():
    from khuyencong.formatting import format_file_size

    assert format_file_size(20 * 1024 * 1024) == "20 MB"
    assert format_file_size(int(20.3 * 1024 * 1024)) == "20,3 MB"
    assert format_file_size(512 * 1024) == "512 KB" and format_file_size(1536) == "1,5 KB"
    # Beside a limit it would read the same as: in KB, so «over 20 MB» never says «20 MB».
    limit = 20 * 1024 * 1024
    assert format_file_size(limit + 100, beside=limit) == "20.480,1 KB"
    assert format_file_size(limit + limit // 2, beside=limit) == "30 MB" and format_file_size(limit, beside=limit) == "20 MB"
