"""Writes on users (role, organisation, activation), each checked by access.can and recorded in the
audit trail (AuditEvent). Changes take effect on the user's next request: scope is read from the
database row on every request (see access.py)."""
import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .access import can
from .choices import NATIONWIDE_ROLES, OrganisationKind, Role
from .models import AuditEvent, Organisation, User

logger = logging.getLogger(__name__)


class UserChangeRefused(PermissionDenied):
    """The actor may not change users; ``str(err)`` is the Vietnamese reason."""


def _check(actor):
    decision = can(actor, "users.manage")
    if not decision:
        raise UserChangeRefused(decision.reason)


def describe_user(user, *, access=False):
    """What the audit trail records about an account (never its password); with ``access``, also its
    Django groups and permissions (what the admin's user form can change)."""
    data = {
        "role": user.role,
        "organisation": user.organisation.code if user.organisation_id else None,
        "province": user.organisation.province.code if user.organisation_id and user.organisation.province_id else None,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
    }
    if access:
        data["groups"] = sorted(user.groups.values_list("name", flat=True))
        data["permissions"] = sorted(
            f"{app}.{codename}"
            for app, codename in user.user_permissions.values_list("content_type__app_label", "codename")
        )
    return data


def _audit(*, actor, user, action, summary, before, after):
    return AuditEvent.objects.create(
        actor=actor, action=action, object_type="user", object_id=str(user.pk), summary=summary,
        data={"before": before, "after": after},
    )


# The kinds of organisation each local role's staff work for: a role and its organisation that disagree
# (a centre's officer given the Sở's role) would hand someone the other body's steps of the workflow.
ROLE_ORGANISATION_KINDS = {
    Role.CENTRE: {OrganisationKind.CENTRE, OrganisationKind.REGIONAL_CENTRE, OrganisationKind.OTHER},
    Role.PROVINCE: {OrganisationKind.DEPARTMENT},
}


def validate_assignment(role, organisation):
    """Raise ``ValidationError`` (Vietnamese) unless ``role`` may work for ``organisation``: a local role
    needs an organisation of a province (its scope) of a kind its staff work for
    (``ROLE_ORGANISATION_KINDS``), and nobody is attached to an organisation that has ceased to exist.
    Used by the services below, the admin's user form and the accounts import."""
    if role not in Role.values:
        raise ValidationError(_("Vai trò «%(r)s» không hợp lệ.") % {"r": role})
    if role not in NATIONWIDE_ROLES and organisation is None:
        raise ValidationError(_("Cán bộ Trung tâm khuyến công và Sở Công Thương phải thuộc một cơ quan, đơn vị."))
    if role not in NATIONWIDE_ROLES and organisation.province_id is None:
        raise ValidationError(
            _("Cán bộ Trung tâm khuyến công và Sở Công Thương phải thuộc một đơn vị của tỉnh, thành phố; "
              "«%(o)s» không thuộc tỉnh, thành phố nào.") % {"o": organisation.name}
        )
    allowed = ROLE_ORGANISATION_KINDS.get(role)
    if allowed and organisation is not None and organisation.kind not in allowed:
        raise ValidationError(
            _("%(role)s không thể thuộc «%(o)s» (%(kind)s): cán bộ Sở Công Thương thuộc một Sở Công Thương, cán bộ "
              "Trung tâm khuyến công thuộc một trung tâm khuyến công hoặc đơn vị thực hiện đề án khác.")
            % {"role": Role(role).label, "o": organisation.name, "kind": organisation.get_kind_display()}
        )
    if organisation is not None and not organisation.is_valid_on(timezone.localdate()):
        raise ValidationError(
            _("Đơn vị «%(o)s» đã hết hiệu lực; hãy chọn đơn vị kế thừa.") % {"o": organisation.name}
        )


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: str, organisation: Organisation | None = None) -> User:
    """Give ``user`` a new role (and organisation, when the role needs one)."""
    _check(actor)
    user = User.objects.select_for_update(of=("self",)).select_related("organisation__province").get(pk=user.pk)
    organisation = organisation if organisation is not None else user.organisation
    validate_assignment(role, organisation)
    before = describe_user(user)
    user.role = role
    user.organisation = organisation
    user.save(update_fields=["role", "organisation"])
    _audit(
        actor=actor, user=user, action="user.set_role",
        summary=_("Đổi vai trò của %(u)s thành «%(r)s».") % {"u": user.username, "r": user.get_role_display()},
        before=before, after=describe_user(user),
    )
    return user


