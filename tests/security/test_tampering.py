"""Forged requests that must change nothing: redirects taking user input, extra POST fields (mass
assignment), replayed and wrongly-sent workflow actions, inactive and anonymous users on downloads."""
import pytest
from django.urls import reverse

from projects import services
from projects.models import DeAn, Transition
from tests.projects.factories import advance, content, current, pdf_file, ready_de_an

pytestmark = pytest.mark.django_db

EVIL = ["https://ke-gian.example/", "//ke-gian.example/", "/\\ke-gian.example/", "\\\\ke-gian.example",
        "javascript:alert(1)", "/\t/ke-gian.example"]


def _leaves_the_site(location):
    from urllib.parse import urlsplit

    # What a browser does with the Location header: backslashes count as slashes, tabs are dropped.
    normalised = location.replace("\\", "/").replace("\t", "")
    parts = urlsplit(normalised)
    return bool(parts.netloc) or parts.scheme not in ("", "http", "https") or normalised.startswith("//")


@pytest.mark.parametrize("target", EVIL)
def test_login_next_stays_on_the_site(client, users, target):
    users.centre.set_password("Mat-khau-thu-2026")
    users.centre.save()
    response = client.post(reverse("login") + "?next=" + target,
                           {"username": users.centre.username, "password": "Mat-khau-thu-2026", "next": target})
    assert response.status_code == 302
    assert not _leaves_the_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_logout_and_language_next_stay_on_the_site(client, users, target):
    client.force_login(users.centre)
    response = client.post(reverse("set_language"), {"language": "vi", "next": target})
    assert not _leaves_the_site(response["Location"]), response["Location"]
    response = client.post(reverse("logout"), {"next": target})
    assert response.status_code == 302
    assert not _leaves_the_site(response["Location"]), response["Location"]


@pytest.mark.parametrize("target", EVIL)
def test_bulk_approve_next_stays_on_the_site(client, users, target):
    client.force_login(users.reviewer)
    # Refused (nothing ticked): the queue comes back (400) and its form goes back to the queue, not to
    # the forged target.
    response = client.post(reverse("projects:bulk_approve"), {"next": target})
    assert response.status_code == 400 and "Location" not in response
    page = response.content.decode()
    assert f'name="next" value="{reverse("projects:queue")}"' in page
    # Approved: the redirect stays on the site.
    d = advance(ready_de_an(users.centre), "under_appraisal", users)
    from tests.projects.factories import allocate

    allocate(d)
    response = client.post(reverse("projects:bulk_approve"), {
        "next": target, "ids": [str(d.pk)], "decision_number": "77/QĐ-BCT", "decision_date": "15/01/2026"})
    assert response.status_code == 302
    assert not _leaves_the_site(response["Location"]), response["Location"]
    assert DeAn.objects.get(pk=d.pk).status == "approved"


def test_provincial_user_cannot_choose_the_province_or_status_of_a_new_de_an(client, users):
    client.force_login(users.centre)
    page = client.get(reverse("projects:create")).content.decode()
    assert 'name="province"' not in page
    other = current("19")
    response = client.post(reverse("projects:create"), {
        "name": "Đề án thử gán tỉnh khác", "level": "kcqg", "kind": "thuong", "plan_year": "2026",
        "contents": [str(content("1.2").pk)], "province": str(other.pk), "current_province": str(other.pk),
        "status": "approved", "created_by": str(users.reviewer.pk), "approved_national_amount": "9000000000",
        "ben-TOTAL_FORMS": "0", "ben-INITIAL_FORMS": "0", "line-TOTAL_FORMS": "0", "line-INITIAL_FORMS": "0",
    })
    assert response.status_code == 302
    de_an = DeAn.objects.get(name="Đề án thử gán tỉnh khác")
    assert (de_an.province, de_an.current_province, de_an.status, de_an.created_by, de_an.approved_national_amount) == (
        current("24"), current("24"), "draft", users.centre, None)


