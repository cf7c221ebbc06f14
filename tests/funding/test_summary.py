from datetime import date

import pytest

from funding.selectors import MEASURES, SOURCES, funding_summary
from funding.services import ImportFailed, commitment_reserve, disbursement_record
from khuyencong.models import Province, User
from tests.funding.factories import AllocationFactory, make_de_an, settle

pytestmark = pytest.mark.django_db


def test_summary_lines_add_up_to_the_totals_to_the_dong(admin_user):
    hanoi = Province.objects.current().get(code="01")
    bac_ninh = Province.objects.current().get(code="24")
    AllocationFactory(year=2026, province=hanoi, amount=1_000_000_001)
    AllocationFactory(year=2026, province=bac_ninh, amount=777_777_777)
    AllocationFactory(year=2026, level="kcdp", province=bac_ninh, amount=5)
    d1 = make_de_an(province=hanoi, approved_national_amount=600_000_001)
    d2 = make_de_an(province=Province.objects.former().get(code="27"), approved_national_amount=333)
    commitment_reserve(de_an=d1, amount=600_000_001)
    commitment_reserve(de_an=d2, amount=333)
    disbursement_record(actor=admin_user, de_an=d1, kind="advance", amount="100.000.000", date=date(2026, 3, 1),
                        document_number="12/UNC")
    disbursement_record(actor=admin_user, de_an=d1, kind="payment", amount=1, date=date(2026, 6, 1), document_number="13/UNC")
    settle(d2, amount=300, day=date(2026, 11, 20), document="1/QT", actor=admin_user)
    summary = funding_summary(user=admin_user, year=2026)
    assert [line.province.code for line in summary.lines] == ["01", "24"]
    for source in SOURCES:
        for measure in MEASURES:
            assert summary.totals.figures[source][measure] == sum(line.figures[source][measure] for line in summary.lines)
    first, second = summary.lines
    assert first.figures["national"] == {"allocated": 1_000_000_001, "committed": 600_000_001, "disbursed": 100_000_001, "settled": 0}
    # Settled at 300 of 333 approved: the commitment keeps 300, the 33 left go back to the allocation.
    assert second.figures["national"] == {"allocated": 777_777_777, "committed": 300, "disbursed": 0, "settled": 300}
    assert second.figures["local"]["allocated"] == 5


def test_disbursements_cannot_exceed_the_approved_amount(admin_user):
    hanoi = Province.objects.current().get(code="01")
    de_an = make_de_an(province=hanoi, approved_national_amount=100)
    disbursement_record(actor=admin_user, de_an=de_an, kind="advance", amount=60, date=date(2026, 3, 1), document_number="1")
    with pytest.raises(ImportFailed) as err:
        disbursement_record(actor=admin_user, de_an=de_an, kind="payment", amount=41, date=date(2026, 4, 1), document_number="2")
    assert "vượt kinh phí được duyệt" in str(err.value)


def test_local_users_see_only_their_province(admin_user):
    from khuyencong.models import Organisation

    hanoi = Province.objects.current().get(code="01")
    AllocationFactory(year=2026, province=hanoi, amount=10)
    AllocationFactory(year=2026, province=Province.objects.current().get(code="24"), amount=20)
    org = Organisation.objects.create(code="so-ct-hn-test", kind="department", province=hanoi, name="Sở Công Thương Hà Nội")
    user = User.objects.create_user(username="hn", password="x" * 20, role="province", organisation=org)
    summary = funding_summary(user=user, year=2026)
    assert [line.province.code for line in summary.lines] == ["01"] and summary.totals.figures["national"]["allocated"] == 10


def test_national_summary_lists_every_current_province_once_the_year_has_money(admin_user):
    hanoi = Province.objects.current().get(code="01")
    AllocationFactory(year=2026, province=hanoi, amount=7)
    summary = funding_summary(user=admin_user, year=2026, every_province=True)
    codes = [line.province.code for line in summary.lines]
    assert codes == sorted(Province.objects.current().values_list("code", flat=True)) and len(codes) == 34
    assert summary.empty_count == 33 and not summary.lines[0].is_empty
    assert summary.totals.figures["national"]["allocated"] == 7
    # Former provinces never get a line of their own: their money is in their successor's.
    assert all(line.province.era == "current" for line in summary.lines)
    # A year with no money at all still has no lines (the page says so instead of 34 rows of zeros).
    assert funding_summary(user=admin_user, year=2027, every_province=True).lines == []


def test_every_province_is_still_scoped_to_the_user(admin_user):
    from khuyencong.models import Organisation

    bac_ninh = Province.objects.current().get(code="24")
    AllocationFactory(year=2026, province=Province.objects.current().get(code="01"), amount=10)
    org = Organisation.objects.create(code="so-ct-bn-test", kind="department", province=bac_ninh, name="Sở Công Thương Bắc Ninh")
    user = User.objects.create_user(username="bn", password="x" * 20, role="province", organisation=org)
    # Bắc Ninh has nothing this year and Hà Nội's money is not theirs to see: no lines at all.
    assert funding_summary(user=user, year=2026, every_province=True).lines == []
    AllocationFactory(year=2026, province=bac_ninh, amount=3)
    summary = funding_summary(user=user, year=2026, every_province=True)
    assert [line.province.code for line in summary.lines] == ["24"] and summary.empty_count == 0