@transaction.atomic
def user_move(*, actor: User, user: User, organisation: Organisation) -> User:
    """Move ``user`` to another organisation (and so, possibly, another province)."""
    _check(actor)
    user = User.objects.select_for_update(of=("self",)).select_related("organisation__province").get(pk=user.pk)
    validate_assignment(user.role, organisation)
    before = describe_user(user)
    user.organisation = organisation
    user.save(update_fields=["organisation"])
    _audit(
        actor=actor, user=user, action="user.move",
        summary=_("Chuyển %(u)s sang %(o)s.") % {"u": user.username, "o": organisation.name},
        before=before, after=describe_user(user),
    )
    return user


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (or reactivate) an account; a deactivated user is signed out on the next request."""
    _check(actor)
    if user.pk == actor.pk and not active:
        raise ValidationError(_("Bạn không thể tự vô hiệu hóa tài khoản của mình."))
    user = User.objects.select_for_update().get(pk=user.pk)
    before = describe_user(user)
    user.is_active = active
    user.save(update_fields=["is_active"])
    summary = _("Kích hoạt lại tài khoản %(u)s.") if active else _("Vô hiệu hóa tài khoản %(u)s.")
    _audit(
        actor=actor, user=user, action="user.activate" if active else "user.deactivate",
        summary=summary % {"u": user.username}, before=before, after=describe_user(user),
    )
    return user


def user_move_to_successor(*, actor: User, user: User) -> User:
    """After the merger: move an account of a former province's organisation to its successor."""
    organisation = user.organisation
    if organisation is None or organisation.successor_id is None:
        raise ValidationError(_("Đơn vị của tài khoản này không có đơn vị kế thừa."))
    return user_move(actor=actor, user=user, organisation=organisation.successor)


@transaction.atomic
def user_record_admin_change(*, actor: User, user: User, before: dict | None) -> AuditEvent | None:
    """Record a change made in the Django admin (which saves the user itself): a new account, or a
    changed role, organisation, activation, staff/superuser flag, groups or permissions (``before`` is
    ``describe_user(…, access=True)``, taken before the save). Nothing is written when none changed."""
    user = User.objects.select_related("organisation__province").get(pk=user.pk)
    after = describe_user(user, access=True)
    if before is None:
        return _audit(actor=actor, user=user, action="user.create",
                      summary=_("Tạo tài khoản %(u)s.") % {"u": user.username}, before={}, after=after)
    changed = sorted(k for k in after if before.get(k) != after[k])
    if not changed:
        return None
    return _audit(
        actor=actor, user=user, action="user.admin_change",
        summary=_("Sửa tài khoản %(u)s: %(f)s.") % {"u": user.username, "f": ", ".join(changed)},
        before=before, after=after,
    )


@transaction.atomic
def user_record_password_set(*, actor: User, user: User) -> AuditEvent:
    """Record that ``actor`` set ``user``'s password: its owner at «Đổi mật khẩu», or an administrator in
    the admin (who may also turn password sign-in off). The password itself is never recorded."""
    user = User.objects.select_related("organisation__province").get(pk=user.pk)
    if actor is not None and actor.pk == user.pk:
        action, summary = "user.password_change", _("%(u)s đổi mật khẩu của mình.")
    elif user.has_usable_password():
        action, summary = "user.password_set", _("Đặt mật khẩu mới cho tài khoản %(u)s.")
    else:
        action, summary = "user.password_disable", _("Tắt đăng nhập bằng mật khẩu của tài khoản %(u)s.")
    state = describe_user(user)
    return _audit(actor=actor, user=user, action=action, summary=summary % {"u": user.username},
                  before=state, after=state)


