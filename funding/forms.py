from django import forms
from django.utils.translation import gettext_lazy as _

from khuyencong.dates import DateField
from khuyencong.forms import state_size_limit
from khuyencong.security import NoControlCharactersMixin
from projects.forms import MoneyField

from .models import DisbursementKind, ImportKind, ImportStatus


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp Excel (.xlsx)"),
        help_text=_("Bảng phân bổ kinh phí theo tỉnh hoặc phụ lục kế hoạch (danh mục đề án) đúng mẫu đang dùng."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
        error_messages={
            "required": _("Chưa chọn tệp Excel để tải lên."),
            "empty": _("Tệp đã chọn không có nội dung (0 byte). Hãy mở tệp kiểm tra rồi tải lên lại."),
        },
    )

    def __init__(self, *args, **kwargs):
        from khuyencong.xlsx import limits

        super().__init__(*args, **kwargs)
        state_size_limit(self.fields["file"], limits()["max_bytes"])


class ImportFilterForm(forms.Form):
    """The import list's filters (GET): kind of file, state, plan year. A wrong value is named beside
    its field and the list is shown unfiltered."""

    kind = forms.ChoiceField(label=_("Loại tệp"), required=False, choices=[("", _("Tất cả"))] + ImportKind.choices,
                             error_messages={"invalid_choice": _("Loại tệp không hợp lệ; hãy chọn trong danh sách.")})
    status = forms.ChoiceField(label=_("Trạng thái"), required=False, choices=[("", _("Tất cả"))] + ImportStatus.choices,
                               error_messages={"invalid_choice": _("Trạng thái không hợp lệ; hãy chọn trong danh sách.")})
    year = forms.IntegerField(label=_("Năm"), required=False, min_value=2000, max_value=2100,
                              error_messages={"invalid": _("Năm phải là số, ví dụ 2026."),
                                              "min_value": _("Năm phải từ 2000 đến 2100."),
                                              "max_value": _("Năm phải từ 2000 đến 2100.")})


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)


class _PaymentKindField(forms.ChoiceField):
    """Advance or payment. A settlement (only a forged form sends one) is refused with the reason:
    it is recorded by the đề án's «Quyết toán» step."""

    def validate(self, value):
        if value == DisbursementKind.SETTLEMENT:
            from .services import settlement_elsewhere_message

            raise forms.ValidationError(settlement_elsewhere_message(), code="settlement")
        super().validate(value)


class DisbursementForm(NoControlCharactersMixin, forms.Form):
    """One advance or payment (the settlement is the đề án's «Quyết toán» step). The amount in đồng as
    written in Vietnamese ("1.500.000"), the date dd/mm/yyyy; ``request_key`` (hidden, one per form
    shown) makes a second send harmless."""

    kind = _PaymentKindField(
        label=_("Loại"), choices=[(k, label) for k, label in DisbursementKind.choices if k != DisbursementKind.SETTLEMENT],
        help_text=_("Quyết toán được ghi ở bước «Quyết toán» của đề án, không ở đây."),
        error_messages={"invalid_choice": _("Loại giải ngân không hợp lệ; chọn tạm ứng hoặc thanh toán.")})
    amount = MoneyField(label=_("Số tiền (đồng)"), help_text=_("Ví dụ: 1.500.000"),
                        error_messages={"required": _("Chưa nhập số tiền.")})
    date = DateField(label=_("Ngày chứng từ"), error_messages={"required": _("Cần nhập ngày chứng từ (dd/mm/yyyy).")})
    document_number = forms.CharField(label=_("Số chứng từ"), max_length=50,
                                      error_messages={"required": _("Cần nhập số chứng từ.")})
    note = forms.CharField(label=_("Ghi chú"), max_length=255, required=False)
    request_key = forms.RegexField(regex=r"^[0-9a-f]{32}$", widget=forms.HiddenInput,
                                   error_messages={"required": _("Biểu mẫu đã cũ; hãy mở lại trang."),
                                                   "invalid": _("Biểu mẫu đã cũ; hãy mở lại trang.")})

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is not None and amount <= 0:
            raise forms.ValidationError(_("Số tiền giải ngân phải lớn hơn 0."))
        return amount


class DisbursementVoidForm(NoControlCharactersMixin, forms.Form):
    """Cancel one disbursement of the đề án (hidden id) with a reason."""

    disbursement = forms.IntegerField(widget=forms.HiddenInput, min_value=1,
                                      error_messages={"required": _("Không rõ khoản giải ngân cần hủy; hãy mở lại trang."),
                                                      "invalid": _("Không rõ khoản giải ngân cần hủy; hãy mở lại trang."),
                                                      "min_value": _("Không rõ khoản giải ngân cần hủy; hãy mở lại trang.")})
    reason = forms.CharField(label=_("Lý do hủy"), max_length=500,
                             help_text=_("Ví dụ: nhập nhầm số tiền, đã nhập lại đúng ở khoản khác."),
                             error_messages={"required": _("Cần nhập lý do hủy khoản giải ngân."),
                                             "max_length": _("Lý do hủy dài quá %(limit_value)s ký tự.")})
