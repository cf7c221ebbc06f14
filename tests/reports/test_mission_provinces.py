"""The mission form offers the đề án of the provinces ticked for the mission (their current province, the
map from 01/07/2025), not the whole country's.

* Every đề án box carries ``data-province`` (its current province): static/js/mission_form.js shows only
  those of the ticked provinces, with a hint while none is ticked; the first display lists them all, so
  the page works without JavaScript too.
* A form sent back without the script (the đề án filter's button, a refused save) lists only the đề án of
  the ticked provinces — and the ticked ones; with it (``MissionForm.SCRIPTED``), all of them.
* Saving refuses a ticked đề án of an unticked province, naming it and its province — also one the
  mission already holds, when its province is unticked: never dropped silently.
* The page's query count does not depend on the number of đề án.

The browser half (rows appear and disappear as provinces are ticked) is in
test_mission_provinces_e2e.py."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from khuyencong.models import Province
from projects.models import DeAn
from reports.forms import MissionForm
from reports.models import Mission
from tests.projects.factories import current
from tests.reports import inspection_factories as f
from tests.reports.test_mission_filter import _Form

pytestmark = pytest.mark.django_db

HINT = "Chọn tỉnh, thành phố trước để hiện danh sách đề án."


@pytest.fixture
def world(db):
    reviewer = f.reviewer()
    plan = f.plan(reviewer)
    bn1 = f.de_an("24", name="Đề án máy sấy chè Bắc Ninh")
    bn2 = f.de_an("24", status="approved", name="Đề án máy chẻ nan Bắc Ninh")
    hn = f.de_an("01", name="Đề án dây chuyền gốm Bát Tràng")
    tn = f.de_an("19", status="approved", name="Đề án chè Tân Cương")
    # Registered in Bắc Giang, merged into Bắc Ninh on 01/07/2025: it goes with Bắc Ninh.
    moved = f.de_an("24", name="Đề án máy sấy vải thiều Lục Ngạn")
    moved.province = Province.objects.former().get(name="Bắc Giang")
    moved.save(update_fields=["province"])
    return {"reviewer": reviewer, "plan": plan, "bn1": bn1, "bn2": bn2, "hn": hn, "tn": tn, "moved": moved,
            "url": reverse("reports:inspection_mission_create", args=[plan.pk])}


def _typed(provinces, de_an, **extra):
    return {"name": "Đoàn kiểm tra vùng Đồng bằng sông Hồng", "provinces": [current(c).pk for c in provinces],
            "start_date": "02/04/2026", "end_date": "10/04/2026", "de_an": [d.pk for d in de_an],
            "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0, "members-0-full_name": "Ngô Văn Đức",
            "members-0-role": "lead", **extra}


def _boxes(page):
    """The đề án boxes of a page: {value: data-province}."""
    return {a["value"]: a.get("data-province") for a in page.inputs.values() if a.get("name") == "de_an"}


def _message(de_an, province):
    return f"Đề án {de_an} thuộc {province}, không thuộc các tỉnh, thành phố của đoàn kiểm tra."


# --- what the page lists ---------------------------------------------------------------------------------

def test_the_first_display_tags_every_de_an_with_its_current_province(client, world):
    client.force_login(world["reviewer"])
    body = client.get(world["url"]).content.decode()
    page = _Form(body)
    bac_ninh, ha_noi, thai_nguyen = (str(current(c).pk) for c in ("24", "01", "19"))
    assert _boxes(page) == {str(world["bn1"].pk): bac_ninh, str(world["bn2"].pk): bac_ninh,
                            str(world["moved"].pk): bac_ninh, str(world["hn"].pk): ha_noi,
                            str(world["tn"].pk): thai_nguyen}
    # The script's hooks: the provinces' list to follow, the hint (hidden until the script shows it), the
    # hidden input it enables (disabled: a page without the script does not send it).
    assert 'data-province-source="id_provinces"' in body and 'id="id_provinces"' in body
    assert f'<p class="pick-hint muted" data-pick-hint hidden>{HINT}</p>' in body
    assert f'<input type="hidden" name="{MissionForm.SCRIPTED}" value="1" disabled data-pick-scripted>' in body
    assert "bấm «Lọc danh sách đề án» để danh sách chỉ còn đề án của các tỉnh, thành phố đã chọn." in body


def test_without_the_script_a_form_sent_back_lists_the_ticked_provinces_de_an(client, world):
    """The filter's button pressed with Bắc Ninh ticked (a Hà Nội đề án ticked too): Bắc Ninh's đề án
    (the one registered in Bắc Giang among them) and the ticked one; nothing else, no error yet."""
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(["24"], [world["hn"]], loc_de_an="1"))
    assert response.status_code == 200
    page = _Form(response.content.decode())
    assert set(page.options["de_an"]) == {str(d.pk) for d in (world["bn1"], world["bn2"], world["moved"], world["hn"])}
    assert page.selected["de_an"] == [str(world["hn"].pk)]
    assert not Mission.objects.exists()


def test_with_the_script_a_form_sent_back_lists_every_province(client, world):
    """The script shows and hides rows as provinces are ticked: it needs them all."""
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(["24"], [], loc_de_an="1", **{MissionForm.SCRIPTED: "1"}))
    assert set(_Form(response.content.decode()).options["de_an"]) == {
        str(d.pk) for d in (world["bn1"], world["bn2"], world["moved"], world["hn"], world["tn"])}


def test_with_no_province_ticked_a_form_sent_back_lists_every_province(client, world):
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed([], [], loc_de_an="1"))
    assert len(_Form(response.content.decode()).options["de_an"]) == 5


# --- saving ----------------------------------------------------------------------------------------------

def test_a_de_an_of_an_unticked_province_is_refused_by_name(client, world):
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(["24"], [world["bn1"], world["hn"], world["tn"]]))
    assert response.status_code == 400
    body = response.content.decode()
    assert _message(world["hn"].code, "Hà Nội") in body and _message(world["tn"].code, "Thái Nguyên") in body
    assert world["bn1"].code + " thuộc" not in body
    # Nothing was dropped: the three stay ticked on the page shown again (without the script, too).
    assert set(_Form(body).selected["de_an"]) == {str(d.pk) for d in (world["bn1"], world["hn"], world["tn"])}
    assert not Mission.objects.exists()


def test_the_form_alone_names_each_province_once(world):
    extra = f.de_an("01", name="Đề án thứ hai của Hà Nội")
    form = MissionForm(_typed(["24"], [world["hn"], extra, world["bn2"]]), plan=world["plan"])
    assert not form.is_valid()
    codes = ", ".join(sorted([world["hn"].code, extra.code]))
    assert form.errors["de_an"] == [_message(codes, "Hà Nội")]


def test_a_de_an_registered_in_a_merged_province_goes_with_its_current_province(client, world):
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(["01"], [world["moved"]]))
    assert response.status_code == 400
    assert _message(world["moved"].code, "Bắc Ninh") in response.content.decode()
    response = client.post(world["url"], _typed(["24"], [world["moved"], world["bn1"]]))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(Mission.objects.get().de_an.all()) == {world["moved"], world["bn1"]}


@pytest.mark.parametrize("change", [
    {"plan_year": 2022},  # a plan of 2026 visits đề án of 2023–2026
    {"status": "draft"},
    {"status": "cancelled"},
    {"level": "kcdp"},  # a local đề án
])
def test_a_forged_de_an_out_of_the_plans_reach_is_refused(client, world, change):
    forged = f.de_an("24")
    DeAn.objects.filter(pk=forged.pk).update(**change)
    client.force_login(world["reviewer"])
    response = client.post(world["url"], _typed(["24"], [world["bn1"], forged]))
    assert response.status_code == 400
    body = response.content.decode()
    assert ("Một đề án đã chọn không thuộc phạm vi kiểm tra của đoàn (đề án khuyến công quốc gia đã phê duyệt, "
            "kế hoạch năm 2026 hoặc trước đó) nên không có trong danh sách; hãy xem lại các đề án đã chọn.") in body
    page = _Form(body)
    assert str(forged.pk) not in page.options["de_an"]
    assert not Mission.objects.exists()


@pytest.mark.parametrize("value", ["²", "99999999999999999999", "abc"])
def test_a_malformed_id_is_refused_not_a_server_error(client, world, value):
    client.force_login(world["reviewer"])
    data = _typed(["24"], [world["bn1"]])
    data["de_an"] = [world["bn1"].pk, value]
    assert client.post(world["url"], data).status_code == 400
    data = _typed(["24"], [world["bn1"]], loc_de_an="1")
    data["provinces"] = [current("24").pk, value]
    assert client.post(world["url"], data).status_code == 200


# --- editing ---------------------------------------------------------------------------------------------

@pytest.fixture
def mission(world):
    m = f.mission(world["reviewer"], world["plan"], [world["bn1"]], provinces=("24",))
    # Since then the đề án was stopped: not inspectable any more, still the mission's.
    DeAn.objects.filter(pk=world["bn1"].pk).update(status="cancelled")
    return m


def test_editing_keeps_the_linked_de_an_listed_and_ticked(client, world, mission):
    client.force_login(world["reviewer"])
    url = reverse("reports:inspection_mission_edit", args=[mission.pk])
    page = _Form(client.get(url).content.decode())
    assert page.selected["de_an"] == [str(world["bn1"].pk)]
    assert _boxes(page)[str(world["bn1"].pk)] == str(current("24").pk)
    # The filter (no script) on another status and province: the linked đề án stays, ticked.
    data = _typed(["24", "01"], [world["bn1"]], revision=mission.revision, de_an_status="approved", loc_de_an="1")
    page = _Form(client.post(url, data).content.decode())
    assert set(page.options["de_an"]) == {str(world["bn1"].pk), str(world["bn2"].pk)}
    assert page.selected["de_an"] == [str(world["bn1"].pk)]
    # Saved as it is: kept.
    response = client.post(url, _typed(["24", "01"], [world["bn1"], world["hn"]], revision=mission.revision))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(mission.de_an.all()) == {world["bn1"], world["hn"]}


def test_unticking_the_province_of_a_linked_de_an_is_refused_not_a_silent_drop(client, world, mission):
    client.force_login(world["reviewer"])
    url = reverse("reports:inspection_mission_edit", args=[mission.pk])
    response = client.post(url, _typed(["01"], [world["bn1"], world["hn"]], revision=mission.revision))
    assert response.status_code == 400
    body = response.content.decode()
    assert _message(world["bn1"].code, "Bắc Ninh") in body
    page = _Form(body)
    assert set(page.selected["de_an"]) == {str(world["bn1"].pk), str(world["hn"].pk)}  # still listed, ticked
    mission.refresh_from_db()
    assert set(mission.de_an.all()) == {world["bn1"]}
    assert list(mission.provinces.values_list("code", flat=True)) == ["24"]


# --- queries ---------------------------------------------------------------------------------------------

def _queries(client, method, url, data=None):
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data) if data is not None else getattr(client, method)(url)
    assert response.status_code in (200, 400), response.status_code
    return len(ctx.captured_queries)


def test_the_query_count_does_not_depend_on_the_number_of_de_an(client, world, mission):
    client.force_login(world["reviewer"])
    edit = reverse("reports:inspection_mission_edit", args=[mission.pk])

    def counts():
        ticked = list(DeAn.objects.filter(level="kcqg", status__in=["approved", "in_implementation"]))
        refused = _typed(["24"], ticked)  # the other provinces' đề án: refused, each named
        return (_queries(client, "get", world["url"]), _queries(client, "get", edit),
                _queries(client, "post", world["url"], refused),
                _queries(client, "post", world["url"], {**refused, "loc_de_an": "1"}),
                _queries(client, "post", edit, {**refused, "revision": mission.revision}))

    few = counts()
    for code in ("24", "01", "19", "24", "01", "19"):
        d = f.de_an(code)
        d.province = Province.objects.former().get(name="Bắc Giang") if code == "24" else d.province
        d.save(update_fields=["province"])
    assert counts() == few
