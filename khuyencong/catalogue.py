"""The activity-content catalogue and the support caps, as versioned data, and their loader.

Contents are versioned by instrument and effective date: QĐ 1881/QĐ-TTg's seven areas (2021–2025),
the additions of Nghị định 235/2025/NĐ-CP from 15/10/2025. Caps come from TT 28/2018/TT-BTC (in force
11/05/2018, amended by TT 64/2024/TT-BTC). Amounts are integer đồng; a cap is "whichever is lower" of
its percentage of the cost and its amount.
"""
from datetime import date

from .choices import Level
from .models import ActivityContent, SupportCap

QD1881 = "1881/QĐ-TTg"
ND235 = "235/2025/NĐ-CP"
TT28 = "28/2018/TT-BTC"
QD1881_FROM = date(2021, 1, 1)
ND235_FROM = date(2025, 10, 15)
TT28_FROM = date(2018, 5, 11)
TRIEU = 1_000_000

# (code, name, [(sub-code, sub-name), …]) — QĐ 1881/QĐ-TTg, seven areas.
QD1881_CONTENTS = [
    ("1", "Hỗ trợ xây dựng mô hình trình diễn kỹ thuật, chuyển giao công nghệ, ứng dụng máy móc tiên tiến", [
        ("1.1", "Xây dựng mô hình trình diễn kỹ thuật để phổ biến công nghệ mới, sản xuất sản phẩm mới"),
        ("1.2", "Hỗ trợ ứng dụng máy móc thiết bị tiên tiến vào sản xuất"),
        ("1.3", "Hỗ trợ ứng dụng dây chuyền công nghệ tiên tiến"),
        ("1.4", "Chuyển giao công nghệ, tiến bộ khoa học kỹ thuật vào sản xuất"),
    ]),
    ("2", "Hỗ trợ áp dụng sản xuất sạch hơn, xử lý ô nhiễm môi trường", [
        ("2.1", "Đánh giá sản xuất sạch hơn tại cơ sở công nghiệp nông thôn"),
        ("2.2", "Xây dựng mô hình thí điểm áp dụng sản xuất sạch hơn"),
        ("2.3", "Cải tạo, nâng cấp hệ thống xử lý ô nhiễm môi trường"),
    ]),
    ("3", "Phát triển sản phẩm công nghiệp nông thôn", [
        ("3.1", "Tổ chức bình chọn sản phẩm công nghiệp nông thôn tiêu biểu"),
        ("3.2", "Tổ chức hội chợ, triển lãm hàng công nghiệp nông thôn"),
        ("3.3", "Xây dựng phòng trưng bày, giới thiệu sản phẩm"),
        ("3.4", "Hỗ trợ đăng ký nhãn hiệu, thiết kế mẫu mã, bao bì sản phẩm"),
    ]),
    ("4", "Liên doanh, liên kết, hợp tác kinh tế, chuỗi giá trị và phát triển cụm công nghiệp", [
        ("4.1", "Hỗ trợ liên kết chuỗi giá trị, hình thành cụm liên kết ngành"),
        ("4.2", "Hỗ trợ lập quy hoạch chi tiết cụm công nghiệp"),
        ("4.3", "Hỗ trợ đầu tư hạ tầng kỹ thuật cụm công nghiệp"),
    ]),
    ("5", "Nâng cao năng lực quản lý, đào tạo nghề, tư vấn", [
        ("5.1", "Đào tạo nghề, truyền nghề, nâng cao tay nghề cho lao động nông thôn"),
        ("5.2", "Nâng cao năng lực quản lý cho cơ sở công nghiệp nông thôn"),
        ("5.3", "Tư vấn, trợ giúp cơ sở công nghiệp nông thôn"),
    ]),
    ("6", "Thông tin, tuyên truyền khuyến công", [
        ("6.1", "Xây dựng chương trình truyền hình, truyền thanh, ấn phẩm về khuyến công"),
        ("6.2", "Xây dựng, duy trì cơ sở dữ liệu, trang thông tin điện tử khuyến công"),
    ]),
    ("7", "Nâng cao năng lực tổ chức thực hiện hoạt động khuyến công", [
        ("7.1", "Đào tạo, tập huấn nâng cao năng lực cán bộ làm công tác khuyến công"),
        ("7.2", "Tham quan, khảo sát, học tập kinh nghiệm trong và ngoài nước"),
        ("7.3", "Kiểm tra, giám sát, hướng dẫn triển khai đề án khuyến công"),
    ]),
]

