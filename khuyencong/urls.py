from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("dang-nhap/", views.PortalLoginView.as_view(), name="login"),
    path("dang-xuat/", auth_views.LogoutView.as_view(), name="logout"),
    path("tai-khoan/", views.account, name="account"),
    path("doi-mat-khau/", views.PortalPasswordChangeView.as_view(), name="password_change"),
    path("doi-mat-khau/xong/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("quen-mat-khau/", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path("quen-mat-khau/da-gui/", views.PortalPasswordResetDoneView.as_view(), name="password_reset_done"),
    path("dat-lai-mat-khau/<uidb64>/<token>/", views.PortalPasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("dat-lai-mat-khau/xong/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/portal_password_reset_complete.html"), name="password_reset_complete"),
    path("kich-hoat-tai-khoan/<uidb64>/<token>/", views.AccountInvitationConfirmView.as_view(),
         name="account_invitation_confirm"),
    path("kich-hoat-tai-khoan/xong/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/portal_password_reset_complete.html", extra_context={"invitation": True}),
         name="account_invitation_complete"),
    path("danh-muc/tinh/", views.province_search, name="province_search"),
    path("danh-muc/tinh-thanh-pho/", views.province_list, name="province_list"),
    path("can-bo/", views.user_list, name="user_list"),
    path("can-bo/xuat-excel/", views.user_export, name="user_export"),
    path("suc-khoe/", views.health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("de-an/", include("projects.urls")),
    path("kinh-phi/", include("funding.urls")),
    path("bao-cao/", include("reports.urls")),
    path("tong-quan/", include("dashboards.urls")),
    path("quan-tri/", admin.site.urls),
]
