from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = _("Tổng quan chương trình")

    def ready(self):
        from khuyencong.navigation import register_menu

        register_menu(label=_("Tổng quan"), url_name="dashboards:index", order=5)