@transaction.atomic
def user_record_deletion(*, actor: User, users) -> list[AuditEvent]:
    """Record the deletion of ``users`` (called just before they are deleted, in the same transaction):
    what each account was, so the trail keeps it once the row is gone."""
    events = []
    for user in User.objects.select_related("organisation__province").filter(pk__in=[u.pk for u in users]):
        events.append(_audit(
            actor=actor, user=user, action="user.delete",
            summary=_("Xóa tài khoản %(u)s.") % {"u": user.username},
            before={"username": user.username, **describe_user(user, access=True)}, after={},
        ))
    return events


@transaction.atomic
def user_unlock_login(*, actor: User, users) -> dict[str, int]:
    """Lift the sign-in lockout (django-axes) of each of ``users`` before its cool-off ends: their failed
    attempts are forgotten. Returns the number of attempts removed per user name."""
    from axes.utils import reset

    _check(actor)
    removed = {}
    for user in users:
        count = reset(username=user.username)
        removed[user.username] = count
        state = describe_user(user)
        _audit(
            actor=actor, user=user, action="user.unlock",
            summary=_("Mở khóa đăng nhập cho tài khoản %(u)s (xóa %(n)d lần nhập sai).") % {
                "u": user.username, "n": count},
            before=state, after=state,
        )
    return removed


# --- «Quên mật khẩu» ---------------------------------------------------------------------------------
#
#   PortalPasswordResetView (rate-limited per client address and per e-mail address)
#     └ password_reset_request: the address goes to the worker, whether or not an account has it, so
#       the page and its timing are the same either way (broker down: the page says so, nothing sent)
#         └ task khuyencong.send_password_reset → password_reset_send: every active account with that
#           address that signs in with a password gets a one-time link (PASSWORD_RESET_MINUTES);
#           each mail is in the audit trail
#   PortalPasswordResetConfirmView → user_record_password_reset: the new password is recorded (never
#   the password itself) and the login lockout of that user name is lifted.

PASSWORD_RESET_SUBJECT = "registration/portal_password_reset_subject.txt"
PASSWORD_RESET_EMAIL = "registration/portal_password_reset_email.txt"
# A request still in the queue this long (worker down) is dropped: its sender has long given up.
PASSWORD_RESET_QUEUE_SECONDS = 30 * 60


def password_reset_request(*, email, domain, use_https, address):
    """Hand a «Quên mật khẩu» request to the worker. Returns False when the broker cannot take it (the
    page then asks to try again; nothing was sent)."""
    from .tasks import send_password_reset

    try:
        send_password_reset.apply_async(args=[email, domain, bool(use_https), address or ""], retry=False,
                                        expires=PASSWORD_RESET_QUEUE_SECONDS)
    except Exception as exc:  # kombu.exceptions.OperationalError, redis ConnectionError, socket errors…
        logger.warning("password reset request: broker unavailable (%s)", exc)
        return False
    return True


