"""Permission matrix: EVERY URL pattern of the project × every role × own and other province.

The test walks ``get_resolver().url_patterns`` recursively, so URLs that any app adds later are
covered automatically. Path parameters are filled from ``KWARG_FACTORIES``: a URL kwarg the registry
does not know makes the test FAIL, naming the URL, so a new URL must be registered here (with an
object of the user's own province and one of another province, or marked ministry-only).

For each URL it sends a GET and a POST (with forged form data pointing at the other province's
objects) and checks:

* anonymous: redirected to a login page (or 405), and nothing in the database changed;
* centre and province staff of province 24 (Bắc Ninh), for objects of province 19 (Thái Nguyên) or
  ministry-only objects: 403/404 (405 for the wrong method), and the other province's data unchanged;
* for every URL and local role: no response shows the other province's đề án, beneficiary,
  attachment or notification, whatever the forged query string or form data;
* nobody gets a server error.
"""
from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from funding.models import ImportBatch
from khuyencong.models import Province
from projects import services
from projects.models import Attachment, Comment, DeAn, Notification, Transition
from reports.models import ReportJob
from tests.projects.factories import EstablishmentFactory, current, make_users, pdf_file, ready_de_an

pytestmark = pytest.mark.django_db

OWN, OTHER = "24", "19"

# URL names anyone may open without signing in.
PUBLIC = {"login", "health", "set_language", "logout", "password_reset", "password_reset_done",
          "password_reset_confirm", "password_reset_complete", "account_invitation_confirm",
          "account_invitation_complete"}

SECRET_NAME = "Đề án bí mật của tỉnh Thái Nguyên"
SECRET_BENEFICIARY = "Hợp tác xã Chè Bí Mật Tân Cương"
SECRET_FILE = "bao-gia-bi-mat-thai-nguyen.pdf"
SECRET_NOTE = "Thông báo riêng của Sở Công Thương Thái Nguyên"


@dataclass
class World:
    users: object
    own: dict
    other: dict


def _build_world(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}
    u = make_users()
    worlds = {}
    for code, actor, name in ((OWN, u.centre, "Đề án của tỉnh mình"), (OTHER, u.centre_other, SECRET_NAME)):
        province = current(code)
        de_an = ready_de_an(actor, name=name, province=province)
        if code == OTHER:
            est = EstablishmentFactory(name=SECRET_BENEFICIARY, province=province)
            services.beneficiary_add(actor=actor, de_an=de_an, establishment=est)
        attachment = services.attachment_add(actor=actor, de_an=de_an, file=pdf_file(SECRET_FILE if code == OTHER
                                                                                         else "tai-lieu.pdf"))
        services.comment_add(actor=actor, de_an=de_an, text="Ý kiến " + name)
        job = ReportJob.objects.create(kind="province", year=2026, province=province, request_key=f"matrix-{code}",
                                       status="failed", requested_by=actor)
        worlds[code] = {"province": province, "de_an": de_an, "attachment": attachment, "job": job,
                        "establishment": de_an.beneficiaries.first().establishment}
    Notification.objects.create(recipient=u.province_other, de_an=worlds[OTHER]["de_an"], verb="submit",
                                message=SECRET_NOTE)
    batch = ImportBatch.objects.create(original_name="phan-bo-2026.xlsx", sha256="0" * 64, created_by=u.admin,
                                       status="failed", error="Tệp thử của ma trận quyền")
    worlds[OWN]["import_batch"] = worlds[OTHER]["import_batch"] = batch
    return World(users=u, own=worlds[OWN], other=worlds[OTHER])


# --- the registry of URL kwargs -------------------------------------------------------------------
# key: "namespace:kwarg" (or "kwarg" for any namespace) → (function(side) → value, ministry_only)
# ``side`` is World.own or World.other. ministry_only: local roles are refused for both sides.

