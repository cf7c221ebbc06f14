from datetime import date

import pytest
from django.db.models import Count

from khuyencong.choices import Era
from projects.models import CodeSequence, DeAn, Status, Transition
from projects.scale import seed_scale, seeded_count
from projects.services import search_text_for

pytestmark = pytest.mark.django_db


def test_seed_scale_is_realistic_idempotent_and_resettable():
    assert seed_scale(800) == 800
    assert seed_scale(800) == 0 and seeded_count() == 800
    qs = DeAn.objects.all()
    assert set(qs.values_list("status", flat=True)) == set(Status.values)
    assert set(qs.values_list("plan_year", flat=True)) == set(range(2017, 2027))
    assert set(qs.values_list("level", flat=True)) == {"kcqg", "kcdp"}
    assert set(qs.values_list("kind", flat=True)) == {"diem", "nhom", "thuong"}
    # The map in force on the dates: former provinces before 01/07/2025, current after.
    assert not qs.filter(start_date__lt=date(2025, 7, 1), province__era=Era.CURRENT).exists()
    assert not qs.filter(start_date__gte=date(2025, 7, 1), province__era=Era.FORMER).exists()
    assert qs.values("province__era").distinct().count() == 2
    assert qs.values("code").distinct().count() == 800
    # Every đề án has lines adding up, a transition path ending in its status.
    d = qs.filter(status=Status.SETTLED).first()
    assert sum(d.budget_lines.values_list("amount", flat=True)) == d.total_amount
    last = Transition.objects.filter(de_an=d).order_by("at", "id").last()
    assert last.to_status == Status.SETTLED and last.action == "settle"
    assert qs.annotate(n=Count("beneficiaries")).filter(n=0).count() == 0
    # The search text is the one the services write (fields apart, the same order).
    for d in qs.select_related("implementing_unit", "province", "current_province").order_by("?")[:40]:
        names = list(d.beneficiaries.values_list("establishment__name", flat=True))
        assert d.search_text == search_text_for(d, names), d.code
    # The code sequence continues after the seeded codes.
    seq = CodeSequence.objects.get(prefix=d.code.rsplit("-", 1)[0])
    assert seq.last >= int(d.code.rsplit("-", 1)[1])
    assert seed_scale(300, reset=True) == 300 and seeded_count() == 300
