from django.urls import path

from . import views

app_name = "funding"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("toan-quoc/", views.national, name="national"),
    path("tinh/<str:code>/<int:year>/", views.province_year, name="province"),
    path("xuat/phan-bo.xlsx", views.export_allocations, name="export_allocations"),
    path("xuat/cam-ket.xlsx", views.export_commitments, name="export_commitments"),
    path("mau-nhap.xlsx", views.template_download, name="template"),
    path("mau-phu-luc.xlsx", views.plan_template_download, name="plan_template"),
    path("nhap/", views.import_list, name="import_list"),
    path("nhap/tai-len/", views.import_upload, name="import_upload"),
    path("nhap/<int:pk>/", views.import_detail, name="import_detail"),
    path("nhap/<int:pk>/xac-nhan/", views.import_confirm, name="import_confirm"),
    path("nhap/<int:pk>/hoan-tac/", views.import_undo, name="import_undo"),
    path("nhap/<int:pk>/huy/", views.import_discard, name="import_discard"),
    path("nhap/<int:pk>/tep-goc/", views.import_file, name="import_file"),
    path("de-an/<int:de_an_id>/", views.de_an_money, name="de_an_money"),
    path("de-an/<int:de_an_id>/huy-giai-ngan/", views.disbursement_void, name="disbursement_void"),
]
