"""Data for inspection tests: national đề án written directly (fast), a plan with a mission, a record."""
import itertools
from datetime import date

from projects.models import DeAn
from reports import inspection_services as svc
from tests.khuyencong.factories import admin_user, centre_user, province_user, reviewer  # noqa: F401
from tests.projects.factories import current

_seq = itertools.count(1)


def de_an(province_code="24", *, status="in_implementation", year=2026, level="kcqg", name=None):
    province = current(province_code)
    n = next(_seq)
    return DeAn.objects.create(
        code=f"KC-T{year}-{province_code}-{n:04d}", name=name or f"Đề án hỗ trợ máy móc chế biến chè số {n}",
        level=level, plan_year=year, province=province, current_province=province, status=status,
        implementing_unit_name=f"Trung tâm Khuyến công {province.name}", total_amount=900_000_000,
        national_amount=300_000_000, counterpart_amount=600_000_000, approved_national_amount=300_000_000,
        start_date=date(year, 3, 1), end_date=date(year, 11, 30),
    )


LEAD = {"full_name": "Trần Thị Bình", "job_title": "Phó Cục trưởng", "unit": "Cục ĐMST, CĐX và KC", "role": "lead"}
MEMBER = {"full_name": "Lê Văn Cường", "job_title": "Chuyên viên", "unit": "Phòng Khuyến công", "role": "member"}


def plan(actor, year=2026):
    return svc.inspection_plan_create(actor=actor, year=year, title=f"Kế hoạch kiểm tra, giám sát năm {year}",
                                      decision_number="55/QĐ-ĐMST", decision_date=date(year, 1, 10))


def mission(actor, the_plan, de_an_list, provinces=("24",), **kwargs):
    values = dict(name="Đoàn kiểm tra số 1", provinces=[current(c) for c in provinces], members=[LEAD, MEMBER],
                  start_date=date(the_plan.year, 3, 2), end_date=date(the_plan.year, 3, 20),
                  legal_basis="Quyết định số 77/QĐ-ĐMST", contents_to_check="Tiến độ, thiết bị, kinh phí",
                  sites="Cơ sở thụ hưởng", de_an=list(de_an_list))
    values.update(kwargs)
    return svc.mission_create(actor=actor, plan=the_plan, **values)


def record(actor, the_de_an, the_mission=None, *, inspected_on=None, recommendations=None, **kwargs):
    values = dict(place="Xưởng chế biến chè, xã Tân Cương", conclusion="late", findings="Chậm lắp đặt máy sấy",
                  disbursed_amount=150_000_000)
    values.update(kwargs)
    if recommendations is None:
        recommendations = [{"text": "Hoàn thành lắp đặt máy sấy chè.", "deadline": date(2026, 6, 30)}]
    return svc.inspection_record_create(actor=actor, de_an=the_de_an, mission=the_mission,
                                        inspected_on=inspected_on or date(2026, 3, 10),
                                        recommendations=recommendations, **values)