KWARG_FACTORIES = {
    "projects:pk": (lambda side: side["de_an"].pk, False),
    "projects:attachment_id": (lambda side: side["attachment"].pk, False),
    "projects:establishment_id": (lambda side: side["establishment"].pk, False),
    "reports:pk": (lambda side: side["job"].pk, False),
    "reports:plan_id": (lambda side: _inspection_plan().pk, True),
    "reports:mission_id": (lambda side: _inspection_mission().pk, True),
    "reports:record_id": (lambda side: _inspection_record(side).pk, False),
    "reports:recommendation_id": (lambda side: _inspection_record(side).recommendations.get().pk, False),
    "reports:attachment_id": (lambda side: _inspection_attachment(side).pk, False),
    "funding:code": (lambda side: side["province"].code, False),
    "funding:year": (lambda side: 2026, False),
    "funding:pk": (lambda side: side["import_batch"].pk, True),
    "funding:de_an_id": (lambda side: side["de_an"].pk, False),
    "dashboards:code": (lambda side: side["province"].code, False),
    "dashboards:key": (lambda side: _first_dashboard_block(), False),
    "dashboards:indicator_code": (lambda side: _first_indicator_code(), False),
    # «Quên mật khẩu»'s and the invitation's link: an account id with a token that is not valid, the same for both sides (the
    # page belongs to no province; a valid token is its account holder's own, and
    # tests/khuyencong/test_password_reset.py covers it).
    ":uidb64": (lambda side: urlsafe_base64_encode(force_bytes(1)), False),
    ":token": (lambda side: "khong-hop-le", False),
    # Django admin (administrators only; everybody else is sent to the admin login).
    "admin:app_label": (lambda side: "projects", True),
    "admin:object_id": (lambda side: str(side["de_an"].pk), True),
    "admin:id": (lambda side: side["de_an"].pk, True),
    "admin:content_type_id": (lambda side: 1, True),
    "admin:url": (lambda side: "khong-co", True),
}


def _inspection_plan():
    from reports.models import InspectionPlan

    return InspectionPlan.objects.get_or_create(year=2026, defaults={"title": "Kế hoạch kiểm tra của ma trận quyền"})[0]


def _inspection_mission():
    from reports.models import Mission

    return Mission.objects.get_or_create(plan=_inspection_plan(), name="Đoàn kiểm tra của ma trận quyền")[0]


def _inspection_record(side):
    """A biên bản (with one recommendation) of the side's đề án, made once and reused."""
    from reports.models import InspectionRecord, Recommendation

    record, created = InspectionRecord.objects.get_or_create(
        de_an=side["de_an"], defaults={"inspected_on": date(2026, 3, 10), "place": "Cơ sở thụ hưởng"})
    if created:
        Recommendation.objects.create(record=record, text="Kiến nghị của ma trận quyền", deadline=date(2026, 6, 30))
    return record


def _inspection_attachment(side):
    from django.core.files.base import ContentFile

    from reports.models import InspectionAttachment

    record = _inspection_record(side)
    found = InspectionAttachment.objects.filter(record=record).first()
    if found is None:
        found = InspectionAttachment(record=record, original_name="anh-kiem-tra.png", size=16, content_type="image/png")
        found.file.save("anh-kiem-tra.png", ContentFile(b"\x89PNG\r\n\x1a\n" + b"\x00" * 8), save=True)
    return found


def _first_dashboard_block():
    from dashboards.selectors import BLOCKS

    return next(iter(BLOCKS))


def _first_indicator_code():
    from khuyencong.models import Indicator

    return Indicator.objects.order_by("pk").values_list("code", flat=True).first() or "khong-co"


def walk(patterns, prefix="", namespace=None):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), namespace, p


def _route(pattern_text, pattern, namespace, side):
    """Fill the path parameters of ``pattern`` for ``side``; (path, ministry_only)."""
    from django.urls.resolvers import RegexPattern

    kwargs = list(pattern.pattern.converters) if hasattr(pattern.pattern, "converters") else []
    regex_names = list(pattern.pattern.regex.groupindex)
    names = kwargs or regex_names
    values, ministry_only = {}, False
    top = (namespace or "").split(":")[0]
    for name in names:
        entry = KWARG_FACTORIES.get(f"{top}:{name}") or KWARG_FACTORIES.get(name)
        if entry is None:
            pytest.fail(
                f"URL {pattern_text!r} (namespace {namespace!r}) has the path parameter {name!r} that the permission "
                f"matrix does not know: register '{top}:{name}' in KWARG_FACTORIES (tests/test_permission_matrix.py) "
                f"with objects of the user's own and of another province."
            )
        factory, ministry = entry
        values[name] = factory(side)
        ministry_only = ministry_only or ministry
    if isinstance(pattern.pattern, RegexPattern) or top == "admin":
        return _fill_regex(pattern_text, values), ministry_only
    path = "/" + pattern_text
    for name, value in values.items():
        import re

        path = re.sub(r"<(?:\w+:)?" + name + ">", str(value), path)
    return path, ministry_only


