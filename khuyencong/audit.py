"""What the audit trail's codes mean to the people who read it.

Services write ``AuditEvent`` rows with an English code for the action («user.create») and the kind of
record («projects.DeAn»); «Nhật ký thao tác» in /quan-tri/ shows them through these labels and links
each event to its record's page. Every code written must have a label here: the test suite fails on an
event whose action or record kind has none (tests/conftest.py).
"""
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    # Accounts (khuyencong.services, the admin, django-axes)
    "user.create": _("Tạo tài khoản"),
    "user.admin_change": _("Sửa tài khoản"),
    "user.set_role": _("Đổi vai trò"),
    "user.move": _("Chuyển đơn vị"),
    "user.activate": _("Kích hoạt lại tài khoản"),
    "user.deactivate": _("Vô hiệu hóa tài khoản"),
    "user.delete": _("Xóa tài khoản"),
    "user.unlock": _("Mở khóa đăng nhập"),
    "user.password_change": _("Tự đổi mật khẩu"),
    "user.password_set": _("Quản trị đặt mật khẩu"),
    "user.password_disable": _("Tắt đăng nhập bằng mật khẩu"),
    "user.password_reset_requested": _("Gửi liên kết đặt lại mật khẩu"),
    "user.password_reset": _("Đặt lại mật khẩu qua thư"),
    "user.invitation_sent": _("Gửi thư mời đặt mật khẩu"),
    "user.invitation_accepted": _("Đặt mật khẩu lần đầu (thư mời)"),
    "user.contact_change": _("Cập nhật thông tin liên hệ"),
    "login.locked_out": _("Tạm khóa đăng nhập"),
    # Đề án and beneficiaries (projects.services)
    "attachment.add": _("Thêm tài liệu đề án"),
    "attachment.delete": _("Xóa tài liệu đề án"),
    "establishment.change": _("Sửa thông tin cơ sở thụ hưởng"),
    # Results of đề án (dashboards.services)
    "output_plan_set": _("Ghi sản phẩm kế hoạch"),
    "output_record_achieved": _("Ghi kết quả đạt được"),
    "economic_result_record": _("Ghi hiệu quả kinh tế"),
    # Money (funding.services)
    "funding.import_applied": _("Nhập Excel"),
    "funding.import_undone": _("Hoàn tác lô nhập Excel"),
    "funding.import_discarded": _("Hủy lô nhập Excel"),
    "funding.disbursement_recorded": _("Ghi nhận giải ngân, quyết toán"),
    "funding.disbursement_voided": _("Hủy giải ngân, quyết toán"),
    # Inspection and supervision (reports.inspection_services)
    "inspection_plan.create": _("Lập kế hoạch kiểm tra"),
    "inspection_plan.update": _("Sửa kế hoạch kiểm tra"),
    "mission.create": _("Thêm đoàn kiểm tra"),
    "mission.update": _("Sửa đoàn kiểm tra"),
    "mission.delete": _("Xóa đoàn kiểm tra"),
    "inspection_record.create": _("Lập biên bản kiểm tra"),
    "inspection_record.update": _("Sửa biên bản kiểm tra"),
    "inspection_attachment.add": _("Thêm tệp biên bản kiểm tra"),
    "inspection_attachment.delete": _("Xóa tệp biên bản kiểm tra"),
    "recommendation.answer": _("Báo cáo khắc phục kiến nghị"),
    "recommendation.close": _("Đóng kiến nghị"),
    "recommendation.reopen": _("Mở lại kiến nghị"),
    "recommendation_evidence.add": _("Thêm minh chứng khắc phục"),
    "recommendation_evidence.delete": _("Xóa minh chứng khắc phục"),
}

# Kind of record → (label, URL name of its page, the URL's keyword for the id); no page: None.
OBJECT_TYPES = {
    "user": (_("Tài khoản"), "admin:khuyencong_user_change", "object_id"),
    "login": (_("Đăng nhập"), None, None),
    "projects.DeAn": (_("Đề án"), "projects:detail", "pk"),
    "projects.Establishment": (_("Cơ sở thụ hưởng"), "projects:establishment", "establishment_id"),
    "funding.ImportBatch": (_("Lô nhập Excel"), "funding:import_detail", "pk"),
    "funding.Disbursement": (_("Giải ngân, quyết toán"), None, None),
    "inspectionplan": (_("Kế hoạch kiểm tra"), "reports:inspection_plan", "plan_id"),
    "mission": (_("Đoàn kiểm tra"), "reports:inspection_mission", "mission_id"),
    "inspectionrecord": (_("Biên bản kiểm tra"), "reports:inspection_record", "record_id"),
    "recommendation": (_("Kiến nghị sau kiểm tra"), "reports:inspection_recommendation", "recommendation_id"),
}


def action_label(code):
    """«Tạo tài khoản» for "user.create"; an unknown code as it is."""
    return ACTION_LABELS.get(code, code)


def object_type_label(code):
    return OBJECT_TYPES[code][0] if code in OBJECT_TYPES else code


def object_url(event):
    """The page of the record ``event`` is about, or None (no page, or no such id)."""
    _label, url_name, keyword = OBJECT_TYPES.get(event.object_type, (None, None, None))
    if not url_name or not event.object_id:
        return None
    try:
        return reverse(url_name, kwargs={keyword: event.object_id})
    except NoReverseMatch:  # an id that is not a number (e.g. a user name for a lockout)
        return None
