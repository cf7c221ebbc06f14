from django import forms
from django.contrib.auth.forms import AuthenticationForm
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


class AccountFilterForm(forms.Form):
    """The account list's search (GET): words of a name, user name, e-mail, organisation or province; a role."""

    q = forms.CharField(label=_("Tìm"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("họ tên, tên đăng nhập, đơn vị…")}))
    role = forms.ChoiceField(label=_("Vai trò"), required=False, choices=[("", _("Tất cả"))] + Role.choices)
