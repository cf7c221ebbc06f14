from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.index, name="index"),
    path("toan-quoc/", views.national, name="national"),
    path("toan-quoc/bang/<slug:key>/", views.table, name="national_table"),
    path("toan-quoc/xuat/<slug:key>/", views.export, name="national_export"),
    path("tinh/<str:code>/", views.province, name="province"),
    path("tinh/<str:code>/bang/<slug:key>/", views.table, name="province_table"),
    path("tinh/<str:code>/xuat/<slug:key>/", views.export, name="province_export"),
    path("chi-tieu/<slug:indicator_code>/", views.indicator, name="indicator"),
    path("ket-qua/", views.outputs, name="outputs"),
]
