"""Forms of the đề án pages. They only read and validate input; the writes are done by
``projects.services`` (called from the views). Choices that point at rows (establishments, đề án)
are always looked up through ``khuyencong.access`` scoping, so a forged id is refused here.
"""
import itertools

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Value, When
from django.db.models.signals import post_migrate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from khuyencong import access
from khuyencong.choices import FundingSource, Level
from khuyencong.dates import DateField
from khuyencong.formatting import MoneyError, format_number, parse_money
from khuyencong.forms import state_size_limit
from khuyencong.models import ActivityContent, Province
from khuyencong.reference import reference_loaded
from khuyencong.security import BoundedModelMultipleChoiceField, NoControlCharactersMixin
from khuyencong.selectors import province_choices
from khuyencong.textsearch import in_vietnamese_order

from .models import AttachmentKind, DeAn, Kind, LegalForm, validate_tax_code


class MoneyInput(forms.TextInput):
    """Text input for đồng: shows 1.500.000, accepts what people type (1.500.000, 1 500 000, 1,5 tỷ)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "class": "money", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_number(value)
        return super().format_value(value)


class MoneyField(forms.Field):
    """Integer đồng read with ``parse_money``: "1.500.000" → 1500000 (never 1,5); negative,
    fractional đồng and absurdly large amounts get a clear Vietnamese message."""

    widget = MoneyInput

    def to_python(self, value):
        if value in self.empty_values or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int):
            return value
        try:
            return parse_money(value)
        except MoneyError as exc:
            raise ValidationError(str(exc), code="money") from exc


class DeAnForm(NoControlCharactersMixin, forms.Form):
    """The dossier fields. ``level`` and ``province`` only when creating; ``revision`` (hidden) when editing."""

    name = forms.CharField(label=_("Tên đề án"), max_length=500)
    level = forms.ChoiceField(label=_("Cấp"), choices=Level.choices)
    province = forms.ModelChoiceField(
        label=_("Tỉnh, thành phố"), queryset=Province.objects.none(), required=False,
        help_text=_("Để trống: tỉnh, thành phố của tài khoản."),
    )
    # A new đề án is an ordinary one unless the user says otherwise (the first choice, «Đề án điểm», was
    # preselected, and a pilot has its own caps and rules).
    kind = forms.ChoiceField(label=_("Loại đề án"), choices=Kind.choices, initial=Kind.ORDINARY)
    plan_year = forms.IntegerField(label=_("Năm kế hoạch"), min_value=2000, max_value=2100)
    implementing_unit_name = forms.CharField(
        label=_("Đơn vị thực hiện (nếu khác đơn vị của bạn)"), max_length=255, required=False)
    partner_unit = forms.CharField(label=_("Đơn vị phối hợp"), max_length=255, required=False)
    contents = BoundedModelMultipleChoiceField(
        label=_("Nội dung hoạt động"), queryset=ActivityContent.objects.none(), required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Giữ Ctrl để chọn nhiều nội dung."),
    )
    start_date = DateField(label=_("Ngày bắt đầu"), required=False)
    end_date = DateField(label=_("Ngày kết thúc"), required=False)
    location = forms.CharField(label=_("Địa điểm thực hiện"), max_length=255, required=False)
    rationale = forms.CharField(label=_("Sự cần thiết"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    objectives = forms.CharField(label=_("Mục tiêu"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    scale = forms.CharField(label=_("Quy mô"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    expected_output = forms.CharField(label=_("Kết quả dự kiến (sản phẩm)"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))
    expected_revenue = MoneyField(label=_("Doanh thu dự kiến (đồng/năm)"), required=False)
    expected_jobs = forms.IntegerField(label=_("Việc làm dự kiến"), required=False, min_value=0, max_value=10_000_000)
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, user, instance=None, **kwargs):
        self.user = user
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                **{f: getattr(instance, f) for f in (
                    "name", "level", "kind", "plan_year", "implementing_unit_name", "partner_unit", "start_date",
                    "end_date", "location", "rationale", "objectives", "scale", "expected_output",
                    "expected_revenue", "expected_jobs", "revision")},
                "contents": list(instance.contents.all()),
            }
        super().__init__(*args, **kwargs)
        day = (instance.start_date if instance is not None and instance.start_date else None) or timezone.localdate()
        self.fields["contents"].queryset = (
            ActivityContent.objects.filter(parent__isnull=False).order_by("instrument", "code")
        )
        self.fields["contents"].label_from_instance = lambda c: f"{c.code} {c.name} ({c.instrument})"
        self._content_day = day
        if instance is not None:
            # Level and province are fixed once the đề án exists (its code is built from them).
            del self.fields["level"]
            del self.fields["province"]
        elif access.is_nationwide(user):
            self.fields["province"].queryset = province_choices()
            self.fields["province"].required = True
            self.fields["province"].help_text = ""
        else:
            del self.fields["province"]
        if instance is None:
            del self.fields["revision"]
            self.fields["plan_year"].initial = timezone.localdate().year

    def clean(self):
        data = super().clean()
        start, end = data.get("start_date"), data.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data

    def service_fields(self):
        """Keyword arguments for ``de_an_create`` / ``de_an_update``."""
        data = self.cleaned_data
        fields = {k: data.get(k) for k in (
            "name", "kind", "plan_year", "implementing_unit_name", "partner_unit", "start_date", "end_date",
            "location", "rationale", "objectives", "scale", "expected_output", "expected_revenue", "expected_jobs")}
        fields["contents"] = list(data.get("contents") or [])
        return fields


class EstablishmentChoiceField(forms.TypedChoiceField):
    """An establishment id, accepted only when ``access.visible_establishments(user)`` holds it."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce", int)
        kwargs.setdefault("empty_value", None)
        super().__init__(*args, **kwargs)
        self.user = None

    def valid_value(self, value):
        return True  # checked against the scoped queryset in clean()

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        est = access.visible_establishments(self.user).filter(pk=value).first()
        if est is None:
            raise ValidationError(
                _("Cơ sở thụ hưởng không tồn tại hoặc thuộc tỉnh, thành phố khác."), code="establishment")
        return est


