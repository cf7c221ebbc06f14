"""/bao-cao/ has two forms (ask for a report, filter the list): every id on the page is unique and each
label points at its own form's field; the filter keeps its GET parameter names."""
import re
from collections import Counter

import pytest
from django.urls import reverse

from tests.reports import inspection_factories as f

pytestmark = pytest.mark.django_db


def test_ids_are_unique_and_labels_point_at_their_own_form(client):
    client.force_login(f.reviewer())
    body = client.get(reverse("reports:job_list") + "?kind=national&year=2024").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', body)
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    filter_form = body[body.index('<form method="get"'):]
    filter_form = filter_form[:filter_form.index("</form>")]
    for name in ("kind", "year", "status"):
        assert f'<label for="loc_{name}">' in filter_form
        assert re.search(rf'<(select|input)[^>]*name="{name}"[^>]*id="loc_{name}"', filter_form)
    assert 'for="id_kind"' not in filter_form and 'for="id_year"' not in filter_form
    # The filter still reads ?kind=&year=: the values come back in its fields.
    assert re.search(r'<input[^>]*name="year"[^>]*value="2024"[^>]*id="loc_year"', filter_form)
    assert '<option value="national" selected>' in filter_form
    for label_for in re.findall(r'<label for="([^"]+)"', body):
        assert label_for in ids
