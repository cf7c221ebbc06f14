"""A mission stays editable when a đề án it holds (visited or not yet) was cancelled or stopped since:
only đề án added by the edit must still be inspectable."""

import pytest

from projects.models import DeAn
from reports import inspection_services as svc
from tests.projects.factories import current
from tests.reports import inspection_factories as f
from tests.reports.test_inspection_services import _refused

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {"reviewer": f.reviewer()}


@pytest.fixture
def world(people):
    visited, planned = f.de_an("24"), f.de_an("24", status="approved")
    plan = f.plan(people["reviewer"])
    mission = f.mission(people["reviewer"], plan, [visited, planned], provinces=("24",))
    f.record(people["reviewer"], visited, mission)
    # Since then: the visited đề án was stopped (cancelled), the other one too.
    DeAn.objects.filter(pk__in=[visited.pk, planned.pk]).update(status="cancelled")
    return {"mission": mission, "visited": visited, "planned": planned}


def _update(people, mission, de_an, provinces=("24",), name="Đoàn số 1 (sửa)"):
    return svc.mission_update(actor=people["reviewer"], mission=mission, revision=mission.revision, name=name,
                              provinces=[current(c) for c in provinces], members=[f.LEAD], de_an=de_an,
                              start_date=mission.start_date, end_date=mission.end_date)


def test_mission_with_a_cancelled_visited_de_an_can_still_be_edited(people, world):
    m = _update(people, world["mission"], [world["visited"], world["planned"]])
    m.refresh_from_db()
    assert m.name == "Đoàn số 1 (sửa)"
    assert set(m.de_an.all()) == {world["visited"], world["planned"]}


def test_a_cancelled_de_an_not_yet_in_the_mission_cannot_be_added(people, world):
    newcomer = f.de_an("24", status="approved")
    DeAn.objects.filter(pk=newcomer.pk).update(status="cancelled")
    msg = _refused(lambda: _update(people, world["mission"], [world["visited"], newcomer]), words="không thuộc phạm vi")
    assert newcomer.code in msg and world["visited"].code not in msg


def test_an_inspectable_de_an_can_be_added_beside_cancelled_ones(people, world):
    newcomer = f.de_an("24", status="approved")
    m = _update(people, world["mission"], [world["visited"], world["planned"], newcomer])
    assert set(m.de_an.all()) == {world["visited"], world["planned"], newcomer}


def test_a_kept_de_an_must_still_be_in_the_missions_provinces(people, world):
    msg = _refused(lambda: _update(people, world["mission"], [world["visited"]], provinces=("19",)),
                   words="không thuộc phạm vi")
    assert world["visited"].code in msg