class EstablishmentDetailsForm(NoControlCharactersMixin, forms.Form):
    """The fields of an establishment besides its name and legal form, shared by a đề án's beneficiary
    row (a new establishment) and «Sửa thông tin cơ sở»."""

    tax_code = forms.CharField(label=_("Mã số thuế"), max_length=14, required=False,
                               help_text=_("10 số, 10-3 số (chi nhánh) hoặc 12 số (hộ kinh doanh)"))
    commune = forms.CharField(label=_("Xã, phường, đặc khu"), max_length=100, required=False)
    address = forms.CharField(label=_("Địa chỉ"), max_length=255, required=False)
    trade = forms.CharField(label=_("Ngành nghề"), max_length=255, required=False)
    workers = forms.IntegerField(label=_("Số lao động"), required=False, min_value=0, max_value=1_000_000)
    women_owned = forms.BooleanField(label=_("Phụ nữ làm chủ"), required=False)
    ethnic_minority = forms.BooleanField(label=_("Dân tộc thiểu số làm chủ"), required=False)
    craft_village = forms.BooleanField(label=_("Thuộc làng nghề"), required=False)

    def clean_tax_code(self):
        value = (self.cleaned_data.get("tax_code") or "").strip().replace(" ", "")
        validate_tax_code(value or None)
        return value


