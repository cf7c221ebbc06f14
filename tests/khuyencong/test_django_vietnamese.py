"""locale/vi fills the holes of Django's (and django-simple-history's / django-import-export's) Vietnamese
catalogues, so Vietnamese users no longer meet English in the admin, in form and validator errors or in
pagination; and it never rewrites the portal's own (already Vietnamese) text."""

import ast
import json
import re
from pathlib import Path

import pytest
from django import forms
from django.conf import settings
from django.contrib.auth.password_validation import MinimumLengthValidator
from django.core.exceptions import ValidationError
from django.core.paginator import PageNotAnInteger, Paginator
from django.urls import reverse
from django.utils import translation

from .factories import admin_user

VI_PO = Path(settings.BASE_DIR) / "locale" / "vi" / "LC_MESSAGES" / "django.po"
EN_PO = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrf]|%[sdrf]|\{\w*\}")


def read_po(path):
    """Entries of a .po file as dicts (ctxt, id, plural, strs); the header and obsolete (#~) entries left out."""
    entries, cur, field = [], None, None

    def flush():
        if cur and cur.get("id"):
            entries.append(cur)

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
            cur, field = None, None
            continue
        if line.startswith("#"):
            continue
        cur = cur or {"ctxt": None, "id": None, "plural": None, "strs": {}}
        if m := re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line):
            keyword, value = m.group(1), ast.literal_eval(m.group(3))
            if keyword.startswith("msgstr"):
                field = ("strs", int(m.group(2) or 0))
                cur["strs"][field[1]] = value
            else:
                field = ({"msgctxt": "ctxt", "msgid": "id", "msgid_plural": "plural"}[keyword],)
                cur[field[0]] = value
        elif line.startswith('"'):
            value = ast.literal_eval(line)
            if field[0] == "strs":
                cur["strs"][field[1]] += value
            else:
                cur[field[0]] += value
    flush()
    return entries


def test_a_nul_character_in_a_form_field_is_refused_in_vietnamese():
    class F(forms.Form):
        name = forms.CharField()

    with translation.override("vi"):
        form = F(data={"name": "ab\x00c"})
        assert not form.is_valid()
        assert form.errors["name"] == ["Không được phép có ký tự null."]


def test_pagination_errors_are_vietnamese():
    with translation.override("vi"), pytest.raises(PageNotAnInteger) as caught:
        Paginator(list(range(30)), 10).validate_number("x")
    assert str(caught.value) == "Số trang không phải là số nguyên"


def test_password_too_short_uses_the_plural_entry_with_the_number():
    with translation.override("vi"), pytest.raises(ValidationError) as caught:
        MinimumLengthValidator(min_length=12).validate("ngắn")
    assert caught.value.messages == ["Mật khẩu này quá ngắn. Mật khẩu phải có ít nhất 12 ký tự."]


@pytest.mark.django_db
def test_admin_change_list_has_no_english_left_in_the_chrome(client):
    client.force_login(admin_user())
    page = client.get(reverse("admin:projects_notification_changelist"), HTTP_ACCEPT_LANGUAGE="vi")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Chuyển đến nội dung chính" in html and "Skip to main content" not in html
    assert "Hiện số lượng" in html and "Show counts" not in html
    assert "Đổi giao diện" in html and "Toggle theme" not in html
    counts = client.get(
        reverse("admin:projects_notification_changelist"), {"_facets": "True"}, HTTP_ACCEPT_LANGUAGE="vi"
    ).content.decode()
    assert "Ẩn số lượng" in counts and "Hide counts" not in counts


@pytest.mark.parametrize(("domain", "at_least"), [("django", 200), ("djangojs", 20)])
def test_every_entry_is_translated_keeps_its_placeholders_and_is_compiled(domain, at_least):
    from django.utils.translation.trans_real import DjangoTranslation

    entries = read_po(VI_PO.with_name(f"{domain}.po"))
    assert len(entries) > at_least
    catalog = DjangoTranslation("vi", domain=domain)  # Django's merged catalogues, ours first
    for e in entries:
        sources = [e["id"]] + ([e["plural"]] if e["plural"] else [])
        assert list(e["strs"]) == [0], f"Vietnamese has one plural form: {e['id']!r}"
        text = e["strs"][0]
        assert text.strip(), f"empty msgstr for {e['id']!r}"
        for source in sources:
            assert set(PLACEHOLDER.findall(text)) == set(PLACEHOLDER.findall(source)), (
                f"placeholders differ: {source!r} -> {text!r}"
            )
        if e["plural"]:  # the committed .mo says the same as the .po
            got = (catalog.npgettext(e["ctxt"], e["id"], e["plural"], 5) if e["ctxt"]
                   else catalog.ngettext(e["id"], e["plural"], 5))
        else:
            got = catalog.pgettext(e["ctxt"], e["id"]) if e["ctxt"] else catalog.gettext(e["id"])
        assert got == text, f"{domain}.mo is stale for {e['id']!r}: run msgfmt"


def test_it_never_overrides_the_portals_own_text():
    portal = read_po(EN_PO)
    ours = {e["id"] for e in portal} | {e["plural"] for e in portal if e["plural"]}
    assert len(ours) > 1000
    assert [e["id"] for e in read_po(VI_PO) if e["id"] in ours or e["plural"] in ours] == []


def test_the_admin_history_button_says_lich_su():
    """Django's own Vietnamese calls it «Bản ghi nhớ» (a memo); the portal's catalogue corrects it."""
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("vi"):
        assert gettext("History") == "Lịch sử"


def test_django_validator_messages_read_cleanly():
    """Django's own Vietnamese left a space before the full stop («… bằng với 2000 .»)."""
    from django.core.exceptions import ValidationError
    from django.core.validators import MaxValueValidator, MinValueValidator
    from django.utils import translation

    with translation.override("vi"):
        for validator, value, text in ((MinValueValidator(2000), 1999, "Giá trị phải lớn hơn hoặc bằng 2000."),
                                       (MaxValueValidator(10), 11, "Giá trị phải nhỏ hơn hoặc bằng 10.")):
            with pytest.raises(ValidationError) as caught:
                validator(value)
            assert caught.value.messages == [text]


@pytest.mark.django_db
def test_the_admin_calendar_and_selector_speak_vietnamese(client):
    """The admin's JavaScript catalogue (locale/vi/LC_MESSAGES/djangojs.po): day names of the date
    picker and the two-list selector, which Django's own Vietnamese djangojs lacks."""
    from django.urls import reverse

    client.force_login(admin_user())
    body = client.get(reverse("admin:jsi18n"), HTTP_ACCEPT_LANGUAGE="vi").content.decode()
    catalog = json.loads(re.search(r"const newcatalog = (\{.*?\});", body, re.S).group(1))
    assert catalog["Sunday"] == "Chủ nhật" and catalog["Saturday"] == "Thứ bảy"
    assert catalog["Choose all %s"] == "Chọn tất cả %s" and catalog["(click to clear)"] == "(bấm để xóa)"
    assert catalog["abbrev. day Sunday\x04Sun"] == "CN"