# Additions of Nghị định 235/2025/NĐ-CP, valid from 15/10/2025.
ND235_CONTENTS = [
    ("8", "Hỗ trợ sản xuất bền vững, kinh tế tuần hoàn", [
        ("8.1", "Hỗ trợ áp dụng giải pháp sản xuất bền vững, tiết kiệm năng lượng, kinh tế tuần hoàn"),
    ]),
    ("9", "Hỗ trợ chuyển đổi số", [
        ("9.1", "Hỗ trợ ứng dụng công nghệ số, thương mại điện tử trong sản xuất, kinh doanh"),
    ]),
]

# TT 28/2018/TT-BTC national caps: (code, description, content code, max %, max amount in triệu, per).
TT28_CAPS = [
    ("mo-hinh-trinh-dien", "Xây dựng mô hình trình diễn kỹ thuật", "1.1", None, 1_000, "mô hình"),
    ("may-moc-tien-tien", "Ứng dụng máy móc thiết bị tiên tiến", "1.2", 50, 300, "cơ sở"),
    ("day-chuyen-cong-nghe", "Ứng dụng dây chuyền công nghệ tiên tiến", "1.3", None, 450, "cơ sở"),
    ("binh-chon-khu-vuc", "Bình chọn sản phẩm công nghiệp nông thôn tiêu biểu cấp khu vực", "3.1", None, 200, "cuộc bình chọn"),
    ("binh-chon-quoc-gia", "Bình chọn sản phẩm công nghiệp nông thôn tiêu biểu cấp quốc gia", "3.1", None, 400, "cuộc bình chọn"),
    ("ha-tang-ccn", "Đầu tư hạ tầng kỹ thuật cụm công nghiệp", "4.3", None, 6_000, "cụm công nghiệp"),
]


def _put(model, lookup, values, overwrite):
    """Create the row if missing; change an existing one only with ``overwrite`` (administrators edit
    names, amounts and validity dates in /quan-tri/, and the loader runs at every start)."""
    if overwrite:
        return model.objects.update_or_create(**lookup, defaults=values)[0]
    return model.objects.get_or_create(**lookup, defaults=values)[0]


def _load_tree(instrument, valid_from, valid_to, tree, start_order, overwrite):
    order = start_order
    for code, name, children in tree:
        order += 1
        area = _put(
            ActivityContent, {"code": code, "instrument": instrument},
            {"name": name, "parent": None, "valid_from": valid_from, "valid_to": valid_to, "order": order}, overwrite,
        )
        for sub_code, sub_name in children:
            order += 1
            _put(
                ActivityContent, {"code": sub_code, "instrument": instrument},
                {"name": sub_name, "parent": area, "valid_from": valid_from, "valid_to": valid_to, "order": order},
                overwrite,
            )
    return order


def load_catalogue(*, overwrite=False):
    """The contents and the caps that are missing; with ``overwrite``, existing rows get the shipped values
    back as well."""
    # QĐ 1881's contents stay valid after 15/10/2025 (the 2026–2030 programme keeps the areas);
    # Decree 235 adds areas 8 and 9.
    order = _load_tree(QD1881, QD1881_FROM, None, QD1881_CONTENTS, 0, overwrite)
    _load_tree(ND235, ND235_FROM, None, ND235_CONTENTS, order, overwrite)
    for code, description, content_code, percent, amount_trieu, per in TT28_CAPS:
        content = ActivityContent.objects.get(code=content_code, instrument=QD1881)
        _put(
            SupportCap, {"code": code, "instrument": TT28},
            {
                "description": description,
                "activity_content": content,
                "level": Level.NATIONAL,
                "province": None,
                "max_percent": percent,
                "max_amount": amount_trieu * TRIEU,
                "per_unit": per,
                "valid_from": TT28_FROM,
                "valid_to": None,
            },
            overwrite,
        )
