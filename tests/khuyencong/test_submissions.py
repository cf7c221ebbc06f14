"""One-time keys of create forms (khuyencong.submissions): a create form sent twice — a double click,
«Gửi lại» after a slow answer, the back button — makes its record once and leads to the first send's
result; a failed first send, another account's key, no key or a malformed one change nothing of the
normal behaviour; two copies sent at the same moment make one record (real PostgreSQL, two threads)."""
import re
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from khuyencong import submissions
from khuyencong.models import FormSubmission
from projects.models import Attachment, DeAn
from reports import inspection_services
from reports.models import InspectionAttachment, InspectionPlan, InspectionRecord, Mission
from tests.conftest import require_service
from tests.projects.factories import current, make_users, ready_de_an
from tests.projects.test_views import _form_data
from tests.reports import inspection_factories as f

KEY_INPUT = re.compile(r'<input type="hidden" name="submission_key" value="([0-9a-f]{32})">')
PDF = b"%PDF-1.4\n% test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def users(db):
    return make_users()


def _client(user):
    client = Client()
    client.force_login(user)
    return client


def _key_of(client, url):
    body = client.get(url).content.decode()
    found = KEY_INPUT.search(body)
    assert found, f"no one-time key in the form of {url}"
    return found.group(1)


def _messages(response):
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the đề án create form ------------------------------------------------------------------------

@pytest.mark.django_db
def test_de_an_form_sent_twice_makes_one_de_an_and_leads_to_it(users):
    client = _client(users.centre)
    key = _key_of(client, reverse("projects:create"))
    first = client.post(reverse("projects:create"), _form_data(submission_key=key))
    de_an = DeAn.objects.get(name="Đề án điểm ứng dụng máy sấy chè Tân Cương")
    assert first["Location"] == reverse("projects:detail", args=[de_an.pk])
    second = client.post(reverse("projects:create"), _form_data(submission_key=key), follow=True)
    assert second.redirect_chain[-1][0] == reverse("projects:detail", args=[de_an.pk])
    assert str(submissions.ALREADY_SUBMITTED_MESSAGE) in _messages(second)
    assert DeAn.objects.filter(name="Đề án điểm ứng dụng máy sấy chè Tân Cương").count() == 1
    # A fresh form (a new key) is a new đề án, as before.
    client.post(reverse("projects:create"), _form_data(submission_key=_key_of(client, reverse("projects:create"))))
    assert DeAn.objects.filter(name="Đề án điểm ứng dụng máy sấy chè Tân Cương").count() == 2


@pytest.mark.django_db
def test_a_refused_first_send_does_not_use_the_key(users):
    client = _client(users.centre)
    key = uuid.uuid4().hex
    refused = client.post(reverse("projects:create"), _form_data(submission_key=key, **{"ben-0-tax_code": "12345"}))
    assert refused.status_code == 400 and not FormSubmission.objects.exists()
    fixed = client.post(reverse("projects:create"), _form_data(submission_key=key))
    assert fixed.status_code == 302 and DeAn.objects.filter(name__startswith="Đề án điểm ứng dụng").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", [None, "", "không-phải-mã", "1' OR '1'='1"])
def test_without_a_usable_key_the_form_works_as_before(users, key):
    client = _client(users.centre)
    data = _form_data() if key is None else _form_data(submission_key=key)
    for _ in range(2):
        assert client.post(reverse("projects:create"), data).status_code == 302
    assert DeAn.objects.filter(name__startswith="Đề án điểm ứng dụng").count() == 2
    assert not FormSubmission.objects.exists()


@pytest.mark.django_db
def test_another_accounts_key_leads_nowhere(users):
    """A key seen by (or forged from) another account neither blocks this send nor redirects to the
    other account's đề án."""
    key = uuid.uuid4().hex
    _client(users.centre).post(reverse("projects:create"), _form_data(submission_key=key))
    theirs = DeAn.objects.get()
    other_establishments = {"ben-0-tax_code": "4600999001", "ben-1-tax_code": "019190099001"}
    response = _client(users.centre_other).post(reverse("projects:create"),
                                                _form_data(submission_key=key, **other_establishments))
    assert response.status_code == 302, response.content.decode()[:2000]
    mine = DeAn.objects.exclude(pk=theirs.pk).get()
    assert response["Location"] == reverse("projects:detail", args=[mine.pk])
    assert mine.current_province == current("19")


# --- the other create forms and uploads ------------------------------------------------------------

