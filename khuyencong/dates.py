"""The portal's one date input: dd/mm/yyyy, whatever the browser's language.

A native ``<input type="date">`` shows the date in the *browser's* format — mm/dd/yyyy in the English
Chrome many offices install — while every page of the portal writes dd/mm/yyyy; 03/04/2026 then means
two different days on one screen. So dates are typed as text, dd/mm/yyyy (``5/3/2026`` and ISO
``2026-03-05`` are accepted too), checked on the server with a Vietnamese message, and
``static/js/dates.js`` adds a «Chọn ngày» button that opens the browser's own calendar and writes the
chosen day back as dd/mm/yyyy. Without JavaScript the field still works.

    from khuyencong.dates import DateField
    start_date = DateField(label=_("Ngày bắt đầu"), required=False)

Hand-written inputs in templates use the same attributes (``{% date_input_attrs %}``) and show a value
with ``|date_input``.
"""
import datetime
import re

from django import forms
from django.utils.translation import gettext_lazy as _

DISPLAY_FORMAT = "%d/%m/%Y"
INPUT_FORMATS = ["%d/%m/%Y", "%Y-%m-%d"]  # strptime's %d and %m also take 5/3/2026
PLACEHOLDER = "dd/mm/yyyy"
ATTRS = {"placeholder": PLACEHOLDER, "inputmode": "numeric", "autocomplete": "off", "maxlength": "10",
         "data-date": "", "data-date-label": _("Chọn ngày trên lịch")}


def display(value):
    """A date as the field shows it (dd/mm/yyyy); what the user typed (a string) is shown back as is."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.strftime(DISPLAY_FORMAT)
    return "" if value is None else str(value)


class DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self, attrs=None):
        super().__init__(attrs={**ATTRS, **(attrs or {})}, format=DISPLAY_FORMAT)


# Every date the portal records (decisions, schedules, payments, inspections) falls in the programmes'
# years: a year outside this window is a typo ("01/02/0026"), refused rather than stored.
MIN_YEAR, MAX_YEAR = 2000, 2100
_DAY_MONTH_YEAR = re.compile(r"\s*(\d{1,2})/(\d{1,2})/\d{4}\s*")


class DateField(forms.DateField):
    widget = DateInput
    input_formats = INPUT_FORMATS
    default_error_messages = {
        "invalid": _("Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026."),
        "missing": _("Ngày «%(value)s» không có trên lịch (tháng đó không có ngày này); hãy kiểm tra lại."),
        "year": _("Ngày «%(value)s»: năm phải từ %(min)s đến %(max)s; hãy kiểm tra lại."),
    }

    def __init__(self, *, min_year=MIN_YEAR, max_year=MAX_YEAR, **kwargs):
        self.min_year, self.max_year = min_year, max_year
        super().__init__(**kwargs)

    def to_python(self, value):
        try:
            day = super().to_python(value)
        except forms.ValidationError:
            # dd/mm/yyyy written right, but no such day (31/02/2026): say so, not "use dd/mm/yyyy".
            match = _DAY_MONTH_YEAR.fullmatch(value) if isinstance(value, str) else None
            if match and 1 <= int(match[1]) <= 31 and 1 <= int(match[2]) <= 12:
                raise forms.ValidationError(self.error_messages["missing"], code="missing",
                                            params={"value": value.strip()}) from None
            raise
        if day is not None and not self.min_year <= day.year <= self.max_year:
            raise forms.ValidationError(self.error_messages["year"], code="year",
                                        params={"value": value.strip() if isinstance(value, str) else day.strftime(DISPLAY_FORMAT)
                                                if day.year >= 1000 else str(day), "min": self.min_year,
                                                "max": self.max_year})
        return day
