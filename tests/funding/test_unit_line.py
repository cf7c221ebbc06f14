"""The "ĐVT: …" line as staff write it (funding.importers.unit_from_line): every spelling of the
Vietnamese money units, and never a silent đồng for "Tr. đồng" (× 1.000.000 too small)."""
import pytest

from funding.importers import unit_from_line


@pytest.mark.parametrize(("line", "unit"), [
    ("ĐVT: triệu đồng", "trieu"),
    ("Đơn vị tính: Triệu đồng", "trieu"),
    ("DVT: ty dong", "ty"),
    ("ĐVT: Tỷ đồng", "ty"),
    ("ĐVT: đồng", "dong"),
    ("ĐVT: VNĐ", "dong"),
    ("ĐVT: 1.000 đồng", "nghin"),
    ("ĐVT: nghìn đồng", "nghin"),
    ("ĐVT: 1.000.000 đồng", "trieu"),
    ("ĐVT: Tr.đồng", "trieu"),
    ("ĐVT: Tr. đồng", "trieu"),
    ("ĐVT: trđ", "trieu"),
    ("ĐVT: tr.đ", "trieu"),
    ("ĐVT: Triệu VNĐ", "trieu"),
    ("ĐVT: USD", ""),  # a unit line, but no Vietnamese money: the file is refused
    ("Đơn vị: Sở Công Thương tỉnh Bắc Ninh", None),  # an organisation, not a unit
    ("Tổng kinh phí", None),
])
def test_unit_line(line, unit):
    assert unit_from_line(line) == unit
