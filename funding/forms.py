from django import forms
from django.utils.translation import gettext_lazy as _

from khuyencong.dates import DateField
from khuyencong.security import NoControlCharactersMixin
from projects.forms import MoneyField

from .models import DisbursementKind


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp Excel (.xlsx)"),
        help_text=_("Bảng phân bổ kinh phí theo tỉnh hoặc phụ lục kế hoạch (danh mục đề án) đúng mẫu đang dùng."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)


class DisbursementForm(NoControlCharactersMixin, forms.Form):
    """One advance, payment or settlement. The amount in đồng as written in Vietnamese ("1.500.000"),
    the date dd/mm/yyyy; ``request_key`` (hidden, one per form shown) makes a second send harmless."""

    kind = forms.ChoiceField(label=_("Loại"), choices=DisbursementKind.choices,
                             error_messages={"invalid_choice": _("Loại giải ngân không hợp lệ; chọn tạm ứng, thanh toán hoặc quyết toán.")})
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