class BeneficiaryForm(EstablishmentDetailsForm):
    """One beneficiary row: pick an existing establishment, or fill in a new one."""

    establishment = EstablishmentChoiceField(label=_("Cơ sở đã có"), required=False)
    name = forms.CharField(label=_("Tên cơ sở mới"), max_length=255, required=False)
    legal_form = forms.ChoiceField(label=_("Loại hình"), choices=[("", "—")] + LegalForm.choices, required=False)
    field_order = ["establishment", "name", "legal_form", "tax_code", "commune", "address", "trade", "workers",
                   "women_owned", "ethnic_minority", "craft_village"]

    def __init__(self, *args, user=None, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["establishment"].user = user
        self.fields["establishment"].choices = [("", _("— Tạo cơ sở mới (điền bên dưới) —"))] + list(choices)

    def clean(self):
        data = super().clean()
        if data.get("DELETE") or data.get("establishment"):
            return data
        if not data.get("name"):
            if any(data.get(k) for k in ("tax_code", "commune", "address", "trade")):
                self.add_error("name", _("Chưa nhập tên cơ sở thụ hưởng."))
            return data
        if not data.get("legal_form"):
            self.add_error("legal_form", _("Chưa chọn loại hình của cơ sở."))
        return data

    def is_blank(self):
        data = getattr(self, "cleaned_data", {}) or {}
        return not data.get("establishment") and not data.get("name")

    def new_establishment_fields(self):
        data = self.cleaned_data
        return {k: data.get(k) for k in (
            "name", "legal_form", "tax_code", "commune", "address", "trade", "workers", "women_owned",
            "ethnic_minority", "craft_village")}


class BudgetLineForm(NoControlCharactersMixin, forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    description = forms.CharField(label=_("Nội dung chi"), max_length=500, required=False)
    content = forms.ModelChoiceField(label=_("Nội dung hoạt động"), queryset=ActivityContent.objects.none(), required=False,
                                     empty_label=_("— Chọn nội dung —"))
    source = forms.ChoiceField(label=_("Nguồn"), choices=FundingSource.choices, required=False)
    amount = MoneyField(label=_("Số tiền (đồng)"), required=False)
    cost_basis = MoneyField(label=_("Tổng chi phí hạng mục (đồng)"), required=False)
    establishment = forms.TypedChoiceField(label=_("Cơ sở thụ hưởng"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, contents_qs=None, beneficiary_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["content"].queryset = contents_qs if contents_qs is not None else ActivityContent.objects.none()
        self.fields["content"].label_from_instance = lambda c: f"{c.code} {c.name}"
        self.fields["establishment"].choices = [("", "—")] + list(beneficiary_choices)

    def clean(self):
        data = super().clean()
        if data.get("DELETE") or self.is_blank():
            return data
        if not data.get("description"):
            self.add_error("description", _("Dòng kinh phí chưa có nội dung chi."))
        if not data.get("source"):
            self.add_error("source", _("Chưa chọn nguồn kinh phí."))
        if data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Chưa nhập số tiền."))
        return data

    def is_blank(self):
        data = getattr(self, "cleaned_data", {}) or {}
        return not data.get("description") and data.get("amount") is None and "amount" not in self.errors

    def service_line(self):
        data = self.cleaned_data
        line = {"description": data["description"], "source": data["source"], "amount": data["amount"],
                "cost_basis": data.get("cost_basis"), "content": data.get("content"),
                "establishment": data.get("establishment")}
        if data.get("id"):
            line["id"] = data["id"]
        return line


class _KwargsFormSet(forms.BaseFormSet):
    def __init__(self, *args, form_kwargs=None, **kwargs):
        super().__init__(*args, form_kwargs=form_kwargs or {}, **kwargs)


BeneficiaryFormSet = forms.formset_factory(BeneficiaryForm, formset=_KwargsFormSet, extra=1, can_delete=True,
                                           max_num=200, validate_max=True)
BudgetLineFormSet = forms.formset_factory(BudgetLineForm, formset=_KwargsFormSet, extra=2, can_delete=True,
                                          max_num=300, validate_max=True)


class TransitionForm(NoControlCharactersMixin, forms.Form):
    """Inputs of a workflow action; which ones are required is decided by the workflow table and the
    service (their refusals come back as messages)."""

    # Reasons the service gave (projects.views.de_an_transition): they name what they are about, so the
    # panel lists them without the field's label; a form's own validation errors keep it.
    service_messages = frozenset()

    action = forms.CharField(widget=forms.HiddenInput)
    # The đề án's revision when the page was opened: a form sent again after the đề án moved on (back
    # button, a second tab, the same request after a return-and-resubmit round) is refused, not applied
    # to a state its sender never saw. Optional: a client without it is checked by the workflow alone.
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=0)
    comment = forms.CharField(label=_("Ý kiến, lý do"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    decision_number = forms.CharField(label=_("Số quyết định"), required=False, max_length=50)
    decision_date = DateField(label=_("Ngày quyết định"), required=False)
    amount = MoneyField(label=_("Kinh phí được duyệt / quyết toán (đồng)"), required=False)
    accepted_on = DateField(label=_("Ngày nghiệm thu"), required=False)
    settled_on = DateField(label=_("Ngày quyết toán"), required=False)
    settlement_document = forms.CharField(label=_("Số văn bản quyết toán"), required=False, max_length=50)
    new_end_date = DateField(label=_("Thời gian kết thúc mới"), required=False)
    new_location = forms.CharField(label=_("Địa điểm thực hiện mới"), required=False, max_length=255)
    new_partner_unit = forms.CharField(label=_("Đơn vị phối hợp mới"), required=False, max_length=255)
    more_money = forms.BooleanField(label=_("Tăng kinh phí hỗ trợ"), required=False)
    new_content = forms.BooleanField(label=_("Bổ sung nội dung"), required=False)
    extension = forms.BooleanField(label=_("Kéo dài sang năm sau"), required=False)
    stop = forms.BooleanField(label=_("Dừng thực hiện"), required=False)

    # The revised estimate of an adjustment request: one ``line-<budget line id>`` input per budget line of
    # the đề án's own source (the service checks the ids belong to the đề án).
    LINE_PREFIX = "line-"
    MAX_LINES = 500

    def clean(self):
        data = super().clean()
        amounts, bad = {}, []
        keys = [k for k in self.data if k.startswith(self.LINE_PREFIX) and k[len(self.LINE_PREFIX):].isdigit()]
        if len(keys) > self.MAX_LINES:
            raise ValidationError(_("Dự toán điều chỉnh có quá nhiều dòng."))
        field = MoneyField(required=False)
        for key in keys:
            try:
                amount = field.clean(self.data.get(key))
            except ValidationError as exc:
                bad.extend(exc.messages)
                continue
            if amount is not None:
                amounts[int(key[len(self.LINE_PREFIX):])] = amount
        for message in dict.fromkeys(bad):
            self.add_error(None, _("Dự toán điều chỉnh: %(e)s") % {"e": message})
        data["new_lines"] = amounts
        return data


class BulkApproveForm(NoControlCharactersMixin, forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, required=True, error_messages={
        "required": _("Chưa chọn đề án nào để phê duyệt.")})
    decision_number = forms.CharField(label=_("Số quyết định"), max_length=50,
                                      error_messages={"required": _("Cần nhập số quyết định phê duyệt.")})
    decision_date = DateField(label=_("Ngày quyết định"), error_messages={"required": _("Cần nhập ngày quyết định.")})
    comment = forms.CharField(label=_("Ý kiến"), required=False, max_length=5000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].valid_value = lambda value: True  # scoped in the view and the service

    def clean_ids(self):
        ids = self.cleaned_data["ids"]
        if len(ids) > 500:
            raise ValidationError(_("Chỉ phê duyệt tối đa 500 đề án một lần."))
        return ids


class AttachmentForm(NoControlCharactersMixin, forms.Form):
    # The help text is linked to the field (aria-describedby, Django) and shown under it.
    file = forms.FileField(label=_("Tệp"), help_text=_("PDF, ảnh (JPG, PNG, WEBP), tài liệu Office."),
                           error_messages={
        "required": _("Chưa chọn tệp để tải lên."),
        "empty": _("Tệp đã chọn không có nội dung (0 byte). Hãy mở tệp kiểm tra rồi tải lên lại."),
    })
    kind = forms.ChoiceField(label=_("Loại tài liệu"), choices=AttachmentKind.choices, initial=AttachmentKind.OTHER)
    description = forms.CharField(label=_("Mô tả"), max_length=255, required=False)

    def __init__(self, *args, **kwargs):
        from .services import attachment_max_bytes

        super().__init__(*args, **kwargs)
        state_size_limit(self.fields["file"], attachment_max_bytes())


class CommentForm(NoControlCharactersMixin, forms.Form):
    text = forms.CharField(label=_("Ý kiến"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2}),
                           error_messages={"required": _("Chưa nhập nội dung ý kiến.")})


_CHOICES_CACHE = {}
_GENERATIONS = itertools.count(1)
CHOICES_TTL = 300  # seconds: reference lists change a few times a year


def filter_choices(user):
    """Choices for the list filters (small reference lists, kept in process memory for a few minutes so
    the list page costs no query for them)."""
    import time

    key = "all" if access.is_active_user(user) else "none"
    cached = _CHOICES_CACHE.get(key)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    value = _filter_choices(user)
    value["generation"] = next(_GENERATIONS)  # lets callers cache what they build from these lists
    _CHOICES_CACHE[key] = (time.monotonic() + CHOICES_TTL, value)
    return value


def _filter_choices(user):
    years = list(range(timezone.localdate().year + 1, 2015, -1))
    provinces_current = [(p.pk, p.name) for p in in_vietnamese_order(Province.objects.current().only("pk", "name"))]
    provinces_all = [(p.pk, p.name, p.era) for era in ("former", "current")
                     for p in in_vietnamese_order(Province.objects.filter(era=era).only("pk", "name", "era"))]
    areas = list(ActivityContent.objects.filter(parent__isnull=True).order_by("instrument", "code")
                 .values_list("pk", "code", "name", "instrument"))
    # A centre of the map before 01/07/2025 and its successor may share a name (the two "Trung tâm
    # Khuyến công Thành phố Hồ Chí Minh"): each unit comes with its era, "former" once it has ended.
    units = (access.visible_organisations(user).filter(kind__in=["centre", "regional_centre"])
             .annotate(era=Case(When(valid_to__isnull=False, then=Value("former")), default=Value("current")))
             .order_by("name", "era", "pk").values_list("pk", "name", "era")[:300])
    return {"years": years, "provinces_current": provinces_current, "provinces_all": provinces_all,
            "areas": areas, "units": list(units)}


__all__ = ["DeAnForm", "MoneyField", "BeneficiaryFormSet", "BudgetLineFormSet", "TransitionForm",
           "BulkApproveForm", "AttachmentForm", "CommentForm", "DeAn"]


def _clear_choices_cache(**kwargs):
    _CHOICES_CACHE.clear()


# A flush (transactional tests) or a migration may renumber reference rows, and loading the reference
# data may add rows: forget the cached lists. (After a flush, a request still in flight may refill the
# cache with the rows it read before; the reload that follows clears it again.)
post_migrate.connect(_clear_choices_cache, dispatch_uid="projects.forms.clear_choices_cache")
reference_loaded.connect(_clear_choices_cache, dispatch_uid="projects.forms.clear_choices_cache_on_load")


class EstablishmentFilterForm(forms.Form):
    """«Cơ sở thụ hưởng»'s search (GET). The province select is offered to the ministry only (a local
    account sees its own province's establishments anyway); unknown values are ignored by the
    selector, so the form never refuses a request."""

    q = forms.CharField(label=_("Tìm"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("tên hoặc mã số thuế")}))
    province = forms.ChoiceField(label=_("Tỉnh, thành phố"), required=False)
    legal_form = forms.ChoiceField(label=_("Loại hình"), required=False)
    priority = forms.ChoiceField(label=_("Ưu tiên"), required=False, choices=[
        ("", _("Tất cả")), ("phu-nu", _("Phụ nữ làm chủ")), ("dan-toc", _("Dân tộc thiểu số")),
        ("lang-nghe", _("Làng nghề"))])
    supported = forms.ChoiceField(label=_("Hỗ trợ"), required=False, choices=[
        ("", _("Tất cả")), ("co", _("Đã được hỗ trợ")), ("chua", _("Chưa được hỗ trợ"))])
    sort = forms.ChoiceField(label=_("Sắp xếp"), required=False, choices=[
        ("ten", _("Theo tên")), ("-so-de-an", _("Được hỗ trợ nhiều nhất")), ("-nam", _("Được hỗ trợ gần nhất"))])

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["legal_form"].choices = [("", _("Tất cả")), *LegalForm.choices]
        if access.is_nationwide(user):
            self.fields["province"].choices = [("", _("Tất cả")), *((p.pk, p.full_name) for p in province_choices())]
        else:
            del self.fields["province"]


class EstablishmentForm(EstablishmentDetailsForm):
    """«Sửa thông tin cơ sở»: the record kept once for every đề án the establishment is in. Its province
    stays (an establishment does not move; a wrong one is re-created). ``loaded``: when the page was
    opened, so a change saved in between is not overwritten (``services.establishment_update``)."""

    name = forms.CharField(label=_("Tên cơ sở"), max_length=255)
    legal_form = forms.ChoiceField(label=_("Loại hình"), choices=LegalForm.choices)
    loaded = forms.CharField(widget=forms.HiddenInput, required=False)

    FIELDS = ("name", "legal_form", "tax_code", "address", "commune", "trade", "workers", "women_owned",
              "ethnic_minority", "craft_village")
    field_order = [*FIELDS, "loaded"]

    @classmethod
    def for_establishment(cls, establishment, data=None):
        initial = {key: getattr(establishment, key) for key in cls.FIELDS}
        initial["loaded"] = establishment.updated_at.isoformat()
        return cls(data, initial=initial)

    def clean_loaded(self):
        from datetime import datetime

        value = self.cleaned_data.get("loaded") or ""
        try:
            return datetime.fromisoformat(value) if value else None
        except ValueError:
            return None

    def values(self):
        return {key: self.cleaned_data.get(key) for key in self.FIELDS}