def test_edit_ignores_forged_status_province_and_amounts(client, users):
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    page = client.get(reverse("projects:edit", args=[de_an.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data["contents"] = [str(c.pk) for c in data["contents"]]
    data.update({"revision": str(de_an.revision), "name": "Tên mới", "status": "approved",
                 "province": str(current("19").pk), "current_province": str(current("19").pk), "level": "kcdp",
                 "approved_national_amount": "9000000000", "decision_number": "1/QĐ-BCT",
                 "ben-TOTAL_FORMS": "0", "ben-INITIAL_FORMS": "0", "line-TOTAL_FORMS": "0", "line-INITIAL_FORMS": "0"})
    data = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items()}
    response = client.post(reverse("projects:edit", args=[de_an.pk]), data)
    assert response.status_code in (302, 400)
    de_an.refresh_from_db()
    assert (de_an.status, de_an.current_province, de_an.level, de_an.approved_national_amount, de_an.decision_number) == (
        "draft", current("24"), "kcqg", None, "")


def test_a_replayed_transition_is_refused_and_writes_nothing(client, users):
    de_an = advance(ready_de_an(users.centre), "under_appraisal", users)
    from tests.projects.factories import allocate

    allocate(de_an)
    client.force_login(users.reviewer)
    data = {"action": "approve", "decision_number": "12/QĐ-BCT", "decision_date": "2026-01-15", "amount": "400.000.000"}
    first = client.post(reverse("projects:transition", args=[de_an.pk]), data)
    assert first.status_code == 302
    count = Transition.objects.filter(de_an=de_an).count()
    replay = client.post(reverse("projects:transition", args=[de_an.pk]), {**data, "amount": "999.000.000"})
    assert replay.status_code in (302, 400)
    de_an.refresh_from_db()
    assert de_an.status == "approved" and de_an.approved_national_amount == 400_000_000
    assert Transition.objects.filter(de_an=de_an).count() == count


@pytest.mark.parametrize("method", ["get", "head", "put", "delete"])
def test_transition_is_post_only(client, users, method):
    """Only a POST takes a step. A GET (the address of a refused step opened again) leads back to the
    đề án, whatever its query string asks; other methods are refused."""
    de_an = ready_de_an(users.centre)
    client.force_login(users.centre)
    response = getattr(client, method)(reverse("projects:transition", args=[de_an.pk]) + "?action=cancel&comment=x")
    if method == "get":
        assert response.status_code == 302 and response["Location"] == reverse("projects:detail", args=[de_an.pk])
    else:
        assert response.status_code == 405
    de_an.refresh_from_db()
    assert de_an.status == "draft"


def test_centre_cannot_take_the_provinces_or_the_ministrys_actions(client, users):
    de_an = ready_de_an(users.centre)
    services.de_an_submit(actor=users.centre, de_an=de_an)
    client.force_login(users.centre)
    for action in ("forward", "return", "approve", "approve_local", "cancel"):
        client.post(reverse("projects:transition", args=[de_an.pk]),
                    {"action": action, "comment": "thử", "decision_number": "1/QĐ", "decision_date": "2026-01-01"})
        de_an.refresh_from_db()
        assert de_an.status == "submitted", action


@pytest.mark.parametrize("name", ["projects:export", "projects:attachment_download", "funding:export_allocations",
                                  "funding:export_commitments"])
def test_inactive_and_anonymous_users_get_no_file(client, users, name):
    de_an = ready_de_an(users.centre)
    attachment = services.attachment_add(actor=users.centre, de_an=de_an, file=pdf_file())
    url = reverse(name, args=[attachment.pk]) if name == "projects:attachment_download" else reverse(name)
    assert client.get(url).status_code == 302  # anonymous → login
    client.force_login(users.province)
    users.province.is_active = False
    users.province.save()
    response = client.get(url)
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_other_provinces_attachment_is_404_not_403(client, users):
    de_an = ready_de_an(users.centre_other, province=current("19"))
    attachment = services.attachment_add(actor=users.centre_other, de_an=de_an, file=pdf_file())
    client.force_login(users.centre)
    assert client.get(reverse("projects:attachment_download", args=[attachment.pk])).status_code == 404
    assert client.post(reverse("projects:attachment_delete", args=[attachment.pk])).status_code == 404
    assert client.get(reverse("funding:de_an_money", args=[de_an.pk])).status_code == 404
    assert client.get(reverse("dashboards:outputs") + f"?de_an={de_an.pk}").status_code == 404
    assert attachment.__class__.objects.filter(pk=attachment.pk).exists()


def test_reviewer_cannot_edit_or_delete_a_provinces_attachment(client, users):
    de_an = ready_de_an(users.centre)
    attachment = services.attachment_add(actor=users.centre, de_an=de_an, file=pdf_file())
    client.force_login(users.reviewer)
    client.post(reverse("projects:attachment_delete", args=[attachment.pk]))
    assert attachment.__class__.objects.filter(pk=attachment.pk).exists()
    assert client.get(reverse("projects:edit", args=[de_an.pk])).status_code == 403
