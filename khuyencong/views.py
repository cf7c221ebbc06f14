from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from . import selectors, services
from .access import can, user_province
from .choices import Role
from .forms import AccountFilterForm, ContactForm, LoginForm, PasswordResetRequestForm, PortalPasswordChangeForm
from .home import panels_for
from .models import User
from .pagination import paginate
from .security import client_address, over_rate_limit, private_download
from .tokens import invitation_token_generator


class PortalLoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["idle_minutes"] = settings.SESSION_COOKIE_AGE // 60
        return context

    def form_valid(self, form):
        previous = form.get_user().last_login  # login() overwrites it
        response = super().form_valid(form)
        if previous:
            self.request.session["previous_login"] = previous.isoformat()
        return response


class PortalPasswordChangeView(auth_views.PasswordChangeView):
    """«Đổi mật khẩu»: the change is recorded in the audit trail (never the password itself); wrong
    guesses of the current password are limited (``PortalPasswordChangeForm``)."""

    form_class = PortalPasswordChangeForm

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            services.user_record_password_set(actor=self.request.user, user=form.user)
        return response


class PortalPasswordResetView(auth_views.PasswordResetView):
    """«Quên mật khẩu»: the address goes to the worker, which mails a one-time link if an account has
    it (``services.password_reset_send``); the page never says whether one does. Requests are limited
    per client address and per e-mail address (``PASSWORD_RESET_LIMIT`` an hour)."""

    form_class = PasswordResetRequestForm
    template_name = "registration/portal_password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        address = client_address(self.request)
        limit = settings.PASSWORD_RESET_LIMIT
        if (over_rate_limit("password-reset-address", address or "-", limit=limit)
                or over_rate_limit("password-reset-email", email.casefold(), limit=limit)):
            form.add_error(None, _("Đã có quá nhiều yêu cầu đặt lại mật khẩu trong một giờ qua. Không có thư nào "
                                   "được gửi thêm; hãy thử lại sau một giờ hoặc liên hệ quản trị hệ thống."))
            return self.form_invalid(form)
        sent = services.password_reset_request(email=email, domain=self.request.get_host(),
                                               use_https=self.request.is_secure(), address=address)
        if not sent:
            form.add_error(None, _("Chưa gửi được yêu cầu vì hệ thống gửi thư đang tạm ngừng. Chưa có thư nào "
                                   "được gửi; hãy thử lại sau ít phút."))
            return self.form_invalid(form)
        return HttpResponseRedirect(self.get_success_url())


class PortalPasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/portal_password_reset_done.html"

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The link from the mail: a new password, twice. The link works once (Django's token changes with
    the password) and for ``PASSWORD_RESET_MINUTES``; the change is in the audit trail."""

    template_name = "registration/portal_password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    reset_url_token = "dat-mat-khau-moi"

    def get_user(self, uidb64):
        # Django's view would take a link of an account locked since the mail was sent.
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def record(self, user):
        services.user_record_password_reset(user=user, address=client_address(self.request))

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            self.record(form.user)
        return response


class AccountInvitationConfirmView(PortalPasswordResetConfirmView):
    """The link of an administrator's invitation (``services.user_invite``): the new account's holder
    sets their first password. Its own token (``tokens.invitation_token_generator``): it works once,
    for ``ACCOUNT_INVITATION_DAYS``, and stops working once the account has a password or has signed in."""

    token_generator = invitation_token_generator
    success_url = reverse_lazy("account_invitation_complete")
    reset_url_token = "dat-mat-khau-lan-dau"
    extra_context = {"invitation": True}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.user
        if context.get("validlink") and user is not None:
            context["role"] = user.get_role_display()
            context["organisation_name"] = (user.organisation.name_on(timezone.localdate())
                                            if user.organisation_id else "")
        context["days"] = settings.ACCOUNT_INVITATION_DAYS
        return context

    def record(self, user):
        services.user_record_invitation_accepted(user=user, address=client_address(self.request))


@login_required
def account(request):
    """«Thông tin tài khoản»: who the account is (set by an administrator) and the contact details its
    holder keeps up to date (``services.user_update_contact``; a new e-mail address needs the password)."""
    user = request.user
    check = lambda password: services.user_check_own_password(user=user, password=password)  # noqa: E731
    if request.method == "POST":
        form = ContactForm(request.POST, instance=User.objects.get(pk=user.pk), password_check=check)
        if form.is_valid():
            data = form.cleaned_data
            event = services.user_update_contact(user=user, email=data["email"], phone=data["phone"],
                                                 job_title=data["job_title"], notify_by_email=data["notify_by_email"])
            messages.success(request, _("Đã lưu thông tin liên hệ.") if event else _("Thông tin liên hệ không thay đổi."))
            return redirect("account")
    else:
        form = ContactForm(instance=user, password_check=check)
    return render(request, "khuyencong/account.html", {
        "form": form, "organisation_name": user.organisation.name_on(timezone.localdate()) if user.organisation else "",
        "province": user_province(user),
    })


ROLE_SUMMARIES = {
    Role.CENTRE: _("Bạn soạn, đăng ký và tổ chức thực hiện đề án khuyến công của đơn vị mình."),
    Role.PROVINCE: _("Bạn lựa chọn, thẩm định đề án của tỉnh, gửi đăng ký khuyến công quốc gia lên Cục và ghi nhận quyết định "
                    "phê duyệt đề án khuyến công địa phương của UBND tỉnh."),
    Role.REVIEWER: _("Bạn thẩm định, phê duyệt và kiểm tra, giám sát đề án khuyến công quốc gia của mọi tỉnh, thành phố."),
    Role.ADMIN: _("Bạn quản lý tài khoản, dữ liệu danh mục và nhập bảng phân bổ kinh phí, phụ lục kế hoạch."),
}


def _previous_login(request):
    value = request.session.get("previous_login")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def home(request):
    user = request.user
    return render(
        request,
        "khuyencong/home.html",
        {
            "province": user_province(user),
            "organisation": user.organisation,
            "organisation_name": user.organisation.name_on(timezone.localdate()) if user.organisation else "",
            "panels": panels_for(user),
            "role_summary": ROLE_SUMMARIES.get(user.role, ""),
            "previous_login": _previous_login(request),
        },
    )


ACCOUNTS_PER_PAGE = 50


@login_required
@require_GET
def user_list(request):
    """Accounts the user may see: their province's, or every one for the ministry; search, role filter, pages."""
    form = AccountFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    accounts = selectors.account_list(request.user, q=filters.get("q") or "", role=filters.get("role") or None)
    page, query = paginate(request, accounts, ACCOUNTS_PER_PAGE)
    return render(request, "khuyencong/user_list.html", {
        "form": form, "page": page, "query_no_page": query, "province": user_province(request.user),
        "filtered": bool(filters and any(filters.values())), "manage": bool(can(request.user, "users.manage")),
    })


@login_required
@require_GET
def user_export(request):
    """«Cán bộ, tài khoản» as searched and filtered on the page, to .xlsx (administrators also get when
    each account last signed in)."""
    from .account_import import accounts_workbook

    form = AccountFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    accounts = selectors.account_list(request.user, q=filters.get("q") or "", role=filters.get("role") or None)
    response = HttpResponse(accounts_workbook(accounts, with_sign_in=bool(can(request.user, "users.manage"))),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="can-bo-tai-khoan.xlsx"'
    return private_download(response)


@login_required
@require_GET
def province_list(request):
    """The 34 provinces since 01/07/2025, each with the former provinces that merged into it."""
    return render(request, "khuyencong/province_list.html", {"provinces": selectors.provinces_with_predecessors()})


@login_required
@require_GET
def province_search(request):
    """Province picker: ?q=hoa binh&era=current|former → JSON list."""
    era = request.GET.get("era") or None
    rows = selectors.province_search(request.GET.get("q", ""), era=era)[:20]
    return JsonResponse(
        {
            "results": [
                {
                    "id": p.pk,
                    "code": p.code,
                    "name": p.full_name,
                    "era": p.era,
                    "current": p.current.full_name if p.current else None,
                }
                for p in rows
            ]
        }
    )


@require_GET
def health(request):
    """Liveness for the load balancer and docker-compose: answers when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