def _fill_regex(text, values):
    """Admin routes mix path() and re_path(): substitute named groups and strip regex syntax."""
    import re

    path = text
    for name, value in values.items():
        path = re.sub(r"<(?:\w+:)?" + name + ">", str(value), path)
        path = re.sub(r"\(\?P<" + name + r">[^)]*\)", str(value), path)
    path = path.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")
    return "/" + path


def _forged_data(w):
    other = w.other
    return {
        "ids": [other["de_an"].pk], "de_an": other["de_an"].pk, "de_an_id": other["de_an"].pk,
        "province": other["province"].pk, "current_province": other["province"].pk, "code": other["province"].code,
        "establishment": other["establishment"].pk, "attachment": other["attachment"].pk,
        "action": "submit", "comment": "thử", "text": "thử", "decision_number": "1/QĐ-BCT",
        "decision_date": "2026-01-15", "year": "2026", "kind": "province", "target_id": other["de_an"].pk,
        # Searched in lower case (the search folds case), so an echo of the search box is not taken
        # for a leak of the code itself.
        "q": other["de_an"].code.lower(),
    }


def _listing(model, columns, where="1 = 1"):
    """SQL for one text of ``columns`` of every row of ``model`` matching ``where``, in id order
    (string_agg on PostgreSQL, group_concat on SQLite): a fingerprint part in one subquery."""
    from django.db import connection

    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    row = " || ':' || ".join(f"COALESCE(CAST({quote(c)} AS TEXT), '')" for c in columns)
    if connection.vendor == "postgresql":
        return f"(SELECT string_agg({row}, ',' ORDER BY id) FROM {table} WHERE {where})"
    return f"(SELECT group_concat(r, ',') FROM (SELECT {row} AS r FROM {table} WHERE {where} ORDER BY id))"


def _other_fingerprint(w):
    """The other province's đề án (its state, transitions, comments, attachments, beneficiaries, budget
    lines), its Sở staff's notifications, its report jobs and every import batch — in one statement:
    the walk takes it after each request of a local role, and as nine ORM queries it was half the walk."""
    from django.db import connection

    from projects.models import BudgetLine, DeAnBeneficiary

    quote = connection.ops.quote_name
    de_an, recipient, province = w.other["de_an"].pk, w.users.province_other.pk, w.other["province"].pk
    parts = [
        (_listing(DeAn, ["status", "revision", "name", "total_amount", "updated_at"], "id = %s"), de_an),
        *((f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)} WHERE de_an_id = %s)", de_an)
          for m in (Transition, Comment, Attachment, DeAnBeneficiary, BudgetLine)),
        (_listing(Notification, ["id", "read_at"], "recipient_id = %s"), recipient),
        (_listing(ReportJob, ["id", "status"], "province_id = %s"), province),
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(sql for sql, _ in parts) + ", " + _listing(ImportBatch, ["id", "status"]),
                       [value for _, value in parts])
        return cursor.fetchone()


def _global_fingerprint():
    """How many rows every table of projects, funding and reports holds, every user's state and every
    đề án's status — in one statement (the walk takes it after each anonymous request)."""
    from django.apps import apps
    from django.db import connection

    models = [model for label in ("projects", "funding", "reports") for model in apps.get_app_config(label).get_models()]
    quote = connection.ops.quote_name
    parts = [f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models]
    parts.append(_listing(get_user_model(), ["id", "is_active", "role", "password"]))
    parts.append(_listing(DeAn, ["id", "status", "revision"]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts))
        return tuple(zip([m._meta.label for m in models] + ["users", "de_an"], cursor.fetchone(), strict=True))


class _Session:
    """Each request of the walk starts signed in as the role alone, with nothing else in its session.
    Signing in afresh for every request (``force_login``: a new session, the sign-in's own writes) cost
    ≈ 30 ms a request; the session is reused while it still holds exactly what the sign-in put there,
    and made again when a request changed it (signed out, rotated, stored something)."""

    def __init__(self, client):
        self.client, self.user, self.data = client, None, None

    def start(self, user):
        from django.conf import settings

        client = self.client
        if user is None:
            if settings.SESSION_COOKIE_NAME in client.cookies:
                client.logout()
            self.user = self.data = None
            return
        if user == self.user and dict(client.session.items()) == self.data:
            return
        client.logout()
        client.force_login(user)
        self.user, self.data = user, dict(client.session.items())


