import re

from django import forms
from django.forms.utils import ErrorDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khuyencong.access import is_nationwide, user_province, visible_inspection_records
from khuyencong.dates import DateField
from khuyencong.formatting import format_date, format_dong
from khuyencong.forms import state_size_limit
from khuyencong.models import Province
from khuyencong.security import BoundedModelMultipleChoiceField, NoControlCharactersMixin
from projects.forms import MoneyField
from projects.services import attachment_max_bytes

from .models import Conclusion, FollowUp, Grouping, JobStatus, MemberRole, ReportKind
from .selectors import province_choices


class InspectionRecordChoiceField(forms.ModelChoiceField):
    """An inspection record the user may see, named as people know it: the đề án, the day, the place."""

    def label_from_instance(self, obj):
        place = obj.place if len(obj.place) <= 60 else obj.place[:59] + "…"
        return f"{obj.de_an.code} – {format_date(obj.inspected_on)} – {place}"


class ReportRequestForm(NoControlCharactersMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Loại báo cáo"), choices=ReportKind.choices)
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)
    province = forms.ModelChoiceField(
        label=_("Tỉnh, thành phố"), queryset=Province.objects.none(), required=False,
        help_text=_("Chỉ dùng cho báo cáo của tỉnh, thành phố"), empty_label=_("— Chọn tỉnh, thành phố —"),
    )
    grouping = forms.ChoiceField(label=_("Nhóm số liệu"), choices=Grouping.choices, initial=Grouping.CURRENT)
    record = InspectionRecordChoiceField(
        label=_("Biên bản kiểm tra"), queryset=None, required=False,
        help_text=_("Chỉ dùng cho biên bản kiểm tra"), empty_label=_("— Chọn biên bản kiểm tra —"),
        error_messages={"invalid_choice": _("Không tìm thấy biên bản kiểm tra này, hoặc bạn không có quyền xem.")},
    )
    signer_name = forms.CharField(
        label=_("Họ tên người ký"), required=False, max_length=100,
        help_text=_("In dưới chữ ký; để trống thì chừa chỗ ghi tay."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    # Which report kinds each field is for: portal.js hides a field (its .field box) while «Loại báo cáo»
    # is another kind; without JavaScript every field shows, and the server ignores what a kind does
    # not use (the help texts say which kind a field is for).
    SHOWN_FOR = {
        "year": (ReportKind.NATIONAL, ReportKind.PROVINCE, ReportKind.PLAN),
        "province": (ReportKind.PROVINCE,),
        "grouping": (ReportKind.NATIONAL, ReportKind.PROVINCE),
        "record": (ReportKind.RECORD,),
    }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        for name, kinds in self.SHOWN_FOR.items():
            self.fields[name].widget.attrs["data-show-when"] = "kind=" + " ".join(kinds)
        self.fields["year"].initial = timezone.localdate().year - 1
        # Only the records the user may see are offered (and accepted): a forged id is a field error.
        self.fields["record"].queryset = (
            visible_inspection_records(user).select_related("de_an").only("pk", "place", "inspected_on", "de_an__code")
            .order_by("-inspected_on", "-pk")
        )
        if is_nationwide(user):
            self.fields["province"].queryset = province_choices()
        else:
            province = user_province(user)
            self.fields["province"].queryset = Province.objects.filter(pk=province.pk if province else None)
            self.fields["province"].initial = province
            self.fields["kind"].choices = [(ReportKind.PROVINCE, ReportKind.PROVINCE.label), (ReportKind.RECORD, ReportKind.RECORD.label)]
            self.fields["kind"].initial = ReportKind.PROVINCE

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == ReportKind.PROVINCE and not data.get("province") and "province" not in self.errors:
            self.add_error("province", _("Báo cáo của tỉnh, thành phố cần chọn tỉnh, thành phố."))
        if kind == ReportKind.RECORD and not data.get("record") and "record" not in self.errors:
            self.add_error("record", _("Chọn biên bản kiểm tra cần in."))
        return data


# --- inspection and supervision ----------------------------------------------------------------

def _date_field(label, required=False, **kwargs):
    return DateField(label=label, required=required, **kwargs)


def _text_area(label, rows=3, required=False, **kwargs):
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows}), **kwargs)


