"""A row of filters lines up on a desktop screen: a year field between selects, and the button after
them, have one height and one bottom edge (a select used to render 2 px shorter than a text field,
so «Năm» sat out of line on the report and import lists)."""
import pytest

from tests.browser import sign_in
from tests.khuyencong.factories import admin_user, reviewer

# Every visible one-line control of each form on the page: [form index, tag, top, bottom, height].
CONTROLS = """() => [...document.querySelectorAll('main form')].flatMap((form, i) =>
  [...form.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=file]), select:not([multiple]), button, .btn')]
    .filter(e => e.offsetParent !== null)
    .map(e => { const r = e.getBoundingClientRect();
                return [i, e.tagName + (e.type ? ':' + e.type : ''), Math.round(r.top), Math.round(r.bottom), Math.round(r.height)]; }))"""


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


def rows_of(controls):
    """Controls grouped by form and by the line they sit on (same bottom edge within 3 px)."""
    rows = {}
    for form, tag, top, bottom, height in controls:
        key = next((k for k in rows if k[0] == form and abs(k[1] - bottom) <= 3), (form, bottom))
        rows.setdefault(key, []).append((tag, top, bottom, height))
    return rows


@pytest.mark.e2e
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who, url", [(reviewer, "/bao-cao/"), (admin_user, "/kinh-phi/nhap/")])
def test_a_filter_row_lines_up(live_server, page, who, url):
    sign_in(page, live_server.url, who())
    page.goto(live_server.url + url)
    rows = rows_of(page.evaluate(CONTROLS))
    mixed = [row for row in rows.values() if {t.split(":")[0] for t, *_ in row} >= {"INPUT", "SELECT"}]
    assert mixed, f"{url}: no row with a field beside a select: {rows}"
    for row in mixed:
        assert len({bottom for _t, _top, bottom, _h in row}) == 1, f"{url}: bottoms differ: {row}"
        assert len({h for _t, _top, _b, h in row}) == 1, f"{url}: heights differ: {row}"