def _secrets(w):
    return [w.other["de_an"].code, SECRET_NAME, SECRET_BENEFICIARY, SECRET_FILE, SECRET_NOTE]


def _body(response):
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    text = content.decode("utf-8", errors="replace")
    if content[:2] == b"PK":  # an .xlsx export: look inside the sheets
        import io
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as z:
            text = " ".join(z.read(n).decode("utf-8", errors="replace") for n in z.namelist() if n.endswith(".xml"))
    return text


def _is_login_redirect(response):
    return response.status_code == 302 and ("/dang-nhap/" in response["Location"] or "/login/" in response["Location"])


ROLES = ("anonymous", "centre", "province", "reviewer", "admin")


# One case per role, so pytest-xdist spreads the walk over its workers.
@pytest.mark.parametrize("only_role", ROLES)
def test_every_url_every_role_own_and_other_province(client, tmp_path, settings, only_role):
    w = _build_world(tmp_path, settings)
    all_roles = {"anonymous": None, "centre": w.users.centre, "province": w.users.province,
                 "reviewer": w.users.reviewer, "admin": w.users.admin}
    roles = {only_role: all_roles[only_role]}
    routes = list(walk(get_resolver().url_patterns))
    assert len(routes) > 30
    names = {p.name for _t, _ns, p in routes}
    assert {"detail", "attachment_download", "job_download"} <= names
    failures = []
    forged = _forged_data(w)
    secrets = _secrets(w)
    checked = 0
    session = _Session(client)
    last_global = last_other = None
    for text, namespace, pattern in routes:
        top = (namespace or "").split(":")[0]
        own_path, _m = _route(text, pattern, namespace, w.own)
        other_path, _m = _route(text, pattern, namespace, w.other)
        for side_name, side in (("own", w.own), ("other", w.other)):
            path, ministry_only = _route(text, pattern, namespace, side)
            last_global = last_other = None  # the route's factories may have just written what it needs
            # Parameters that do not depend on the province (a table key, a year) make one pass only.
            has_kwargs = own_path != other_path
            if side_name == "own" and not has_kwargs:
                pass
            elif side_name == "other" and not has_kwargs:
                continue  # URLs without parameters: one pass, with forged data pointing at the other province
            for role, user in roles.items():
                if role == "admin" and top == "admin" and side_name == "other":
                    continue
                for method in ("get", "post"):
                    if role == "admin" and top == "admin" and method == "post":
                        continue  # the administrator may change anything in the admin; nothing to leak
                    session.start(user)
                    # The state after the previous request is the state before this one (nothing else
                    # writes in between), so each request costs one fingerprint, not two.
                    if role == "anonymous":
                        before_global = last_global or _global_fingerprint()
                    if role in ("centre", "province"):
                        before_other = last_other or _other_fingerprint(w)
                    try:
                        if method == "get":
                            response = client.get(path, forged if not has_kwargs else {"q": forged["q"]})
                        else:
                            response = client.post(path, forged)
                    except Exception as exc:  # noqa: BLE001 - report every broken URL, not just the first
                        failures.append(f"{role} {method.upper()} {path}: exception {exc!r}")
                        continue
                    checked += 1
                    where = f"{role} {method.upper()} {path} ({side_name})"
                    status = response.status_code
                    if status >= 500:
                        failures.append(f"{where}: server error {status}")
                        continue
                    if role == "anonymous":
                        if pattern.name not in PUBLIC and not _is_login_redirect(response) and status != 405:
                            failures.append(f"{where}: anonymous got {status}, expected a redirect to the login page")
                        last_global = _global_fingerprint()
                        if last_global != before_global:
                            failures.append(f"{where}: anonymous request changed the database")
                    if role in ("centre", "province"):
                        refused = status in (403, 404, 405) or (top == "admin" and _is_login_redirect(response))
                        if (side_name == "other" and has_kwargs or ministry_only) and not refused:
                            failures.append(f"{where}: local role got {status} for another province's / ministry object")
                        last_other = _other_fingerprint(w)
                        if last_other != before_other:
                            failures.append(f"{where}: changed another province's data")
                        body = _body(response)
                        leaked = [s for s in secrets if s in body]
                        if leaked:
                            failures.append(f"{where}: shows another province's data {leaked}")
    assert checked > 60
    assert not failures, "\n".join(failures)


