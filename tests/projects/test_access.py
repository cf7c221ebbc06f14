"""Projects access rules and scoping (khuyencong/access.py, projects section)."""
import pytest
from django.contrib.auth.models import AnonymousUser

from khuyencong import access
from projects import services
from projects.models import Status

from .factories import EstablishmentFactory, advance, current, pdf_file, ready_de_an

pytestmark = pytest.mark.django_db


def test_create_rule(users):
    assert access.can(users.centre, "de_an.create", current("24"))
    assert access.can(users.province, "de_an.create", None)
    assert not access.can(users.centre, "de_an.create", current("19"))
    denied = access.can(users.reviewer, "de_an.create", None)
    assert not denied and "Trung tâm khuyến công" in denied.reason
    assert not access.can(AnonymousUser(), "de_an.create", None)
    with pytest.raises(services.WorkflowError, match="tỉnh, thành phố mình"):
        services.de_an_create(actor=users.centre, name="X", level="kcqg", plan_year=2026, province=current("19"))


def test_edit_rule(users):
    d = ready_de_an(users.centre)
    assert access.can(users.centre, "de_an.edit", d) and access.can(users.province, "de_an.edit", d)
    assert not access.can(users.reviewer, "de_an.edit", d)
    assert not access.can(users.centre_other, "de_an.edit", d)
    d = services.de_an_submit(actor=users.centre, de_an=d)
    refused = access.can(users.centre, "de_an.edit", d)
    assert not refused and "Đã gửi Sở Công Thương" in refused.reason


def test_deactivated_account_loses_everything(users):
    d = ready_de_an(users.centre)
    users.centre.is_active = False
    users.centre.save()
    assert not access.can(users.centre, "de_an.view", d)
    assert not access.visible_de_an(users.centre).exists()
    with pytest.raises(services.WorkflowError, match="đăng nhập"):
        services.de_an_submit(actor=users.centre, de_an=d)
    assert d.status == Status.DRAFT


