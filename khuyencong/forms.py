from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from .choices import Role
from .formatting import format_file_size


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


class AccountFilterForm(forms.Form):
    """The account list's search (GET): words of a name, user name, e-mail, organisation or province; a role."""

    q = forms.CharField(label=_("Tìm"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("họ tên, tên đăng nhập, đơn vị…")}))
    role = forms.ChoiceField(label=_("Vai trò"), required=False, choices=[("", _("Tất cả"))] + Role.choices)