def _revision_field():
    """Hidden: the revision the edit form was loaded with (the service refuses a stale one)."""
    return forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class InspectionPlanForm(NoControlCharactersMixin, forms.Form):
    year = forms.IntegerField(label=_("Năm"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("Tên kế hoạch"), max_length=500)
    decision_number = forms.CharField(label=_("Số quyết định phê duyệt"), max_length=50, required=False,
                                      help_text=_("Ví dụ: 55/QĐ-ĐMST"))
    decision_date = _date_field(_("Ngày quyết định"))
    legal_basis = _text_area(_("Căn cứ"))
    purpose = _text_area(_("Mục đích, yêu cầu"))
    revision = _revision_field()

    def __init__(self, *args, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        if plan is not None:
            self.fields["year"].disabled = True
            self.fields["year"].initial = plan.year
        else:
            self.fields["year"].initial = timezone.localdate().year
            del self.fields["revision"]


def de_an_place(de_an):
    """Where a đề án is, for a picker: its current province, and the one it was registered in when that
    differs («Bắc Ninh (khi đăng ký: Bắc Giang (cũ))»: a Bắc Giang đề án read just «Bắc Ninh»)."""
    name = de_an.current_province.name
    if de_an.province_id and de_an.province_id != de_an.current_province_id:
        name = f"{name} " + _("(khi đăng ký: %(p)s)") % {"p": de_an.province.era_name}
    return name


class DeAnChoiceField(BoundedModelMultipleChoiceField):
    def label_from_instance(self, obj):
        from projects.models import Status

        return f"{obj.code} – {obj.name} ({de_an_place(obj)}, {obj.plan_year}, {Status(obj.status).label})"


class ProvinceTaggedCheckboxes(forms.CheckboxSelectMultiple):
    """Ticked boxes of đề án, each carrying its current province (``data-province="<id>"``): the mission
    form's script shows only the đề án of the provinces ticked above."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-province"] = str(instance.current_province_id)
        return option


def _ids(values):
    """The whole numbers among ``values`` sent for a list of boxes (ASCII digits only, at most 9 of them:
    ``"²".isdigit()`` is True and ``int("²")`` fails); anything else is left out."""
    return [int(v) for v in values or () if re.fullmatch(r"[0-9]{1,9}", str(v))]


class RedisplayMixin:
    """``redisplay=True``: a bound form shown again exactly as typed, without validating it — no error
    messages, and ``is_valid()`` is False so nothing can be saved from it. For a button that only
    reloads the page, such as the đề án filter of the mission form."""

    def __init__(self, *args, redisplay=False, **kwargs):
        self.redisplay = redisplay
        super().__init__(*args, **kwargs)

    def full_clean(self):
        if not self.redisplay:
            return super().full_clean()
        self._errors = ErrorDict(renderer=self.renderer)
        self.cleaned_data = {}
        return None

    def is_valid(self):
        return not self.redisplay and super().is_valid()


class DeAnFilterForm(forms.Form):
    """The filter of the mission form's đề án list (plan year, status). Its fields and its button are
    part of the mission form, so filtering sends (and shows again) everything typed; also read from
    the query string (``?de_an_year=2024&de_an_status=approved``)."""

    BUTTON = "loc_de_an"  # the name of the filter's submit button

    de_an_year = forms.IntegerField(
        label=_("Đề án kế hoạch năm"), min_value=2000, max_value=2100, required=False,
        error_messages={"invalid": _("Năm kế hoạch phải là số có bốn chữ số, ví dụ 2024."),
                        "min_value": _("Năm kế hoạch phải từ 2000 đến 2100."),
                        "max_value": _("Năm kế hoạch phải từ 2000 đến 2100.")})
    de_an_status = forms.ChoiceField(label=_("Trạng thái đề án"), required=False)

    def __init__(self, *args, statuses, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["de_an_status"].choices = [("", _("Tất cả")), *statuses]

    def filters(self):
        """The valid filter values (a wrong one is left out, and shown with its error)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}


class MissionForm(RedisplayMixin, NoControlCharactersMixin, forms.Form):
    name = forms.CharField(label=_("Tên đoàn"), max_length=255)
    # Both lists are ticked boxes (reports/inspection/_pick_list.html): a text box filters them and a
    # count says how many are ticked (static/js/mission_form.js); without JavaScript, the whole list.
    provinces = BoundedModelMultipleChoiceField(label=_("Tỉnh, thành phố đoàn đến"), queryset=Province.objects.none(),
                                               widget=forms.CheckboxSelectMultiple)
    start_date = _date_field(_("Từ ngày"))
    end_date = _date_field(_("Đến ngày"))
    legal_basis = forms.CharField(label=_("Căn cứ (quyết định kiểm tra)"), max_length=500, required=False)
    contents_to_check = _text_area(_("Nội dung kiểm tra"), rows=4)
    sites = _text_area(_("Địa điểm kiểm tra"))
    expected_outputs = _text_area(_("Sản phẩm dự kiến"), rows=2)
    follow_up_deadline = _date_field(_("Hạn báo cáo khắc phục"))
    # The đề án of the ticked provinces (their current province): every box carries ``data-province`` and
    # the script hides those of unticked provinces; the server checks it (``clean``).
    de_an = DeAnChoiceField(label=_("Đề án được kiểm tra"), queryset=Province.objects.none(), required=False,
                            widget=ProvinceTaggedCheckboxes,
                            help_text=_("Đề án khuyến công quốc gia đã phê duyệt của các tỉnh, thành phố đoàn đến"))
    revision = _revision_field()

    # Sent only by a page whose script runs (it enables this hidden input): that page needs the đề án of
    # every province, since it shows those of the provinces ticked as the user ticks them. Without it, a
    # form sent back (the đề án filter's button, a refused save) lists only the đề án of the ticked
    # provinces, and the ticked ones.
    SCRIPTED = "de_an_tat_ca_tinh"

    def __init__(self, *args, plan, de_an_year=None, de_an_status=None, keep=(), editing=False, **kwargs):
        from .inspection_services import inspectable_de_an

        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["revision"]
        self.fields["provinces"].queryset = province_choices()
        self.fields["de_an"].error_messages["invalid_choice"] = _(
            "Một đề án đã chọn không thuộc phạm vi kiểm tra của đoàn (đề án khuyến công quốc gia đã phê duyệt, "
            "kế hoạch năm %(y)s hoặc trước đó) nên không có trong danh sách; hãy xem lại các đề án đã chọn.") % {
            "y": plan.year}
        provinces = None  # every province's đề án
        if self.is_bound and not self.data.get(self.SCRIPTED):
            provinces = _ids(self._sent("provinces")) or None
        qs = inspectable_de_an(year=plan.year, provinces=provinces, statuses=[de_an_status] if de_an_status else None)
        if de_an_year:
            qs = qs.filter(plan_year=de_an_year)
        if self.is_bound:
            # What was ticked stays in the list whatever the filter or the provinces now show (but only đề án
            # the plan may visit: a forged id does not become a choice); one of an unticked province is
            # refused by ``clean``, named.
            ticked = _ids(self._sent("de_an"))
            if ticked:
                keep = [*keep, *inspectable_de_an(year=plan.year).filter(pk__in=ticked).values_list("pk", flat=True)]
        if keep:
            from projects.models import DeAn

            qs = (qs | DeAn.objects.filter(pk__in=list(keep))).select_related("current_province", "province").order_by(
                "current_province__code", "code")
        self.fields["de_an"].queryset = qs

    def _sent(self, name):
        return self.fields[name].widget.value_from_datadict(self.data, self.files, self.add_prefix(name))

    def clean(self):
        """A ticked đề án must be of a ticked province (its current one): one left ticked after its province
        was unticked is named, never dropped silently."""
        data = super().clean()
        provinces, de_an = data.get("provinces"), data.get("de_an")
        if provinces and de_an:
            ids = {p.pk for p in provinces}
            outside = {}
            for d in de_an:
                if d.current_province_id not in ids:
                    outside.setdefault(d.current_province_id, (d.current_province, []))[1].append(d.code)
            for province, codes in outside.values():
                self.add_error("de_an", _("Đề án %(codes)s thuộc %(province)s, không thuộc các tỉnh, thành phố của "
                                          "đoàn kiểm tra.") % {"codes": ", ".join(codes), "province": province.name})
        return data


class MemberForm(RedisplayMixin, NoControlCharactersMixin, forms.Form):
    full_name = forms.CharField(label=_("Họ và tên"), max_length=150, required=False)
    job_title = forms.CharField(label=_("Chức vụ"), max_length=150, required=False)
    unit = forms.CharField(label=_("Đơn vị công tác"), max_length=255, required=False)
    role = forms.ChoiceField(label=_("Nhiệm vụ trong đoàn"), choices=MemberRole.choices, initial=MemberRole.MEMBER)


class BaseMemberFormSet(forms.BaseFormSet):
    """``redisplay=True``: the rows shown again as typed, without validating them (see RedisplayMixin)."""

    def __init__(self, *args, redisplay=False, **kwargs):
        self.redisplay = redisplay
        if redisplay:
            kwargs["form_kwargs"] = {**(kwargs.get("form_kwargs") or {}), "redisplay": True}
        super().__init__(*args, **kwargs)

    def full_clean(self):
        if not self.redisplay:
            return super().full_clean()
        self._errors = []
        self._non_form_errors = self.error_class(error_class="nonform", renderer=self.renderer)
        return None

    def is_valid(self):
        return not self.redisplay and super().is_valid()


MemberFormSet = forms.formset_factory(MemberForm, formset=BaseMemberFormSet, extra=3, max_num=30)


class InspectionRecordForm(NoControlCharactersMixin, forms.Form):
    de_an = forms.ModelChoiceField(label=_("Đề án được kiểm tra"), queryset=Province.objects.none())
    inspected_on = _date_field(_("Ngày kiểm tra"), required=True)
    place = forms.CharField(label=_("Địa điểm"), max_length=255)
    legal_basis = forms.CharField(label=_("Căn cứ"), max_length=500, required=False)
    team = _text_area(_("Thành phần đoàn kiểm tra"))
    inspected_parties = _text_area(_("Thành phần đơn vị được kiểm tra"))
    progress_check = _text_area(_("Tiến độ so với kế hoạch"))
    equipment_check = _text_area(_("Máy móc, thiết bị so với hồ sơ"))
    disbursed_amount = MoneyField(label=_("Kinh phí đã giải ngân (đồng)"), required=False, help_text=_("Ví dụ: 1.500.000"))
    # Shown (and required by the service) only when the amount is above the đề án's approved amount:
    # ``ask_over_approved`` names that amount.
    confirm_over_approved = forms.BooleanField(required=False, label=_("Xác nhận số kinh phí đã giải ngân lớn hơn "
                                                                       "kinh phí được phê duyệt"))
    documents_check = _text_area(_("Hồ sơ, chứng từ"))
    effectiveness = _text_area(_("Hiệu quả"))
    actual_output = forms.CharField(label=_("Sản lượng thực tế"), max_length=255, required=False)
    actual_revenue = MoneyField(label=_("Doanh thu thực tế (đồng/năm)"), required=False)
    actual_jobs = forms.IntegerField(label=_("Việc làm thực tế (người)"), min_value=0, required=False)
    findings = _text_area(_("Phát hiện"), rows=4)
    conclusion = forms.ChoiceField(label=_("Kết luận"), choices=Conclusion.choices)
    conclusion_text = _text_area(_("Nội dung kết luận"))
    inspected_opinion = _text_area(_("Ý kiến của đơn vị được kiểm tra"))
    revision = _revision_field()

    def __init__(self, *args, de_an_queryset, fixed_de_an=None, **kwargs):
        """``fixed_de_an``: editing that đề án's record (the đề án cannot change; the form carries the
        record's revision)."""
        super().__init__(*args, **kwargs)
        self.fields["de_an"].queryset = de_an_queryset
        self.fields["de_an"].label_from_instance = lambda d: f"{d.code} – {d.name} ({de_an_place(d)})"
        if fixed_de_an is not None:
            self.fields["de_an"].disabled = True
            self.fields["de_an"].initial = fixed_de_an.pk
        else:
            del self.fields["revision"]
        self.over_approved = None  # the approved amount the confirmation box names, when it is shown

    def ask_over_approved(self, approved):
        """Show the confirmation box: the disbursed amount typed is above ``approved`` (đồng)."""
        field = self.fields["confirm_over_approved"]
        field.label = _("Xác nhận số kinh phí đã giải ngân lớn hơn kinh phí được phê duyệt (%(a)s)") % {
            "a": format_dong(approved)}
        field.help_text = _("Đánh dấu nếu số tiền đã nhập là đúng; nếu không, hãy sửa lại số tiền.")
        field.widget.attrs.update({"required": True, "aria-required": "true"})
        self._bound_fields_cache.pop("confirm_over_approved", None)  # a bound field made earlier keeps the old label
        self.over_approved = approved


class RecommendationForm(NoControlCharactersMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text = forms.CharField(label=_("Kiến nghị"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    deadline = _date_field(_("Thời hạn"))
    delete = forms.BooleanField(label=_("Xóa"), required=False)


RecommendationFormSet = forms.formset_factory(RecommendationForm, extra=2, max_num=50)


class AnswerForm(NoControlCharactersMixin, forms.Form):
    response = forms.CharField(label=_("Báo cáo khắc phục"), widget=forms.Textarea(attrs={"rows": 4}))
    responded_on = _date_field(_("Ngày báo cáo"), required=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["responded_on"].initial = timezone.localdate()


class CloseForm(NoControlCharactersMixin, forms.Form):
    """Closing a recommendation. ``unanswered``: the province has not reported on it (still open): the
    comment is then required — the reason the ministry closes it anyway (``recommendation_close``)."""

    comment = forms.CharField(label=_("Ý kiến khi đóng (không bắt buộc)"), required=False,
                              widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, unanswered=False, **kwargs):
        kwargs.setdefault("auto_id", "close_%s")  # the reopen form on the same page has a «comment» too
        super().__init__(*args, **kwargs)
        self.unanswered = unanswered
        if unanswered:
            field = self.fields["comment"]
            field.required = True
            field.label = _("Lý do đóng khi tỉnh chưa báo cáo khắc phục")
            field.help_text = _("Bắt buộc: tỉnh, thành phố chưa báo cáo khắc phục kiến nghị này. Lý do được ghi vào "
                                "lịch sử của kiến nghị.")
            field.error_messages["required"] = _("Đóng kiến nghị khi tỉnh chưa báo cáo khắc phục cần ghi lý do.")
            field.widget.attrs["aria-required"] = "true"


class ReopenForm(NoControlCharactersMixin, forms.Form):
    comment = forms.CharField(label=_("Lý do mở lại"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "reopen_%s")  # the close form on the same page has a «comment» too
        super().__init__(*args, **kwargs)


class RecommendationFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Tình trạng"), required=False, choices=[("", _("Tất cả"))] + FollowUp.choices)
    overdue = forms.BooleanField(label=_("Chỉ kiến nghị quá hạn"), required=False)
    province = forms.ModelChoiceField(label=_("Tỉnh, thành phố"), required=False, queryset=Province.objects.none(),
                                      empty_label=_("Tất cả"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if is_nationwide(user):
            self.fields["province"].queryset = province_choices()
        else:
            del self.fields["province"]


class RecordFilterForm(forms.Form):
    year = forms.IntegerField(label=_("Năm"), required=False, min_value=2000, max_value=2100)
    province = forms.ModelChoiceField(label=_("Tỉnh, thành phố"), required=False, queryset=Province.objects.none(),
                                      empty_label=_("Tất cả"))
    conclusion = forms.ChoiceField(label=_("Kết luận"), required=False, choices=[("", _("Tất cả"))] + Conclusion.choices)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if is_nationwide(user):
            self.fields["province"].queryset = province_choices()
        else:
            del self.fields["province"]


class JobFilterForm(forms.Form):
    """The report list's filters (GET): kind, year, state. Its ids are «loc_kind»…: the request form on
    the same page has «id_kind», «id_year» (a prefix would rename the GET parameters; auto_id does not)."""

    kind = forms.ChoiceField(label=_("Loại báo cáo"), required=False, choices=[("", _("Tất cả"))] + ReportKind.choices)
    year = forms.IntegerField(label=_("Năm"), required=False, min_value=2000, max_value=2100)
    status = forms.ChoiceField(label=_("Trạng thái"), required=False, choices=[("", _("Tất cả"))] + JobStatus.choices)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "loc_%s")
        super().__init__(*args, **kwargs)


class InspectionAttachmentForm(NoControlCharactersMixin, forms.Form):
    file = forms.FileField(label=_("Tệp (ảnh, PDF, tài liệu Office)"))
    description = forms.CharField(label=_("Mô tả"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        state_size_limit(self.fields["file"], attachment_max_bytes())


class EvidenceForm(NoControlCharactersMixin, forms.Form):
    """A photo or scanned document attached to a remedial report (checked by the service)."""

    file = forms.FileField(label=_("Tệp minh chứng (ảnh, bản chụp tài liệu, PDF)"),
                           error_messages={"required": _("Chọn tệp cần tải lên."),
                                           "empty": _("Tệp đã chọn rỗng."),
                                           "invalid": _("Không đọc được tệp đã gửi; hãy chọn lại tệp.")},
                           widget=forms.FileInput(attrs={
                               "accept": ".jpg,.jpeg,.png,.webp,.pdf,.doc,.docx,.xls,.xlsx,.odt,.ods"}))
    description = forms.CharField(label=_("Mô tả"), max_length=255, required=False,
                                  help_text=_("Ví dụ: Ảnh máy sấy đã lắp đặt"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "evidence")
        super().__init__(*args, **kwargs)
        state_size_limit(self.fields["file"], attachment_max_bytes())
