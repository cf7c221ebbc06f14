"""An account of a centre dissolved in the 2025 reorganisation (its province merged) that was not moved
yet: the đề án it creates are implemented by the unit that took the old centre over, not the old one."""
import pytest

from khuyencong.choices import Level, Role
from projects import services
from tests.khuyencong.factories import UserFactory, organisation

pytestmark = pytest.mark.django_db


def test_a_dissolved_centre_s_account_creates_for_its_successor():
    old = organisation("ttkc-cu-27")  # the centre of the former Bắc Ninh, dissolved 30/06/2025
    assert old.successor is not None and old.valid_to is not None
    user = UserFactory(role=Role.CENTRE, organisation=old)
    d = services.de_an_create(actor=user, name="Đề án đồ gỗ Đồng Kỵ", level=Level.NATIONAL, plan_year=2026)
    assert d.implementing_unit == organisation("ttkc-24") == old.successor
    assert d.current_province == old.successor.province
    # The name a dissolved centre of another former province had links nothing.
    other_old = organisation("ttkc-cu-24")
    assert other_old.successor == old.successor and other_old.name != old.successor.name
    d2 = services.de_an_create(actor=user, name="Đề án thứ hai", level=Level.NATIONAL, plan_year=2026,
                               implementing_unit_name=other_old.name)
    assert d2.implementing_unit is None and d2.implementing_unit_name == other_old.name


def test_a_centre_in_force_keeps_its_own_unit():
    unit = organisation("ttkc-24")
    user = UserFactory(role=Role.CENTRE, organisation=unit)
    d = services.de_an_create(actor=user, name="Đề án mây tre", level=Level.NATIONAL, plan_year=2026)
    assert d.implementing_unit == unit
