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


def test_demo_dates_follow_the_workflow(users, settings, tmp_path):
    """Each demo đề án's steps are dated in the order they were taken, and no decision, acceptance or
    settlement precedes the submission or the approval decision it follows."""
    from datetime import timedelta

    from django.utils import timezone

    settings.MEDIA_ROOT = str(tmp_path)
    made = load_demo({"centre": users.centre, "province": users.province, "reviewer": users.reviewer,
                      "admin": users.admin, "centre_other": users.centre_other,
                      "province_other": users.province_other})
    for d in (DeAn.objects.get(pk=x.pk) for x in made):
        steps = list(Transition.objects.filter(de_an=d).order_by("id").values_list("action", "at", "decision_date"))
        assert [at for _a, at, _d in steps] == sorted(at for _a, at, _d in steps), d.source_ref
        assert d.created_at <= steps[0][1] + timedelta(seconds=1), d.source_ref
        submitted = [timezone.localdate(at) for action, at, _d in steps if action == "submit"]
        floor = max(submitted, default=None)
        for day in (d.decision_date, d.local_decision_date):
            assert day is None or floor is None or day >= floor, d.source_ref
        approval = max((x for x in (d.decision_date, d.local_decision_date) if x), default=None)
        for day in (d.accepted_on, d.settled_on):
            assert day is None or (approval is not None and day >= approval), d.source_ref
        for _action, at, day in steps:  # a decision is recorded on or after its date
            assert day is None or day <= timezone.localdate(at), d.source_ref
