from django import forms
from django.utils.translation import gettext_lazy as _


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Tệp Excel (.xlsx)"),
        help_text=_("Bảng phân bổ kinh phí theo tỉnh hoặc phụ lục kế hoạch (danh mục đề án) đúng mẫu đang dùng."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )


class YearForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)
