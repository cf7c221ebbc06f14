"""«I.1 Đoàn kiểm tra» of a biên bản names the team once: the mission's members while the record's team
text is the one pre-filled from them (or empty), the typed text when somebody changed it."""
import re

import pytest
from django.utils import timezone

from reports import inspection_services as svc
from reports import services
from reports.models import InspectionRecord, MissionMember, ReportJob
from tests.reports.factories import build_year

pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("ignore")]


def team_section(record):
    job = ReportJob(kind="record", year=2025, target_id=record.pk, issued_on=timezone.localdate())
    html = services.report_html(job)
    return html[html.index("1. Đoàn kiểm tra:"):html.index("2. Đơn vị được kiểm tra:")]


@pytest.fixture
def record():
    build_year(year=2025, n_de_an=4, n_records=1)
    return InspectionRecord.objects.select_related("mission").get()


def test_the_pre_filled_team_prints_the_members_once(record):
    InspectionRecord.objects.filter(pk=record.pk).update(team=svc.mission_team_text(record.mission))
    section = team_section(record)
    assert section.count("Trần Thị Bình") == 1 and section.count("Lê Văn Cường") == 1
    assert "- Trần Thị Bình, Phó Cục trưởng, Cục ĐMST, CĐX và KC – Trưởng đoàn</p>" in section
    # An empty team text prints the members as well.
    InspectionRecord.objects.filter(pk=record.pk).update(team="")
    assert team_section(record) == section


def test_a_team_typed_by_hand_is_printed_instead_of_the_members(record):
    InspectionRecord.objects.filter(pk=record.pk).update(team="Trần Thị Bình, Trưởng đoàn\nNguyễn Văn An, khách mời")
    section = team_section(record)
    assert section.count("Trần Thị Bình") == 1 and "Lê Văn Cường" not in section
    assert "Trần Thị Bình, Trưởng đoàn<br>Nguyễn Văn An, khách mời" in section


def test_no_members_and_no_text_leaves_a_line_to_complete_by_hand(record):
    MissionMember.objects.filter(mission=record.mission).delete()
    InspectionRecord.objects.filter(pk=record.pk).update(team="")
    assert re.search(r'<p class="noindent"><span class="fill-line"></span></p>', team_section(record))
