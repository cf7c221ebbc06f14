import pytest

from projects import selectors
from projects.demo import load_demo
from projects.models import DeAn, Status, Transition

pytestmark = pytest.mark.django_db


def test_demo_data_is_realistic_and_idempotent(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    accounts = {"centre": users.centre, "province": users.province, "reviewer": users.reviewer, "admin": users.admin,
                "centre_other": users.centre_other, "province_other": users.province_other}
    made = load_demo(accounts)
    fresh = [DeAn.objects.get(pk=d.pk) for d in made]
    statuses = {d.source_ref.removeprefix("demo:"): d.status for d in fresh}
    assert statuses == {
        "draft-pilot": Status.DRAFT, "submitted": Status.SUBMITTED, "returned": Status.RETURNED,
        "appraisal": Status.UNDER_APPRAISAL, "implementation": Status.IN_IMPLEMENTATION,
        "local-approved": Status.APPROVED, "settled-2024": Status.SETTLED, "thai-nguyen": Status.SUBMITTED,
    }
    count, transitions = DeAn.objects.count(), Transition.objects.count()
    load_demo(accounts)
    assert (DeAn.objects.count(), Transition.objects.count()) == (count, transitions)
    assert selectors.de_an_list(user=users.centre_other).count() == 1
    assert selectors.de_an_list(user=users.centre, filters={"q": "gom tho ha"}).count() >= 1
    assert selectors.queue_for(users.province).count() == 1
