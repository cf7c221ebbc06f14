from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = _("Đề án khuyến công")

    def ready(self):
        from khuyencong.home import register_panel

        from . import tasks  # noqa: F401  (registers the Celery tasks and the worker_ready resend)
        from .selectors import home_panels

        register_panel(home_panels)

        from khuyencong.navigation import register_menu

        # Entries whose URL does not exist yet (views come later) are skipped by the menu.
        register_menu(label=_("Đề án"), url_name="projects:list", order=10)
        register_menu(label=_("Việc chờ xử lý"), url_name="projects:queue", order=11)
        register_menu(label=_("Thông báo"), url_name="projects:notifications", order=90)
