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


class DateField(forms.DateField):
    widget = DateInput
    input_formats = INPUT_FORMATS
    default_error_messages = {
        "invalid": _("Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026."),
    }