def password_reset_send(*, email, domain, use_https, address=""):
    """In the worker: mail a one-time «đặt lại mật khẩu» link to every account Django's rules allow
    (active, this address with case ignored, signs in with a password) and record each mail in the
    audit trail. Returns how many accounts were mailed; 0 for an address no account has."""
    from .forms import PasswordResetRequestForm

    form = PasswordResetRequestForm(data={"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    for user in users:
        AuditEvent.objects.create(
            actor=None, action="user.password_reset_requested", object_type="user", object_id=str(user.pk),
            summary=(_("Gửi liên kết đặt lại mật khẩu của tài khoản %(u)s tới %(e)s (yêu cầu từ %(a)s).")
                     % {"u": user.username, "e": user.email, "a": address or "?"})[:500],
            data={"address": address, "email": user.email},
        )
    if users:
        with translation.override(settings.LANGUAGE_CODE):
            form.save(domain_override=domain, use_https=use_https, subject_template_name=PASSWORD_RESET_SUBJECT,
                      email_template_name=PASSWORD_RESET_EMAIL,
                      extra_email_context={"minutes": settings.PASSWORD_RESET_TIMEOUT // 60})
    return len(users)


@transaction.atomic
def user_record_password_reset(*, user: User, address="") -> AuditEvent:
    """Record that ``user`` set a new password through the mailed link, and lift the login lockout of
    their user name (the failed attempts that locked it are what sent them to «Quên mật khẩu»)."""
    from axes.utils import reset as axes_reset

    axes_reset(username=user.username)
    return _record_password_by_link(
        user, "user.password_reset", _("%(u)s đặt lại mật khẩu bằng liên kết gửi qua thư điện tử (từ %(a)s)."), address)


def _record_password_by_link(user, action, summary, address):
    """The audit event of a password its holder set through a mailed link (never the password)."""
    user = User.objects.select_related("organisation__province").get(pk=user.pk)
    state = describe_user(user)
    return AuditEvent.objects.create(
        actor=user, action=action, object_type="user", object_id=str(user.pk),
        summary=(summary % {"u": user.username, "a": address or "?"})[:500],
        data={"before": state, "after": state, "address": address},
    )


# --- «Thông tin liên hệ»: what account holders keep up to date themselves ------------------------------

CONTACT_FIELDS = ("email", "notify_by_email", "phone", "job_title")


def _contact_labels():
    return {"email": _("thư điện tử"), "notify_by_email": _("nhận thông báo qua thư điện tử"),
            "phone": _("điện thoại"), "job_title": _("chức vụ")}


PASSWORD_CHECK_SCOPE = "own-password-check"


def user_check_own_password(*, user: User, password: str):
    """Check the password an account holder typed to confirm a change (a new e-mail address). Returns
    None when right, else the Vietnamese reason. Wrong tries are counted (AXES_FAILURE_LIMIT an hour):
    past that the answer is «thử lại sau» even for the right password, so an open session cannot be
    used to guess the password."""
    from .security import over_rate_limit, rate_limit_reached

    limit = settings.AXES_FAILURE_LIMIT
    if rate_limit_reached(PASSWORD_CHECK_SCOPE, user.pk, limit=limit):
        return _("Đã nhập sai mật khẩu quá nhiều lần. Hãy thử lại sau một giờ.")
    if user.check_password(password):
        return None
    over_rate_limit(PASSWORD_CHECK_SCOPE, user.pk, limit=limit)
    return _("Mật khẩu đang dùng không đúng.")


@transaction.atomic
def user_update_contact(*, user: User, email: str, phone: str, job_title: str,
                        notify_by_email: bool = True) -> AuditEvent | None:
    """Save an account holder's own e-mail address (and whether notifications are mailed to it),
    telephone and job title and record what changed (before and after) in the audit trail; nothing
    changed, nothing written."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = {field: getattr(locked, field) for field in CONTACT_FIELDS}
    after = {"email": email, "notify_by_email": bool(notify_by_email), "phone": phone, "job_title": job_title}
    changed = [field for field in CONTACT_FIELDS if before[field] != after[field]]
    if not changed:
        return None
    for field in changed:
        setattr(locked, field, after[field])
    locked.save(update_fields=changed)
    for field in changed:
        setattr(user, field, after[field])
    return AuditEvent.objects.create(
        actor=user, action="user.contact_change", object_type="user", object_id=str(user.pk),
        summary=(_("%(u)s cập nhật thông tin liên hệ: %(f)s.")
                 % {"u": user.username, "f": ", ".join(_contact_labels()[f] for f in changed)})[:500],
        data={"before": {f: before[f] for f in changed}, "after": {f: after[f] for f in changed}},
    )


# --- «Thư mời đặt mật khẩu»: an administrator's invitation to a new account -----------------------------
#
#   admin: «Thêm người dùng» with «Gửi thư mời…» (the account gets a password nobody knows) or the list's
#   action «Gửi thư mời đặt mật khẩu»
#     └ user_invite: each account checked (invitation_refusal), the eligible ones go to the worker
#         └ task khuyencong.send_invitations → invitation_send: checked again, one mail each with a
#           one-time link (tokens.invitation_token_generator, ACCOUNT_INVITATION_DAYS), each mail in the
#           audit trail
#   AccountInvitationConfirmView → user_record_invitation_accepted

INVITATION_SUBJECT = "registration/portal_invitation_subject.txt"
INVITATION_EMAIL = "registration/portal_invitation_email.txt"


class InvitationResult:
    """What ``user_invite`` did: the accounts handed to the worker, those refused with the Vietnamese
    reason, and whether the broker was down (then nothing was queued)."""

    def __init__(self, queued=(), refused=(), broker_down=False):
        self.queued, self.refused, self.broker_down = list(queued), list(refused), broker_down


def invitation_refusal(user: User, *, actor: User | None = None) -> str | None:
    """Why ``user`` cannot be sent an invitation (by ``actor``, when given), in Vietnamese; None when it
    can. The invitation is for accounts nobody has used yet: one that has signed in has a password its
    holder knows (and «Quên mật khẩu?» for when they forget it)."""
    if actor is not None and user.is_superuser and not actor.is_superuser:
        return _("là tài khoản superuser, chỉ superuser được gửi thư mời cho tài khoản này")
    if not user.is_active:
        return _("tài khoản đang bị khóa")
    if not user.email:
        return _("tài khoản chưa có địa chỉ thư điện tử")
    if not user.has_usable_password():
        return _("tài khoản đã tắt đăng nhập bằng mật khẩu")
    if user.last_login is not None:
        return _("tài khoản đã từng đăng nhập; người dùng tự đặt lại mật khẩu bằng «Quên mật khẩu?»")
    return None


def user_invite(*, actor: User, users, domain: str, use_https: bool) -> InvitationResult:
    """Hand the invitations of ``users`` (already saved and committed) to the worker. Accounts the
    rules refuse are listed with the reason and get nothing; with the broker down nothing is queued."""
    from .tasks import send_invitations

    _check(actor)
    queued, refused = [], []
    for user in users:
        reason = invitation_refusal(user, actor=actor)
        if reason:
            refused.append((user, reason))
        else:
            queued.append(user)
    if queued:
        try:
            send_invitations.apply_async(args=[[u.pk for u in queued], actor.pk, domain, bool(use_https)],
                                         retry=False)
        except Exception as exc:  # kombu.exceptions.OperationalError, redis ConnectionError, socket errors…
            logger.warning("invitation: broker unavailable (%s)", exc)
            return InvitationResult(refused=refused, broker_down=True)
    return InvitationResult(queued=queued, refused=refused)


def invitation_send(*, user_ids, actor_id, domain, use_https) -> int:
    """In the worker: mail each account its invitation — user name, role, organisation and a one-time
    link to set its password — after checking again that it may have one (the account may have signed
    in or been locked since). Each mail sent is recorded in the audit trail. Returns how many."""
    from django.core.mail import EmailMessage
    from django.template.loader import render_to_string
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from .formatting import format_datetime
    from .tokens import invitation_token_generator

    actor = User.objects.filter(pk=actor_id).first()
    if actor is None or not can(actor, "users.manage"):
        return 0
    days = settings.ACCOUNT_INVITATION_DAYS
    valid_until = format_datetime(timezone.localtime() + timedelta(days=days))
    sent = 0
    users = User.objects.filter(pk__in=user_ids).select_related("organisation").order_by("pk")
    with translation.override(settings.LANGUAGE_CODE):
        for user in users:
            reason = invitation_refusal(user, actor=actor)
            if reason:
                logger.info("invitation for user %s not sent: %s", user.pk, reason)
                continue
            path = reverse("account_invitation_confirm", kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": invitation_token_generator.make_token(user)})
            context = {
                "user": user, "role": user.get_role_display(),
                "organisation": user.organisation.name_on(timezone.localdate()) if user.organisation_id else "",
                "url": f"{'https' if use_https else 'http'}://{domain}{path}",
                "login_url": f"{'https' if use_https else 'http'}://{domain}{reverse('login')}",
                "days": days, "valid_until": valid_until,
            }
            subject = "".join(render_to_string(INVITATION_SUBJECT, context).splitlines())
            try:
                EmailMessage(subject, render_to_string(INVITATION_EMAIL, context), to=[user.email]).send()
            except Exception:  # the mail server refused or is down: the others still go; this one is not
                # recorded as sent, so the account page offers to send it again
                logger.exception("invitation mail to user %s failed", user.pk)
                continue
            AuditEvent.objects.create(
                actor=actor, action="user.invitation_sent", object_type="user", object_id=str(user.pk),
                summary=(_("Gửi thư mời đặt mật khẩu của tài khoản %(u)s tới %(e)s (dùng được đến %(d)s).")
                         % {"u": user.username, "e": user.email, "d": valid_until})[:500],
                data={"email": user.email, "days": days},
            )
            sent += 1
    return sent


def user_record_invitation_accepted(*, user: User, address="") -> AuditEvent:
    """Record that ``user`` set their first password through the invitation (never the password)."""
    return _record_password_by_link(
        user, "user.invitation_accepted", _("%(u)s đặt mật khẩu lần đầu bằng thư mời (từ %(a)s)."), address)


# --- «Nhập tài khoản từ Excel» (khuyencong.account_import) ------------------------------------------------


class AccountImportRefused(ValidationError):
    """Some rows of the import are no longer acceptable (e.g. a user name taken since the preview);
    ``rows`` are the rows, each with its ``errors``. Nothing was created."""

    def __init__(self, rows):
        super().__init__(_("Có dòng không còn hợp lệ; chưa tài khoản nào được tạo."))
        self.rows = rows


@transaction.atomic
def users_import(*, actor: User, rows, source_name: str) -> list[User]:
    """Create one account per row (``account_import.AccountRow``, as previewed) — all of them or, if
    any row fails its checks against the database now, none (``AccountImportRefused``). Each account
    gets a password nobody knows (its holder sets one through the invitation, ``user_invite``, which
    the caller sends once this has committed) and a ``user.create`` audit event naming the file."""
    import secrets

    from django.contrib.auth.hashers import make_password

    from .account_import import check_rows

    _check(actor)
    for row in rows:
        row.errors = []
    check_rows(rows)
    if any(row.errors for row in rows):
        raise AccountImportRefused(rows)
    # One hash for the whole file: a password nobody knows (32 random bytes, thrown away at once) gains
    # nothing from a hash of its own, and the portal's hasher costs ≈ 0,25 s a hash — a file of a few
    # hundred accounts would outlast the request (bench/bench_accounts.py). Each holder's own password,
    # set through the invitation, gets its own salt and the full cost as always.
    unknown = make_password(secrets.token_urlsafe(32))
    created = []
    for row in rows:
        values = row.values
        user = User(username=values["username"], first_name=values.get("first_name", ""),
                    last_name=values.get("last_name", ""), email=values["email"], role=values["role"],
                    organisation=row.organisation, job_title=values.get("job_title", ""),
                    phone=values.get("phone", ""), password=unknown)
        user.save()
        user = User.objects.select_related("organisation__province").get(pk=user.pk)
        _audit(actor=actor, user=user, action="user.create",
               summary=(_("Tạo tài khoản %(u)s (nhập từ tệp «%(f)s», dòng %(n)d).")
                        % {"u": user.username, "f": source_name, "n": row.number})[:500],
               before={}, after=describe_user(user, access=True))
        created.append(user)
    return created
