from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm, PasswordResetForm
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .formatting import format_file_size
from .models import User
from .security import NoControlCharactersMixin


def state_size_limit(field, max_bytes):
    """Say under a file field the size limit its service enforces («… Dung lượng tối đa 20 MB.»), read
    from the setting when the form is made, so the page and the check never disagree."""
    limit = _("Dung lượng tối đa %(max)s.") % {"max": format_file_size(max_bytes)}
    field.help_text = f"{field.help_text} {limit}" if field.help_text else limit


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _(
            "Tên đăng nhập hoặc mật khẩu không đúng. Lưu ý: sau nhiều lần nhập sai, tài khoản sẽ bị tạm khóa."
        ),
        "inactive": _("Tài khoản này đã bị vô hiệu hóa. Hãy liên hệ quản trị hệ thống."),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("Tên đăng nhập")
        self.fields["password"].label = _("Mật khẩu")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})


class PasswordResetRequestForm(PasswordResetForm):
    """«Quên mật khẩu»: the e-mail address of the account. Django's rules decide who gets a link: an
    active account with that address (case ignored) that signs in with a password; nobody is told
    whether such an account exists. The mail itself is sent by the worker
    (``services.password_reset_send``)."""

    email = forms.EmailField(
        label=_("Thư điện tử của tài khoản"), max_length=254,
        help_text=_("Địa chỉ thư điện tử đã đăng ký với tài khoản, ví dụ: ten.can.bo@congthuong.gov.vn."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
        error_messages={"required": _("Hãy nhập địa chỉ thư điện tử."),
                        "invalid": _("Địa chỉ thư điện tử chưa đúng dạng, ví dụ: ten.can.bo@congthuong.gov.vn.")},
    )


class PortalPasswordChangeForm(PasswordChangeForm):
    """«Đổi mật khẩu»: wrong guesses of the current password are limited like on «Tài khoản»
    (``services.user_check_own_password``), so an open session cannot be used to find the password."""

    def clean_old_password(self):
        from . import services

        problem = services.user_check_own_password(user=self.user, password=self.cleaned_data.get("old_password") or "")
        if problem:
            raise forms.ValidationError(problem, code="password_incorrect")
        return self.cleaned_data["old_password"]


PHONE_PATTERN = r"^\+?[0-9][0-9 .()\-]{5,28}$"


class ContactForm(NoControlCharactersMixin, forms.ModelForm):
    """«Thông tin liên hệ»: what an account holder keeps up to date themselves — e-mail address (where
    notifications and «Quên mật khẩu» links go), telephone, job title. A new e-mail address needs the
    current password: with only an open session on a shared computer, nobody can point the account's
    password resets at their own mailbox. Names, role and organisation are set by an administrator."""

    current_password = forms.CharField(
        label=_("Mật khẩu đang dùng"), required=False, strip=False,
        help_text=_("Chỉ cần khi đổi địa chỉ thư điện tử."),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    class Meta:
        model = User
        fields = ["email", "notify_by_email", "phone", "job_title"]
        labels = {"email": _("Thư điện tử"), "phone": _("Điện thoại"), "job_title": _("Chức vụ"),
                  "notify_by_email": _("Gửi thông báo về đề án tới thư điện tử này")}
        help_texts = {
            "email": _("Nơi nhận thông báo và liên kết đặt lại mật khẩu, ví dụ: ten.can.bo@congthuong.gov.vn."),
            "phone": _("Ví dụ: 0222 3822 123 hoặc +84 912 345 678."),
        }
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email"}),
                   "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
                   "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"})}
        error_messages = {"email": {"invalid": _("Địa chỉ thư điện tử chưa đúng dạng, ví dụ: ten.can.bo@congthuong.gov.vn.")}}

    def __init__(self, *args, password_check=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._password_check = password_check
        self.fields["phone"].validators.append(RegexValidator(
            PHONE_PATTERN, _("Số điện thoại chỉ gồm chữ số, dấu cách, dấu chấm, gạch ngang, ngoặc và dấu + ở đầu; "
                             "ví dụ: 0222 3822 123.")))

    def clean_email(self):
        return (self.cleaned_data.get("email") or "").strip()

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if "email" in self.changed_data and email is not None and email.casefold() != (self.initial.get("email") or "").casefold():
            password = cleaned.get("current_password") or ""
            if not password:
                self.add_error("current_password", _("Để đổi địa chỉ thư điện tử, hãy nhập mật khẩu đang dùng."))
            else:
                problem = self._password_check(password) if self._password_check else None
                if problem:
                    self.add_error("current_password", problem)
        return cleaned


class AccountFilterForm(forms.Form):
    """The account list's search (GET): words of a name, user name, e-mail, organisation or province; a role."""

    q = forms.CharField(label=_("Tìm"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("họ tên, tên đăng nhập, đơn vị…")}))
    role = forms.ChoiceField(label=_("Vai trò"), required=False, choices=[("", _("Tất cả"))] + Role.choices)