def test_registry_fails_loudly_on_unknown_kwarg():
    """A URL with an unregistered path parameter must make the matrix fail, naming it."""
    from django.urls import path

    pattern = path("thu/<int:widget_id>/", lambda r, widget_id: None, name="widget")
    with pytest.raises(pytest.fail.Exception, match="widget_id"):
        _route("thu/<int:widget_id>/", pattern, "newapp", {})


def test_forged_ids_point_at_real_other_province_objects(tmp_path, settings):
    """Guard the matrix itself: the 'other' objects really are outside the local users' scope."""
    from khuyencong import access

    w = _build_world(tmp_path, settings)
    assert not access.visible_de_an(w.users.centre).filter(pk=w.other["de_an"].pk).exists()
    assert access.visible_de_an(w.users.centre).filter(pk=w.own["de_an"].pk).exists()
    assert w.other["province"] != w.own["province"]
    assert Province.objects.filter(pk=w.other["province"].pk, era="current").exists()
    assert date(2026, 1, 1).year == 2026


def test_other_fingerprint_sees_each_kind_of_change(tmp_path, settings):
    """Guard the matrix itself: each write the walk looks for changes the other province's fingerprint,
    and a write to the user's own province does not."""
    from django.utils import timezone

    w = _build_world(tmp_path, settings)
    other = w.other["de_an"]
    changes = [
        lambda: DeAn.objects.filter(pk=other.pk).update(status="approved"),
        lambda: DeAn.objects.filter(pk=other.pk).update(revision=other.revision + 7),
        lambda: DeAn.objects.filter(pk=other.pk).update(name="Đổi tên"),
        lambda: DeAn.objects.filter(pk=other.pk).update(total_amount=1),
        lambda: services.comment_add(actor=w.users.centre_other, de_an=other, text="Thêm ý kiến"),
        lambda: Attachment.objects.filter(de_an=other).delete(),
        lambda: other.budget_lines.all().delete(),
        lambda: other.beneficiaries.all().delete(),
        lambda: Transition.objects.create(de_an=other, action="submit", from_status="draft", to_status="submitted",
                                          actor=w.users.centre_other),
        lambda: Notification.objects.filter(recipient=w.users.province_other).update(read_at=timezone.now()),
        lambda: ReportJob.objects.filter(pk=w.other["job"].pk).update(status="running"),
        lambda: ImportBatch.objects.update(status="applied"),
    ]
    unchanged = _other_fingerprint(w)
    services.comment_add(actor=w.users.centre, de_an=w.own["de_an"], text="Ý kiến ở tỉnh mình")
    assert _other_fingerprint(w) == unchanged
    for number, change in enumerate(changes):
        before = _other_fingerprint(w)
        change()
        assert _other_fingerprint(w) != before, f"change {number} not seen"


def test_global_fingerprint_sees_each_kind_of_change(tmp_path, settings):
    """Guard the matrix itself: what an anonymous request must never change shows in the fingerprint."""
    w = _build_world(tmp_path, settings)
    user = w.users.centre
    de_an = w.own["de_an"]
    changes = [
        lambda: get_user_model().objects.filter(pk=user.pk).update(is_active=False),
        lambda: get_user_model().objects.filter(pk=user.pk).update(password="x"),
        lambda: get_user_model().objects.filter(pk=user.pk).update(role="admin"),
        lambda: DeAn.objects.filter(pk=de_an.pk).update(status="approved"),
        lambda: DeAn.objects.filter(pk=de_an.pk).update(revision=de_an.revision + 7),
        lambda: services.comment_add(actor=w.users.centre_other, de_an=w.other["de_an"], text="Thêm"),
        lambda: ImportBatch.objects.all().delete(),
        lambda: ReportJob.objects.filter(pk=w.own["job"].pk).delete(),
    ]
    for number, change in enumerate(changes):
        before = _global_fingerprint()
        assert _global_fingerprint() == before
        change()
        assert _global_fingerprint() != before, f"change {number} not seen"
