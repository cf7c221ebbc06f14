"""The outputs page's form (``/tong-quan/ket-qua/?de_an=<id>``): planned and achieved outputs per
indicator and the economic results of one đề án, read as people type them — counts "1500" or "1.500",
money "1.500.000.000", "1 500 000 000" or "1,5 tỷ" — and shown back the same way (money and counts
grouped by thousands: "1.500.000.000").

Only what the user may change has a field; a value sent for anything else (a page opened before the
đề án moved on) is refused with the access reason. Parsing only: what is written, and the all-or-nothing
write, are ``dashboards.services.outputs_save``; its refusals come back onto the fields with
``add_refusal``.
"""
import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from khuyencong.formatting import format_number
from projects.forms import MoneyField

from .services import ECONOMIC_FIELDS, achieved_field, planned_field

_COUNT = re.compile(r"\d+|\d{1,3}(?:\.\d{3})+")


class CountInput(forms.TextInput):
    """Text input for a count: shows 1.500, accepts 1500 and 1.500 (a number input would drop what is
    not a number when the page comes back with an error)."""

    def __init__(self, attrs=None):
        super().__init__({"inputmode": "numeric", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return format_number(value)
        return super().format_value(value)


class CountField(forms.Field):
    """A whole number ≥ 0 written the Vietnamese way: "1.500" is one thousand five hundred; "1.5",
    "1,5", "-3" and words are refused with a message in Vietnamese."""

    widget = CountInput

    def to_python(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value or "").replace("\u00a0", "").replace(" ", "").strip()
        if not text:
            return None
        if text[0] in "-\u2212" and _COUNT.fullmatch(text[1:]):
            raise ValidationError(_("Số lượng không được âm."), code="negative")
        if not _COUNT.fullmatch(text):
            raise ValidationError(_("«%(v)s» không phải là số nguyên; hãy viết ví dụ 1500 hoặc 1.500.")
                                  % {"v": text[:20]}, code="invalid")
        return int(text.replace(".", ""))


class OutputsForm(forms.Form):
    """``indicators`` of the đề án's programme; ``existing`` its outputs by indicator id; ``econ`` its
    economic results (or None); ``can_plan`` / ``can_record`` / ``can_econ`` the access decisions."""

    def __init__(self, *args, indicators, existing, econ, can_plan, can_record, can_econ, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        self.decisions = {"planned": can_plan, "achieved": can_record, "economic": can_econ}
        for ind in self.indicators:
            old = existing.get(ind.pk)
            if can_plan:
                self.fields[planned_field(ind)] = CountField(
                    label=_("Kế hoạch «%(i)s»") % {"i": ind.name}, required=False,
                    initial=old.planned if old is not None else None)
            if can_record:
                self.fields[achieved_field(ind)] = CountField(
                    label=_("Đã đạt «%(i)s»") % {"i": ind.name}, required=False,
                    initial=old.achieved if old is not None else None)
        if can_econ:
            labels = {"output_value": _("Giá trị sản xuất (đồng/năm)"), "revenue": _("Doanh thu (đồng/năm)"),
                      "jobs_created": _("Việc làm tạo thêm"), "counterpart_mobilised": _("Vốn đối ứng huy động (đồng)")}
            for name in ECONOMIC_FIELDS:
                kind = CountField if name == "jobs_created" else MoneyField
                self.fields[name] = kind(label=labels[name], required=False,
                                         initial=getattr(econ, name) if econ is not None else None)

    def _sent(self, name):
        return bool(str(self.data.get(name) or "").strip())

    def clean(self):
        """A value sent for what the user may not change: refused with the reason, nothing written."""
        refused = []
        for kind, name_of in (("planned", planned_field), ("achieved", achieved_field)):
            decision = self.decisions[kind]
            if not decision and any(self._sent(name_of(ind)) for ind in self.indicators):
                refused.append(decision.reason)
        if not self.decisions["economic"] and any(self._sent(name) for name in ECONOMIC_FIELDS):
            refused.append(self.decisions["economic"].reason)
        for reason in dict.fromkeys(refused):
            self.add_error(None, reason)
        return self.cleaned_data

    def bound(self, name):
        """The bound field ``name`` when the user may change it, else None (for the template's rows)."""
        return self[name] if name in self.fields else None

    def changes(self):
        """The keyword arguments of ``services.outputs_save`` (call after ``is_valid()``)."""
        data = self.cleaned_data
        planned = {ind: data[planned_field(ind)] for ind in self.indicators
                   if data.get(planned_field(ind)) is not None}
        achieved = {ind: data[achieved_field(ind)] for ind in self.indicators
                    if data.get(achieved_field(ind)) is not None}
        economic = None
        if any(data.get(name) is not None for name in ECONOMIC_FIELDS):
            economic = {name: data.get(name) or 0 for name in ECONOMIC_FIELDS}
        return {"planned": planned, "achieved": achieved, "economic": economic}

    def add_refusal(self, err):
        """Put a service refusal (``OutputRefused.errors``) on the fields it names, the rest on top."""
        for field, messages in err.errors.items():
            self.add_error(field if field in self.fields else None, messages)
