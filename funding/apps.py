from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = _("Kinh phí khuyến công")

    def ready(self):
        from khuyencong.navigation import register_menu

        from . import tasks  # noqa: F401  (registers the Celery tasks and the worker_ready sweep)

        register_menu(label=_("Kinh phí"), url_name="funding:overview", order=40)
        register_menu(label=_("Nhập Excel"), url_name="funding:import_list", roles={"admin"}, order=45)
