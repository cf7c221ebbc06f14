from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KhuyencongConfig(AppConfig):
    name = "khuyencong"
    verbose_name = _("Danh mục và người dùng")

    def ready(self):
        from axes.signals import user_locked_out

        from .choices import Role
        from .home import register_panel
        from .navigation import register_menu
        from .panels import core_panels
        from .security import record_lockout

        user_locked_out.connect(record_lockout, dispatch_uid="khuyencong.record_lockout")
        register_panel(core_panels)
        register_menu(label=_("Cán bộ, tài khoản"), url_name="user_list", order=800)
        register_menu(label=_("Danh mục tỉnh, thành phố"), url_name="province_list", order=810)
        register_menu(label=_("Quản trị"), url_name="admin:index", roles=[Role.ADMIN], order=900)
