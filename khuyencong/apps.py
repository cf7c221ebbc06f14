from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KhuyencongConfig(AppConfig):
    name = "khuyencong"
    verbose_name = _("Danh mục và người dùng")
