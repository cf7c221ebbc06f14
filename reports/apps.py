from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Kiểm tra, giám sát và báo cáo")

    def ready(self):
        from khuyencong.home import register_panel
        from khuyencong.navigation import register_menu

        from . import tasks  # noqa: F401  (registers the Celery tasks and the worker_ready sweep)
        from .home import overdue_recommendations

        register_menu(label=_("Báo cáo"), url_name="reports:job_list", order=60)
        # Same label, one entry per audience: the ministry starts from the plans, local staff from their records.
        register_menu(label=_("Kiểm tra, giám sát"), url_name="reports:inspection_plans", roles=["reviewer", "admin"], order=55)
        register_menu(label=_("Kiểm tra, giám sát"), url_name="reports:inspection_records", roles=["centre", "province"], order=55,
                      section="reports:inspection_plans")
        register_panel(overdue_recommendations)