def test_scoping_of_establishments_attachments_notifications(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    att = services.attachment_add(actor=users.centre, de_an=d, file=pdf_file())
    foreign = EstablishmentFactory(province=current("19"))
    former = EstablishmentFactory(province=current("24").predecessors.get(code="27"))
    assert access.visible_attachments(users.centre).filter(pk=att.pk).exists()
    assert not access.visible_attachments(users.centre_other).filter(pk=att.pk).exists()
    assert access.can(users.reviewer, "attachment.view", att)
    assert not access.can(users.province_other, "attachment.view", att)
    mine = set(access.visible_establishments(users.centre).values_list("pk", flat=True))
    assert former.pk in mine and foreign.pk not in mine
    assert foreign.pk in set(access.visible_establishments(users.reviewer).values_list("pk", flat=True))
    assert not access.can(users.centre, "establishment.edit", foreign)
    assert access.can(users.centre_other, "establishment.edit", foreign)


def test_attachment_delete_only_while_editable(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = ready_de_an(users.centre)
    att = services.attachment_add(actor=users.centre, de_an=d, file=pdf_file())
    keep = services.attachment_add(actor=users.centre, de_an=d, file=pdf_file("giu-lai.pdf"))
    with pytest.raises(services.WorkflowError, match="tỉnh, thành phố khác"):
        services.attachment_delete(actor=users.centre_other, attachment=att)
    services.attachment_delete(actor=users.centre, attachment=att)
    services.de_an_submit(actor=users.centre, de_an=d)
    with pytest.raises(services.WorkflowError, match="đang soạn hoặc bị trả lại"):
        services.attachment_delete(actor=users.centre, attachment=keep)
    assert d.attachments.count() == 1


MINUTES_KEPT = ("Không xóa được tài liệu «bien-ban.pdf» (Biên bản nghiệm thu): đây là căn cứ của bước «nghiệm thu» "
                "đã thực hiện, phải được giữ lại trong hồ sơ đề án.")


def test_acceptance_minutes_are_kept_once_accepted_even_by_administrators(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = advance(ready_de_an(users.centre), "accepted", users)  # the minutes are attached by the Sở first
    minutes = d.attachments.get(kind="acceptance_minutes")
    photo = services.attachment_add(actor=users.province, de_an=d, file=pdf_file("anh.pdf"), kind="photo")
    for user in (users.admin, users.province, users.centre, users.reviewer):
        decision = access.can(user, "attachment.delete", minutes)
        assert not decision and decision.reason == MINUTES_KEPT, user
    with pytest.raises(services.WorkflowError) as exc:
        services.attachment_delete(actor=users.admin, attachment=minutes)
    assert str(exc.value) == MINUTES_KEPT
    # Still kept after the settlement, and after an administrator's cancellation.
    services.de_an_settle(actor=users.reviewer, de_an=d, settlement_document="QT-01/2026", settled_amount=390_000_000)
    assert not access.can(users.admin, "attachment.delete", minutes)
    assert d.attachments.filter(pk=minutes.pk).exists()
    # Other kinds stay the administrator's to delete in any state.
    assert access.can(users.admin, "attachment.delete", photo)
    assert not access.can(users.province, "attachment.delete", photo)
    services.attachment_delete(actor=users.admin, attachment=photo)


def test_acceptance_minutes_kept_after_an_administrator_cancels_an_accepted_de_an(users, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    d = advance(ready_de_an(users.centre), "accepted", users)
    services.de_an_cancel(actor=users.admin, de_an=d, comment="Trùng với đề án khác")
    minutes = d.attachments.get(kind="acceptance_minutes")
    assert access.can(users.admin, "attachment.delete", minutes).reason == MINUTES_KEPT


def test_acceptance_minutes_may_be_replaced_before_the_acceptance(users, settings, tmp_path):
    """Before the step is taken the minutes are an ordinary attachment: the administrator may remove a
    wrong upload during implementation (the editors only while the dossier is editable)."""
    settings.MEDIA_ROOT = str(tmp_path)
    d = advance(ready_de_an(users.centre), "in_implementation", users)
    wrong = services.attachment_add(actor=users.province, de_an=d, file=pdf_file("nham.pdf"), kind="acceptance_minutes")
    decision = access.can(users.province, "attachment.delete", wrong)
    assert not decision and "đang soạn hoặc bị trả lại" in decision.reason
    services.attachment_delete(actor=users.admin, attachment=wrong)
    draft = ready_de_an(users.centre)
    early = services.attachment_add(actor=users.centre, de_an=draft, file=pdf_file(), kind="acceptance_minutes")
    services.attachment_delete(actor=users.centre, attachment=early)
    assert not d.attachments.exists() and not draft.attachments.exists()


def test_notification_mail_only_after_commit(users, django_capture_on_commit_callbacks, mailoutbox):
    """The in-app row is written with the transition; its e-mail is queued only once that commits."""
    from projects.models import EmailStatus, Notification

    d = ready_de_an(users.centre)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.de_an_submit(actor=users.centre, de_an=d)
    note = Notification.objects.get(recipient=users.province)
    assert len(callbacks) == 1 and note.email_status == EmailStatus.PENDING and mailoutbox == []
    callbacks[0]()
    note.refresh_from_db()
    assert note.email_status == EmailStatus.SENT and [m.to for m in mailoutbox] == [["so@bacninh.test"]]


def test_transition_permission_matrix(users):
    """Every state × level × action × role (own and other province): allowed exactly when the table says so."""
    from khuyencong.choices import Role
    from projects import workflow
    from projects.models import DeAn

    own, other = current("24"), current("19")
    actors = {Role.CENTRE: users.centre, Role.PROVINCE: users.province, Role.REVIEWER: users.reviewer,
              Role.ADMIN: users.admin}
    checked = 0
    for state in workflow.STATES:
        for level in ("kcqg", "kcdp"):
            for province in (own, other):
                d = DeAn(pk=1, code="X", status=state, level=level, province=province, current_province=province)
                for action in workflow.ACTIONS:
                    allowed_roles = {r for s in workflow.steps_from(state, level) if s.action == action
                                     for r in s.roles} | ({Role.ADMIN} if any(
                                         s.action == action for s in workflow.steps_from(state, level)) else set())
                    for role, user in actors.items():
                        decision = access.can(user, f"de_an.{action}", d)
                        in_scope = role in (Role.REVIEWER, Role.ADMIN) or province == own
                        expected = in_scope and role in allowed_roles
                        assert bool(decision) == expected, (state, level, action, role, province.code, decision.reason)
                        if not decision:
                            assert decision.reason  # always a Vietnamese reason
                        checked += 1
    assert checked == len(workflow.STATES) * 2 * 2 * len(workflow.ACTIONS) * 4
