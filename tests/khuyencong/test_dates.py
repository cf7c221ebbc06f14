"""The portal's date field (khuyencong.dates): typed and shown as dd/mm/yyyy whatever the browser."""
import datetime

import pytest
from django import forms
from django.template import Context, Template
from django.utils import translation

from khuyencong.dates import DateField


class Form(forms.Form):
    day = DateField(label="Ngày", required=False)


@pytest.mark.parametrize(("typed", "expected"), [
    ("05/03/2026", datetime.date(2026, 3, 5)),
    ("5/3/2026", datetime.date(2026, 3, 5)),
    (" 31/12/2025 ", datetime.date(2025, 12, 31)),
    ("2026-03-05", datetime.date(2026, 3, 5)),  # ISO, as a browser's own date field sends it
    ("", None),
])
def test_accepted_spellings(typed, expected):
    form = Form({"day": typed})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == expected


@pytest.mark.parametrize("typed", ["03/15/2026", "32/01/2026", "05-03-2026", "5.3.2026", "hôm qua", "2026/03/05"])
def test_a_wrong_date_is_refused_in_vietnamese(typed):
    with translation.override("vi"):
        form = Form({"day": typed})
        assert not form.is_valid()
        assert form.errors["day"] == ["Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026."]


@pytest.mark.parametrize("typed", ["31/02/2026", "29/02/2025", "31/04/2026"])
def test_a_day_the_month_does_not_have_is_named_as_such(typed):
    with translation.override("vi"):
        form = Form({"day": typed})
        assert not form.is_valid()
        assert form.errors["day"] == [f"Ngày «{typed}» không có trên lịch (tháng đó không có ngày này); hãy kiểm tra lại."]


@pytest.mark.parametrize("typed", ["01/02/0026", "01/01/0001", "31/12/1999", "01/01/2101", "31/12/9999", "0026-02-01"])
def test_a_year_outside_the_programmes_window_is_refused(typed):
    with translation.override("vi"):
        form = Form({"day": typed})
        assert not form.is_valid()
        assert form.errors["day"] == [f"Ngày «{typed}»: năm phải từ 2000 đến 2100; hãy kiểm tra lại."]


def test_the_window_ends_are_accepted_and_can_be_moved():
    assert Form({"day": "01/01/2000"}).is_valid() and Form({"day": "31/12/2100"}).is_valid()

    class Founded(forms.Form):
        day = DateField(label="Ngày thành lập", min_year=1950)

    assert Founded({"day": "15/08/1985"}).is_valid()


def test_the_field_is_text_shown_as_dd_mm_yyyy():
    with translation.override("vi"):
        html = str(Form(initial={"day": datetime.date(2026, 3, 5)})["day"])
    assert 'type="text"' in html and 'value="05/03/2026"' in html
    assert 'placeholder="dd/mm/yyyy"' in html and 'inputmode="numeric"' in html and "data-date" in html
    assert 'data-date-label="Chọn ngày trên lịch"' in html
    # What was typed comes back as typed with its error, not reformatted or lost.
    assert 'value="31/02/2026"' in str(Form({"day": "31/02/2026"})["day"])


def test_template_helpers_for_hand_written_inputs():
    template = Template('{% load kc %}<input name="d" {% date_input_attrs %} value="{{ v|date_input }}">')
    with translation.override("vi"):
        html = template.render(Context({"v": datetime.date(2026, 1, 9)}))
        typed = template.render(Context({"v": "9/1/2026"}))
        empty = template.render(Context({"v": None}))
    assert 'type="text"' in html and 'value="09/01/2026"' in html and 'placeholder="dd/mm/yyyy"' in html
    assert 'value="9/1/2026"' in typed and 'value=""' in empty


def test_no_form_of_the_portal_uses_a_native_date_input():
    """Every DateField of the portal's forms is khuyencong.dates.DateField (text, dd/mm/yyyy)."""
    import importlib
    import inspect

    checked = 0
    for module_name in ("projects.forms", "funding.forms", "reports.forms", "khuyencong.forms", "dashboards.forms"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, forms.BaseForm) and cls.__module__ == module_name:
                for field_name, field in cls.base_fields.items():
                    if isinstance(field, forms.DateField):
                        checked += 1
                        assert isinstance(field, DateField), f"{module_name}.{cls.__name__}.{field_name}"
                        assert field.widget.input_type == "text"
    assert checked >= 10