@pytest.mark.django_db
def test_inspection_plan_mission_and_record_forms_sent_twice_make_one(users):
    client = _client(users.reviewer)
    url = reverse("reports:inspection_plan_create")
    data = {"year": 2027, "title": "Kế hoạch kiểm tra năm 2027", "decision_number": "12/QĐ-BCT",
            "decision_date": "01/11/2026", "submission_key": _key_of(client, url)}
    first, second = client.post(url, data), client.post(url, data)
    plan = InspectionPlan.objects.get(year=2027)
    assert first["Location"] == second["Location"] == reverse("reports:inspection_plan", args=[plan.pk])

    d = f.de_an("24")
    url = reverse("reports:inspection_mission_create", args=[plan.pk])
    data = {"name": "Đoàn số 2", "provinces": [current("24").pk], "start_date": "01/04/2027", "end_date": "05/04/2027",
            "de_an": [d.pk], "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0,
            "members-0-full_name": "Ngô Văn Đức", "members-0-role": "lead", "submission_key": _key_of(client, url)}
    first, second = client.post(url, data), client.post(url, data)
    mission = Mission.objects.get(name="Đoàn số 2")
    assert first["Location"] == second["Location"] == reverse("reports:inspection_mission", args=[mission.pk])

    old_plan = f.plan(users.reviewer)
    old_mission = f.mission(users.reviewer, old_plan, [d])
    url = reverse("reports:inspection_record_create") + f"?mission={old_mission.pk}"
    data = {"de_an": d.pk, "inspected_on": "15/03/2026", "place": "Cơ sở chè", "conclusion": "on_schedule",
            "recs-TOTAL_FORMS": 0, "recs-INITIAL_FORMS": 0, "submission_key": _key_of(client, url)}
    first, second = client.post(url, data), client.post(url, data)
    record = InspectionRecord.objects.get(de_an=d)
    assert first["Location"] == second["Location"] == reverse("reports:inspection_record", args=[record.pk])


@pytest.mark.django_db
def test_uploads_sent_twice_are_stored_once(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    client = _client(users.centre)
    de_an = ready_de_an(users.centre)
    detail = reverse("projects:detail", args=[de_an.pk])
    key = _key_of(client, detail)
    for _ in range(2):
        client.post(reverse("projects:attachment_upload", args=[de_an.pk]),
                    {"kind": "quotation", "description": "Báo giá", "submission_key": key,
                     "file": SimpleUploadedFile("bao-gia.pdf", PDF, "application/pdf")})
    assert Attachment.objects.filter(de_an=de_an).count() == 1

    reviewer = _client(users.reviewer)
    d = f.de_an("24")
    record = f.record(users.reviewer, d, f.mission(users.reviewer, f.plan(users.reviewer), [d]))
    page = reverse("reports:inspection_record", args=[record.pk])
    key = _key_of(reviewer, page)
    for _ in range(2):
        response = reviewer.post(reverse("reports:inspection_attachment_add", args=[record.pk]),
                                 {"description": "Ảnh hiện trường", "submission_key": key,
                                  "file": SimpleUploadedFile("bien-ban.pdf", PDF, "application/pdf")}, follow=True)
    assert InspectionAttachment.objects.filter(record=record).count() == 1
    assert str(submissions.ALREADY_SUBMITTED_MESSAGE) in _messages(response)


# --- two copies at the same moment, and the sweep --------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_copies_sent_at_the_same_moment_make_one_plan(monkeypatch):
    """Both copies pass the form; the second INSERT of the key waits for the first transaction (held
    open by a slow create) and then fails on the unique index: one plan, both people sent to it."""
    require_service("PostgreSQL", connection.vendor == "postgresql",
                    "set DATABASE_URL=postgres://… (SQLite serialises whole transactions)")
    reviewer = f.reviewer()
    real = inspection_services.inspection_plan_create

    def slow_create(**kwargs):
        plan = real(**kwargs)
        time.sleep(0.5)  # the other copy arrives while this transaction is open
        return plan

    monkeypatch.setattr(inspection_services, "inspection_plan_create", slow_create)
    data = {"year": 2027, "title": "Kế hoạch kiểm tra năm 2027", "decision_number": "13/QĐ-BCT",
            "decision_date": "01/11/2026", "submission_key": uuid.uuid4().hex}
    results = []

    def send():
        try:
            results.append(_client(reviewer).post(reverse("reports:inspection_plan_create"), data))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.1)
    for t in threads:
        t.join(30)
    plan = InspectionPlan.objects.get(year=2027)
    assert [r.status_code for r in results] == [302, 302]
    assert {r["Location"] for r in results} == {reverse("reports:inspection_plan", args=[plan.pk])}
    assert FormSubmission.objects.count() == 1


@pytest.mark.django_db
def test_sweep_forgets_old_keys_only(users, settings):
    settings.SUBMISSION_KEEP_DAYS = 2
    old = FormSubmission.objects.create(key=uuid.uuid4(), user=users.centre, url="/de-an/1/")
    FormSubmission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    recent = FormSubmission.objects.create(key=uuid.uuid4(), user=users.centre, url="/de-an/2/")
    assert submissions.sweep() == 1
    assert list(FormSubmission.objects.values_list("pk", flat=True)) == [recent.pk]
