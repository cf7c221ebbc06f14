from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khuyencong.access import is_nationwide, user_province
from khuyencong.models import Province

from .models import Grouping, ReportKind


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("Loại báo cáo"), choices=ReportKind.choices)
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)
    province = forms.ModelChoiceField(
        label=_("Tỉnh, thành phố"), queryset=Province.objects.none(), required=False,
        help_text=_("Chỉ dùng cho báo cáo của tỉnh, thành phố"),
    )
    grouping = forms.ChoiceField(label=_("Nhóm số liệu"), choices=Grouping.choices, initial=Grouping.CURRENT)
    record = forms.IntegerField(label=_("Mã biên bản kiểm tra"), required=False, min_value=1)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year - 1
        if is_nationwide(user):
            self.fields["province"].queryset = Province.objects.current().order_by("code")
        else:
            province = user_province(user)
            self.fields["province"].queryset = Province.objects.filter(pk=province.pk if province else None)
            self.fields["province"].initial = province
            self.fields["kind"].choices = [(ReportKind.PROVINCE, ReportKind.PROVINCE.label), (ReportKind.RECORD, ReportKind.RECORD.label)]
            self.fields["kind"].initial = ReportKind.PROVINCE
